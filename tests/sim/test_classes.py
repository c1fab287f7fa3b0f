"""Identical traffic gets identical staffing, heavier traffic never fewer agents."""

from __future__ import annotations

import pytest

from simulator.classes import Traffic, level, pool, traffic_classes
from simulator.distributions import Exponential
from simulator.model import QueueSpec, SimModel, Stream
from simulator.planner import plan_staffing
from simulator.runner import Replications
from simulator.scenario import parse_scenario
from tests.sim.conftest import TierPolicy

FLAT = """\
interval_minutes: 30
intervals: 10
tiers:
  normal:
    patience: {dist: exponential, mean: 120}
    target: {service_level: 0.8, within_s: 20, max_abandon: 0.1}
arrivals:
  - {dnis: "1", calls: [20, 20, 20, 20, 60, 58, 20, 20, 20, 20], mix: {normal: 1}}
ivr: {menus: {default: {choices: {care: 1}}}}
queues:
  care: {handle: {dist: exponential, mean: 240}, agents: 3, cost_per_hour: 30}
"""


def _model(calls: list[float]) -> SimModel:
    rates = tuple(c / 1800 for c in calls)
    return SimModel(
        (Stream("s", "1", "normal", rates, Exponential(60)),),
        (QueueSpec("care", Exponential(180), (1,) * len(calls)),),
        TierPolicy(),
    )


class TestTraffic:
    def test_classes_and_dominance(self) -> None:
        """Equal calls and split share a class; each interval dominates the lighter ones."""
        model = _model([20, 20, 30, 20])
        shares = {"normal": [[1.0]] * 4}
        traffic = traffic_classes(model, shares)
        assert traffic.classes == (0, 0, 1, 0)
        assert traffic.below[2] == (0, 1, 2, 3)
        assert traffic.below[0] == (0, 1, 3)

    def test_a_different_split_is_not_comparable(self) -> None:
        """The same calls routed differently (closed hours) neither share a class nor dominate."""
        model = _model([20, 20])
        traffic = traffic_classes(model, {"normal": [[1.0], [0.0]]})
        assert traffic.classes == (0, 1)
        assert traffic.below == ((0,), (1,))

    def test_level_lifts_to_the_dominated_maximum(self) -> None:
        """A class takes its largest staffing; a heavier interval at least that."""
        traffic = Traffic((0, 0, 1, 0), ((0, 1, 3), (0, 1, 3), (0, 1, 2, 3), (0, 1, 3)))
        assert level({"care": [3, 4, 3, 3]}, traffic) == {"care": [4, 4, 4, 4]}

    def test_level_keeps_an_unrouted_lane_empty(self) -> None:
        """A lane the split sends nothing to stays at zero, even above a staffed lighter hour."""
        traffic = Traffic((0, 1), ((0,), (0, 1)))
        assert level({"desk": [1, 0]}, traffic) == {"desk": [1, 0]}
        assert level({"desk": [1, 2]}, traffic) == {"desk": [1, 2]}
        assert level({"desk": [3, 2]}, traffic) == {"desk": [3, 3]}


class TestPool:
    def test_pooled_rates_weight_by_calls(self) -> None:
        """Two intervals of one class, 10 calls all answered in time and 30 half: 25 / 40."""
        model = _model([20, 20])
        runs = tuple(
            {
                **{
                    f"tier/normal/{i}": {"offered": n, "service_level": sl, "abandon_rate": 0.0}
                    for i, (n, sl) in enumerate(((10.0, 1.0), (30.0, 0.5)))
                },
                **{
                    f"queue/care/{i}": {"agents": 1.0, "offered": 1.0, "occupancy": occ}
                    for i, occ in enumerate((0.6, 0.8))
                },
            }
            for _ in range(3)
        )
        reps = Replications(runs, (), {}, 0)
        view = pool(model, reps, (0, 0)).estimates
        assert view["tier/normal/1"]["service_level"].mean == pytest.approx(25 / 40)
        assert view["tier/normal/0"]["offered"].mean == 40
        assert view["queue/care/0"]["occupancy"].mean == pytest.approx(0.7)


class TestPlan:
    def test_flat_night_gets_one_staffing(self) -> None:
        """Eight half-hours of 20 calls end with one staffing; 60 and 58 calls no fewer."""
        sc = parse_scenario(FLAT, "s.yaml")
        plan = plan_staffing(sc.model, sc.targets, replications=3, seed=2)
        care = plan.staffing["care"]
        flat = [care[i] for i in (0, 1, 2, 3, 6, 7, 8, 9)]
        assert len(set(flat)) == 1
        assert care[4] >= care[5] >= flat[0]
        assert plan.met
