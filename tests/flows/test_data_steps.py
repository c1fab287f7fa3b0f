"""fetch, say and notify in the pure engine: exits, variables, templates, static checks."""

from __future__ import annotations

import textwrap
from dataclasses import replace

import pytest

from router.errors import FlowError
from router.flows import actions as a
from router.flows.engine import Engine
from router.flows.trace import SimplePolicy, trace_call
from tests.flows.data_flows import BACKENDS, SELF_SERVICE, data_flows
from tests.flows.helpers import call, customer

GOOD = {"balance": {"balance": 35.2, "topup": {"status": "credited"}}}


def walk(data: dict[str, object] | None = None, text: str = SELF_SERVICE, who: str = "C1"):  # type: ignore[no-untyped-def]
    return trace_call(data_flows(text), "main", call(), customer(cid=who), [], data=data)  # type: ignore[arg-type]


def nodes(t) -> list[str]:  # type: ignore[no-untyped-def]
    return [v.node for v in t.state.path]


def problems(text: str, backends: str | None = BACKENDS) -> list[str]:
    with pytest.raises(FlowError) as info:
        data_flows(textwrap.dedent(text), backends)
    return [str(p) for p in info.value.problems]


class TestFetch:
    def test_answer_fills_variables_and_takes_next(self) -> None:
        """An ok answer's fields become vars.* and the walk goes on at next."""
        t = walk(GOOD)
        assert nodes(t) == ["balance", "check", "say_it", "sms", "sent"]
        assert t.state.facts.vars == {"balance": "35.2", "status": "credited"}
        assert t.answers == (("balance", "ok"), ("sms", "ok"))

    @pytest.mark.parametrize("outcome", ["timeout", "error", "status", "too_big", "budget"])
    def test_any_failure_takes_failed(self, outcome: str) -> None:
        """Timeout, error, bad status, huge body, spent budget: the failed exit, no variables."""
        t = walk({"balance": outcome})
        assert nodes(t) == ["balance", "sorry"]
        assert t.state.facts.vars == {}
        assert isinstance(t.state.result, a.Route)

    def test_answer_missing_a_field_fails(self) -> None:
        """A JSON answer without a mapped field is a bad answer."""
        t = walk({"balance": {"balance": "1"}})
        assert t.answers[0] == ("balance", "missing")
        assert nodes(t)[-1] == "sorry"

    def test_variable_steers_a_branch(self) -> None:
        """A fetched value is read by conditions like any variable."""
        t = walk({"balance": {"balance": "1", "topup": {"status": "blocked"}}})
        assert nodes(t) == ["balance", "check", "general"]

    def test_path_values_are_url_encoded(self) -> None:
        """A value with / ? # or spaces cannot change the URL's shape."""
        t = walk(GOOD, who="C1/../admin?x=1#y z")
        fetch = next(x for x in t.actions if isinstance(x, a.Fetch))
        assert fetch.path == "/customers/C1%2F..%2Fadmin%3Fx%3D1%23y%20z/balance"
        assert fetch.fields == {"balance": ("balance",), "status": ("topup", "status")}
        assert fetch.timeout_ms == 200

    def test_engine_waits_for_the_answer(self) -> None:
        """The fetch is a blocking action: the engine stops on it until answered."""
        engine = Engine(data_flows(), SimplePolicy())
        state, out = engine.start("main", engine.facts(call(), customer(), {}))
        assert isinstance(out[-1], a.Fetch)
        assert not state.done
        state, out = engine.step(state, a.Fetched("ok", {"balance": "2", "status": "ok"}))
        assert state.node == "say_it"


class TestSay:
    def test_money_is_spoken_in_the_call_language(self) -> None:
        """A money value becomes the speech module's prompts after the fixed prompt."""
        t = walk(GOOD)
        play = next(x for x in t.actions if isinstance(x, a.Play))
        assert play.prompts[0] == "balance_is"
        assert play.prompts[1:] == ("say_3", "say_10", "say_5", "say_yuan", "say_liang", "say_jiao")

    def test_english_customer_hears_english(self) -> None:
        """The customer's language picks the reading."""
        cust = replace(customer(), language="en")
        t = trace_call(data_flows(), "main", call(), cust, [], data=GOOD)
        play = next(x for x in t.actions if isinstance(x, a.Play))
        assert "say_yuan" in play.prompts
        assert "say_jiao" not in play.prompts

    def test_flow_language_default_picks_the_reading(self) -> None:
        """A customer language the catalog lacks: the flow's language: plays and speaks values."""
        text = SELF_SERVICE.replace("start: balance\n", "language: en\nstart: balance\n")
        cust = replace(customer(), language="fr")
        t = trace_call(data_flows(text), "main", call(), cust, [], data=GOOD)
        assert t.actions[0] == a.SetVars({"CHANNEL(language)": "en"})
        play = next(x for x in t.actions if isinstance(x, a.Play))
        assert "say_yuan" in play.prompts
        assert "say_jiao" not in play.prompts

    def test_unspeakable_value_takes_failed(self) -> None:
        """A value the rules refuse takes the say node's failed exit."""
        t = walk({"balance": {"balance": "lots", "topup": {"status": "ok"}}})
        assert nodes(t) == ["balance", "check", "say_it", "sorry"]
        assert any("cannot speak a money value" in e for e in t.state.facts.errors)

    def test_without_failed_the_value_is_skipped(self) -> None:
        """No failed exit: the caller hears the rest, the value is left out."""
        text = SELF_SERVICE.replace("    next: sms\n    failed: sorry\n", "    next: sms\n")
        t = walk({"balance": {"balance": "lots", "topup": {"status": "ok"}}}, text)
        play = next(x for x in t.actions if isinstance(x, a.Play))
        assert play.prompts == ("balance_is",)
        assert nodes(t)[-1] == "sent"


