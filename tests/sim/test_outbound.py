"""Outbound in the simulator: scenario keys, the live pacing rule, throughput, blended cost."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from router.cli import cli
from router.customers.model import Customer
from router.dialer.config import build_callback_campaign, build_campaign
from router.dialer.model import CampaignKind, DialResult
from router.dialer.pacing import LanePacing, PacingDecision, decide
from router.errors import ScenarioError
from router.types import CallInfo, QueueSnapshot
from simulator.blended import compare, inbound_only
from simulator.distributions import Constant, Exponential
from simulator.engine import simulate
from simulator.model import IvrExit, IvrPath, QueueSpec, SimModel, Stream
from simulator.outbound import Customers, Outbound, SimCallbacks, SimCampaign
from simulator.scenario import load_scenario, parse_scenario
from simulator.stats import summarize
from tests.sim.conftest import TierPolicy

BLENDED = Path(__file__).resolve().parents[2] / "simulator" / "scenarios" / "blended.yaml"
ALWAYS = {"weekly": {"mon-sun": "00:00-24:00"}}

SMALL = """\
interval_minutes: 30
intervals: 8
start: "2026-01-05T09:00:00"
tiers:
  vip: {patience: {dist: exponential, mean: 240}, target: {service_level: 0.9, within_s: 10}}
  normal: {patience: {dist: exponential, mean: 120}, target: {service_level: 0.8, within_s: 20}}
arrivals:
  - {dnis: "8001", calls: 100, mix: {vip: 0.1, normal: 0.9}}
queues:
  support: {handle: {dist: exponential, mean: 240}, agents: 22}
outbound:
  pacing:
    support:
      guards: [{queue: support}]
      forecast: {calls_per_hour: 200, aht_s: 240, target_sl: 0.97}
  campaigns:
    reminders:
      kind: payment_reminder
      lane: support
      hours: {weekly: {mon-fri: "09:00-20:00"}}
      retry: {no_answer: {count: 2, gap_minutes: 60}, busy: {count: 2, gap_minutes: 10}}
      contacts: 80
      customers: {answer: 0.6, talk: {dist: lognormal, mean: 150, sd: 60}}
"""


def no_guards(
    pacing: LanePacing,
    live: Mapping[str, QueueSnapshot],
    free: int,
    in_flight: int,
    on_outbound: int = 0,
) -> PacingDecision:
    """The live rule with the lane's guards and forecast dropped (the live default)."""
    return decide(LanePacing(pacing.lane), live, free, in_flight, on_outbound)


def campaign(**over: object) -> SimCampaign:
    body: dict[str, object] = {"kind": "return_visit", "lane": "q", "hours": ALWAYS}
    customers = over.pop("customers", Customers())
    contacts = over.pop("contacts", (100_000, 0))
    body.update(over)
    c = build_campaign("c", body)
    assert isinstance(customers, Customers)
    assert isinstance(contacts, tuple)
    return SimCampaign(c, customers, contacts)


def outbound_only(agents: int, out: Outbound, intervals: int = 2) -> SimModel:
    """A lane with no inbound callers at all: every agent is outbound's."""
    streams = (Stream("none", "0", "normal", (0.0,) * intervals, Exponential(60.0)),)
    queues = (QueueSpec("q", Exponential(60.0), (agents,) * intervals),)
    return SimModel(streams, queues, TierPolicy(), interval_s=7200.0, outbound=out)


