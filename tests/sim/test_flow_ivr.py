"""Simulated callers walk the operator's YAML flow through the live flow engine."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from router.errors import ScenarioError
from router.types import CallInfo, QueueSnapshot
from simulator.distributions import Exponential
from simulator.engine import ANSWERED, IVR_ENDED, simulate
from simulator.flow_ivr import CallerModel, FlowIvr, KeyChoice
from simulator.model import IVR_ENDINGS, IvrExit, IvrPath, QueueSpec, SimModel, Stream
from simulator.runner import replicate
from simulator.scenario import parse_scenario
from simulator.theory import erlang_a
from tests.sim.conftest import TierPolicy

FLOW = """\
flow: hotline
serves: {dnis: ["100"]}
start: menu
nodes:
  menu:
    type: menu
    prompt: main_menu
    options: {"1": busy_check, "2": sales}
    timeout_s: 5
    retries: 1
    invalid_prompt: invalid
    timeout_prompt: no_input
    fallback: bye
  busy_check:
    type: branch
    cases:
      - when: queues.billing.waiting > 2
        goto: later
    default: billing
  billing: {type: queue, service: billing}
  sales: {type: queue, service: sales}
  later: {type: callback, service: billing, prompt: callback_ok}
  bye: {type: hangup, prompt: goodbye}
"""
PROMPTS = """\
languages: [en]
prompts:
  main_menu: {en: "Billing 1, sales 2."}
  invalid: {en: "Invalid."}
  no_input: {en: "No input."}
  callback_ok: {en: "We will call you."}
  goodbye: {en: "Goodbye."}
