"""Offer and survey nodes in the pure engine, the offers catalogue and their static checks."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path

import pytest

from router.errors import FlowError
from router.flows import actions as a
from router.flows.loader import load_texts
from router.flows.model import FlowSet
from router.flows.trace import Trace, trace_call
from tests.flows.helpers import CATALOG, QUEUES, SHANGHAI, call, customer

PROMPTS = CATALOG + textwrap.indent(
    textwrap.dedent(
        """\
        o_a: {zh: "甲", en: "a"}
        o_b: {zh: "乙", en: "b"}
        o_c: {zh: "丙", en: "c"}
        q1: {zh: "一", en: "one"}
        q2: {zh: "二", en: "two"}
        """
    ),
    "  ",
)
OFFERS = """\
offers:
  A: {prompt: o_a, service: sales}
  B: {prompt: o_b, service: billing}
  C: {prompt: o_c, service: sales, valid_from: 2026-01-01, valid_until: 2026-06-30}
"""
FLOW = """\
flow: main
serves: {dnis: ["100"]}
start: welcome
nodes:
  welcome: {type: play, prompts: [hello], interruptible: true, next: offer}
  offer:
    type: offer
    intro: hello
    next: menu
    timeout_prompt: again
  menu:
    type: menu
    prompt: menu
    options: {"1": billing, "2": tech, "0": general}
    fallback: bye
  billing: {type: queue, service: billing}
  tech: {type: queue, service: tech}
  general: {type: queue, service: general}
  csat:
    type: survey
    after_call: true
    questions:
      - {id: score, prompt: q1, answers: "1-5"}
      - {id: solved, prompt: q2, answers: "1-2"}
    invalid_prompt: again
    next: bye
  bye: {type: hangup, reason: survey}
"""


def load(flow: str = FLOW, offers: str | None = OFFERS) -> FlowSet:
    return load_texts({"main.yaml": flow}, QUEUES, PROMPTS, "prompts.yaml", offers_text=offers)


def run(keys: list[str], offers: tuple[str, ...] = ("A", "B"), **kw: object) -> Trace:
    return trace_call(load(), "main", call(), customer(offers=offers), keys, **kw)  # type: ignore[arg-type]


def records(t: Trace) -> list[tuple[str, str, int]]:
    return [(x.event, x.offer, x.position) for x in t.actions if isinstance(x, a.RecordOffer)]


def route(t: Trace) -> tuple[str, str]:
    assert isinstance(t.state.result, a.Route)
    return t.state.result.service, t.state.result.decision.queue


class TestOfferNode:
    def test_offers_play_in_rank_order_after_the_intro(self) -> None:
        """Intro (any key ends it), then the first ranked offer's prompt as a one-key question."""
        t = run(["-", "-", "2", "2"])
        asked = [x for x in t.actions if isinstance(x, a.Play | a.Collect)]
        assert asked[:4] == [
            a.Play(("hello",), "0123456789*#"),
            a.Play(("hello",), "0123456789*#"),
            a.Collect("o_a", 5000, 1),
            a.Collect("o_b", 5000, 1),
        ]

    def test_accept_routes_to_the_offers_service_with_the_screen_pop(self) -> None:
        """1 on offer B: billing, TL_OFFER=B, B presented then accepted at position 2."""
        t = run(["-", "2", "1"])
        assert route(t) == ("billing", "billing")
        assert a.SetVars({"TL_OFFER": "B"}) in t.actions
        assert records(t) == [("presented", "A", 1), ("presented", "B", 2), ("accepted", "B", 2)]
        assert t.state.reason == "offer:B"

    def test_all_declined_goes_back_to_the_menu(self) -> None:
        """2 past the last offer: the next exit, the caller's menu (where 2 is tech)."""
        t = run(["-", "2", "2", "2"])
        assert route(t) == ("tech", "tech")
        assert records(t) == [("presented", "A", 1), ("presented", "B", 2)]

    def test_back_leaves_at_once(self) -> None:
        """* on the first offer: straight to the menu."""
        t = run(["-", "*", "1"])
        assert route(t) == ("billing", "billing")
        assert records(t) == [("presented", "A", 1)]

    def test_another_key_is_the_callers_menu_choice(self) -> None:
        """0 (not accept, next or back) leaves the offers and answers the menu: general."""
        t = trace_call(load(), "main", call(), customer(offers=("A",)), ["-", "-", "0"])
        assert route(t) == ("general", "general")
        assert records(t) == [("presented", "A", 1)]
        assert [v.node for v in t.state.path][:3] == ["welcome", "offer", "menu"]

    def test_an_offer_key_during_the_intro_acts_on_the_first_offer(self) -> None:
        """1 (accept) during the intro: offer A taken, as if pressed during its prompt."""
        t = run(["-", "1"])
        assert route(t) == ("sales", "sales")
        assert records(t) == [("presented", "A", 1), ("accepted", "A", 1)]
        assert not [x for x in t.actions if isinstance(x, a.Collect)]

    def test_a_menu_key_during_the_intro_is_the_callers_menu_choice(self) -> None:
        """0 during the intro answers the menu (general); no offer heard, none recorded."""
        t = run(["-", "0"])
        assert route(t) == ("general", "general")
        assert records(t) == []

    def test_a_key_during_the_welcome_skips_the_offers(self) -> None:
        """The reported case: 2 pressed during the welcome reaches tech, no offer heard."""
        t = run(["2"])
        assert route(t) == ("tech", "tech")
        assert records(t) == []
        assert not [x for x in t.actions if isinstance(x, a.Collect) and x.prompt == "o_a"]

    def test_silence_retries_then_leaves(self) -> None:
        """Timeout: the timeout prompt and the same offer again; a second one, the menu."""
        t = run(["-", "-", "-", "-", "1"])
        assert a.Play(("again",)) in t.actions
        assert [x.prompt for x in t.actions if isinstance(x, a.Collect)][:2] == ["o_a", "o_a"]
        assert records(t) == [("presented", "A", 1)]
        assert route(t) == ("billing", "billing")

    def test_unknown_and_expired_offers_are_skipped(self) -> None:
        """An id not in offers.yaml is reported as unknown; C is out of its window in November."""
        t = run(["-", "1"], offers=("X", "C", "B"))
        assert records(t) == [("unknown", "X", 0), ("presented", "B", 1), ("accepted", "B", 1)]

    def test_validity_window_uses_the_call_date(self) -> None:
        """C is presented in its window."""
        when = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
        t = trace_call(load(), "main", call(at=when), customer(offers=("C",)), ["-", "1"])
        assert records(t)[-1] == ("accepted", "C", 1)

    def test_no_offers_goes_straight_on(self) -> None:
        """An unknown caller or no valid offer: the menu, no offer prompt."""
        t = trace_call(load(), "main", call(), None, ["-", "1"])
        assert route(t) == ("billing", "billing")
        assert t.state.path[1].node == "offer"


