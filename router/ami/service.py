"""Wire the listener for a running router: settings, Redis mirror, aging timer."""

from __future__ import annotations

from redis.asyncio import Redis

from router.ami.aging import PriorityAger, Rule
from router.ami.election import LeaderLock
from router.ami.listener import AMIListener, ListenerConfig
from router.ami.store import RedisStateWriter
from router.settings import Settings

__all__ = ["start_listener"]


async def start_listener(
    settings: Settings,
    redis: Redis,
    rule: Rule | None = None,
    aging_interval_s: float = 5.0,
) -> AMIListener:
    """Start the AMI listener (and the starvation-guard timer when ``rule`` is given).

    Returns at once; the listener connects and reconnects on its own while
    this router holds the site's listener lock (``TIERLINE_AMI_SITE``) and
    stands by otherwise. Stop it with ``await listener.stop()``. Raises
    ``ConfigError`` when the AMI credentials are not configured.
    """
    writer = RedisStateWriter(redis, retention_days=settings.records_retention_days)
    elector = LeaderLock(redis, settings.ami_site)
    listener = AMIListener(ListenerConfig.from_settings(settings), writer, elector=elector)
    await listener.start()
    if rule is not None:
        ager = PriorityAger(listener, rule, interval_s=aging_interval_s)
        listener.supervise("ami-aging", ager.run)
    return listener
