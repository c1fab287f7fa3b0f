"""A dialer wired to a real Redis and a fake Asterisk replaying the captures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import Redis

from router.ami.listener import ListenerConfig
from router.customers.model import Customer
from router.dialer.config import DialerConfig
from router.dialer.rules import ContactLimits
from router.dialer.service import Dialer
from router.dialer.store import DialerStore
from router.storage import keys
from router.types import QueueSnapshot
from tests.dialer.captures import Segment, originate
from tests.dialer.fake_ami import ReplayAMI

SECRET = "s3cret"

# number -> (capture prefix, Channel in the capture)
NUMBERS = {
    "13900000042": ("12", "Local/13900000042@callee"),
    "13900000001": ("11", "Local/busy@callee"),
    "13900000002": ("11", "Local/noanswer@callee"),
    "13900000003": ("11", "Local/answerhangup@callee"),
    "13900000004": ("11", "Local/congestion@callee"),
    "13900000005": ("11", "Local/unallocated@callee"),
}


def routes(shared: Path) -> dict[str, Segment]:
    out = {}
    for number, (prefix, channel) in NUMBERS.items():
        path = next((shared / "ami").glob(f"{prefix}-*.txt"))
        out[f"Local/{number}@callee"] = originate(path, channel)
    for agent in ("agent1", "agent2", "agent3"):  # preview dials the agent first
        out[f"Local/{agent}@agents/n"] = out["Local/13900000003@callee"]
    return out


def member(name: str, paused: bool = False) -> dict[str, str]:
    """A QueueStatus QueueMember entry as in ami/13."""
    return {
        "Event": "QueueMember",
        "Queue": "outbound_q",
        "Name": name,
        "Location": f"Local/{name}@agents/n",
        "Status": "1",
        "Paused": "1" if paused else "0",
    }


@dataclass
class LiveStub:
    """The listener's live queue state, set by the test."""

    queues: dict[str, QueueSnapshot] = field(
        default_factory=lambda: {
            "vip": QueueSnapshot("vip", agents_logged_in=4, agents_available=2)
        }
    )

    async def snapshot(self) -> Mapping[str, QueueSnapshot]:
        return dict(self.queues)


@dataclass
class Customers:
    by_id: dict[str, Customer] = field(default_factory=dict)

    async def customers(self, ids: Sequence[str]) -> dict[str, Customer]:
        return {i: self.by_id[i] for i in ids if i in self.by_id}


def make_dialer(
    redis: Redis,
    cfg: DialerConfig,
    ami: ReplayAMI,
    live: LiveStub,
    *,
    customers: Customers | None = None,
    name: str = "",
) -> Dialer:
    store = DialerStore(redis, cfg.limits)
    link = ListenerConfig(
        port=ami.port,
        secret=SECRET,
        username="dialer",
        ping_interval_s=30,
        backoff_initial_s=0.05,
        backoff_max_s=0.2,
    )
    return Dialer(cfg, store, live, link, customers, tick_s=0.02, name=name)


async def wait_for(check: Callable[[], object], within_s: float = 10.0) -> None:
    """Poll until ``check()`` is true (an await-able check is awaited)."""
    end = time.monotonic() + within_s
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def attempts(redis: Redis) -> list[dict[str, str]]:
    return [dict(f) for _, f in await redis.xrange(keys.DIALER_ATTEMPTS_STREAM)]


async def refusals(redis: Redis) -> list[dict[str, str]]:
    return [dict(f) for _, f in await redis.xrange(keys.DIALER_REFUSALS_STREAM)]


def loose(limits: ContactLimits) -> ContactLimits:
    return ContactLimits(
        per_day=50, marketing_max=50, campaign_attempts=50, manager_lanes=dict(limits.manager_lanes)
    )
