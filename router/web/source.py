"""Read the live state and new call records from Redis for the wallboard.

The web process polls; it never subscribes to the AMI itself, so several
wall screens cost the switch nothing. When Redis is down the last good
inputs are kept and marked stale with their age, so the page keeps showing
what it last knew and says so instead of going blank.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from router.ami.records import CallRecord, from_fields
from router.ami.store import RedisQueueState
from router.storage import keys
from router.web.board import Inputs, Waiter

__all__ = ["StateSource"]

_PAGE = 5000


class StateSource:
    """Queue snapshots, waiting callers and the calls stream, read incrementally."""

    def __init__(self, redis: Redis, clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._clock = clock
        self._queues = RedisQueueState(redis, clock)
        self._last_id: str | None = None
        self.last: Inputs | None = None
        self.ok = False
        self.error = ""

    async def inputs(self) -> Inputs | None:
        """Fresh inputs, or the last good ones (``ok`` says which)."""
        try:
            queues = await self._queues.snapshot()
            waiters = await self._waiters(list(queues))
            pending = await self._callbacks_pending()
            campaigns = await self._redis.hgetall(keys.DIALER_CAMPAIGNS)
        except (RedisError, OSError, ValueError) as exc:
            self.ok, self.error = False, type(exc).__name__
            return self.last
        self.ok, self.error = True, ""
        states = {_text(k): _text(v) for k, v in campaigns.items()}
        self.last = Inputs(queues, waiters, pending, self._clock(), states)
        return self.last

    async def _callbacks_pending(self) -> int:
        """Requests the dialer has not finished: its group's backlog plus those in hand.

        Before any dialer has read the stream there is no group: every request waits.
        """
        try:
            groups = await self._redis.xinfo_groups(keys.CALLBACKS)
        except ResponseError:  # no stream yet
            return 0
        for g in groups:
            if _text(g.get("name", b"")) == keys.DIALER_CALLBACK_GROUP:
                lag = g.get("lag")
                return int(g.get("pending", 0)) + (int(lag) if lag is not None else 0)
        return int(await self._redis.xlen(keys.CALLBACKS))

    async def new_records(self, since: float) -> list[CallRecord]:
        """Records appended since the previous call (from ``since`` the first time)."""
        low = f"({self._last_id}" if self._last_id else f"{int(since * 1000)}-0"
        out: list[CallRecord] = []
        try:
            while True:
                page: list[Any] = await self._redis.xrange(  # type: ignore[assignment]
                    keys.CALLS_STREAM, min=low, max="+", count=_PAGE
                )
                for entry_id, fields in page:
                    out.append(from_fields({_text(k): _text(v) for k, v in fields.items()}))
                    self._last_id = _text(entry_id)
                if len(page) < _PAGE:
                    return out
                low = f"({self._last_id}"
        except (RedisError, OSError) as exc:
            self.ok, self.error = False, type(exc).__name__
            return out

    async def _waiters(self, names: list[str]) -> tuple[Waiter, ...]:
        pipe = self._redis.pipeline(transaction=False)
        for name in names:
            pipe.hvals(keys.queue_callers_key(name))
        out = []
        for name, values in zip(names, await pipe.execute(), strict=True):
            for raw in values:
                doc = orjson.loads(raw)
                out.append(Waiter(name, str(doc.get("tier") or "unknown"), float(doc["joined_at"])))
        return tuple(out)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