class TestSurveyNode:
    def test_answers_in_range_are_recorded(self) -> None:
        """5 then 2: two answers, then the next node."""
        t = trace_call(load(), "main", call(), customer(), ["5", "2"], start_at="csat")
        said = [(x.question, x.answer) for x in t.actions if isinstance(x, a.RecordAnswer)]
        assert said == [("score", "5"), ("solved", "2")]
        assert t.state.result == a.HangUp("survey")

    def test_out_of_range_is_asked_again_then_skipped(self) -> None:
        """7 is out of 1-5: sorry, asked again; 8 (retries spent): skipped, nothing stored."""
        t = trace_call(load(), "main", call(), customer(), ["7", "8", "1"], start_at="csat")
        said = [(x.question, x.answer) for x in t.actions if isinstance(x, a.RecordAnswer)]
        assert said == [("solved", "1")]
        assert t.actions.count(a.Play(("again",))) == 1
        assert [x.prompt for x in t.actions if isinstance(x, a.Collect)] == ["q1", "q1", "q2"]


def problems(flow: str = FLOW, offers: str | None = OFFERS) -> list[str]:
    with pytest.raises(FlowError) as info:
        load(flow, offers)
    return [str(p) for p in info.value.problems]


class TestStaticChecks:
    def test_unknown_offer_in_a_node_is_located(self) -> None:
        """offers: [A, Bb] names the line of Bb and suggests B."""
        flow = FLOW.replace("    intro: hello\n", "    intro: hello\n    offers: [A, Bb]\n")
        found = problems(flow)
        assert any(p.startswith("main.yaml:9:") and "unknown offer 'Bb'" in p for p in found), found

    def test_unknown_prompt_or_service_in_the_catalogue_is_located(self) -> None:
        """offers.yaml:3 names a prompt and a service nobody has."""
        bad = OFFERS.replace("{prompt: o_b, service: billing}", "{prompt: o_bb, service: bill}")
        found = problems(offers=bad)
        assert any(p.startswith("offers.yaml:3:") and "unknown prompt 'o_bb'" in p for p in found)
        assert any(p.startswith("offers.yaml:3:") and "unknown service 'bill'" in p for p in found)

    def test_unknown_key_in_the_catalogue_is_located(self) -> None:
        """A typo'd key is an error at its line, not ignored."""
        found = problems(offers=OFFERS.replace("service: sales}", "service: sales, prio: 1}", 1))
        assert any(p.startswith("offers.yaml:2:") and "unknown key 'prio'" in p for p in found)

    def test_an_offer_node_needs_the_catalogue(self) -> None:
        """Without offers.yaml an offer node is a located error."""
        assert any("needs the offers catalogue" in p for p in problems(offers=None))

    def test_two_post_call_surveys_are_refused(self) -> None:
        """Only one after_call survey per flow (the dialplan carries one token)."""
        second = "  csat2:\n    type: survey\n    after_call: true\n"
        second += "    questions: [{id: x, prompt: q1}]\n    next: bye\n"
        found = problems(FLOW + second)
        assert any("a second after_call survey" in p for p in found), found

    def test_offer_keys_must_differ(self) -> None:
        """accept and next on one key is a located error."""
        flow = FLOW.replace("    intro: hello\n", '    intro: hello\n    keys: {accept: "2"}\n')
        assert any(p.startswith("main.yaml:") and "3 different keys" in p for p in problems(flow))

    def test_the_after_call_survey_counts_as_reachable(self) -> None:
        """csat is linked from nowhere in the flow: no unreachable-node error."""
        assert "csat" in load().flows["main"].nodes


