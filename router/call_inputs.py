"""Everything a routing decision reads, in one round trip under one deadline.

Why: the caller's record and the live queue picture used to be read one
after the other, each under its own deadline (50 ms, then 30 ms): two Redis
round trips in every call's set-up, and ~80 ms of silence with Redis
frozen. Now both scripts are written to Redis together and their replies
read back on the same connection: one round trip, one deadline (the lookup
deadline) for the whole decision. They stay two scripts because their key
families live on different Redis Cluster slots (``{c}`` and ``{q}``).

``read`` never raises: a part that is missing when the deadline passes
degrades to an unknown caller or an unknown queue picture, and a part that
did arrive is kept.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from redis.asyncio.connection import SSLConnection
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from router.ami.store import RedisQueueState
from router.customers.model import LookupResult
from router.customers.store import RedisCustomerStore, lookup_result, miss
from router.storage.pipelined import PipelinedRedis
from router.types import CallInputs, CustomerStore, InputReader, QueueSnapshot, QueueState

__all__ = ["RedisInputs", "SeparateInputs", "input_reader"]

ANONYMOUS = LookupResult(number="", reason="anonymous")
CONNECT_TIMEOUT_S = 0.1


def input_reader(
    store: CustomerStore, queues: QueueState | None, deadline_ms: float
) -> InputReader:
    """One pipelined round trip when both live on the same Redis client, else both at once."""
    if isinstance(store, RedisCustomerStore) and (
        queues is None or (isinstance(queues, RedisQueueState) and queues.client is store.client)
    ):
        return RedisInputs(store, queues, deadline_ms)
    return SeparateInputs(store, queues, deadline_ms)


class RedisInputs:
    """Lookup and snapshot written together, replies read back in order.

    On the router's one shared connection (:mod:`router.storage.pipelined`),
    so calls asking at the same moment also share the write; over TLS on a
    pooled connection instead (no redis-py pipeline object either way: its
    ``SCRIPT EXISTS`` check would cost a second round trip per call).
    """

    def __init__(
        self, store: RedisCustomerStore, queues: RedisQueueState | None, deadline_ms: float
    ) -> None:
        self._store = store
        self._queues = queues
        self._pool = pool = store.client.connection_pool
        self._deadline = deadline_ms / 1000
        address = pool.connection_kwargs
        ssl = issubclass(pool.connection_class, SSLConnection)
        self.pipe = None
        if PipelinedRedis.supports(address, ssl):
            connect_s = address.get("socket_connect_timeout") or CONNECT_TIMEOUT_S
            self.pipe = PipelinedRedis(address, connect_s)
        self._texts = dict([store.lookup_script, *([queues.script] if queues else [])])

    def _as_eval(self, command: tuple[str, ...]) -> tuple[str, ...]:
        return ("EVAL", self._texts[command[1]], *command[2:])

    async def read(self, number: str) -> CallInputs:
        start = time.perf_counter()
        lookup = self._store.lookup_command(number) if number else None
        commands = [lookup[1]] if lookup else []
        if self._queues is not None:
            commands.append(self._queues.command())
        if not commands:
            return CallInputs(ANONYMOUS, {}, "none")
        replies: list[Any] = []
        futures: list[asyncio.Future[Any]] = []
        why = "ok"
        try:
            async with asyncio.timeout(self._deadline):
                await self._exchange(commands, replies, futures)
                if any(_noscript(r) for r in replies):  # Redis restarted
                    replies.clear()  # EVAL runs the text and caches it for the next EVALSHA
                    evals = [self._as_eval(c) for c in commands]
                    await self._exchange(evals, replies, futures)
        except (TimeoutError, RedisTimeoutError):
            why = "timeout"
            _arrived(futures, replies)
        except (RedisError, OSError):
            why = "store_down"
        found = ANONYMOUS
        if lookup is not None:
            found = _lookup(lookup[0], replies, why, start)
        if self._queues is None:
            return CallInputs(found, {}, "none")
        if len(replies) < len(commands):
            return CallInputs(found, {}, why)
        return _snapshot(self._queues, found, replies[-1])

    async def aclose(self) -> None:
        if self.pipe is not None:
            await self.pipe.aclose()

    async def _exchange(
        self,
        commands: Sequence[tuple[str, ...]],
        replies: list[Any],
        futures: list[asyncio.Future[Any]],
    ) -> None:
        """Write every command at once, then read one reply each (an error reply is kept)."""
        if self.pipe is not None:
            futures[:] = await self.pipe.submit(commands)
            for future in futures:
                replies.append(await future)
            return
        pool = self._pool
        conn = await pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            await conn.send_packed_command(conn.pack_commands(commands))
            for _ in commands:
                try:
                    replies.append(await conn.read_response())
                except ResponseError as exc:  # the connection is still in step
                    replies.append(exc)
        except BaseException:
            await conn.disconnect()  # half read: it must not go back to the pool as is
            raise
        finally:
            await pool.release(conn)


def _arrived(futures: list[asyncio.Future[Any]], replies: list[Any]) -> None:
    """Past the deadline, keep the replies that did arrive in time but were not read yet."""
    for future in futures[len(replies) :]:
        if not future.done() or future.cancelled() or future.exception() is not None:
            return
        replies.append(future.result())


def _noscript(reply: Any) -> bool:
    return isinstance(reply, Exception) and str(reply).startswith("NOSCRIPT")


def _snapshot(queues: RedisQueueState, found: LookupResult, raw: Any) -> CallInputs:
    if isinstance(raw, Exception):
        return CallInputs(found, {}, "store_down")
    try:
        return CallInputs(found, queues.parse(raw))
    except (ValueError, TypeError, AttributeError):
        return CallInputs(found, {}, "bad_reply")


def _lookup(number: str, replies: list[Any], why: str, start: float) -> LookupResult:
    """The lookup's result from the first reply, or why there is none."""
    if not replies:
        return miss(number, why, start)
    reply = replies[0]
    if isinstance(reply, Exception):
        return miss(number, "store_down", start)
    return lookup_result(number, reply, start)


class SeparateInputs:
    """Any store and queue state (memory, other clients): both reads at once, one deadline."""

    def __init__(self, store: CustomerStore, queues: QueueState | None, deadline_ms: float) -> None:
        self._store = store
        self._queues = queues
        self._deadline = deadline_ms / 1000

    async def read(self, number: str) -> CallInputs:
        start = time.perf_counter()
        who = asyncio.ensure_future(self._store.lookup(number)) if number else None
        live = asyncio.ensure_future(self._queues.snapshot()) if self._queues else None
        tasks = [t for t in (who, live) if t is not None]
        if not tasks:
            return CallInputs(ANONYMOUS, {}, "none")
        done, pending = await asyncio.wait(tasks, timeout=self._deadline)
        for task in pending:
            task.cancel()
        found = ANONYMOUS
        if who is not None:
            why = "timeout" if who in pending else "store_down"
            found = _done(who, done) or miss(number, why, start)
        if live is None:
            return CallInputs(found, {}, "none")
        queues: dict[str, QueueSnapshot] | None = _done(live, done)
        if queues is None:
            return CallInputs(found, {}, "timeout" if live in pending else "store_down")
        return CallInputs(found, queues)


def _done(task: asyncio.Future[Any], done: AbstractSet[Any]) -> Any:
    """The task's result, or None when it did not finish or failed."""
    if task not in done or task.cancelled() or task.exception() is not None:
        return None
    return task.result()