"""
SECONDS = {"main_menu": 8.0, "invalid": 1.5, "no_input": 2.0, "callback_ok": 3.0, "goodbye": 1.0}
SERVICES = frozenset({"billing", "sales"})


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    d = tmp_path / "flows"
    d.mkdir()
    (d / "hotline.yaml").write_text(FLOW)
    (d / "prompts.yaml").write_text(PROMPTS)
    return d


def flow_ivr(flows_dir: Path, keys: Mapping[str, float], think_s: float = 2.0) -> FlowIvr:
    choice = KeyChoice(tuple(keys), tuple(np.cumsum(list(keys.values())).tolist()), think_s)
    durations = {f"{n}": s for n, s in SECONDS.items()}  # the sample catalog has no prefix
    callers = CallerModel({"hotline.menu": choice})
    return FlowIvr.load(flows_dir, SERVICES, TierPolicy(), callers, durations)


def run_walk(walk: IvrPath) -> tuple[float, IvrExit]:
    if isinstance(walk, IvrExit):
        return 0.0, walk
    seconds = 0.0
    try:
        while True:
            seconds += next(walk)
    except StopIteration as stop:
        return seconds, stop.value


def snapshot(name: str, waiting: int) -> QueueSnapshot:
    return QueueSnapshot(name, waiting=waiting, agents_logged_in=5)


CALL = CallInfo("c1", "", "100", datetime(2026, 1, 5, 10, 0))


class TestWalk:
    def test_key_press_reaches_the_policy_decision(self, flows_dir: Path) -> None:
        """Pressing 2 goes to the sales queue with the policy's decision, after prompt + think."""
        ivr = flow_ivr(flows_dir, {"2": 1.0}, think_s=2.5)
        seconds, done = run_walk(ivr.walk(CALL, None, np.random.default_rng(1), {}))
        assert seconds == pytest.approx(8.0 + 2.5)
        assert done.decision is not None
        assert (done.service, done.decision.queue, done.ending) == ("sales", "sales", "")

    def test_timeouts_retry_then_fall_back(self, flows_dir: Path) -> None:
        """Silence: prompt + 5 s, no_input + prompt + 5 s, then the fallback's goodbye."""
        ivr = flow_ivr(flows_dir, {"timeout": 1.0})
        seconds, done = run_walk(ivr.walk(CALL, None, np.random.default_rng(1), {}))
        assert seconds == pytest.approx((8 + 5) + (2 + 8 + 5) + 1)
        assert done.ending == "hangup"
        assert done.decision is None

    def test_hangup_ends_in_the_ivr(self, flows_dir: Path) -> None:
        """A caller who hangs up at the menu ends in the IVR as caller_hangup."""
        ivr = flow_ivr(flows_dir, {"hangup": 1.0})
        _seconds, done = run_walk(ivr.walk(CALL, None, np.random.default_rng(1), {}))
        assert done.ending == "caller_hangup"

    def test_conditions_read_queues_when_the_caller_gets_there(self, flows_dir: Path) -> None:
        """The branch sees the queue state at the end of the menu, not at arrival."""
        ivr = flow_ivr(flows_dir, {"1": 1.0})
        queues = {"billing": snapshot("billing", 0)}
        walk = ivr.walk(CALL, None, np.random.default_rng(1), queues)
        assert next(walk) == pytest.approx(10.0)  # menu prompt + think: the walk waits here
        queues["billing"] = snapshot("billing", 5)  # the queue filled up meanwhile
        _seconds, done = run_walk(walk)
        assert done.ending == "callback"

    def test_key_probabilities(self, flows_dir: Path) -> None:
        """Over 20,000 callers each key is chosen at its probability (4-sigma bounds)."""
        ivr = flow_ivr(flows_dir, {"1": 0.5, "2": 0.3, "hangup": 0.2})
        rng = np.random.default_rng(5)
        n = 20_000
        endings = [run_walk(ivr.walk(CALL, None, rng, {}))[1] for _ in range(n)]
        shares = {
            "billing": sum(e.service == "billing" for e in endings) / n,
            "sales": sum(e.service == "sales" for e in endings) / n,
            "caller_hangup": sum(e.ending == "caller_hangup" for e in endings) / n,
        }
        for name, p in {"billing": 0.5, "sales": 0.3, "caller_hangup": 0.2}.items():
            assert abs(shares[name] - p) < 4 * (p * (1 - p) / n) ** 0.5, (name, shares)

    def test_unlisted_menu_picks_its_options_uniformly(self, flows_dir: Path) -> None:
        """A menu the scenario says nothing about: each option equally often (4-sigma)."""
        ivr = flow_ivr(flows_dir, {"2": 1.0})
        ivr = FlowIvr(ivr.engine, CallerModel(), ivr.durations)
        rng = np.random.default_rng(6)
        n = 4_000
        billing = sum(
            run_walk(ivr.walk(CALL, None, rng, {}))[1].service == "billing" for _ in range(n)
        )
        assert abs(billing / n - 0.5) < 4 * (0.25 / n) ** 0.5

    def test_unserved_dnis_goes_to_the_policy(self, flows_dir: Path) -> None:
        """A number no flow serves skips the IVR and asks the policy for the default service."""
        ivr = flow_ivr(flows_dir, {"1": 1.0})
        call = CallInfo("c2", "", "999", CALL.at)
        seconds, done = run_walk(ivr.walk(call, None, np.random.default_rng(1), {}))
        assert (seconds, done.service, done.decision) == (0.0, "general", None)


def model_with(  # noqa: PLR0917 - one test model, spelled out
    ivr: FlowIvr, servers: int, rate: float, calls: int, patience: float, lane: str = "billing"
) -> SimModel:
    """``servers`` agents on ``lane``, one on the other; Poisson callers into the flow."""
    length = calls / rate
    return SimModel(
        streams=(Stream("normal", "100", "normal", (rate,), Exponential(patience)),),
        queues=tuple(
            QueueSpec(q, Exponential(1.0), (servers if q == lane else 1,))
            for q in ("billing", "sales")
        ),
        policy=TierPolicy(),
        ivr=ivr,
        interval_s=length,
        warmup_s=0.05 * length,
        sl_seconds={"normal": 0.2},
    )


