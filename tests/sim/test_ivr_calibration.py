"""Key presses per menu and callback uptake, calibrated from recorded IVR paths.

A synthetic centre whose callers' true key probabilities are known walks the
flow through the live engine; its records carry paths as the router writes
them (option names, never digits); calibration must find the per-attempt
probabilities again through the menus' retries.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from router.ami.records import to_fields
from router.cli import cli
from router.flows.loader import load_flows
from simulator.calibration import calibrate
from simulator.engine import simulate
from simulator.ivr_calibration import calibrate_ivr, flows_twin, per_attempt
from simulator.records import log_to_records
from simulator.scenario import parse_scenario
from simulator.twin import scenario_document

SH = ZoneInfo("Asia/Shanghai")
FLOW = """\
flow: twin
serves: {dnis: ["4008001234"]}
start: main
nodes:
  main:
    type: menu
    prompt: main_menu
    options: {"1": billing, "2": support, "9": goodbye}
    retries: 2
    invalid_prompt: invalid
    timeout_prompt: no_input
    fallback: support
  billing: {type: queue, service: billing, max_wait_s: 60, overflow: offer}
  offer:
    type: menu
    prompt: offer_cb
    options: {"1": take_callback, "2": billing_again}
    retries: 1
    fallback: billing_again
  take_callback: {type: callback, service: billing, prompt: callback_ok}
  billing_again: {type: queue, service: billing}
  support: {type: queue, service: support}
  goodbye: {type: hangup, prompt: goodbye}
"""
PROMPTS = """\
languages: [en]
prompts:
  main_menu: {en: "Billing 1, support 2, goodbye 9."}
  offer_cb: {en: "Press 1 for a callback, 2 to wait."}
  invalid: {en: "Invalid."}
  no_input: {en: "No input."}
  callback_ok: {en: "We will call you."}
  goodbye: {en: "Goodbye."}
"""
MAIN = {"1": 0.5, "2": 0.3, "9": 0.05, "7": 0.04, "timeout": 0.08, "hangup": 0.03}
OFFER = {"1": 0.4, "2": 0.5, "timeout": 0.1}
TRUE = f"""\
start: "2026-11-02T00:00:00+08:00"
interval_minutes: 30
intervals: 48
tiers:
  normal: {{patience: {{dist: exponential, mean: 90}}}}
arrivals:
  - {{dnis: "4008001234", calls: {[40] * 16 + [240] * 28 + [40] * 4}, mix: {{normal: 1}}}}
ivr:
  flows: flows
  prompts: {{main_menu: 6, offer_cb: 4}}
  callers:
    twin.main: {{keys: {json.dumps(MAIN)}, think_s: 2}}
    twin.offer: {{keys: {json.dumps(OFFER)}, think_s: 2}}
queues:
  billing: {{handle: {{dist: exponential, mean: 200}}, agents: {[3] * 16 + [12] * 28 + [3] * 4}}}
  support: {{handle: {{dist: exponential, mean: 200}}, agents: {[3] * 16 + [12] * 28 + [3] * 4}}}
