"""Erasing a customer: record, numbers and call-record identity go together."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import redis
from click.testing import CliRunner
from redis.asyncio import Redis

from router.cli import cli
from router.customers import erasure
from router.customers.erasure import erase_customer
from router.customers.model import Customer
from router.customers.store import RedisCustomerStore
from router.storage import keys

ALICE = Customer("C1", name="Alice", phones=("13800138000", "1065529988"))
BOB = Customer("C2", name="Bob", phones=("13900001111",))


@pytest.fixture
async def store(redis_client: Redis) -> RedisCustomerStore:
    s = RedisCustomerStore(redis_client)
    await s.upsert_many([ALICE, BOB])
    return s


class RecordsDouble:
    """Stands in for the call-record store: notes what it was asked and what it saw."""

    def __init__(self, store: RedisCustomerStore, fail: bool = False) -> None:
        self.store = store
        self.fail = fail
        self.calls: list[tuple[tuple[str, ...], str, bool]] = []

    async def __call__(self, _redis: Redis, numbers: Sequence[str], customer_id: str) -> int:
        still_there = await self.store.customer_by_id(customer_id) is not None
        self.calls.append((tuple(numbers), customer_id, still_there))
        if self.fail:
            raise ConnectionError("call-record store down")
        return 7


class TestStoreErase:
    async def test_record_numbers_and_id_go_at_once(
        self, store: RedisCustomerStore, redis_client: Redis
    ) -> None:
        """After erase nothing finds the customer; other customers are untouched."""
        assert await store.erase("C1") == ("13800138000", "1065529988")
        assert await store.customer_by_id("C1") is None
        for number in ALICE.phones:
            assert (await store.lookup(number)).reason == "unknown"
            assert await redis_client.exists(keys.number_key(number)) == 0
        assert await redis_client.smembers(keys.CUSTOMER_IDS) == {"C2"}
        assert (await store.lookup("13900001111")).customer == BOB

    async def test_unknown_customer(self, store: RedisCustomerStore) -> None:
        """Erasing an id nobody has is reported, not an error."""
        assert await store.erase("C404") is None
        assert await store.count() == 2

    async def test_number_moved_to_someone_else_stays(
        self, store: RedisCustomerStore, redis_client: Redis
    ) -> None:
        """Only numbers still pointing at the customer are removed."""
        await redis_client.set(keys.number_key("1065529988"), "C2")  # a stale listing
        await store.erase("C1")
        assert await redis_client.get(keys.number_key("1065529988")) == "C2"


class TestEraseCustomer:
    async def test_records_first_then_the_customer(
        self, store: RedisCustomerStore, redis_client: Redis
    ) -> None:
        """The records step sees the customer's numbers while the customer still exists."""
        records = RecordsDouble(store)
        done = await erase_customer(redis_client, "C1", records)
        assert done is not None
        assert (done.numbers, done.records) == (ALICE.phones, 7)
        assert records.calls == [(ALICE.phones, "C1", True)]
        assert await store.customer_by_id("C1") is None

    async def test_failed_records_step_keeps_the_customer(
        self, store: RedisCustomerStore, redis_client: Redis
    ) -> None:
        """If the records cannot be pseudonymised, nothing is erased and it can be re-run."""
        with pytest.raises(ConnectionError):
            await erase_customer(redis_client, "C1", RecordsDouble(store, fail=True))
        assert await store.customer_by_id("C1") == ALICE
        assert await erase_customer(redis_client, "C1", RecordsDouble(store)) is not None


class TestCli:
    def test_erase_with_records_step(
        self, store: RedisCustomerStore, redis_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """`customers erase ID --yes` erases and says how many call records it pseudonymised."""
        asked: list[tuple[tuple[str, ...], str]] = []

        async def pseudonymise(_redis: Redis, numbers: Sequence[str], customer_id: str) -> int:
            asked.append((tuple(numbers), customer_id))
            return 7

        monkeypatch.setattr(erasure, "call_records_step", lambda: pseudonymise)
        env = {"REDIS_URL": redis_url}
        result = CliRunner().invoke(cli, ["customers", "erase", "C1", "--yes"], env=env)
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines() == [
            "erased C1 and 2 numbers",
            "pseudonymised 7 call records",
        ]
        assert asked == [(ALICE.phones, "C1")]
        shown = CliRunner().invoke(cli, ["customers", "show", "13800138000"], env=env)
        assert shown.exit_code == 1
        assert "138****8000" in shown.stderr

    def test_erase_reaches_the_call_records(
        self, store: RedisCustomerStore, redis_url: str
    ) -> None:
        """The shipped step: a call record holding the erased customer's number loses it."""
        with redis.Redis.from_url(redis_url, decode_responses=True) as r:
            r.xadd(keys.CALLS_STREAM, {"uniqueid": "1.1", "caller": "13800138000"})
            r.xadd(keys.CALLS_STREAM, {"uniqueid": "1.2", "caller": "13900001111"})
            result = CliRunner().invoke(
                cli, ["customers", "erase", "C1", "--yes"], env={"REDIS_URL": redis_url}
            )
            assert result.exit_code == 0, result.output
            assert "pseudonymised 1 call records" in result.stdout
            callers = [f["caller"] for _, f in r.xrange(keys.CALLS_STREAM)]
        assert callers == ["13900001111"]

    def test_erase_without_records_step_says_so(
        self, store: RedisCustomerStore, redis_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A build without the call-record step erases the customer and exits 1 with a warning."""
        monkeypatch.setattr(erasure, "call_records_step", lambda: None)
        env = {"REDIS_URL": redis_url}
        result = CliRunner().invoke(cli, ["customers", "erase", "C1", "--yes"], env=env)
        assert result.exit_code == 1
        assert "call records NOT pseudonymised" in result.stderr
        unknown = CliRunner().invoke(cli, ["customers", "erase", "C9", "--yes"], env=env)
        assert (unknown.exit_code, unknown.stderr.strip()) == (1, "no customer C9")