class TestInSimulation:
    def test_outcomes_and_ivr_time_are_logged(self, flows_dir: Path) -> None:
        """Contained calls get IVR_ENDED with their ending; queued ones carry their IVR time."""
        ivr = flow_ivr(flows_dir, {"2": 0.7, "hangup": 0.3}, think_s=1.0)
        log = simulate(model_with(ivr, 3, 0.5, 2_000, 60.0), np.random.default_rng(3))
        ended = log.outcome == IVR_ENDED
        assert 0.25 < ended.mean() < 0.35
        assert set(log.ivr_ending[ended].tolist()) == {IVR_ENDINGS.index("caller_hangup")}
        queued = log.queue >= 0
        assert np.allclose(log.ivr_time[queued], 9.0)
        assert np.allclose(log.enqueue[queued] - log.arrive[queued], 9.0)
        assert (log.outcome[queued] == ANSWERED).mean() > 0.9

    def test_same_seed_same_numbers(self, flows_dir: Path) -> None:
        """Regression, not theory: one seed reproduces the run exactly, another does not."""
        ivr = flow_ivr(flows_dir, {"1": 0.6, "2": 0.3, "timeout": 0.1})
        model = model_with(ivr, 2, 1.0, 1_000, 30.0)
        a, b = (simulate(model, np.random.default_rng(9)) for _ in range(2))
        c = simulate(model, np.random.default_rng(10))
        assert np.array_equal(a.outcome, b.outcome)
        assert np.array_equal(a.wait, b.wait, equal_nan=True)
        assert not np.array_equal(a.arrive, c.arrive)

    @pytest.mark.slow
    def test_queue_behind_the_flow_agrees_with_erlang_a(
        self, flows_dir: Path, pool: ProcessPoolExecutor
    ) -> None:
        """M/M/5+M behind a flow: P(wait) within 3%, P(abandon) within 5% of Erlang A.

        Every caller presses 2 (sales), so the lane sees Poisson arrivals delayed by a
        constant IVR time (prompt + think): still M/M/c+M, and theory applies.
        """
        ivr = flow_ivr(flows_dir, {"2": 1.0}, think_s=1.0)
        model = model_with(ivr, 5, 4.5, 20_000, 1.0, lane="sales")
        reps = replicate(model, 16, seed=21, executor=pool)
        theory = erlang_a(5, 4.5, 1.0, 1.0, 0.2)
        for metric, want, rel in (
            ("p_wait", theory.p_wait, 0.03),
            ("abandon_rate", theory.p_abandon, 0.05),
        ):
            est = reps.estimates["queue/sales"][metric]
            assert est.ci95 < 0.6 * rel * want, f"undersized: {metric} ci95 {est.ci95:.4g}"
            assert est.mean == pytest.approx(want, rel=rel), metric


ROOT = Path(__file__).resolve().parents[2]
SCENARIO = """\
interval_minutes: 30
intervals: 2
start: "2026-01-05T09:00:00"
tiers:
  normal: {patience: {dist: exponential, mean: 60}}
  unknown: {customer: unknown, patience: {dist: exponential, mean: 60}}
arrivals:
  - {dnis: "100", calls: [100, 100], mix: {normal: 1, unknown: 1}}
ivr:
  flows: flows
  prompts: {main_menu: 8}
  callers:
    hotline.menu: {keys: {"1": 0.5, "2": 0.5}, think_s: 2}
queues:
  billing: {handle: {dist: exponential, mean: 120}, agents: 3}
  sales: {handle: {dist: exponential, mean: 120}, agents: 3}
routing:
  factory: "tests.sim.conftest:TierPolicy"
"""


