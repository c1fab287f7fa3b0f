"""The planner's traffic split follows the flow's hours, even for sparse tiers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.engine import simulate
from simulator.planner import erlang_staffing
from simulator.routes import route_shares
from simulator.scenario import Scenario, parse_scenario

FLOW = """\
flow: desk
serves: {dnis: ["200"]}
timezone: UTC
open_hours: office
hours:
  office:
    timezone: UTC
    weekly: {mon-sun: "08:00-20:00"}
start: triage
nodes:
  triage:
    type: branch
    cases:
      - when: customer.list == "red"
        goto: red
      - when: "!in_hours()"
        goto: closed
    default: main
  red: {type: queue, service: red}
  main: {type: queue, service: main}
  closed: {type: callback, service: main, prompt: bye}
"""
PROMPTS = 'languages: [en]\nprompts:\n  bye: {en: "We will call you back."}\n'
SCENARIO = """\
interval_minutes: 60
intervals: 24
start: "2026-01-05T00:00:00"
tiers:
  red: {customer: {list: red}, patience: {dist: exponential, mean: 120}}
  normal: {patience: {dist: exponential, mean: 120}}
arrivals:
  - {dnis: "200", calls: 60, mix: {red: 1, normal: 59}}
ivr: {flows: flows}
queues:
  red: {handle: {dist: exponential, mean: 180}, agents: 1}
  main: {handle: {dist: exponential, mean: 180}, agents: 4}
routing: {factory: "tests.sim.conftest:TierPolicy"}
"""


@pytest.fixture
def scenario(tmp_path: Path) -> Scenario:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "desk.yaml").write_text(FLOW)
    (flows / "prompts.yaml").write_text(PROMPTS)
    return parse_scenario(SCENARIO, "s.yaml", tmp_path)


class TestRouteShares:
    def test_split_follows_hours(self, scenario: Scenario) -> None:
        """At 03:00 normal callers end in a callback and red ones reach the red lane (sampled:
        one red call an hour is too few for the pilot); at noon normal callers reach main."""
        model = scenario.model
        rng = np.random.default_rng(3)
        shares = route_shares(model, simulate(model, rng), rng)
        red, main = 0, 1
        assert shares["red"][3][red] == 1.0
        assert shares["normal"][3] == [0.0, 0.0]
        assert shares["normal"][12][main] == 1.0

    def test_staffing_covers_sparse_lane_all_day(self, scenario: Scenario) -> None:
        """Erlang staffing: the red lane has an agent every hour, main none while closed."""
        staffing = erlang_staffing(scenario.model, scenario.targets, seed=5)
        assert min(staffing["red"]) >= 1
        assert staffing["main"][:8] == [0] * 8
        assert staffing["main"][20:] == [0] * 4
        assert min(staffing["main"][8:20]) >= 2