class TestScenarioKeys:
    def test_shipped_blended_scenario_uses_the_dialer_schema(self) -> None:
        """blended.yaml's campaign, retries and pacing come out as the live dialer's objects."""
        out = load_scenario(BLENDED).model.outbound
        assert out is not None
        (sc,) = out.campaigns
        assert sc.campaign.kind is CampaignKind.PAYMENT_REMINDER
        assert sc.campaign.retry[DialResult.NO_ANSWER].gap_s == 3600
        assert sc.new_contacts == (80,) * 16
        pacing = out.pacing_at("support", 3)
        assert pacing.guards[0].queue == "support"
        assert pacing.forecast is not None
        assert pacing.forecast.target_sl == 0.97

    def test_misspelt_key_is_located_with_a_suggestion(self) -> None:
        """An unknown key in a campaign is reported at its line with the nearest name."""
        bad = SMALL.replace("      contacts: 80", "      contacts: 80\n      max_atempts: 3")
        with pytest.raises(ScenarioError) as err:
            parse_scenario(bad, "b.yaml")
        (problem,) = err.value.problems
        assert problem.line == 23
        assert "max_atempts" in problem.message
        assert "max_attempts" in problem.hint

    def test_dialer_schema_errors_are_located(self) -> None:
        """A value the dialer's own schema refuses is reported at the scenario line."""
        bad = SMALL.replace("kind: payment_reminder", "kind: cold_call")
        with pytest.raises(ScenarioError) as err:
            parse_scenario(bad, "b.yaml")
        (problem,) = err.value.problems
        assert problem.line == 18
        assert problem.message.startswith("outbound.campaigns.reminders.kind:")

    def test_lanes_and_guards_must_be_queues(self) -> None:
        """A campaign lane or a guarded queue the scenario does not staff is an error."""
        bad = SMALL.replace("lane: support", "lane: sales").replace(
            "{queue: support}", "{queue: vip_desk}"
        )
        with pytest.raises(ScenarioError) as err:
            parse_scenario(bad, "b.yaml")
        assert sorted(p.line for p in err.value.problems) == [14, 19]

    def test_exactly_one_contact_source(self) -> None:
        """list_size and contacts together (or neither) is refused."""
        bad = SMALL.replace("contacts: 80", "contacts: 80\n      list_size: 10")
        with pytest.raises(ScenarioError, match="exactly one of list_size"):
            parse_scenario(bad, "b.yaml")

    def test_forecast_per_interval(self) -> None:
        """A list of calls_per_hour gives each interval its own reserve; a wrong length fails."""
        per = "calls_per_hour: [100, 100, 200, 200, 300, 300, 200, 100]"
        sc = parse_scenario(SMALL.replace("calls_per_hour: 200", per), "s.yaml")
        out = sc.model.outbound
        assert out is not None
        rates = [f.calls_per_hour for i in range(8) if (f := out.pacing_at("support", i).forecast)]
        assert rates == [100, 100, 200, 200, 300, 300, 200, 100]
        with pytest.raises(ScenarioError, match="list of 8"):
            parse_scenario(SMALL.replace("calls_per_hour: 200", "calls_per_hour: [1, 2]"), "s")


