"""Simulated callers through fetch, say and notify: backend success, latency, deadlines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from router.errors import ScenarioError
from router.speech import spoken
from simulator.flow_ivr import SAY_TOKEN_S, CallerModel, DataChoice, FlowIvr
from simulator.scenario import parse_scenario
from tests.sim.conftest import TierPolicy
from tests.sim.test_flow_ivr import CALL, run_walk

FLOW = """\
flow: hotline
serves: {dnis: ["100"]}
start: look
nodes:
  look:
    type: fetch
    backend: crm
    path: /balance/{call.caller}
    set: {balance: balance}
    timeout_ms: 400
    next: tell
    failed: sales
  tell:
    type: say
    items:
      - prompt: balance_is
      - money: vars.balance
    next: billing
    failed: sales
  billing: {type: queue, service: billing}
  sales: {type: queue, service: sales}
"""
PROMPTS = """\
languages: [en]
prompts:
  balance_is: {en: "Your balance is"}
"""
BACKENDS = 'backends:\n  crm: {base_url: "http://127.0.0.1:9"}\n'
SERVICES = frozenset({"billing", "sales"})


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    d = tmp_path / "flows"
    d.mkdir()
    (d / "hotline.yaml").write_text(FLOW)
    (d / "prompts.yaml").write_text(PROMPTS)
    (d / "backends.yaml").write_text(BACKENDS)
    return d


def walk_with(flows_dir: Path, choice: DataChoice | None) -> FlowIvr:
    data = {"hotline.look": choice} if choice else {}
    callers = CallerModel(data=data)
    return FlowIvr.load(flows_dir, SERVICES, TierPolicy(), callers, {"balance_is": 1.5})


class TestBackendModel:
    def test_answer_is_spoken_then_routed(self, flows_dir: Path) -> None:
        """An answering backend costs its latency; the value's tokens are played."""
        ivr = walk_with(flows_dir, DataChoice(ok=1.0, latency_s=0.25, values={"balance": "12"}))
        seconds, done = run_walk(ivr.walk(CALL, None, np.random.default_rng(1), {}))
        tokens = len(spoken("money", "12", "en"))
        assert seconds == pytest.approx(0.25 + 1.5 + tokens * SAY_TOKEN_S)
        assert done.service == "billing"

    def test_failure_waits_the_deadline_and_takes_failed(self, flows_dir: Path) -> None:
        """A backend that fails costs the node's whole deadline and takes failed."""
        ivr = walk_with(flows_dir, DataChoice(ok=0.0))
        seconds, done = run_walk(ivr.walk(CALL, None, np.random.default_rng(1), {}))
        assert seconds == pytest.approx(0.4)
        assert done.service == "sales"

    def test_default_success_rate(self, flows_dir: Path) -> None:
        """Unlisted nodes succeed 99 % of the time (4-sigma bounds over 20,000 callers)."""
        ivr = walk_with(flows_dir, None)
        rng = np.random.default_rng(7)
        n = 20_000
        sales = sum(run_walk(ivr.walk(CALL, None, rng, {}))[1].service == "sales" for _ in range(n))
        sigma = (n * 0.01 * 0.99) ** 0.5
        assert abs(sales - n * 0.01) < 4 * sigma


SCENARIO = """\
interval_minutes: 30
intervals: 1
start: "2026-01-05T09:00:00"
tiers:
  normal: {patience: {dist: exponential, mean: 60}}
arrivals:
  - {dnis: "100", calls: [50], mix: {normal: 1}}
ivr:
  flows: flows
  data:
    hotline.look: {ok: 0.5, latency_s: 0.2, values: {balance: "3.50"}}
queues:
  billing: {handle: {dist: exponential, mean: 120}, agents: 3}
  sales: {handle: {dist: exponential, mean: 120}, agents: 3}
routing:
  factory: "tests.sim.conftest:TierPolicy"
"""


class TestScenario:
    def test_data_section_sets_the_backend_model(self, flows_dir: Path) -> None:
        """ivr.data gives a node its success chance, latency and values."""
        sc = parse_scenario(SCENARIO, "s.yaml", flows_dir.parent)
        assert isinstance(sc.model.ivr, FlowIvr)
        got = sc.model.ivr.callers.data["hotline.look"]
        assert got == DataChoice(0.5, 0.2, {"balance": "3.50"})

    def test_unknown_node_is_located(self, flows_dir: Path) -> None:
        """A data entry for a node that is no fetch/notify is reported at its line."""
        text = SCENARIO.replace("hotline.look:", "hotline.tell:")
        with pytest.raises(ScenarioError) as err:
            parse_scenario(text, "s.yaml", flows_dir.parent)
        problem = next(p for p in err.value.problems if "no fetch or notify" in p.message)
        assert problem.line == 11
