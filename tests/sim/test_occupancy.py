"""A maximum-occupancy target: read strictly, sized for in the start, checked with its CI."""

from __future__ import annotations

import math

import pytest

from router.errors import ScenarioError
from simulator.distributions import Never
from simulator.planner import min_agents, plan_staffing
from simulator.scenario import Target, parse_scenario

SCENARIO = """\
interval_minutes: 30
intervals: 3
tiers:
  normal:
    patience: {dist: exponential, mean: 600}
    target: {service_level: 0.5, within_s: 60, max_abandon: 0.2}
arrivals:
  - {dnis: "1", calls: [300, 400, 300], mix: {normal: 1}}
ivr: {menus: {default: {choices: {care: 1}}}}
queues:
  care: {handle: {dist: exponential, mean: 180}, agents: 30, cost_per_hour: 30}
  spare: {handle: {dist: exponential, mean: 180}, agents: 1, cost_per_hour: 30}
"""


def _with(targets: str) -> str:
    return SCENARIO + targets


class TestScenario:
    def test_global_cap_applies_to_every_lane(self) -> None:
        """``max_occupancy: 0.85`` caps every queue."""
        sc = parse_scenario(_with("targets: {max_occupancy: 0.85}\n"), "s.yaml")
        assert [q.max_occupancy for q in sc.model.queues] == [0.85, 0.85]

    def test_cap_per_lane(self) -> None:
        """A mapping caps the named lanes only; the others stay uncapped."""
        sc = parse_scenario(_with("targets: {max_occupancy: {care: 0.8}}\n"), "s.yaml")
        assert [q.max_occupancy for q in sc.model.queues] == [0.8, 1.0]

    @pytest.mark.parametrize(
        ("targets", "message"),
        [
            ("targets: {max_ocupancy: 0.85}\n", "did you mean 'max_occupancy'"),
            ("targets: {max_occupancy: {desk: 0.8}}\n", "no queue named 'desk'"),
            ("targets: {max_occupancy: 1.5}\n", "must be a number in [0.01, 1.0]"),
        ],
    )
    def test_bad_targets_are_located_errors(self, targets: str, message: str) -> None:
        """A misspelt key, an unknown lane or a cap above 1 is an error at its line."""
        with pytest.raises(ScenarioError) as err:
            parse_scenario(_with(targets), "s.yaml")
        text = str(err.value)
        assert message in text
        assert "s.yaml:13" in text


class TestErlangStart:
    def test_cap_sets_the_floor(self) -> None:
        """40 Erlangs meet a loose service level on 42 agents; at most 85 % busy needs 48."""
        loose = Target(service_level=0.5, within_s=60)
        assert min_agents(40 / 180, 180, Never(), loose) < 48
        assert min_agents(40 / 180, 180, Never(), loose, max_occupancy=0.85) == 48


class TestPlan:
    def test_plan_keeps_every_interval_under_the_cap(self) -> None:
        """Uncapped, the plan runs the lane above 80 % busy; capped, never significantly
        above 80 % in any interval (trimming included), and never cheaper than uncapped."""
        free = parse_scenario(SCENARIO, "s.yaml")
        capped = parse_scenario(_with("targets: {max_occupancy: {care: 0.8}}\n"), "s.yaml")
        loose = plan_staffing(free.model, free.targets, replications=3, seed=4)
        plan = plan_staffing(capped.model, capped.targets, replications=3, seed=4)
        busy = [loose.result.estimates[f"queue/care/{i}"]["occupancy"].mean for i in range(3)]
        assert max(busy) > 0.8
        assert plan.met
        for i in range(3):
            occ = plan.result.estimates[f"queue/care/{i}"]["occupancy"]
            half = occ.ci95 if math.isfinite(occ.ci95) else 0.0
            assert occ.mean - half <= 0.8, (i, occ)
            assert plan.staffing["care"][i] >= loose.staffing["care"][i]