class TestSimDialer:
    def test_idle_outbound_leaves_inbound_identical(self) -> None:
        """Outbound with nothing to dial changes no inbound draw (common random numbers)."""
        sc = parse_scenario(SMALL.replace("contacts: 80", "contacts: 0"), "s.yaml")
        a = simulate(sc.model, np.random.default_rng(5))
        b = simulate(inbound_only(sc.model), np.random.default_rng(5))
        assert np.array_equal(a.wait, b.wait, equal_nan=True)
        assert np.array_equal(a.outcome, b.outcome)
        assert a.outbound["outbound/reminders"]["attempts"] == 0
        assert b.outbound == {}

    def test_throughput_matches_the_closed_form(self) -> None:
        """No inbound: connected calls = agents x time / (dial time per answer + talk + wrap)."""
        customers = Customers(
            answer=0.6, busy=0.1, right_party=1.0, ring=Constant(12.0), talk=Constant(180.0),
            wrap_s=20.0, no_answer_s=30.0, busy_s=5.0,
        )  # fmt: skip
        out = Outbound((campaign(customers=customers),))
        model = outbound_only(10, out)
        log = simulate(model, np.random.default_rng(3))
        figures = log.outbound["outbound/c"]
        dial_per_answer = (0.6 * 12 + 0.1 * 5 + 0.3 * 30) / 0.6
        expected = 10 * model.horizon / (dial_per_answer + 200)
        assert figures["connected"] == pytest.approx(expected, rel=0.03)
        assert figures["abandoned"] == 0  # progressive, one call per free agent: none dropped
        assert figures["agent_hours"] == pytest.approx(figures["connected"] * 200 / 3600)

    def test_preview_holds_the_agent_through_the_ring(self) -> None:
        """Preview, no inbound: the same closed form, and the agents are held all day long."""
        customers = Customers(
            answer=0.6, busy=0.1, right_party=1.0, ring=Constant(12.0), talk=Constant(180.0),
            wrap_s=20.0, no_answer_s=30.0, busy_s=5.0,
        )  # fmt: skip
        model = outbound_only(10, Outbound((campaign(customers=customers, mode="preview"),)))
        figures = simulate(model, np.random.default_rng(3)).outbound["outbound/c"]
        cycle = (0.6 * 12 + 0.1 * 5 + 0.3 * 30) / 0.6 + 200
        assert figures["connected"] == pytest.approx(10 * model.horizon / cycle, rel=0.03)
        assert figures["agent_hours"] == pytest.approx(10 * model.horizon / 3600, rel=0.02)

    def test_retries_follow_the_dialer_rules(self) -> None:
        """Never answered: each contact gets exactly max_attempts tries, then is exhausted."""
        never = Customers(answer=0.0, busy=0.0)
        sc = campaign(
            customers=never,
            contacts=(40, 0),
            max_attempts=3,
            retry={"no_answer": {"count": 5, "gap_minutes": 10}},
        )
        log = simulate(outbound_only(5, Outbound((sc,))), np.random.default_rng(1))
        figures = log.outbound["outbound/c"]
        assert (figures["attempts"], figures["exhausted"], figures["pending"]) == (120, 40, 0)

    def test_closed_hours_dial_nobody(self) -> None:
        """Calling hours shut the whole day: no attempt, every contact still pending."""
        sc = campaign(contacts=(50, 0), hours={"weekly": {"sat": "09:00-10:00"}})
        log = simulate(outbound_only(5, Outbound((sc,))), np.random.default_rng(1))
        figures = log.outbound["outbound/c"]
        assert (figures["attempts"], figures["pending"], figures["contacts"]) == (0, 50, 50)

    def test_callbacks_by_tier_priority(self) -> None:
        """Every IVR callback request is dialled or still pending; a red one waits less."""
        cb_campaign, prios = build_callback_campaign({"lane": "q", "hours": ALWAYS})
        cb = SimCallbacks(cb_campaign, Customers(answer=1.0, busy=0.0), 1.0, prios)
        streams = tuple(
            Stream(t, "1", t, (rate, rate), Exponential(60.0))
            for t, rate in (("red", 0.001), ("normal", 0.006))
        )
        model = SimModel(
            streams, (QueueSpec("q", Exponential(60.0), (2, 2)),), TierPolicy(),
            ivr=_CallbackIvr(), interval_s=3600.0, outbound=Outbound(callbacks=cb),
        )  # fmt: skip
        log = simulate(model, np.random.default_rng(4))
        figures = log.outbound
        asked = int((log.ivr_ending == 0).sum())
        cbs = figures["outbound/callbacks"]
        assert cbs["requests"] == asked
        assert cbs["done"] + cbs["exhausted"] + cbs["pending"] == asked  # none dropped
        assert cbs["done"] > 0.8 * asked
        red, normal = figures["outbound/callbacks/red"], figures["outbound/callbacks/normal"]
        assert red["mean_wait_s"] < normal["mean_wait_s"]

    def test_no_guard_rule_takes_more_agents(self) -> None:
        """The live guards hold agents back that a guard-less rule gives to outbound."""
        sc = parse_scenario(SMALL, "s.yaml")
        assert sc.model.outbound is not None
        greedy = replace(sc.model, outbound=replace(sc.model.outbound, rule=no_guards))
        paced = summarize(simulate(sc.model, np.random.default_rng(2)), sc.model)
        taken = summarize(simulate(greedy, np.random.default_rng(2)), greedy)
        hours = [s["outbound/reminders"]["agent_hours"] for s in (paced, taken)]
        assert hours[1] > 2 * hours[0] > 0


