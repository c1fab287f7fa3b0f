"""The planner's traffic split: computed exactly from flow, callers and policy, per interval."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from router.customers.model import Customer
from router.types import CallInfo, QueueSnapshot
from simulator.distributions import Exponential
from simulator.flow_ivr import FlowIvr
from simulator.model import IvrExit, IvrPath, QueueSpec, SimModel, Stream
from simulator.planner import erlang_staffing
from simulator.routes import route_shares
from simulator.scenario import Scenario, load_scenario, parse_scenario
from simulator.split import exits, percent_buckets
from tests.sim.conftest import TierPolicy

ROOT = Path(__file__).resolve().parents[2]

FLOW = """\
flow: desk
serves: {dnis: ["200"]}
timezone: UTC
open_hours: office
hours:
  office:
    timezone: UTC
    weekly: {mon-sun: "08:15-20:00"}
start: triage
nodes:
  triage:
    type: branch
    cases:
      - when: customer.list == "red"
        goto: red
      - when: "!in_hours()"
        goto: closed
      - when: percent(30)
        goto: main
    default: menu
  menu:
    type: menu
    prompt: menu
    options: {"1": main, "2": other}
    timeout_s: 5
    retries: 1
    fallback: main
  red: {type: queue, service: red}
  main: {type: queue, service: main}
  other: {type: queue, service: other}
  closed: {type: callback, service: main, prompt: bye}
"""
PROMPTS = 'languages: [en]\nprompts:\n  bye: {en: "Bye."}\n  menu: {en: "One or two."}\n'
SCENARIO = """\
interval_minutes: 60
intervals: 24
start: "2026-01-05T00:00:00"
tiers:
  red: {customer: {list: red}, patience: {dist: exponential, mean: 120}}
  normal: {patience: {dist: exponential, mean: 120}}
arrivals:
  - {dnis: "200", calls: 60, mix: {red: 1, normal: 59}}
ivr:
  flows: flows
  callers:
    desk.menu: {keys: {"1": 0.5, "2": 0.2, timeout: 0.2, hangup: 0.1}}
queues:
  red: {handle: {dist: exponential, mean: 180}, agents: 1}
  main: {handle: {dist: exponential, mean: 180}, agents: 4}
  other: {handle: {dist: exponential, mean: 180}, agents: 2}
routing: {factory: "tests.sim.conftest:TierPolicy"}
"""
# By hand: 30 % skip the menu (percent(30)) to main. At the menu: "1" (0.5) main, "2"
# (0.2) other, hang-up 0.1, timeout 0.2 replays it once; a second timeout falls back to main.
MENU_MAIN = 0.5 + 0.2 * (0.5 + 0.2)
MENU_OTHER = 0.2 + 0.2 * 0.2
MAIN = 0.3 + 0.7 * MENU_MAIN  # 0.748
OTHER = 0.7 * MENU_OTHER  # 0.168
RED, MAIN_Q, OTHER_Q = 0, 1, 2


@pytest.fixture
def scenario(tmp_path: Path) -> Scenario:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "desk.yaml").write_text(FLOW)
    (flows / "prompts.yaml").write_text(PROMPTS)
    return parse_scenario(SCENARIO, "s.yaml", tmp_path)


class TestExits:
    def test_flow_matches_hand_computation(self, scenario: Scenario) -> None:
        """A menu with a retry, a hang-up and a percent() split: the exact sums by hand."""
        model = scenario.model
        call = CallInfo("any", "", "200", datetime(2026, 1, 5, 12, 0))
        found = exits(model.ivr, call, Customer(customer_id="c1"), {})
        assert found is not None
        by = {
            d.ending or (d.decision.queue if d.decision else d.service): p for d, p in found.items()
        }
        assert by["main"] == pytest.approx(MAIN, abs=1e-12)
        assert by["other"] == pytest.approx(OTHER, abs=1e-12)
        assert by["caller_hangup"] == pytest.approx(0.7 * (0.1 + 0.2 * 0.1), abs=1e-12)

    def test_percent_buckets_from_literals(self, scenario: Scenario) -> None:
        """percent(30) cuts the call's bucket into two ranges weighted 0.3 and 0.7."""
        assert isinstance(scenario.model.ivr, FlowIvr)
        assert percent_buckets(scenario.model.ivr) == ((0, 0.3), (30, 0.7))

    def test_unknown_ivr_is_not_enumerated(self) -> None:
        """An IVR model of unknown kind gives None, so the split samples it instead."""
        call = CallInfo("x", "", "1", datetime(2026, 1, 5))
        assert exits(_CoinIvr(), call, None, {}) is None


