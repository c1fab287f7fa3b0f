"""The Redis customer store: lookup, upsert, link/unlink, fallbacks."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest
from redis.asyncio import Redis

from router.customers.model import Customer, CustomerList, Lifecycle
from router.customers.store import RedisCustomerStore, encode_record, packed_record
from router.errors import NumberConflictError, StoreError
from router.settings import Settings
from router.storage import keys
from router.storage.client import CallPathConnection, call_path_client
from tests.redis_server import RedisProcess

ALICE = Customer(
    customer_id="C1",
    name='张三, "JJ"',
    tier="vip",
    list=CustomerList.RED,
    lifecycle=Lifecycle.AT_RISK,
    arpu=512.5,
    tenure_months=37,
    credit_score=812,
    language="zh",
    account_manager="am.li",
    offers=("5G Unlimited 199", "Fibre upgrade"),
    phones=("13800138000", "1065529988"),
    updated_at="2026-11-22T00:00:00+00:00",
)


@pytest.fixture
def store(redis_client: Redis) -> RedisCustomerStore:
    return RedisCustomerStore(redis_client)


class TestLookup:
    async def test_every_field_round_trips(self, store: RedisCustomerStore) -> None:
        """A lookup returns the whole record exactly as written."""
        await store.upsert(ALICE)
        result = await store.lookup("+86 138-0013-8000")
        assert result.reason == "found"
        assert result.customer == ALICE

    async def test_any_linked_number_finds_the_customer(self, store: RedisCustomerStore) -> None:
        """Landline and mobile, in any spelling, reach the same customer."""
        await store.upsert(ALICE)
        for spelling in ("008613800138000", "010-6552 9988", "+86 10 6552 9988"):
            result = await store.lookup(spelling)
            assert result.customer is not None
            assert result.customer.customer_id == "C1"

    async def test_unknown_and_anonymous(self, store: RedisCustomerStore) -> None:
        """Unknown numbers and unusable caller ids are told apart."""
        assert (await store.lookup("13900000000")).reason == "unknown"
        assert (await store.lookup("anonymous")).reason == "anonymous"
        assert (await store.lookup('1380013"\nHANGUP')).reason == "anonymous"

    async def test_bad_record_degrades(
        self, store: RedisCustomerStore, redis_client: Redis
    ) -> None:
        """A corrupt hash gives 'bad_record', not an exception."""
        await store.upsert(ALICE)
        await redis_client.hset(keys.customer_key("C1"), "rec", '{"credit_score": "lots"}')
        assert (await store.lookup("13800138000")).reason == "bad_record"

    async def test_lookup_is_one_round_trip(
        self, store: RedisCustomerStore, redis_client: Redis
    ) -> None:
        """One EVALSHA per lookup; GET and HMGET run inside the script."""
        await store.upsert(ALICE)
        await store.lookup("13800138000")  # loads the script once
        await redis_client.config_resetstat()
        await store.lookup("13800138000")
        stats = await redis_client.info("commandstats")
        calls = {k: v["calls"] for k, v in stats.items() if not k.startswith("cmdstat_config")}
        # the GETs: the published-import switch (unset here), then the number
        assert calls == {"cmdstat_evalsha": 1, "cmdstat_get": 2, "cmdstat_hmget": 1}


class TestWrites:
    async def test_reupsert_moves_dropped_numbers(self, store: RedisCustomerStore) -> None:
        """Re-writing a customer releases numbers it no longer lists."""
        await store.upsert(ALICE)
        await store.upsert(Customer("C1", tier="vip", phones=("13800138000",)))
        assert (await store.lookup("1065529988")).reason == "unknown"
        assert (await store.lookup("13800138000")).found

    async def test_upsert_refuses_to_steal(self, store: RedisCustomerStore) -> None:
        """A number owned by someone else is a conflict; nothing is written."""
        await store.upsert(ALICE)
        with pytest.raises(NumberConflictError, match="C1"):
            await store.upsert(Customer("C2", phones=("13900001111", "13800138000")))
        assert await store.customer_by_id("C2") is None
        assert (await store.lookup("13900001111")).reason == "unknown"

    async def test_link_and_unlink(self, store: RedisCustomerStore) -> None:
        """link adds the number to the record; unlink removes it again."""
        await store.upsert(ALICE)
        await store.link("+86 139 0000 1111", "C1")
        found = await store.lookup("13900001111")
        assert found.customer is not None
        assert found.customer.phones == ("13800138000", "1065529988", "13900001111")
        assert await store.unlink("13900001111") == "C1"
        after = await store.customer_by_id("C1")
        assert after is not None
        assert after.phones == ("13800138000", "1065529988")
        assert await store.unlink("13900001111") is None

    async def test_link_conflict_and_unknown_customer(self, store: RedisCustomerStore) -> None:
        """Linking never moves a number silently, nor links to nobody."""
        await store.upsert(ALICE)
        await store.upsert(Customer("C2", phones=("13900001111",)))
        with pytest.raises(NumberConflictError):
            await store.link("13800138000", "C2")
        with pytest.raises(StoreError, match="no customer"):
            await store.link("13700000000", "C9")
        with pytest.raises(StoreError, match="not a phone number"):
            await store.link("call me", "C1")

    async def test_iter_all_is_sorted(self, store: RedisCustomerStore) -> None:
        """Exports list customers in id order."""
        for cid, n in (("C3", "13700000003"), ("C1", "13700000001"), ("C2", "13700000002")):
            await store.upsert(Customer(cid, phones=(n,)))
        assert [c.customer_id async for c in store.iter_all(batch=2)] == ["C1", "C2", "C3"]


class TestPackedBatch:
    """The import's write path: records packed once, one script call per batch."""

    @staticmethod
    def packed(*customers: Customer) -> bytes:
        return b"".join(
            packed_record(cid.encode(), phones.encode(), rec)
            for cid, phones, rec in map(encode_record, customers)
        )

    async def test_big_batch_round_trips(self, store: RedisCustomerStore) -> None:
        """1,500 records (number keys written in several MSET slices) all resolve."""
        people = [Customer(f"P{i}", phones=(f"1370000{i:04d}",)) for i in range(1500)]
        assert await store.upsert_packed(self.packed(*people), len(people)) == []
        for i in (0, 499, 500, 1499):
            found = await store.lookup(f"1370000{i:04d}")
            assert found.customer is not None
            assert found.customer.customer_id == f"P{i}"

    async def test_number_taken_earlier_in_the_batch(self, store: RedisCustomerStore) -> None:
        """A number claimed by an earlier record of the same batch is a conflict."""
        first = Customer("A1", phones=("13700000001",))
        second = Customer("A2", phones=("13700000002", "13700000001"))
        conflicts = await store.upsert_packed(self.packed(first, second), 2)
        assert [(c.customer_id, c.number, c.owner) for c in conflicts] == [
            ("A2", "13700000001", "A1")
        ]
        assert await store.customer_by_id("A2") is None
        assert (await store.lookup("13700000002")).reason == "unknown"

    async def test_reloads_a_flushed_script(
        self, store: RedisCustomerStore, redis_client: Redis
    ) -> None:
        """After SCRIPT FLUSH (a restarted server) the batch loads the script and goes on."""
        await redis_client.script_flush()
        assert await store.upsert_packed(self.packed(ALICE), 1) == []
        assert (await store.lookup("13800138000")).found