class TestNotify:
    def test_message_is_filled_from_variables(self) -> None:
        """The text and the number come from templates; the path stays the node's."""
        t = walk(GOOD)
        notify = next(x for x in t.actions if isinstance(x, a.Notify))
        assert (notify.to, notify.text, notify.path) == ("13800138000", "Balance 35.2 CNY", "/send")

    def test_gateway_failure_takes_failed(self) -> None:
        """A gateway that did not take the message: the prompt claiming it was sent is skipped."""
        t = walk({**GOOD, "sms": "status"})
        assert nodes(t)[-2:] == ["sms", "bye"]


class TestStaticChecks:
    def test_fetch_without_failed_is_located(self) -> None:
        """A fetch with no failed exit is rejected at the node."""
        found = problems(SELF_SERVICE.replace("    failed: sorry\n", "", 1))
        assert any(
            p.startswith("main.yaml:6:") and "a fetch node needs a failed exit" in p for p in found
        ), found

    def test_notify_without_failed_is_located(self) -> None:
        """The same holds for notify."""
        found = problems(SELF_SERVICE.replace("    failed: bye\n", ""))
        assert any(
            "main.yaml:27:5" in p and "a notify node needs a failed exit" in p for p in found
        )

    def test_unknown_backend_suggests_the_closest(self) -> None:
        """Only backends of backends.yaml may be called."""
        found = problems(SELF_SERVICE.replace("backend: crm", "backend: crn"))
        assert any(
            p.startswith("main.yaml:7:14") and "unknown backend 'crn'" in p and "'crm'" in p
            for p in found
        ), found

    def test_no_backends_file_means_no_fetch(self) -> None:
        """Without backends.yaml a fetch names nothing it may call."""
        found = problems(SELF_SERVICE, backends=None)
        assert any("there is no backends.yaml" in p for p in found), found

    def test_unknown_template_field_is_located(self) -> None:
        """A placeholder naming an unknown field is rejected where it was written."""
        found = problems(SELF_SERVICE.replace("{customer.id}", "{customer.idd}"))
        assert any(
            p.startswith("main.yaml:8:") and "unknown field customer.idd" in p for p in found
        )

    def test_template_is_never_an_expression(self) -> None:
        """Anything but a field name between braces is refused."""
        found = problems(SELF_SERVICE.replace("{customer.id}", "{customer.id+1}"))
        assert any("write {call.FIELD}" in p for p in found), found

    def test_variable_read_on_the_failed_path(self) -> None:
        """A fetch writes its variables only on next: reading them after failed is an error."""
        text = SELF_SERVICE.replace("failed: sorry\n  check:", "failed: retry\n  check:") + (
            "  retry:\n    type: branch\n    cases:\n"
            '      - {when: vars.balance == "0", goto: sorry}\n    default: sorry\n'
        )
        found = problems(text)
        assert any("vars.balance is read before any node writes it" in p for p in found), found

    def test_get_with_a_body_is_refused(self) -> None:
        """A body needs method: POST."""
        text = SELF_SERVICE.replace("timeout_ms: 200", "timeout_ms: 200\n    body: {a: b}")
        assert any("a GET has no body" in p for p in problems(text))

    def test_backends_file_problems_are_located(self) -> None:
        """A bad base URL or an unknown key in backends.yaml is located in that file."""
        bad = BACKENDS.replace('"http://127.0.0.1:9"}', '"ftp://x"}').replace(
            "call_budget_ms: 1000", "call_budget_ms: 1000\nbudget: 5"
        )
        found = problems(SELF_SERVICE, backends=bad)
        assert any(p.startswith("backends.yaml:2:") and "unknown key" in p for p in found), found
        assert any(p.startswith("backends.yaml:4:") and "ftp://x" in p for p in found), found