DATA_FLOW = """\
flow: desk
serves: {dnis: ["200"]}
start: ask
nodes:
  ask:
    type: input
    prompt: menu
    pattern: "\\\\d"
    max_digits: 1
    variable: pick
    retries: 0
    next: look
    fallback: other
  look:
    type: fetch
    backend: crm
    path: /balance
    set: {b: b}
    next: which
    failed: other
  which:
    type: branch
    cases:
      - when: vars.pick == "1"
        goto: main
    default: other
  main: {type: queue, service: main}
  other: {type: queue, service: other}
"""
DATA_SCENARIO = SCENARIO.replace(
    '    desk.menu: {keys: {"1": 0.5, "2": 0.2, timeout: 0.2, hangup: 0.1}}\n',
    '    desk.ask: {keys: {"1": 0.5, "2": 0.5}}\n  data:\n    desk.look: {ok: 0.8}\n',
)


class TestDataSteps:
    def test_fetch_outcome_and_typed_variable_are_exact(self, tmp_path: Path) -> None:
        """A fetch ok 8 times in 10, then a branch on the typed key: main 0.5 x 0.8, other 0.6."""
        flows = tmp_path / "flows"
        flows.mkdir()
        (flows / "desk.yaml").write_text(DATA_FLOW)
        (flows / "prompts.yaml").write_text(PROMPTS)
        (flows / "backends.yaml").write_text('backends:\n  crm: {base_url: "http://127.0.0.1:9"}\n')
        model = parse_scenario(DATA_SCENARIO, "s.yaml", tmp_path).model
        call = CallInfo("any", "", "200", datetime(2026, 1, 5, 12, 0))
        found = exits(model.ivr, call, Customer(customer_id="c1"), {})
        assert found is not None
        by = {d.decision.queue if d.decision else d.service: p for d, p in found.items()}
        assert by == pytest.approx({"main": 0.4, "other": 0.6}, abs=1e-12)


class TestExitsAgainstWalks:
    @pytest.mark.parametrize("tier", ["high", "vip"])
    def test_telecom_exact_split_matches_sampled_walks(self, tier: str) -> None:
        """The telecom flow at noon (menu retries, account and PIN check looping back,
        percent(50) offer, balance fetch; VIPs: their manager, answering 6 in 10, else the VIP
        lane): 20,000 sampled walks land within 4 standard errors of the exact shares."""
        here = Path.cwd()
        os.chdir(ROOT)  # the scenario's routing path is relative to the repository
        try:
            model = load_scenario(ROOT / "simulator/scenarios/telecom.yaml").model
        finally:
            os.chdir(here)
        stream = next(s for s in model.streams if s.tier == tier)
        at = datetime(2026, 1, 5, 12, 10)
        customer = stream.customer()
        exact = exits(model.ivr, CallInfo("x", "", stream.dnis, at), customer, {})
        assert exact is not None
        assert sum(exact.values()) == pytest.approx(1.0, abs=1e-12)
        rng, n = np.random.default_rng(5), 20_000
        seen: dict[IvrExit, int] = {}
        for k in range(n):
            done = _drive(model.ivr.walk(CallInfo(f"w{k}", "", stream.dnis, at), customer, rng, {}))
            seen[done] = seen.get(done, 0) + 1
        assert set(seen) <= set(exact)
        for done, p in exact.items():
            se = math.sqrt(p * (1 - p) / n)
            assert abs(seen.get(done, 0) / n - p) <= 4 * se + 1e-9, (done, p)


