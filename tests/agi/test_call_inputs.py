"""The decision's reads: one pipelined round trip on one shared connection, one deadline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from router.ami.store import RedisQueueState
from router.call_inputs import RedisInputs
from router.customers.model import Customer
from router.customers.store import RedisCustomerStore
from router.settings import Settings
from router.storage.client import call_path_client
from router.storage.pipelined import PipelinedRedis


def address(url: str, db: int = 0) -> dict[str, object]:
    host, _, port = url.removeprefix("redis://").partition("/")[0].partition(":")
    return {"host": host, "port": int(port), "db": db}


class TestPipelinedRedis:
    async def test_calls_asking_together_share_one_write(self, redis_url: str) -> None:
        """Twenty callers in one loop iteration: the first is written at once (nothing in
        flight), the other nineteen share one write; each gets its own reply."""
        pipe = PipelinedRedis(address(redis_url))
        await pipe.request([["SET", "k", "v"]])
        writes = pipe.writes
        got = await asyncio.gather(*(pipe.request([["ECHO", str(i)]]) for i in range(20)))
        assert got == [[str(i)] for i in range(20)]
        assert pipe.writes - writes == 2
        await pipe.aclose()

    async def test_a_caller_past_its_deadline_leaves_the_connection_in_step(
        self, redis_url: str
    ) -> None:
        """A reply nobody waits for any more is read and dropped: no reconnect, no mix-up."""
        pipe = PipelinedRedis(address(redis_url))
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await pipe.request([["BLPOP", "nothing", "0.3"]])
        assert await pipe.request([["SET", "a", "1"], ["GET", "a"]]) == ["OK", "1"]
        assert pipe.connects == 1
        await pipe.aclose()

    async def test_selects_the_url_database(self, redis_url: str) -> None:
        """The connection selects the database of the URL, as the pool's connections do."""
        pipe = PipelinedRedis(address(redis_url, db=3))
        await pipe.request([["SET", "in3", "yes"]])
        other = Redis.from_url(redis_url.rsplit("/", 1)[0] + "/3", decode_responses=True)
        assert await other.get("in3") == "yes"
        await other.aclose()
        await pipe.aclose()


class Frozen:
    """A Redis that accepts and reads, and never answers (a frozen server)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            self.chunks.append(data)
        writer.close()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return f"redis://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/0"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
async def frozen() -> AsyncIterator[tuple[Frozen, str]]:
    side = Frozen()
    async with side as url:
        yield side, url


class TestOneDeadline:
    async def test_frozen_redis_costs_one_deadline_for_both_reads(
        self, frozen: tuple[Frozen, str]
    ) -> None:
        """Redis frozen: lookup and snapshot went out in ONE write and both time out together
        (they used to be sent one after the other, each with its own deadline)."""
        side, url = frozen
        client = call_path_client(Settings(lookup_deadline_ms=50), url)
        reader = RedisInputs(RedisCustomerStore(client, 50), RedisQueueState(client), 50)
        got = await reader.read("13800138000")
        assert (got.lookup.reason, got.queues_reason) == ("timeout", "timeout")
        assert len(side.chunks) == 1
        assert side.chunks[0].count(b"EVALSHA") == 2
        await reader.aclose()
        await client.aclose()
        await client.connection_pool.disconnect()
        await asyncio.sleep(0.01)  # the server side sees the EOF and closes

    async def test_found_caller_and_queues(self, redis_url: str) -> None:
        """A known caller and the queue picture come back from the one round trip."""
        client = call_path_client(Settings(), redis_url)
        store = RedisCustomerStore(client)
        await store.upsert(Customer("C7", tier="vip", phones=("13800138000",)))
        await client.sadd("tl:{q}:queues", "vip_desk")
        await client.hset("tl:{q}:queue:vip_desk", mapping={"waiting": 2, "logged_in": 3})
        reader = RedisInputs(store, RedisQueueState(client), 50)
        got = await reader.read("+86 138 0013 8000")
        assert got.lookup.customer is not None
        assert got.lookup.customer.customer_id == "C7"
        assert got.queues["vip_desk"].waiting == 2
        assert got.queues_reason == "ok"
        await reader.aclose()
        await client.aclose()
        await client.connection_pool.disconnect()