@pytest.fixture
def own_server() -> Iterator[RedisProcess]:
    """A private server this test may stop or freeze."""
    proc = RedisProcess().start()
    yield proc
    if proc.proc is not None:
        os.kill(proc.proc.pid, signal.SIGCONT)
    proc.stop()


class TestFallback:
    async def _store(self, url: str) -> tuple[Redis, RedisCustomerStore]:
        settings = Settings(lookup_deadline_ms=50)
        client = call_path_client(settings, url)
        store = RedisCustomerStore(client, deadline_ms=50)
        await store.upsert(ALICE)
        return client, store

    async def test_writes_skip_the_timeout_task_reads_keep_it(self, redis_url: str) -> None:
        """Call-path connections write without redis-py's wait_for task, then read under
        the socket timeout again (80% of the deadline)."""
        client, store = await self._store(redis_url)
        assert (await store.lookup("13800138000")).found
        pool = client.connection_pool
        conn = await pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            assert isinstance(conn, CallPathConnection)
            assert conn.socket_timeout == pytest.approx(0.04)
        finally:
            await pool.release(conn)
            await client.aclose()
            await pool.disconnect()

    async def test_server_stopped_mid_test(self, own_server: RedisProcess) -> None:
        """A dead server gives 'store_down' quickly, never an exception."""
        client, store = await self._store(own_server.url)
        own_server.stop()
        start = time.perf_counter()
        result = await store.lookup("13800138000")
        assert result.reason in {"store_down", "timeout"}
        assert time.perf_counter() - start < 0.2
        await client.aclose()

    async def test_frozen_server_hits_deadline(self, own_server: RedisProcess) -> None:
        """A frozen (SIGSTOP) server gives 'timeout' within the 50 ms deadline."""
        client, store = await self._store(own_server.url)
        assert own_server.proc is not None
        os.kill(own_server.proc.pid, signal.SIGSTOP)
        start = time.perf_counter()
        result = await store.lookup("13800138000")
        elapsed = time.perf_counter() - start
        assert result.reason == "timeout"
        assert elapsed < 0.15
        os.kill(own_server.proc.pid, signal.SIGCONT)
        await client.aclose()

    async def test_refused_connection_fails_fast(self) -> None:
        """Nothing listening: no client retries, answer within the deadline."""
        from tests.redis_server import free_port

        client = call_path_client(Settings(), f"redis://127.0.0.1:{free_port()}/0")
        store = RedisCustomerStore(client, deadline_ms=50)
        start = time.perf_counter()
        assert (await store.lookup("13800138000")).reason in {"store_down", "timeout"}
        assert time.perf_counter() - start < 0.1
        await client.aclose()