class TestScenarioFlows:
    def test_flows_section_builds_a_flow_walk(self, flows_dir: Path) -> None:
        """ivr.flows loads the operator's flows; unknown callers have no customer."""
        sc = parse_scenario(SCENARIO, "s.yaml", flows_dir.parent)
        assert isinstance(sc.model.ivr, FlowIvr)
        assert sc.model.streams[1].customer() is None
        log = simulate(sc.model, np.random.default_rng(4))
        assert np.allclose(log.enqueue[log.queue >= 0] - log.arrive[log.queue >= 0], 10.0)

    @pytest.mark.parametrize(
        ("change", "line", "message"),
        [
            (
                "hotline.menu: {",
                "hotline.nope: {",
                "ivr.callers.hotline.nope: no menu, input, transfer, offer or survey",
            ),
            ('{"1": 0.5, "2"', '{"12": 0.5, "2"', "'12' is not one key"),
            ("flows: flows", "flows: missing", "no flows directory"),
            ("unknown: {customer: unknown", "unknown: {customer: {colour: red}", "colour"),
        ],
    )
    def test_located_problems(self, flows_dir: Path, change: str, line: str, message: str) -> None:
        """Bad ivr/customer entries are reported at their own line of the scenario."""
        text = SCENARIO.replace(change, line)
        want = next(i for i, t in enumerate(text.splitlines(), 1) if line.strip("{ ") in t)
        with pytest.raises(ScenarioError) as err:
            parse_scenario(text, "s.yaml", flows_dir.parent)
        problem = next(p for p in err.value.problems if message in p.message)
        assert (problem.file, problem.line) == ("s.yaml", want)

    def test_flow_problems_keep_the_flow_file_position(self, flows_dir: Path) -> None:
        """A broken flow stops the scenario with the flow file's own file:line."""
        flow = flows_dir / "hotline.yaml"
        text = FLOW.replace("goto: later", "goto: latr")
        flow.write_text(text)
        want = text.splitlines().index("        goto: latr") + 1
        with pytest.raises(ScenarioError) as err:
            parse_scenario(SCENARIO, "s.yaml", flows_dir.parent)
        problem = next(p for p in err.value.problems if "latr" in p.message)
        assert (Path(problem.file).name, problem.line) == ("hotline.yaml", want)

    def test_telecom_scenario_walks_the_telecom_flow(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The shipped scenario: red list to red_desk, black list contained or restricted,
        closed hours end in callback requests, every queued call routed by the live policy."""
        monkeypatch.chdir(ROOT)
        from simulator.scenario import load_scenario

        sc = load_scenario(ROOT / "simulator" / "scenarios" / "telecom.yaml")
        assert isinstance(sc.model.ivr, FlowIvr)
        log = simulate(sc.model, np.random.default_rng(8))
        names = [q.name for q in sc.model.queues]
        tiers = [s.tier for s in sc.model.streams]
        lanes_of = {
            tier: {
                names[q]
                for q, s in zip(log.queue, log.stream, strict=True)
                if tiers[s] == tier and q >= 0
            }
            for tier in ("red", "blacklisted")
        }
        # red_desk, or vip_desk when the policy's EWT overflow fires at the moment of routing
        assert "red_desk" in lanes_of["red"]
        assert lanes_of["red"] <= {"red_desk", "vip_desk"}
        assert lanes_of["blacklisted"] <= {"restricted"}
        endings = {IVR_ENDINGS[i] for i in log.ivr_ending[log.outcome == IVR_ENDED]}
        assert {"callback", "hangup", "caller_hangup", "transfer"} <= endings  # VIP managers


class TestWorkersElsewhere:
    def test_a_worker_in_another_directory_gets_the_same_flows(
        self, flows_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The flows directory travels as an absolute path (a Dask worker's cwd differs)."""
        import pickle

        monkeypatch.chdir(flows_dir.parent)
        sc = parse_scenario(SCENARIO, "s.yaml", Path("."))  # relative, as `simulate s.yaml` gives
        blob = pickle.dumps(sc.model.ivr)
        elsewhere = tmp_path / "worker"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)
        walk = pickle.loads(blob)
        assert set(walk.engine.flows.flows) == set(sc.model.ivr.engine.flows.flows) != set()

    def test_a_missing_flows_directory_on_a_worker_is_an_error(
        self, flows_dir: Path, tmp_path: Path
    ) -> None:
        """Never a silent simulation without the IVR."""
        import pickle
        import shutil

        copy = tmp_path / "copied_flows"
        shutil.copytree(flows_dir, copy)
        sc = parse_scenario(SCENARIO.replace("flows: flows", f"flows: {copy}"), "s.yaml", tmp_path)
        blob = pickle.dumps(sc.model.ivr)
        shutil.rmtree(copy)
        with pytest.raises(FileNotFoundError, match="not on this worker"):
            pickle.loads(blob)
