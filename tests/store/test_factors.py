"""Second factors: salted hashes written by the import, checked with a per-account lockout.

Every test tries to get a PIN out (from Redis, logs, errors) or past the check.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis
from structlog.testing import capture_logs

from router.customers.codec import factor_of
from router.customers.factor_check import MAX_FAILURES, RedisFactorCheck
from router.customers.factors import hash_secret, matches, parse_factors
from router.customers.importer import import_path
from router.customers.rows import RowError
from router.customers.store import RedisCustomerStore
from router.storage import keys

HEADER = (
    "customer_id,name,tier,list,lifecycle,arpu,tenure_months,credit_score,"
    "language,account_manager,offers,phones,pin,id_last4\n"
)
PIN_A, PIN_B, ID_A = "739146", "582063", "4471"
ROWS = (
    f"C1,Alice,vip,,stable,500,24,800,yue,am_li,,13800138000,{PIN_A},{ID_A}\n"
    f"C2,Bob,normal,,new,30,1,650,en,,,13900001111,{PIN_B},\n"
    "C3,Carol,normal,,new,30,1,650,zh,,,13900002222,,\n"
)


async def dump(client: Redis) -> str:
    """Every key and value in Redis, as text."""
    out = []
    async for key in client.scan_iter():
        kind = await client.type(key)
        if kind == "string":
            out.append(f"{key}={await client.get(key)}")
        elif kind == "hash":
            out.append(f"{key}={await client.hgetall(key)}")
        else:
            out.append(str(key))
    return "\n".join(out)


@pytest.fixture
async def imported(tmp_path: Path, redis_url: str, redis_client: Redis) -> RedisCustomerStore:
    path = tmp_path / "c.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    report = await import_path(redis_url, path)
    assert report.ok, report.problems
    return RedisCustomerStore(redis_client)


class TestHashes:
    def test_hash_matches_only_its_digits(self) -> None:
        """The stored form verifies the right digits and nothing else, and hides them."""
        stored = hash_secret(PIN_A)
        assert PIN_A not in stored
        assert matches(stored, PIN_A)
        assert not matches(stored, PIN_B)
        assert not matches(stored, PIN_A + "0")

    def test_salt_is_per_record(self) -> None:
        """The same PIN hashed twice gives two different stored values."""
        assert hash_secret(PIN_A) != hash_secret(PIN_A)

    @pytest.mark.parametrize(
        "tampered", ["", "plain", "scrypt$12$8$1$!!$!!", "scrypt$30$8$1$AAAA$AAAA", "md5$x"]
    )
    def test_malformed_or_costly_encodings_never_match(self, tampered: str) -> None:
        """A corrupt record (or one asking 2^30 work) is refused without computing it."""
        assert not matches(tampered, PIN_A)

    @pytest.mark.parametrize(
        ("column", "value"), [("pin", "12a4"), ("pin", "12"), ("id_last4", "X123")]
    )
    def test_bad_value_is_reported_without_echoing_it(self, column: str, value: str) -> None:
        """A bad factor column names the column, never the value."""
        found = parse_factors({column: value})
        assert isinstance(found, RowError)
        assert found.field == column
        assert value not in found.message


class TestImport:
    async def test_import_stores_hashes_never_the_digits(
        self, imported: RedisCustomerStore, redis_client: Redis
    ) -> None:
        """After import no key or value in Redis holds a PIN or ID digits in clear."""
        text = await dump(redis_client)
        assert "C1" in text
        for secret in (PIN_A, PIN_B, ID_A):
            assert secret not in text
        assert matches(await imported.factor_hash("C1", "pin"), PIN_A)
        assert matches(await imported.factor_hash("C1", "id_last4"), ID_A)
        assert await imported.factor_hash("C3", "pin") == ""

    async def test_customer_record_never_carries_the_factors(
        self, imported: RedisCustomerStore
    ) -> None:
        """The Customer a flow sees has no factor (nor its hash) in any field."""
        found = await imported.customer_by_id("C1")
        assert found is not None
        assert "scrypt" not in repr(found)
        assert found.language == "yue"

    async def test_bad_pin_row_is_refused_and_not_echoed(
        self, tmp_path: Path, redis_url: str
    ) -> None:
        """A row with an unusable PIN is a located problem that does not print the PIN."""
        path = tmp_path / "bad.csv"
        path.write_text(HEADER + "C9,X,normal,,new,1,1,1,zh,,,13700000000,98a76,\n", "utf-8")
        report = await import_path(redis_url, path)
        assert not report.ok
        text = " ".join(str(p) for p in report.problems)
        assert "pin" in text
        assert "98a76" not in text

    def test_factor_of_ignores_a_bad_record(self) -> None:
        """A rec that is not JSON, or whose factors are not a mapping, has no factor."""
        assert factor_of("{", "pin") == ""
        assert factor_of('{"factors": [1]}', "pin") == ""


class TestCheck:
    async def test_right_pin_passes_wrong_and_foreign_fail(
        self, imported: RedisCustomerStore, redis_client: Redis
    ) -> None:
        """Own PIN: yes. Wrong PIN, another account's PIN, the ID digits as PIN: no."""
        check = RedisFactorCheck(redis_client, imported)
        assert await check.check("C1", "pin", PIN_A)
        assert not await check.check("C1", "pin", PIN_B)  # C2's PIN
        assert not await check.check("C2", "pin", PIN_A)
        assert not await check.check("C1", "pin", ID_A)
        assert not await check.check("C3", "pin", "0000")  # no PIN registered
        assert not await check.check("C404", "pin", PIN_A)  # no such account

    async def test_lockout_after_repeated_failures_even_for_the_right_pin(
        self, imported: RedisCustomerStore, redis_client: Redis
    ) -> None:
        """After MAX_FAILURES wrong PINs the right one is refused too (replay does not help)."""
        check = RedisFactorCheck(redis_client, imported)
        for guess in range(MAX_FAILURES):
            assert not await check.check("C1", "pin", f"{guess:06d}")
        assert not await check.check("C1", "pin", PIN_A)
        assert not await check.check("C1", "pin", PIN_A)
        ttl = await redis_client.ttl(keys.factor_failures_key("C1"))
        assert 0 < ttl <= keys.FACTOR_LOCK_S
        assert await check.check("C2", "pin", PIN_B)  # other accounts unaffected

    async def test_success_clears_the_failures(
        self, imported: RedisCustomerStore, redis_client: Redis
    ) -> None:
        """A caller who mistypes once and then succeeds starts from zero again."""
        check = RedisFactorCheck(redis_client, imported)
        assert not await check.check("C1", "pin", "000000")
        assert await check.check("C1", "pin", PIN_A)
        assert await redis_client.get(keys.factor_failures_key("C1")) is None

    async def test_digits_reach_no_log_and_no_key(
        self, imported: RedisCustomerStore, redis_client: Redis
    ) -> None:
        """Failures, lockouts and successes log nothing of the digits; Redis keeps none."""
        check = RedisFactorCheck(redis_client, imported, max_failures=1)
        with capture_logs() as logs:
            await check.check("C1", "pin", PIN_B)
            await check.check("C1", "pin", PIN_B)
            await check.check("C1", "pin", PIN_A)
        assert any(entry["event"] == "factor_locked" for entry in logs)
        text = repr(logs) + await dump(redis_client)
        for secret in (PIN_A, PIN_B):
            assert secret not in text

    async def test_store_down_fails_closed(self, imported: RedisCustomerStore) -> None:
        """No Redis: the factor never checks out, and no exception reaches the call."""
        dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
        check = RedisFactorCheck(dead, imported)
        assert not await check.check("C1", "pin", PIN_A)
        await dead.aclose()
