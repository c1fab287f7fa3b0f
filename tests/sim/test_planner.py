"""The planner's verdicts hold: no lane left empty while calls reach it, daily targets kept."""

from __future__ import annotations

import math
from collections.abc import Mapping

from router.customers.model import Customer
from router.types import CallInfo, QueueSnapshot, RouteDecision
from simulator.planner import plan_staffing
from simulator.scenario import parse_scenario


class OverflowPolicy:
    """Tier lane ``a``; while ``a`` has callers waiting, new calls spill into ``b``."""

    queues = ("a", "b")

    def decide(
        self,
        service: str,
        customer: Customer | None,
        call: CallInfo,
        queues: Mapping[str, QueueSnapshot],
    ) -> RouteDecision:
        busy = queues.get("a") is not None and queues["a"].waiting > 0
        return RouteDecision("b" if busy else "a", 10, "overflow" if busy else "tier_lane")


OVERFLOW = """\
interval_minutes: 30
intervals: 2
tiers:
  normal:
    patience: {dist: exponential, mean: 120}
    target: {service_level: 0.3, within_s: 60, max_abandon: 1.0}
arrivals:
  - {dnis: "1", calls: 260, mix: {normal: 1}}
ivr:
  menus:
    default: {choices: {a: 1}}
queues:
  a: {handle: {dist: exponential, mean: 180}, agents: 60, cost_per_hour: 20}
  b: {handle: {dist: exponential, mean: 180}, agents: 0, cost_per_hour: 20}
routing:
  factory: "tests.sim.test_planner:OverflowPolicy"
"""

IMPATIENT = """\
interval_minutes: 15
intervals: 32
tiers:
  normal:
    patience: {dist: empirical, values: [4, 6, 8, 10, 900, 900, 900, 900]}
    target: {service_level: 0.0, within_s: 20, max_abandon: 0.05}
arrivals:
  - {dnis: "1", calls: 8, mix: {normal: 1}}
ivr:
  menus:
    default: {choices: {a: 1}}
queues:
  a: {handle: {dist: exponential, mean: 150}, agents: 10, cost_per_hour: 20}
"""


def _half(ci: float) -> float:
    return ci if math.isfinite(ci) else 0.0


class TestPlanVerdicts:
    def test_a_lane_that_receives_overflow_is_never_left_empty(self) -> None:
        """Idle-queue sampling says nobody reaches b; overflow does: b gets an agent."""
        sc = parse_scenario(OVERFLOW, "s.yaml")
        plan = plan_staffing(sc.model, sc.targets, replications=3, seed=2, rounds=4)
        offered = [plan.result.estimates[f"queue/b/{i}"]["offered"].mean for i in range(2)]
        assert any(offered), "the scenario must overflow for this test to mean anything"
        for i, calls in enumerate(offered):
            if calls:
                assert plan.staffing["b"][i] >= 1, (i, calls)
        assert plan.met

    def test_met_means_the_day_meets_its_abandonment_cap(self) -> None:
        """Erlang A with the mean patience under-staffs impatient callers; small per-interval
        misses are insignificant, the day's is not: the plan adds agents until it holds."""
        sc = parse_scenario(IMPATIENT, "s.yaml")
        plan = plan_staffing(sc.model, sc.targets, replications=4, seed=3, rounds=8)
        day = plan.result.estimates["tier/normal"]["abandon_rate"]
        assert plan.met
        assert day.mean - _half(day.ci95) <= 0.05, (day.mean, day.ci95)


POOLED = """\
interval_minutes: 30
intervals: 6
tiers:
  vip:
    patience: {dist: exponential, mean: 300}
    target: {service_level: 0.9, within_s: 10, max_abandon: 0.05}
  normal:
    patience: {dist: exponential, mean: 300}
    target: {service_level: 0.6, within_s: 60, max_abandon: 0.1}
arrivals:
  - {dnis: "1", calls: [200, 300, 400, 400, 300, 200], mix: {vip: 1, normal: 4}}
queues:
  care: {handle: {dist: exponential, mean: 180}, agents: 30, cost_per_hour: 30}
"""


class TestCheapestPlan:
    def test_agents_are_removed_where_priorities_make_them_unneeded(self) -> None:
        """The Erlang start sizes the pooled queue to the VIP target; VIPs are served first,
        so fewer agents still meet every target: the trimmed plan costs less and still meets
        them (judged on the same seeds), and never goes below the first plan."""
        sc = parse_scenario(POOLED, "s.yaml")
        first = plan_staffing(sc.model, sc.targets, replications=4, seed=1, trim=False)
        cheap = plan_staffing(sc.model, sc.targets, replications=4, seed=1)
        assert first.met
        assert cheap.met
        assert cheap.cost < first.cost
        assert all(
            c <= f for c, f in zip(cheap.staffing["care"], first.staffing["care"], strict=True)
        )
