"""The atomic contact-rule check in Redis: each rule, and attempts to break it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner
from redis.asyncio import Redis

from router.cli import cli
from router.customers.model import Customer
from router.dialer.claim import ClaimArgs
from router.dialer.rules import ContactLimits
from router.dialer.store import DialerStore
from router.storage import keys

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "customers.csv"
DAY = 86400.0
T0 = 1_800_000_000.0


def args(
    contact: str = "c1:1",
    *,
    who: str = "c:1",
    campaign: str = "c1",
    now: float = T0,
    marketing: bool = False,
    exempt: bool = False,
    attempt: str = "a1",
    slot: str = "c1|q|0",
) -> ClaimArgs:
    return ClaimArgs(slot, contact, "13900000001", who, campaign, attempt, now, marketing, exempt)


async def free(r: Redis, who: str = "c:1") -> None:
    """The customer's call ended (its in-flight lock is gone)."""
    await r.hdel(keys.dialer_who_key(who), "lock", "lock_at")


async def due(r: Redis, contact: str = "c1:1", slot: str = "c1|q|0", at: float = T0) -> None:
    await r.zadd(keys.dialer_due_key(slot), {contact: at})


@pytest.fixture
def store(redis_client: Redis) -> DialerStore:
    return DialerStore(redis_client, ContactLimits(per_day=1, marketing_max=1, campaign_attempts=3))


class TestClaim:
    async def test_ok_records_the_attempt(self, store: DialerStore, redis_client: Redis) -> None:
        """A clean claim takes the contact off the due set, locks the customer, counts it."""
        await due(redis_client)
        assert (await store.claim(args()))[0] == "ok"
        assert await redis_client.zscore(keys.dialer_due_key("c1|q|0"), "c1:1") is None
        state = await store.who_state("c:1")
        assert (state["lock"], state["hist"], state["n:c1"]) == ("a1", repr(T0), "1")

    async def test_dnc_refused_for_good(self, store: DialerStore, redis_client: Redis) -> None:
        """A number on the DNC list is refused and leaves the due set."""
        await due(redis_client)
        await store.dnc_add(["13900000001"])
        assert (await store.claim(args()))[0] == "dnc"
        assert await redis_client.zcard(keys.dialer_due_key("c1|q|0")) == 0

    async def test_per_day_cap_delays(self, store: DialerStore, redis_client: Redis) -> None:
        """Never twice in one day: a second campaign's call waits until the first is 24 h old."""
        await due(redis_client)
        await due(redis_client, "c2:1", "c2|q|0")
        assert (await store.claim(args()))[0] == "ok"
        await free(redis_client)
        verdict, retry_at = await store.claim(
            args("c2:1", campaign="c2", slot="c2|q|0", now=T0 + 3600, attempt="a2")
        )
        assert (verdict, retry_at) == ("per_day", T0 + DAY)
        assert await redis_client.zscore(keys.dialer_due_key("c2|q|0"), "c2:1") == T0 + DAY
        await store.claim(args("c2:1", campaign="c2", slot="c2|q|0", now=T0 + DAY, attempt="a3"))

    async def test_marketing_cap_across_campaigns(self, redis_client: Redis) -> None:
        """At most one marketing call per 7 days, whichever campaign makes it."""
        store = DialerStore(redis_client, ContactLimits(per_day=5))
        for n in (1, 2):
            await due(redis_client, f"m{n}:1", f"m{n}|q|0")
        assert (await store.claim(args("m1:1", campaign="m1", slot="m1|q|0", marketing=True)))[
            0
        ] == "ok"
        await free(redis_client)
        verdict, retry_at = await store.claim(
            args(
                "m2:1", campaign="m2", slot="m2|q|0", marketing=True, now=T0 + 2 * DAY, attempt="b"
            )
        )
        assert (verdict, retry_at) == ("marketing_cap", T0 + 7 * DAY)

    async def test_non_marketing_ignores_marketing_cap(self, redis_client: Redis) -> None:
        """A payment reminder is not held back by last week's marketing call."""
        store = DialerStore(redis_client, ContactLimits(per_day=5))
        await due(redis_client, "m1:1", "m1|q|0")
        await due(redis_client, "p1:1", "p1|q|0")
        await store.claim(args("m1:1", campaign="m1", slot="m1|q|0", marketing=True))
        await free(redis_client)
        verdict, _ = await store.claim(args("p1:1", campaign="p1", slot="p1|q|0", attempt="b"))
        assert verdict == "ok"

    async def test_campaign_attempts_cap(self, redis_client: Redis) -> None:
        """At most 3 attempts per campaign per customer, even across re-imported contacts."""
        store = DialerStore(redis_client, ContactLimits(per_day=10, campaign_attempts=3))
        verdicts = []
        for n in range(4):
            await due(redis_client, f"c1:{n}")
            verdicts.append((await store.claim(args(f"c1:{n}", attempt=f"a{n}", now=T0 + n)))[0])
            await free(redis_client)
        assert verdicts == ["ok", "ok", "ok", "campaign_attempts"]

    async def test_callback_exempt_from_caps_not_from_lock(
        self, store: DialerStore, redis_client: Redis
    ) -> None:
        """A requested callback skips the caps, but never rings a customer already on a call."""
        await due(redis_client)
        await due(redis_client, "cb:1", "callbacks|q|9")
        assert (await store.claim(args()))[0] == "ok"
        cb = args("cb:1", campaign="callbacks", slot="callbacks|q|9", exempt=True, attempt="b")
        assert (await store.claim(cb))[0] == "in_flight"
        await free(redis_client)
        assert (await store.claim(cb))[0] == "ok"

    async def test_claimed_contact_is_taken(self, store: DialerStore, redis_client: Redis) -> None:
        """A contact no longer due (another dialer has it) is 'taken', nothing recorded."""
        assert (await store.claim(args()))[0] == "taken"
        assert await store.who_state("c:1") == {}


