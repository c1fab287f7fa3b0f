"""Simulated callers at offer and survey nodes: accept by position, survey answers."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from router.customers.model import Customer
from router.errors import ScenarioError
from router.flows.model import SurveyQuestion
from router.types import CallInfo
from simulator.flow_ivr import CallerModel, FlowIvr
from simulator.flow_marketing import SILENT, OfferChoice, SurveyChoice
from simulator.scenario import parse_scenario
from tests.sim.conftest import TierPolicy
from tests.sim.test_flow_ivr import run_walk

FLOW = """\
flow: shop
serves: {dnis: ["100"]}
start: offer
nodes:
  offer: {type: offer, next: menu}
  menu:
    type: menu
    prompt: main_menu
    options: {"1": sales}
    fallback: sales
  sales: {type: queue, service: sales}
"""
PROMPTS = """\
languages: [en]
prompts:
  main_menu: {en: "Sales 1."}
  o_a: {en: "Offer A."}
  o_b: {en: "Offer B."}
"""
OFFERS = """\
offers:
  A: {prompt: o_a, service: sales}
  B: {prompt: o_b, service: billing}
"""
SECONDS = {"main_menu": 4.0, "o_a": 6.0, "o_b": 7.0}
CALL = CallInfo("c1", "", "100", datetime(2026, 1, 5, 10, 0))
BUYER = Customer("C1", offers=("A", "B"))


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    d = tmp_path / "flows"
    d.mkdir()
    (d / "shop.yaml").write_text(FLOW)
    (d / "prompts.yaml").write_text(PROMPTS)
    (d / "offers.yaml").write_text(OFFERS)
    return d


def walk(flows_dir: Path, choice: OfferChoice, customer: Customer | None = BUYER) -> tuple:  # type: ignore[type-arg]
    callers = CallerModel(marketing={"shop.offer": choice})
    ivr = FlowIvr.load(flows_dir, frozenset({"sales", "billing"}), TierPolicy(), callers, SECONDS)
    return run_walk(ivr.walk(CALL, customer, np.random.default_rng(3), {}))


class TestOfferCallers:
    def test_accepting_the_first_offer_goes_to_its_lane(self, flows_dir: Path) -> None:
        """accept [1.0]: offer A's prompt and the think time, then A's service."""
        seconds, done = walk(flows_dir, OfferChoice((1.0,), 0.0, think_s=1.5))
        assert seconds == pytest.approx(6.0 + 1.5)
        assert done.service == "sales"

    def test_accept_by_position(self, flows_dir: Path) -> None:
        """accept [0, 1] and always next: the second offer (B, billing) is taken."""
        seconds, done = walk(flows_dir, OfferChoice((0.0, 1.0), 1.0, think_s=1.0))
        assert seconds == pytest.approx(6.0 + 1.0 + 7.0 + 1.0)
        assert done.service == "billing"

    def test_declining_goes_back_to_the_menu(self, flows_dir: Path) -> None:
        """accept 0, next 0: back at once; the unlisted menu picks its one option (sales)."""
        seconds, done = walk(flows_dir, OfferChoice((0.0,), 0.0, think_s=1.0))
        assert seconds == pytest.approx(6.0 + 1.0 + 4.0 + 2.0)
        assert done.service == "sales"

    def test_no_offers_no_time(self, flows_dir: Path) -> None:
        """An unknown caller hears no offer: the menu straight away."""
        seconds, _done = walk(flows_dir, OfferChoice((1.0,)), customer=None)
        assert seconds == pytest.approx(4.0 + 2.0)


class TestSurveyCallers:
    def test_participation_and_answers_in_range(self) -> None:
        """60 % answer (4-sigma), only digits in 1-3, by the given weights (5 left out)."""
        choice = SurveyChoice(0.6, {"1": 1.0, "3": 3.0, "5": 10.0})
        rng = np.random.default_rng(11)
        got = Counter(choice.key(SurveyQuestion("q", "p", "1", "3"), rng) for _ in range(20_000))
        answered = 20_000 - got[SILENT]
        assert abs(answered - 12_000) < 4 * (20_000 * 0.6 * 0.4) ** 0.5
        assert set(got) == {SILENT, "1", "3"}
        assert abs(got["3"] / answered - 0.75) < 4 * (0.75 * 0.25 / answered) ** 0.5


SCENARIO = """\
interval_minutes: 30
intervals: 1
start: "2026-01-05T09:00:00"
tiers:
  normal: {customer: {offers: [A, B]}, patience: {dist: exponential, mean: 60}}
arrivals:
  - {dnis: "100", calls: [50], mix: {normal: 1}}
ivr:
  flows: flows
  callers:
    shop.offer: {accept: [0.2, 0.1], next: 0.5}
queues:
  sales: {handle: {dist: exponential, mean: 120}, agents: 3}
  billing: {handle: {dist: exponential, mean: 120}, agents: 3}
routing:
  factory: "tests.sim.conftest:TierPolicy"
"""


class TestScenario:
    def test_offer_callers_come_from_the_scenario(self, flows_dir: Path) -> None:
        """ivr.callers.<flow>.<offer node> sets accept by position and next."""
        sc = parse_scenario(SCENARIO, "s.yaml", flows_dir.parent)
        assert isinstance(sc.model.ivr, FlowIvr)
        assert sc.model.ivr.callers.marketing == {"shop.offer": OfferChoice((0.2, 0.1), 0.5)}

    def test_a_bad_probability_is_located(self, flows_dir: Path) -> None:
        """accept above 1 is reported at the scenario's own line."""
        text = SCENARIO.replace("[0.2, 0.1]", "[0.2, 3]")
        with pytest.raises(ScenarioError) as err:
            parse_scenario(text, "s.yaml", flows_dir.parent)
        line = next(i for i, t in enumerate(text.splitlines(), 1) if "shop.offer" in t)
        assert any(p.line == line and "accept" in p.message for p in err.value.problems)
