"""The starvation guard in the simulator: callers are ranked as app_queue ranks them live."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from router.customers.model import Customer
from router.policy.aging import StarvationGuard
from router.types import CallInfo, QueueSnapshot, RouteDecision
from simulator.aging import AgedOrder
from simulator.engine import ANSWERED, simulate
from simulator.scenario import parse_scenario

GUARD = StarvationGuard(50, {"vip": 60, "normal": 120}, "normal", interval_s=5, min_step=2)
PRIO = {"vip": 40, "normal": 10}


class GuardedPolicy:
    """One lane; QUEUE_PRIO by tier; the live guard's settings."""

    queues = ("a",)
    guard = GUARD

    def decide(
        self,
        service: str,
        customer: Customer | None,
        call: CallInfo,
        queues: Mapping[str, QueueSnapshot],
    ) -> RouteDecision:
        return RouteDecision("a", PRIO[customer.tier if customer else "normal"], "tier_lane")


class UnguardedPolicy(GuardedPolicy):
    guard = None  # type: ignore[assignment]


SCENARIO = """\
interval_minutes: 60
intervals: 3
tiers:
  vip: {patience: never, customer: {tier: vip}}
  normal: {patience: never, customer: {tier: normal}}
arrivals:
  - {dnis: "1", calls: 110, mix: {vip: 9, normal: 2}}
ivr:
  menus:
    default: {choices: {a: 1}}
queues:
  a: {handle: {dist: exponential, mean: 190}, agents: 6}
routing:
  factory: "tests.sim.test_aging:POLICY"
"""


class TestAgedOrder:
    def test_key_is_the_priority_at_the_last_tick(self) -> None:
        """Between ticks the rank holds; at the cap the caller is at the top priority."""
        order = AgedOrder(GUARD)
        assert order.key(10, "normal", 0.0, 4.9) == (-10, 0.0)  # no tick since joining
        # tick at 30 s: 10 + int(40 * 30 / 120) = 20, already a multiple of min_step
        prio, reached = order.key(10, "normal", 0.0, 33.0)
        assert prio == -20
        assert GUARD.aged_priority(10, "normal", reached) == 20
        assert GUARD.aged_priority(10, "normal", reached - 5) < 20  # the first such tick
        assert order.key(10, "normal", 0.0, 121.0)[0] == -50
        assert order.key(60, "vip", 0.0, 500.0) == (-60, 0.0)  # above the top: kept

    def test_never_below_the_join_priority(self) -> None:
        """Aging only ever raises (a caller routed at 10 by the fallback stays >= 10)."""
        order = AgedOrder(GUARD)
        for now in np.linspace(0, 400, 81):
            assert -order.key(10, "", 0.0, float(now))[0] >= 10


def run(policy: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    sc = parse_scenario(SCENARIO.replace("POLICY", policy), "s.yaml")
    log = simulate(sc.model, np.random.default_rng(seed))
    tiers = np.array([s.tier for s in sc.model.streams])[log.stream]
    return log.enqueue, log.wait, tiers, log.outcome


class TestGuardInSimulation:
    def test_normal_callers_are_not_starved(self) -> None:
        """VIP load near capacity starves normal callers without the guard; with it their
        tail wait falls to about the normal cap while VIPs pay for it."""
        p95 = {}
        for name, policy in (("off", "UnguardedPolicy"), ("on", "GuardedPolicy")):
            _, wait, tiers, outcome = run(policy, 11)
            normal = wait[(tiers == "normal") & (outcome == ANSWERED)]
            vip = wait[(tiers == "vip") & (outcome == ANSWERED)]
            p95[name] = (float(np.percentile(normal, 95)), float(vip.mean()))
        assert p95["off"][0] > 600, p95  # the scenario really starves them
        assert p95["on"][0] < 0.5 * p95["off"][0], p95
        assert p95["on"][1] > p95["off"][1], p95  # the price: VIPs wait a little more

    def test_every_answer_follows_app_queues_order(self) -> None:
        """At each answer, no caller then waiting ranked above the one answered."""
        enq, wait, tiers, outcome = run("GuardedPolicy", 12)
        order = AgedOrder(GUARD)
        answered = np.flatnonzero(outcome == ANSWERED)
        start = enq + wait
        prio = {"vip": 40, "normal": 10}
        for i in answered:
            t = start[i]
            mine = order.key(prio[tiers[i]], tiers[i], enq[i], t)
            waiting = np.flatnonzero((enq <= t) & (start > t))
            for j in waiting:
                theirs = order.key(prio[tiers[j]], tiers[j], enq[j], t)
                assert (*mine, i) < (*theirs, j), (i, j, mine, theirs)
