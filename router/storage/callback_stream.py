"""Callback requests kept in a Redis Stream, so none is lost on restart.

A stream (rather than a list) keeps each request's arrival order and id,
lets a dialer consume through a consumer group with acknowledgements, and
is trimmed approximately so it cannot grow without bound.
"""

from __future__ import annotations

from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from router.errors import StoreError
from router.flows.callbacks import CallbackRequest
from router.storage import keys

__all__ = ["RedisCallbackStore"]

MAXLEN = 1_000_000


class RedisCallbackStore:
    """``router.flows.callbacks.CallbackStore`` on ``router.storage.keys.CALLBACKS``."""

    def __init__(self, client: Redis) -> None:
        self._r = client

    async def add(self, request: CallbackRequest) -> str:
        try:
            fields: dict[Any, Any] = dict(request.fields())
            entry = await self._r.xadd(keys.CALLBACKS, fields, maxlen=MAXLEN, approximate=True)
        except RedisError as exc:
            raise StoreError(f"callback request not stored: {exc}") from exc
        return entry.decode() if isinstance(entry, bytes) else str(entry)

    async def pending(self, count: int = 100) -> list[tuple[str, dict[str, str]]]:
        """The oldest requests, for the callbacks report and dialers."""
        rows = cast(
            list[tuple[str, dict[str, str]]], await self._r.xrange(keys.CALLBACKS, count=count)
        )
        return [(i, dict(f)) for i, f in rows]