class _CallbackIvr:
    """Every caller leaves a callback request in the IVR."""

    def walk(
        self,
        call: CallInfo,
        customer: Customer | None,
        rng: np.random.Generator,
        queues: Mapping[str, QueueSnapshot],
    ) -> IvrPath:
        return IvrExit(ending="callback")


def _losses(model: SimModel, replications: int, seed: int) -> dict[str, tuple[float, float]]:
    """Per tier: (mean service-level loss, its 95 % half-width), in fractions."""
    result = compare(model, replications, seed)
    return {t: (-c.sl_diff.mean, c.sl_diff.ci95) for t, c in result.tiers.items()}


class TestBlendedDay:
    def test_live_pacing_keeps_every_tier_within_one_point(self) -> None:
        """Small day, 6 replications: each tier's mean SL loss under the live rule is < 1 point."""
        sc = parse_scenario(SMALL, "s.yaml")
        losses = _losses(sc.model, 6, 11)
        assert all(loss < 0.01 for loss, _ci in losses.values()), losses

    def test_a_rule_without_guards_loses_more_than_one_point(self) -> None:
        """Same day and seeds, guards ignored: some tier loses > 1 point, beyond its CI."""
        sc = parse_scenario(SMALL, "s.yaml")
        assert sc.model.outbound is not None
        greedy = replace(sc.model, outbound=replace(sc.model.outbound, rule=no_guards))
        losses = _losses(greedy, 6, 11)
        assert any(loss - ci > 0.01 for loss, ci in losses.values()), losses

    @pytest.mark.slow
    def test_shipped_blended_day_within_one_point(self) -> None:
        """blended.yaml, 40 replications: every tier's loss is < 1 point at 95 % confidence."""
        losses = _losses(load_scenario(BLENDED).model, 40, 1)
        assert all(loss + ci < 0.01 for loss, ci in losses.values()), losses
        assert all(math.isfinite(ci) for _loss, ci in losses.values())


class TestCommands:
    def test_plan_staffs_with_outbound_and_prints_its_cost(self, tmp_path: Path) -> None:
        """plan verifies its staffing with outbound running and prints the comparison."""
        path = tmp_path / "s.yaml"
        path.write_text(SMALL.replace("intervals: 8", "intervals: 2"), encoding="utf-8")
        args = ["plan", str(path), "-n", "2", "--rounds", "1", "--workers", "1"]
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 0, res.output
        assert "meets all targets" in res.output
        assert "outbound vs inbound-only (same seeds, 2 replications):" in res.output

    def test_simulate_prints_the_cost_and_writes_blended_json(self, tmp_path: Path) -> None:
        """simulate on a blended scenario prints both runs per tier and writes blended.json."""
        path = tmp_path / "s.yaml"
        path.write_text(SMALL, encoding="utf-8")
        res = CliRunner().invoke(
            cli, ["simulate", str(path), "-n", "2", "--workers", "1", "--out", str(tmp_path)]
        )
        assert res.exit_code == 0, res.output
        assert "outbound vs inbound-only (same seeds, 2 replications):" in res.output
        assert "outbound reminders: attempts" in res.output
        doc = json.loads((tmp_path / "blended.json").read_text(encoding="utf-8"))
        assert set(doc["tiers"]) == {"vip", "normal"}
        assert doc["outbound"]["reminders"]["attempts"]["mean"] > 0
