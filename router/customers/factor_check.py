"""Checking a typed second factor against the stored hash, with a per-account lockout.

Guessing is the threat: 10 000 PINs, or someone with one account number
trying from many phones. So every attempt first takes a slot of the
account's failure counter in Redis (``INCR``, one round trip, atomic: calls
racing each other cannot share a slot); past :data:`MAX_FAILURES` within
``keys.FACTOR_LOCK_S`` of the last failure the account is locked and no
hash is even compared. Success clears the counter. A missing account, a
missing factor, a locked account, a wrong value and a Redis fault all
answer the same ``False`` after about the same work (a dummy hash is
compared), so the answer tells a caller nothing about which it was.

The typed digits are only ever passed to the hash; no log line, error or
Redis key holds them.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from router.customers.factors import dummy, matches
from router.logs import get_logger
from router.storage import keys

__all__ = ["MAX_FAILURES", "FactorCheck", "FactorSource", "RedisFactorCheck"]

MAX_FAILURES = 5
"""Wrong second factors an account tolerates before it is locked (for FACTOR_LOCK_S)."""

log = get_logger(__name__)


class FactorCheck(Protocol):
    async def check(self, customer_id: str, kind: str, digits: str) -> bool:
        """True only when ``digits`` are the account's registered factor ``kind``."""
        ...


class FactorSource(Protocol):
    async def factor_hash(self, customer_id: str, kind: str) -> str:
        """The stored hash of the account's factor ``kind``; "" for none."""
        ...


class RedisFactorCheck:
    """:class:`FactorCheck` on the customer store, with the lockout counter in Redis."""

    def __init__(
        self,
        client: Redis,
        source: FactorSource,
        max_failures: int = MAX_FAILURES,
        lock_s: int = keys.FACTOR_LOCK_S,
    ) -> None:
        self._r, self._source = client, source
        self._max, self._lock_s = max_failures, lock_s

    async def check(self, customer_id: str, kind: str, digits: str) -> bool:
        key = keys.factor_failures_key(customer_id)
        try:
            async with self._r.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, self._lock_s)
                attempts = int((await pipe.execute())[0])
            stored = await self._source.factor_hash(customer_id, kind)
        except (RedisError, OSError, ValueError) as exc:
            log.warning("factor_check_failed", error=type(exc).__name__)
            return await _compare(dummy(), digits, False)
        locked = attempts > self._max
        ok = await _compare(stored or dummy(), digits, bool(stored) and not locked)
        if ok:
            await self._clear(key)
        elif locked:
            log.warning("factor_locked", customer_id=customer_id, attempts=attempts)
        return ok

    async def _clear(self, key: str) -> None:
        try:
            await self._r.delete(key)
        except (RedisError, OSError) as exc:  # the counter expires by itself
            log.warning("factor_clear_failed", error=type(exc).__name__)


async def _compare(encoded: str, digits: str, counts: bool) -> bool:
    """Hash off the event loop (scrypt takes milliseconds); ``counts`` False: work, then False."""
    same = await asyncio.to_thread(matches, encoded, digits)
    return same and counts