"""
DAYS = 2


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[object]]:
    base = tmp_path_factory.mktemp("centre")
    flows = base / "flows"
    flows.mkdir()
    (flows / "twin.yaml").write_text(FLOW)
    (flows / "prompts.yaml").write_text(PROMPTS)
    sc = parse_scenario(TRUE, "true.yaml", base)
    records = []
    for d in range(DAYS):
        start = datetime.fromisoformat(sc.model.start) + timedelta(days=d)
        model = replace(sc.model, start=start.isoformat())
        log = simulate(model, np.random.default_rng(200 + d), keep_paths=True)
        records += log_to_records(log, model, f"d{d}")
    return flows, records


def _flows(flows: Path) -> object:
    return load_flows(flows, frozenset({"billing", "support"}))


class TestPerAttempt:
    def test_inverts_the_retries_exactly(self) -> None:
        """Endings generated from known per-attempt odds give those odds back."""
        p = {"a": 0.6, "hangup": 0.1, "timeout": 0.2, "(invalid)": 0.1}
        q, attempts = 0.3, 3
        tries = (1 - q**attempts) / (1 - q)
        last = q ** (attempts - 1)  # the chance that every earlier attempt failed
        ended = {"a": 0.6 * tries, "hangup": 0.1 * tries,
                 "timeout": last * 0.2, "(invalid)": last * 0.1}  # fmt: skip
        got = per_attempt({k: round(v * 1e6) for k, v in ended.items()}, attempts)
        assert got == pytest.approx(p, abs=1e-5)


class TestPathsByHand:
    @staticmethod
    def _path(*steps: tuple[str, str], outcome: str = "queue") -> str:
        walk = [{"node": n, "choice": c, "flow": "twin"} for n, c in steps]
        return json.dumps({"flow": "twin", "outcome": outcome, "uniqueid": "x", "steps": walk})

    def test_names_map_to_the_keys_of_the_flow_file(self, tmp_path: Path) -> None:
        """A menu renumbered in the flow file: recorded option names take their new keys;
        a walk ending at the menu by caller hang-up is a hang-up whatever was noted."""
        flows = tmp_path / "flows"
        flows.mkdir()
        (flows / "twin.yaml").write_text(
            FLOW.replace('{"1": billing, "2": support', '{"5": billing, "6": support')
        )
        (flows / "prompts.yaml").write_text(PROMPTS)
        paths = [self._path(("main", "billing"), ("billing", ""))] * 3
        paths += [self._path(("main", "(timeout)"), outcome="caller_hangup")]
        cal = calibrate_ivr(paths, _flows(flows))
        assert cal.menus["twin.main"].ended == {"billing": 3, "hangup": 1}
        assert cal.menus["twin.main"].keys == {"5": 0.75, "hangup": 0.25}

    def test_unreadable_paths_are_counted_not_fatal(self, tmp_path: Path) -> None:
        """Garbage, a step without a node, and the compact text form (no flow names) are
        counted as unreadable; empty paths (calls the IVR never saw) are not."""
        flows = tmp_path / "flows"
        flows.mkdir()
        (flows / "twin.yaml").write_text(FLOW)
        (flows / "prompts.yaml").write_text(PROMPTS)
        bad = ["{not json", json.dumps({"steps": [{"choice": "x"}]}), "main:billing>billing", ""]
        cal = calibrate_ivr([*bad, self._path(("main", "support"))], _flows(flows))
        assert cal.unreadable == 3
        assert cal.menus["twin.main"].visits == 1


class TestSyntheticCentre:
    def test_records_carry_paths_with_option_names_not_keys(self, centre: tuple) -> None:
        """Simulated records hold the router's path shape: option names, never digits."""
        _, records = centre
        doc = json.loads(next(r.path for r in records if r.path))
        assert doc["steps"][0]["node"] == "main"
        choices = {json.loads(r.path)["steps"][0]["choice"] for r in records if r.path}
        assert {"billing", "support", "goodbye", "(timeout)", "(invalid)"} <= choices
        assert not choices & {"1", "2", "9", "7"}

    def test_menu_keys_within_one_point(self, centre: tuple) -> None:
        """Per-attempt probabilities of each option and of hanging up come back within 0.01,
        and so does the chance an attempt fails (timeout or invalid key, 0.12), though the
        naive share of visits ending in a timeout (after three tries) is under 0.01.

        How failures split between timeout and invalid rests only on the visits that fell
        back after the last try (about 20 here), so that split is checked to 0.03."""
        flows, records = centre
        cal = calibrate_ivr((r.path for r in records), _flows(flows))
        main = cal.menus["twin.main"]
        for key in ("1", "2", "9", "hangup"):
            assert main.keys[key] == pytest.approx(MAIN[key], abs=0.01), key
        failed = main.keys["timeout"] + main.keys["3"]  # "3": a key the menu does not use
        assert failed == pytest.approx(MAIN["timeout"] + MAIN["7"], abs=0.01)
        assert main.keys["3"] == pytest.approx(MAIN["7"], abs=0.03)
        assert main.ended["timeout"] / main.visits < 0.01
        assert cal.unreadable == 0

    def test_callback_uptake(self, centre: tuple) -> None:
        """Uptake is the share of offered callers taking the callback: 0.4 per try over up to
        two tries (0.4 x 1.1 = 0.44), within 0.03; the offer menu's keys come back too."""
        flows, records = centre
        cal = calibrate_ivr((r.path for r in records), _flows(flows))
        offer = cal.uptake["twin.offer"]
        assert offer.offered > 500
        assert offer.share == pytest.approx(0.44, abs=0.03)
        assert cal.callback_uptake == offer.share
        assert cal.menus["twin.offer"].keys["1"] == pytest.approx(0.4, abs=0.03)
        taken = sum(1 for r in records if r.path and json.loads(r.path)["outcome"] == "callback")
        assert taken == offer.accepted

    def test_flows_twin_loads_and_walks_the_flows(self, centre: tuple) -> None:
        """The calibrated flows twin validates, counts every call as an arrival, and its
        callers take the callback as often as the centre's did (within 0.03)."""
        flows, records = centre
        cal = calibrate(records, SH, all_calls=True)
        assert sum(cal.traffic[0].mean) == pytest.approx(len(records) / DAYS, abs=1)
        ivr = calibrate_ivr((r.path for r in records), _flows(flows))
        doc = flows_twin(scenario_document(cal), ivr, "flows", None)
        twin = parse_scenario(yaml.safe_dump(doc), "twin.yaml", flows.parent)
        model = replace(twin.model, start="2026-11-02T00:00:00+08:00")
        log = simulate(model, np.random.default_rng(9), keep_paths=True)
        again = calibrate_ivr((r.path for r in log_to_records(log, model)), _flows(flows))
        assert again.callback_uptake == pytest.approx(ivr.callback_uptake, abs=0.03)


