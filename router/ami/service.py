"""Wire the listener for a running router: settings, Redis mirror, aging timer."""

from __future__ import annotations

from redis.asyncio import Redis

from router.ami.aging import PriorityAger, Rule
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

    Returns at once; the listener connects and reconnects on its own. Stop it
    with ``await listener.stop()``. Raises ``ConfigError`` when the AMI
    credentials are not configured.
    """
    listener = AMIListener(ListenerConfig.from_settings(settings), RedisStateWriter(redis))
    await listener.start()
    if rule is not None:
        ager = PriorityAger(listener, rule, interval_s=aging_interval_s)
        listener.supervise("ami-aging", ager.run)
    return listener