class TestPathAndTrace:
    def test_the_path_keeps_what_was_done_with_the_offer(self) -> None:
        """accept / next / back / a menu choice, never the digit; survey answers are input."""
        from router.flows.walk import INPUT, path_choice

        node = load().flows["main"].nodes["offer"]
        assert [path_choice(node, d) for d in ("21", "2*", "-", "0")] == [
            "accept", "back", "(timeout)", "(menu choice)",
        ]  # fmt: skip
        assert path_choice(load().flows["main"].nodes["csat"], "5") == INPUT

    def test_trace_prints_offers_and_answers(self) -> None:
        """flows trace: - lets the welcome play; offers and the conversion after the path."""
        from pathlib import Path

        from click.testing import CliRunner

        from router.cli import cli

        ivr = Path(__file__).resolve().parents[2] / "ivr_flows"
        offers = "Phone trade-in bonus,Cloud storage 2TB"
        args = ["flows", "trace", "telecom", "--dir", str(ivr), "--tier", "high",
                "--at", "2026-11-23T10:00+08:00", "--uniqueid", "17953485.1"]  # fmt: skip
        result = CliRunner().invoke(cli, [*args, "--offers", offers, "--digits", "-,7,8"])
        out = result.output.splitlines()
        assert out[-4:] == [
            "offer #1 'Phone trade-in bonus': presented",
            "offer #2 'Cloud storage 2TB': presented",
            "offer #2 'Cloud storage 2TB': accepted",
            out[-1],
        ]
        assert out[-1].startswith("=> queue {'service': 'sales', 'queue': 'sales'")
        after = CliRunner().invoke(cli, [*args, "--after-call", "--digits", "4,1"]).output
        assert "survey csat.csat = 4\nsurvey csat.resolved = 1\n" in after


class TestSamples:
    def test_electronics_campaign_callers_hear_its_offers(self) -> None:
        """A TV-campaign caller takes the warranty offer: sales, TL_OFFER; telecom ids skipped."""
        from router.flows.loader import load_flows

        ivr = Path(__file__).resolve().parents[2] / "ivr_flows"
        shipped = load_flows(ivr, QUEUES | {"restricted", "english"})
        who = customer(offers=("5G Unlimited 199", "Extended warranty"))
        t = trace_call(shipped, "electronics", call("4008202021"), who, ["-", "8"])
        assert route(t)[0] == "sales"
        assert a.SetVars({"TL_OFFER": "Extended warranty"}) in t.actions
        assert records(t) == [
            ("presented", "Extended warranty", 1),
            ("accepted", "Extended warranty", 1),
        ]
