"""One Redis connection shared by every call in flight, its requests pipelined.

Why: through redis-py's pool each call's reads cost a connection checkout
(a ``recv`` probe, timers), a ``send`` of their own, and, whenever a call
met its deadline, a disconnect and a new TCP connection: under load the
pool spent more CPU reconnecting than reading. Here the commands of every
call that asks in one loop iteration while others wait go out in ONE write
(an idle connection writes at once: Nagle's rule, for Redis requests), and
replies come back in order on one connection, matched first in, first out. A
caller that gives up (its deadline) just stops waiting: its reply is read
and dropped when it comes, so the connection stays in step and is kept.

A connection that stops answering (its oldest request older than
``stall_s``) is dropped and the next request opens a new one; while Redis
is unreachable, connects are retried at most every ``retry_s``, and
requests fail at once in between (the call goes on as "store down").
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import hiredis
from redis.exceptions import ConnectionError as RedisConnectionError

__all__ = ["PipelinedRedis", "pack"]


def _bulk(value: str | bytes) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return b"$%d\r\n%s\r\n" % (len(data), data)


def pack(command: Sequence[str | bytes]) -> bytes:
    """One command in RESP (what redis-py's ``pack_command`` does, without its generality)."""
    return b"*%d\r\n%s" % (len(command), b"".join(map(_bulk, command)))


class _Wire(asyncio.Protocol):
    """The socket: feeds replies to the owner in arrival order."""

    def __init__(self, owner: PipelinedRedis) -> None:
        self.owner = owner
        self.reader = hiredis.Reader(encoding="utf-8", errors="replace")

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            self.owner.answered(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner.lost(self)


class PipelinedRedis:
    """Requests from many calls on one connection; see the module docstring."""

    def __init__(
        self,
        address: Mapping[str, Any],
        connect_timeout_s: float = 0.1,
        stall_s: float = 1.0,
        retry_s: float = 0.1,
    ) -> None:
        self._address = address
        self._connect_timeout_s = connect_timeout_s
        self._stall_s = stall_s
        self._retry_s = retry_s
        self._transport: asyncio.Transport | None = None
        self._wire: _Wire | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._failed_at = float("-inf")
        self._waiting: deque[tuple[asyncio.Future[Any], float]] = deque()
        self._out: list[bytes] = []
        self.connects = 0
        self.writes = 0  # round trips: one write per loop iteration with requests
        self.commands = 0

    @classmethod
    def supports(cls, connection_kwargs: Mapping[str, Any], ssl: bool) -> bool:
        """Plain TCP or a Unix socket (TLS stays with redis-py's pool)."""
        return not ssl and ("host" in connection_kwargs or "path" in connection_kwargs)

    async def request(self, commands: Sequence[Sequence[str]]) -> list[Any]:
        """Send ``commands`` and return their replies (an error reply is returned, not raised).

        Raises:
            redis.exceptions.ConnectionError: no connection to Redis.
        """
        return [await f for f in await self.submit(commands)]

    async def submit(self, commands: Sequence[Sequence[str]]) -> list[asyncio.Future[Any]]:
        """Queue ``commands`` for this iteration's write; one future per reply, in order.

        For a caller with a deadline: a reply that arrived before the deadline
        is in its future even if the caller had no turn to read it in time.
        """
        await self._ready()
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._waiting and now - self._waiting[0][1] > self._stall_s:
            self._drop(f"no reply within {self._stall_s:g} s")
            await self._ready()
        idle = not self._waiting
        futures = [loop.create_future() for _ in commands]
        self._waiting.extend((f, now) for f in futures)
        self._out.extend(pack(c) for c in commands)
        if idle:
            self._flush()  # nothing in flight: nobody to share the write with, no extra hop
        elif len(self._out) == len(commands):
            loop.call_soon(self._flush)  # every call asking in this iteration: one write
        return futures

    async def aclose(self) -> None:
        self._drop("closed")

    # ------------------------------------------------------------------ wire events

    def answered(self, reply: Any) -> None:
        if not self._waiting:
            self._drop("a reply nobody asked for")
            return
        future, _ = self._waiting.popleft()
        if not future.done():  # a caller past its deadline no longer waits
            future.set_result(reply)

    def lost(self, wire: _Wire) -> None:
        if wire is self._wire:
            self._drop("connection lost")

    # ------------------------------------------------------------------ plumbing

    def _flush(self) -> None:
        if not self._out:
            return
        count, data, self._out = len(self._out), b"".join(self._out), []
        if self._transport is None or self._transport.is_closing():
            self._drop("connection lost")
            return
        self._transport.write(data)
        self.writes += 1
        self.commands += count

    def _drop(self, why: str) -> None:
        transport, self._transport, self._wire = self._transport, None, None
        if transport is not None:
            transport.abort()
        self._out.clear()
        error = RedisConnectionError(why)
        while self._waiting:
            future, _ = self._waiting.popleft()
            if not future.done():
                future.set_exception(error)

    async def _ready(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            return
        if self._connecting is None:
            if time.monotonic() - self._failed_at < self._retry_s:
                raise RedisConnectionError("Redis unreachable (retrying shortly)")
            self._connecting = asyncio.get_running_loop().create_task(self._connect())
            self._connecting.add_done_callback(_retrieved)
        await asyncio.shield(self._connecting)  # a caller's deadline must not stop the connect

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        a = self._address
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                if "path" in a:
                    transport, wire = await loop.create_unix_connection(
                        lambda: _Wire(self), a["path"]
                    )
                else:
                    transport, wire = await loop.create_connection(
                        lambda: _Wire(self), a["host"], a.get("port", 6379)
                    )
                self._transport, self._wire = transport, wire
                self.connects += 1
                await self._hello(transport)
        except (OSError, TimeoutError, RedisConnectionError) as exc:
            self._failed_at = time.monotonic()
            self._drop("connect failed")
            raise RedisConnectionError(f"cannot reach Redis: {exc!r}") from None
        finally:
            self._connecting = None

    async def _hello(self, transport: asyncio.Transport) -> None:
        """AUTH and SELECT as the pool's connections do, before any request."""
        first: list[list[str]] = []
        if self._address.get("password"):
            user = self._address.get("username")
            first.append(["AUTH", *([user] if user else []), self._address["password"]])
        if self._address.get("db"):
            first.append(["SELECT", str(self._address["db"])])
        if not first:
            return
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in first]
        self._waiting.extend((f, loop.time()) for f in futures)
        transport.write(b"".join(pack(c) for c in first))
        for f in futures:
            if isinstance(reply := await f, Exception):
                raise RedisConnectionError(f"Redis refused the login: {reply}")


def _retrieved(task: asyncio.Task[None]) -> None:
    """A failed connect nobody waits for any more is not an unhandled error."""
    if not task.cancelled():
        task.exception()
