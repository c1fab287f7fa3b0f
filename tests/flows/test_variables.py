"""Flow variables: ``vars.NAME`` read in conditions, written by nodes, checked at load."""

from __future__ import annotations

import pytest

from router.errors import FlowError
from router.flows import actions as a
from router.flows.engine import Engine
from router.flows.trace import SimplePolicy, trace_call
from tests.flows.helpers import call, flows

TYPED = """\
flow: main
serves: {dnis: ["100"]}
start: ask
nodes:
  ask:
    type: input
    pattern: "\\\\d{3}"
    max_digits: 3
    variable: order_no
    next: pick
    fallback: general
  pick:
    type: branch
    cases:
      - when: vars.order_no == "123"
        goto: tech
    default: general
  tech: {type: queue, service: tech}
  general: {type: queue, service: general}
"""


def problems(*texts: str) -> list[str]:
    with pytest.raises(FlowError) as info:
        flows(*texts)
    return [str(p) for p in info.value.problems]


class TestReading:
    def test_typed_digits_are_a_variable(self) -> None:
        """An input's variable is readable as vars.NAME by the nodes after it."""
        t = trace_call(flows(TYPED), "main", call(), None, ["123"])
        assert isinstance(t.state.result, a.Route)
        assert t.state.result.service == "tech"
        assert t.state.facts.vars == {"order_no": "123"}

    def test_other_value_takes_the_default(self) -> None:
        """A variable holding another value makes the case false."""
        t = trace_call(flows(TYPED), "main", call(), None, ["999"])
        assert isinstance(t.state.result, a.Route)
        assert t.state.result.service == "general"

    def test_variables_do_not_leak_between_states(self) -> None:
        """Writing a variable makes new facts: the state before keeps none."""
        fs = flows(TYPED)
        engine = Engine(fs, SimplePolicy())
        before, _ = engine.start("main", engine.facts(call(), None, {}))
        after, _ = engine.step(before, a.Digits("123"))
        assert before.facts.vars == {}
        assert after.facts.vars == {"order_no": "123"}


class TestNeverWritten:
    def test_unknown_variable_is_located(self) -> None:
        """A read of a variable nothing writes is an error at the expression, with a hint."""
        found = problems(TYPED.replace("vars.order_no ==", "vars.order_nr =="))
        assert any(
            p.startswith("f0.yaml:15:")
            and "vars.order_nr is read before" in p
            and "did you mean 'order_no'" in p
            for p in found
        ), found

    def test_written_only_on_a_later_path(self) -> None:
        """A variable written only after the reader (or on another branch) is not known there."""
        text = TYPED.replace("fallback: general", "fallback: pick")
        found = problems(text)
        assert any(p.startswith("f0.yaml:15:") and "vars.order_no" in p for p in found), found

    def test_set_node_reading_a_variable_is_checked(self) -> None:
        """Expressions in set nodes count as reads too."""
        text = (
            TYPED.replace("start: ask", "start: pop")
            + "  pop:\n    type: set\n    vars: {TL_ORDER: {expr: vars.order_no}}\n    next: ask\n"
        )
        found = problems(text)
        assert any("f0.yaml:" in p and "vars.order_no is read before" in p for p in found), found

    def test_subflow_reads_what_its_caller_wrote(self) -> None:
        """A sub-flow may read a variable every caller wrote before calling it."""
        main = TYPED.replace("next: pick", "next: sub").replace(
            "  tech:", "  sub: {type: subflow, flow: check, next: pick}\n  tech:"
        )
        sub = """\
        flow: check
        subflow: true
        start: look
        nodes:
          look:
            type: branch
            cases:
              - when: vars.order_no == "1"
                goto: back
            default: back
          back: {type: return}
        """
        fs = flows(main, sub)
        assert set(fs.flows) == {"main", "check"}