class TestRouteShares:
    def test_split_follows_hours_exactly(self, scenario: Scenario) -> None:
        """Red callers always reach red; normal ones end in a callback at 03:00, split by the
        hand-computed shares at noon, and in 08:00-09:00 (open from 08:15) for 45 of 60 min."""
        shares = route_shares(scenario.model, np.random.default_rng(3))
        assert shares["red"][3] == [1.0, 0.0, 0.0]
        assert shares["normal"][3] == [0.0, 0.0, 0.0]
        assert shares["normal"][12][MAIN_Q] == pytest.approx(MAIN, abs=1e-12)
        assert shares["normal"][12][OTHER_Q] == pytest.approx(OTHER, abs=1e-12)
        assert shares["normal"][8][MAIN_Q] == pytest.approx(0.75 * MAIN, abs=1e-12)

    def test_identical_traffic_identical_shares(self, scenario: Scenario) -> None:
        """Every open hour with the same traffic gets exactly the same split."""
        shares = route_shares(scenario.model, np.random.default_rng(3))
        assert all(shares["normal"][h] == shares["normal"][9] for h in range(9, 20))

    def test_sampled_when_not_enumerable(self) -> None:
        """An IVR the split cannot walk is sampled until the share is within a point."""
        model = SimModel(
            (Stream("s", "1", "normal", (0.01,), Exponential(60)),),
            (QueueSpec("a", Exponential(60), (1,)), QueueSpec("b", Exponential(60), (1,))),
            TierPolicy(),
            _CoinIvr(),
            interval_s=3600,
        )
        share = route_shares(model, np.random.default_rng(1))["normal"][0]
        assert share[0] == pytest.approx(0.3, abs=0.02)
        assert share[0] + share[1] == 1.0


class TestErlangStaffing:
    def test_staffing_covers_sparse_lane_all_day(self, scenario: Scenario) -> None:
        """The red lane has an agent every hour; main has none while closed."""
        staffing = erlang_staffing(scenario.model, scenario.targets, seed=5)
        assert min(staffing["red"]) >= 1
        assert staffing["main"][:8] == [0] * 8
        assert staffing["main"][20:] == [0] * 4
        assert min(staffing["main"][8:20]) >= 2

    def test_identical_traffic_identical_staffing(self, scenario: Scenario) -> None:
        """Every open hour after 09:00 carries the same calls, so gets the same agents."""
        staffing = erlang_staffing(scenario.model, scenario.targets, seed=5)
        for lane in ("main", "other"):
            assert len(set(staffing[lane][9:20])) == 1

    def test_weekday_peak_not_noisy(self) -> None:
        """Weekday sales at 392 / 400 / 392 calls: symmetric staffing, the peak no lower."""
        sc = load_scenario(ROOT / "simulator/scenarios/weekday.yaml")
        sales = erlang_staffing(sc.model, sc.targets, seed=1)["sales"]
        assert sales[21] == sales[23] <= sales[22]
        support = erlang_staffing(sc.model, sc.targets, seed=2)["support"]
        assert len(set(support[:4])) == 1  # 20 calls each half-hour from midnight


def _drive(walk: IvrPath) -> IvrExit:
    if isinstance(walk, IvrExit):
        return walk
    try:
        while True:
            next(walk)
    except StopIteration as stop:
        done: IvrExit = stop.value
        return done


class _CoinIvr:
    """An IvrModel the split does not know: service a with probability 0.3, else b."""

    def walk(
        self,
        call: CallInfo,
        customer: Customer | None,
        rng: np.random.Generator,
        queues: Mapping[str, QueueSnapshot],
    ) -> IvrPath:
        return IvrExit("a" if rng.random() < 0.3 else "b")