class TestRaces:
    async def test_two_dialers_one_customer(self, redis_url: str) -> None:
        """Two dialers (own connections) racing for one customer in two campaigns: one call."""
        clients = [Redis.from_url(redis_url, decode_responses=True) for _ in range(2)]
        try:
            stores = [DialerStore(c, ContactLimits(per_day=10)) for c in clients]
            for n in range(50):
                await due(clients[0], f"c{n}:1", f"c{n}|q|0")
            claims = [
                stores[n % 2].claim(
                    args(f"c{n}:1", campaign=f"c{n}", slot=f"c{n}|q|0", attempt=f"a{n}")
                )
                for n in range(50)
            ]
            verdicts = [v for v, _ in await asyncio.gather(*claims)]
            assert verdicts.count("ok") == 1
            assert set(verdicts) == {"ok", "in_flight"}
        finally:
            for c in clients:
                await c.aclose()

    async def test_two_dialers_one_contact(self, redis_url: str) -> None:
        """Both dialers see the same due contact; exactly one claims it."""
        clients = [Redis.from_url(redis_url, decode_responses=True) for _ in range(2)]
        try:
            stores = [DialerStore(c) for c in clients]
            await due(clients[0])
            verdicts = await asyncio.gather(
                *(s.claim(args(attempt=f"a{i}")) for i, s in enumerate(stores))
            )
            assert sorted(v for v, _ in verdicts) == ["ok", "taken"]
        finally:
            for c in clients:
                await c.aclose()

    async def test_release_only_own_lock(self, store: DialerStore, redis_client: Redis) -> None:
        """Closing a stale attempt never frees the lock of the customer's newer call."""
        await redis_client.hset(
            keys.dialer_who_key("c:1"), mapping={"lock": "newer", "lock_at": T0}
        )
        assert not await store.release("c:1", "older")
        assert (await store.who_state("c:1"))["lock"] == "newer"
        assert await store.release("c:1", "newer")


class TestUnclaim:
    async def test_unsent_originate_gives_the_claim_back(
        self, store: DialerStore, redis_client: Redis
    ) -> None:
        """AMI down after the claim: lock, history and counter undone, contact due again."""
        await due(redis_client)
        claim = args()
        assert (await store.claim(claim))[0] == "ok"
        await store.unclaim(claim)
        assert await store.who_state("c:1") == {"hist": "", "mkt": ""}
        assert await redis_client.zscore(keys.dialer_due_key("c1|q|0"), "c1:1") == T0
        assert (await store.claim(args(attempt="a2")))[0] == "ok"


class TestCustomers:
    def test_reads_the_customer_store_records(self, redis_url: str) -> None:
        """The batch customer read decodes what `tierline customers import` wrote."""
        result = CliRunner().invoke(cli, ["customers", "import", str(SAMPLE), "--redis", redis_url])
        assert result.exit_code == 0

        async def read() -> dict[str, Customer]:
            client = Redis.from_url(redis_url, decode_responses=True)
            try:
                return await DialerStore(client).customers(["C00001", "NOPE"])
            finally:
                await client.aclose()

        found = asyncio.run(read())
        assert list(found) == ["C00001"]
        assert found["C00001"].list.value == "red"
        assert found["C00001"].phones


class TestBatch:
    async def test_one_customer_twice_in_a_batch(
        self, store: DialerStore, redis_client: Redis
    ) -> None:
        """One customer's contacts in two campaigns, one batch: the second meets the lock."""
        await due(redis_client)
        await due(redis_client, "c2:1", "c2|q|0")
        second = args("c2:1", campaign="c2", slot="c2|q|0", attempt="a2")
        verdicts = await store.claim_many([args(), second])
        assert verdicts == [("ok", 0.0), ("in_flight", T0 + 60)]
        assert await redis_client.zscore(keys.dialer_due_key("c2|q|0"), "c2:1") == T0 + 60

    async def test_same_contact_twice_is_taken(
        self, store: DialerStore, redis_client: Redis
    ) -> None:
        """A contact listed twice in one batch is claimed once."""
        await due(redis_client)
        verdicts = await store.claim_many([args(), args(attempt="a2")])
        assert [v for v, _ in verdicts] == ["ok", "taken"]
        assert (await store.who_state("c:1"))["lock"] == "a1"

    async def test_stale_lock_expires(self, store: DialerStore, redis_client: Redis) -> None:
        """A lock older than its TTL (its dialer died) no longer blocks the customer."""
        await redis_client.hset(keys.dialer_who_key("c:1"), mapping={"lock": "old", "lock_at": 0})
        await due(redis_client)
        assert (await store.claim(args()))[0] == "ok"

    async def test_refusals_recorded_in_the_stream(
        self, store: DialerStore, redis_client: Redis
    ) -> None:
        """Each refusal the script decides is appended with its reason; a DNC contact ends."""
        await due(redis_client)
        await store.dnc_add(["13900000001"])
        await store.claim(args())
        refusals = await store.records(keys.DIALER_REFUSALS_STREAM)
        assert [(r["contact"], r["reason"], r["final"]) for r in refusals] == [("c1:1", "dnc", "1")]
        state = await redis_client.hget(keys.dialer_contact_key("c1:1"), "state")
        assert state == "refused"