class TestCalibrateWithFlows:
    def test_command_writes_the_flows_twin(self, centre: tuple, tmp_path: Path) -> None:
        """--flows: key probabilities and uptake printed, in the report and in the scenario."""
        flows, records = centre
        export = tmp_path / "calls.jsonl"
        export.write_text("".join(json.dumps(to_fields(r)) + "\n" for r in records))
        out = tmp_path / "twin.yaml"
        res = CliRunner().invoke(cli, ["calibrate", "--records", str(export), "--out", str(out),
                                       "--flows", str(flows)])  # fmt: skip
        assert res.exit_code == 0, res.output
        assert "callback uptake at twin.offer: 0.4" in res.output
        report = json.loads(out.with_suffix(".calibration.json").read_text())
        assert report["ivr"]["callback_uptake"]["twin.offer"]["offered"] > 500
        text = out.read_text()
        assert "# callback uptake at twin.offer" in text
        sc = parse_scenario(text, str(out), out.parent)
        assert sc.model.ivr.callers.nodes["twin.main"].keys[:2] == ("1", "2")  # type: ignore[attr-defined]

    def test_flows_that_do_not_fit_the_records_are_reported(
        self, centre: tuple, tmp_path: Path
    ) -> None:
        """A flow queueing to a service the records never saw is a located error, no traceback."""
        _, records = centre
        bad = tmp_path / "flows"
        bad.mkdir()
        (bad / "twin.yaml").write_text(FLOW.replace("service: support", "service: nowhere"))
        (bad / "prompts.yaml").write_text(PROMPTS)
        export = tmp_path / "calls.jsonl"
        export.write_text("".join(json.dumps(to_fields(r)) + "\n" for r in records[:200]))
        res = CliRunner().invoke(cli, ["calibrate", "--records", str(export), "--out",
                                       str(tmp_path / "t.yaml"), "--flows", str(bad)])  # fmt: skip
        assert res.exit_code == 1
        assert "twin.yaml:" in res.output
        assert "nowhere" in res.output
