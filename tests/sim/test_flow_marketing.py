"""Simulated callers at offer and survey nodes: accept by position, survey answers."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from router.customers.model import Customer
from router.errors import ScenarioError
from router.flows import actions as a
from router.flows.model import SurveyQuestion
from router.types import CallInfo
from simulator.flow_ivr import CallerModel, FlowIvr
from simulator.flow_marketing import OfferChoice, SurveyChoice
from simulator.scenario import parse_scenario
from simulator.split import exits
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
        """60 % answer, only digits in 1-3, by the given weights (5 left out): 1 at 0.15,
        3 at 0.45, silence (the question's 5 s timeout) 0.4."""
        choice = SurveyChoice(0.6, {"1": 1.0, "3": 3.0, "5": 10.0}, think_s=2.0)
        got = choice.keys(SurveyQuestion("q", "p", "1", "3"), 5.0)
        assert [(round(p, 12), s, then) for p, s, then in got.each()] == [
            (0.15, 2.0, a.Digits("1")),
            (0.45, 2.0, a.Digits("3")),
            (0.4, 5.0, a.Digits("", True)),
        ]

    def test_draws_follow_the_answers(self) -> None:
        """20,000 callers drawn from that distribution land within 4 standard errors of it."""
        got = SurveyChoice(0.6, {"1": 1.0, "3": 3.0}).keys(SurveyQuestion("q", "p", "1", "3"), 5.0)
        rng, n = np.random.default_rng(11), 20_000
        seen = Counter(got.draw(rng)[1] for _ in range(n))
        for p, _s, then in got.each():
            assert abs(seen[then] / n - p) <= 4 * (p * (1 - p) / n) ** 0.5


SHARED = OFFERS.replace("prompt: o_b", "prompt: o_a")  # only the position tells them apart


class TestOfferSplit:
    def test_exact_split_by_offer_position(self, flows_dir: Path) -> None:
        """accept 0.2 then 0.1, next 0.5, two offers with one prompt: B's billing lane is
        0.8 x 0.5 x 0.1 = 0.04 (the second offer, not the first, however alike they sound);
        sales 0.96 (A taken, or back / past the last offer to the menu)."""
        (flows_dir / "offers.yaml").write_text(SHARED)
        found = _split(flows_dir, OfferChoice((0.2, 0.1), 0.5))
        assert found == pytest.approx({"sales": 0.96, "billing": 0.04}, abs=1e-12)

    def test_silence_re_presents_then_leaves(self, flows_dir: Path) -> None:
        """Half of those who do not take an offer are silent; one retry (same offer, same
        chance), then the menu. Per presentation: take 0.2, silent 0.4, next 0.2, back 0.2.
        A at first hearing or retry: 0.2 + 0.4 x 0.2 = 0.28 of the offer's callers; B is
        reached by next at either hearing (0.2 + 0.4 x 0.2 = 0.28) and taken the same way:
        billing 0.28 x 0.28 = 0.0784."""
        found = _split(flows_dir, OfferChoice((0.2,), 0.5, timeout=0.5))
        assert found == pytest.approx({"sales": 1 - 0.0784, "billing": 0.0784}, abs=1e-12)

    def test_walks_agree_with_the_exact_split(self, flows_dir: Path) -> None:
        """20,000 sampled walks (silence, retries, two offers) within 4 standard errors."""
        ivr = _ivr(flows_dir, OfferChoice((0.2, 0.1), 0.5, timeout=0.3))
        exact = exits(ivr, CALL, BUYER, {})
        assert exact is not None
        rng, n = np.random.default_rng(5), 20_000
        seen = Counter(
            replace(run_walk(ivr.walk(CALL, BUYER, rng, {}))[1], path=()) for _ in range(n)
        )
        assert set(seen) <= set(exact)
        for done, p in exact.items():
            assert abs(seen[done] / n - p) <= 4 * (p * (1 - p) / n) ** 0.5 + 1e-9, done


def _ivr(flows_dir: Path, choice: OfferChoice) -> FlowIvr:
    callers = CallerModel(marketing={"shop.offer": choice})
    return FlowIvr.load(flows_dir, frozenset({"sales", "billing"}), TierPolicy(), callers, SECONDS)


def _split(flows_dir: Path, choice: OfferChoice) -> dict[str, float]:
    found = exits(_ivr(flows_dir, choice), CALL, BUYER, {})
    assert found is not None
    by: dict[str, float] = {}
    for done, p in found.items():
        by[done.service] = by.get(done.service, 0.0) + p
    return by


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

    def test_offer_silence_comes_from_the_scenario(self, flows_dir: Path) -> None:
        """ivr.callers.<flow>.<offer node>.timeout: the share of decliners who say nothing."""
        text = SCENARIO.replace("next: 0.5}", "next: 0.5, timeout: 0.25}")
        sc = parse_scenario(text, "s.yaml", flows_dir.parent)
        assert isinstance(sc.model.ivr, FlowIvr)
        got = sc.model.ivr.callers.marketing["shop.offer"]
        assert got == OfferChoice((0.2, 0.1), 0.5, timeout=0.25)

    def test_a_bad_probability_is_located(self, flows_dir: Path) -> None:
        """accept above 1 is reported at the scenario's own line."""
        text = SCENARIO.replace("[0.2, 0.1]", "[0.2, 3]")
        with pytest.raises(ScenarioError) as err:
            parse_scenario(text, "s.yaml", flows_dir.parent)
        line = next(i for i, t in enumerate(text.splitlines(), 1) if "shop.offer" in t)
        assert any(p.line == line and "accept" in p.message for p in err.value.problems)
