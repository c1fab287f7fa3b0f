"""The caller's customer language picks the prompt language, with the flow's default."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from router.errors import FlowError
from router.flows import actions as a
from router.flows.language import LANGUAGE_VAR
from router.flows.loader import load_flows
from router.flows.trace import trace_call
from tests.flows.helpers import QUEUES, call, customer, flows

CATALOG = textwrap.dedent(
    """\
    languages: [zh, en, yue]
    prompts:
      hello: {zh: "你好", en: "hello", yue: "你好"}
      account: {zh: "账号", en: "account", yue: "户口"}
    """
)
FLOW = """\
flow: main
serves: {dnis: ["100"]}
language: zh
start: hi
nodes:
  hi: {type: play, prompts: [hello], next: q}
  q: {type: queue, service: general}
"""
IVR = Path(__file__).resolve().parents[2] / "ivr_flows"


def languages_set(lang: str, channel: str = "") -> list[str]:
    who = replace(customer(), language=lang)
    t = trace_call(flows(FLOW, catalog=CATALOG), "main", replace(call(), language=channel), who, [])
    return [
        x.values[LANGUAGE_VAR]
        for x in t.actions
        if isinstance(x, a.SetVars) and LANGUAGE_VAR in x.values
    ]


class TestPromptLanguage:
    def test_customer_language_is_set_before_the_first_prompt(self) -> None:
        """A Cantonese customer: CHANNEL(language)=yue comes before the first Play."""
        who = replace(customer(), language="yue")
        t = trace_call(flows(FLOW, catalog=CATALOG), "main", call(), who, [])
        assert t.actions[0] == a.SetVars({LANGUAGE_VAR: "yue"})
        assert isinstance(t.actions[1], a.Play)

    @pytest.mark.parametrize(
        ("lang", "expected"), [("en", ["en"]), ("en-US", ["en"]), ("fr", ["zh"]), ("", [])]
    )
    def test_catalog_language_or_the_flows_default(self, lang: str, expected: list[str]) -> None:
        """en-US plays en; a language the catalogue lacks plays the flow's zh; none: unchanged."""
        assert languages_set(lang) == expected

    def test_nothing_sent_when_the_channel_already_speaks_it(self) -> None:
        """A caller whose channel is already in their language costs no extra command."""
        assert languages_set("en", channel="en") == []

    def test_unknown_caller_keeps_the_channel_language(self) -> None:
        """No customer record: no language is set."""
        t = trace_call(flows(FLOW, catalog=CATALOG), "main", call(), None, [])
        assert not any(isinstance(x, a.SetVars) for x in t.actions)

    def test_verified_account_switches_the_language(self) -> None:
        """A caller identified mid-call hears the rest in their record's language."""
        text = FLOW.replace(
            "start: hi",
            "start: who",
        ) + (
            "  who: {type: input, prompt: account, pattern: '\\d{3}', verify: true,"
            " next: hi, fallback: q}\n"
        )
        yue = replace(customer(cid="123"), language="yue")
        t = trace_call(
            flows(text, catalog=CATALOG), "main", call(), None, ["123"], accounts={"123": yue}
        )
        i = t.actions.index(a.SetVars({LANGUAGE_VAR: "yue"}))
        assert isinstance(t.actions[i + 1], a.Play)

    def test_unknown_flow_language_is_located(self) -> None:
        """A flow default the catalogue does not have is an error at its language: line."""
        with pytest.raises(FlowError) as info:
            flows(FLOW.replace("language: zh", "language: yeu"), catalog=CATALOG)
        found = [str(p) for p in info.value.problems]
        assert any(p.startswith("f0.yaml:3:11") and "'yeu'" in p for p in found), found


class TestShippedCatalog:
    def test_every_prompt_has_zh_en_and_yue(self) -> None:
        """The shipped catalogue lists three languages and loads (every prompt has each)."""
        shipped = load_flows(IVR, QUEUES | {"restricted", "english"})
        assert shipped.prompts.languages == ("zh", "en", "yue")
        assert all(langs >= {"zh", "en", "yue"} for langs in shipped.prompts.prompts.values())


class TestSetLanguageCheck:
    def test_set_node_language_must_be_in_the_catalog(self) -> None:
        """A set node switching to a language prompts.yaml lacks is a located error."""
        text = (
            FLOW.replace("start: hi", "start: en") + "  en: {type: set, language: fr, next: hi}\n"
        )
        with pytest.raises(FlowError) as info:
            flows(text, catalog=CATALOG)
        found = [str(p) for p in info.value.problems]
        assert any(p.startswith("f0.yaml:8:") and "'fr'" in p for p in found), found


class TestGraph:
    def test_graph_draws_the_fallback_of_a_person(self) -> None:
        """flows graph shows the manager transfer's fallback edge."""
        from router.flows.graph import to_mermaid

        text = (
            "flow: main\nstart: m\nnodes:\n"
            "  m: {type: transfer, to: {customer: account_manager}, fallback: q}\n"
            "  q: {type: queue, service: general}\n"
        )
        drawn = to_mermaid(flows(text, catalog=CATALOG).flows["main"])
        assert 'm -->|"unreachable"| q' in drawn
        assert "customer.account_manager" in drawn
