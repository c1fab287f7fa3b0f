"""Helpers for web tests: a listener fed by the fake AMI, and a running web service."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator

from redis.asyncio import Redis

from router.ami import AMIListener
from router.ami.listener import ListenerConfig
from router.ami.store import RedisStateWriter
from router.web.config import WallboardConfig
from router.web.service import run_web
from tests.ami.fake_ami import FakeAMI
from tests.redis_server import free_port

__all__ = ["join", "listening", "web_service"]


@contextlib.asynccontextmanager
async def listening(fake: FakeAMI, redis: Redis) -> AsyncIterator[AMIListener]:
    """The real AMI listener writing the live state into ``redis``."""
    cfg = ListenerConfig(
        port=fake.port, username="router", secret=fake.secret, connect_timeout_s=1.0,
        ping_interval_s=0.5, ping_timeout_s=1.0, backoff_initial_s=0.05, backoff_max_s=0.2,
        action_timeout_s=1.0,
    )  # fmt: skip
    lst = AMIListener(cfg, RedisStateWriter(redis), rng=random.Random(1))
    await lst.start()
    await lst.wait_connected(3.0)
    try:
        yield lst
    finally:
        await lst.stop()


@contextlib.asynccontextmanager
async def web_service(
    redis: Redis, config: WallboardConfig, tiers: tuple[str, ...] = ("vip", "normal")
) -> AsyncIterator[str]:
    """``run_web`` on a free loopback port; yields its base URL."""
    port = free_port()
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_web(redis, config, tiers, host="127.0.0.1", port=port, token=None, stop=stop)
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            with contextlib.suppress(OSError):
                _, w = await asyncio.open_connection("127.0.0.1", port)
                w.close()
                break
            await asyncio.sleep(0.02)
        yield base
    finally:
        stop.set()
        await asyncio.wait_for(task, 5.0)


def join(uniqueid: str, queue: str, tier: str, position: int = 1) -> list[tuple[str, str]]:
    """A QueueCallerJoin as Asterisk 22 writes it, with the router's tier variable."""
    return [
        ("Event", "QueueCallerJoin"), ("Privilege", "agent,all"),
        ("Channel", f"PJSIP/trunk-{uniqueid}"), ("ChannelState", "6"),
        ("CallerIDNum", "13800138000"), ("Uniqueid", uniqueid), ("Linkedid", uniqueid),
        ("Queue", queue), ("Position", str(position)), ("Count", str(position)),
        ("ChanVariable", f"TIERLINE_TIER={tier}"), ("ChanVariable", "TIERLINE_PRIO=60"),
    ]  # fmt: skip
