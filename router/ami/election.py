"""One AMI listener per site: a Redis lock with a TTL, renewed by its holder.

Asterisk's manager.conf ``allowmultiplelogin=no`` refuses a second login of
the same user, so several routers cannot all run the listener: the others
would loop on "Login Already In Use". Every router runs a
:class:`LeaderLock`; the one holding ``ami_leader_key(site)`` connects, the
rest stand by and take over within one TTL after the holder dies.

* The holder renews every ``ttl/3``. If the key is gone (expired) it takes it
  back; if another token holds it, it steps down at once.
* If Redis cannot be reached, the holder stays leader: no other router can
  take the lock without Redis either, and AMI's own single-login rule still
  stops a second session. The event stream keeps flowing meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid

from redis.asyncio import Redis
from redis.exceptions import RedisError

from router.logs import get_logger
from router.storage import keys

__all__ = ["LeaderLock"]

_log = get_logger(__name__)

# 1: we hold it (taken or renewed); 0: someone else does.
_CLAIM_LUA = """
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class LeaderLock:
    """Leadership of one site's AMI listener, held through a Redis key."""

    def __init__(
        self,
        redis: Redis,
        site: str = "default",
        *,
        ttl_s: float = keys.AMI_LEADER_TTL_S,
        token: str | None = None,
    ) -> None:
        self.site = site
        self.key = keys.ami_leader_key(site)
        self.token = token or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.ttl_s = ttl_s
        self._redis = redis
        self._claim = redis.register_script(_CLAIM_LUA)
        self._release = redis.register_script(_RELEASE_LUA)
        self._leader = asyncio.Event()

    @property
    def is_leader(self) -> bool:
        return self._leader.is_set()

    async def wait_leader(self) -> None:
        await self._leader.wait()

    async def claim(self) -> bool:
        """Take or renew the lock once; keeps the current role if Redis fails."""
        try:
            async with asyncio.timeout(self.ttl_s / 3):
                mine = bool(
                    await self._claim(keys=[self.key], args=[self.token, int(self.ttl_s * 1000)])
                )
        except (RedisError, OSError, TimeoutError) as exc:
            _log.warning("ami_election_unreachable", site=self.site, error=type(exc).__name__)
            return self.is_leader
        if mine != self.is_leader:
            _log.info("ami_leader" if mine else "ami_follower", site=self.site, token=self.token)
        if mine:
            self._leader.set()
        else:
            self._leader.clear()
        return mine

    async def run(self) -> None:
        """Claim every ``ttl/3`` forever (a supervised task)."""
        while True:
            await self.claim()
            await asyncio.sleep(self.ttl_s / 3)

    async def release(self) -> None:
        """Give the lock up at shutdown so a standby takes over at once."""
        self._leader.clear()
        try:
            async with asyncio.timeout(1.0):
                await self._release(keys=[self.key], args=[self.token])
        except (RedisError, OSError, TimeoutError):
            pass  # it expires within one TTL anyway
