"""Shared pieces for simulator tests: a tiny routing policy and a process pool."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor

import pytest

from router.customers.model import Customer
from router.types import CallInfo, QueueSnapshot, RouteDecision

TIER_PRIO = {"vip": 40, "high": 30, "mid": 20, "normal": 10}


class TierPolicy:
    """Implements router.types.RoutingPolicy: one lane per service, QUEUE_PRIO by tier."""

    def __init__(self, max_wait_s: int = 0) -> None:
        self.max_wait_s = max_wait_s

    def decide(
        self,
        service: str,
        customer: Customer | None,
        call: CallInfo,
        queues: Mapping[str, QueueSnapshot],
    ) -> RouteDecision:
        tier = customer.tier if customer else "normal"
        return RouteDecision(service, TIER_PRIO.get(tier, 0), "tier_lane", self.max_wait_s)


@pytest.fixture(scope="session")
def pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(max_workers=2) as ex:
        yield ex
