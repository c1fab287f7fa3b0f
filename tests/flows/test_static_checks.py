"""Every static check rejects a broken flow with the exact file:line."""

from __future__ import annotations

import pytest

from router.errors import FlowError
from tests.flows.helpers import flows

HEAD = """\
flow: main
serves: {dnis: ["100"]}
start: a
nodes:
"""


def problems(*texts: str, catalog: str | None = None) -> list[str]:
    kwargs = {} if catalog is None else {"catalog": catalog}
    with pytest.raises(FlowError) as info:
        flows(*texts, **kwargs)
    return [str(p) for p in info.value.problems]


def only(found: list[str], where: str, text: str) -> None:
    assert any(p.startswith(where) and text in p for p in found), found


class TestReferences:
    def test_unknown_node_suggests_closest(self) -> None:
        """A goto to a missing node names the line and the closest node."""
        found = problems(
            HEAD + "  a: {type: play, prompts: [hello], next: byee}\n  bye: {type: hangup}\n"
        )
        only(found, "f0.yaml:5:", "unknown node 'byee' (did you mean 'bye'?)")

    def test_unknown_queue(self) -> None:
        """A queue node naming an unknown service is rejected with a suggestion."""
        found = problems(HEAD + "  a:\n    type: queue\n    service: biling\n")
        only(found, "f0.yaml:7:14", "unknown queue 'biling' (did you mean 'billing'?)")

    def test_unknown_prompt(self) -> None:
        """A prompt missing from the catalogue is rejected at its list item."""
        found = problems(
            HEAD + "  a: {type: play, prompts: [hello, helo], next: b}\n  b: {type: hangup}\n"
        )
        only(found, "f0.yaml:5:", "unknown prompt 'helo' (did you mean 'hello'?)")

    def test_unknown_flow(self) -> None:
        """A sub-flow call to a missing flow is rejected at its flow: field."""
        found = problems(
            HEAD + "  a:\n    type: subflow\n    flow: nope\n    next: b\n  b: {type: hangup}\n"
        )
        only(found, "f0.yaml:7:11", "unknown flow 'nope'")

    def test_prompt_missing_in_language(self) -> None:
        """A catalogue prompt without a configured language is reported in prompts.yaml."""
        catalog = "languages: [zh, en]\nprompts:\n  hello: {zh: x}\n"
        found = problems(HEAD + "  a: {type: hangup, prompt: hello}\n", catalog=catalog)
        only(found, "prompts.yaml:3:3", "prompt 'hello' is missing in language 'en'")


class TestDialplanValues:
    @pytest.mark.parametrize("dest", ["8000/1", "a@b@c", "100,200", "9${X}"])
    def test_transfer_target_the_dialplan_would_refuse(self, dest: str) -> None:
        """A destination the dialplan's FILTER would refuse is a load error at its line."""
        found = problems(HEAD + f"  a:\n    type: transfer\n    to: '{dest}'\n")
        only(found, "f0.yaml:7:9", "must be a number or EXTEN@CONTEXT")

    def test_mailbox_with_bad_characters(self) -> None:
        """A mailbox with characters outside the dialplan's filter is rejected."""
        found = problems(HEAD + "  a:\n    type: voicemail\n    mailbox: '1000#'\n")
        only(found, "f0.yaml:7:14", "must be BOX or BOX@CONTEXT")

    def test_extension_at_context_loads(self) -> None:
        """8000@electronics and 1000@tierline pass: the dialplan dials them as they are."""
        flows(
            HEAD + "  a: {type: menu, prompt: hello, options: {'1': b, '2': c}, fallback: b}\n"
            "  b: {type: transfer, to: '8000@electronics'}\n"
            "  c: {type: voicemail, mailbox: '1000@tierline'}\n"
        )


class TestGraph:
    def test_unreachable(self) -> None:
        """A node no path reaches is reported at its name."""
        found = problems(HEAD + "  a: {type: hangup}\n  lost: {type: hangup}\n")
        only(found, "f0.yaml:6:3", "node 'lost' is unreachable")

    def test_dead_end(self) -> None:
        """A play node without next is a dead end."""
        found = problems(HEAD + "  a: {type: play, prompts: [hello]}\n")
        only(found, "f0.yaml:5:", "path ends here without queue")

    def test_loop_without_exit(self) -> None:
        """Nodes that only lead to each other are a loop with no exit."""
        found = problems(
            HEAD
            + "  a: {type: play, prompts: [hello], next: b}\n"
            + "  b: {type: play, prompts: [menu], next: a}\n"
        )
        only(found, "f0.yaml:5:3", "loop with no exit: a -> b")

    def test_duplicate_menu_digit(self) -> None:
        """The same digit twice in one menu is rejected at the second one."""
        found = problems(
            HEAD
            + "  a:\n    type: menu\n    prompt: menu\n    fallback: b\n"
            + "    options:\n      1: b\n      1: c\n"
            + "  b: {type: hangup}\n  c: {type: hangup}\n"
        )
        only(found, "f0.yaml:11:7", "menu digit '1' is used twice")

    def test_return_outside_subflow(self) -> None:
        """return in a main flow is rejected."""
        found = problems(HEAD + "  a: {type: return}\n")
        only(found, "f0.yaml:5:3", "return outside a sub-flow")


class TestExpressions:
    def test_syntax_error(self) -> None:
        """An expression that does not compile is reported with CEL's message."""
        found = problems(
            HEAD + "  a:\n    type: branch\n    cases:\n      - when: customer.tier ==\n"
            "        goto: b\n    default: b\n  b: {type: hangup}\n"
        )
        only(found, "f0.yaml:8:15", "expression does not compile")

    def test_unknown_field(self) -> None:
        """A misspelt customer field is rejected with the closest field."""
        found = problems(
            HEAD + "  a:\n    type: branch\n    cases:\n      - when: customer.tire == 'vip'\n"
            "        goto: b\n    default: b\n  b: {type: hangup}\n"
        )
        only(found, "f0.yaml:8:15", "unknown field customer.tire (did you mean 'tier'?)")

    def test_unknown_queue_in_expression(self) -> None:
        """queues.<name> must name a known queue."""
        found = problems(
            HEAD + "  a:\n    type: branch\n    cases:\n      - when: queues.vipp.ewt < 60\n"
            "        goto: b\n    default: b\n  b: {type: hangup}\n"
        )
        only(found, "f0.yaml:8:15", "unknown queue 'vipp' (did you mean 'vip'?)")

    def test_unknown_function(self) -> None:
        """Only CEL built-ins and our helpers may be called."""
        found = problems(
            HEAD + "  a:\n    type: branch\n    cases:\n      - when: system('rm')\n"
            "        goto: b\n    default: b\n  b: {type: hangup}\n"
        )
        only(found, "f0.yaml:8:15", "unknown function system()")


class TestSyntax:
    def test_yaml_error(self) -> None:
        """Broken YAML is reported with PyYAML's position."""
        found = problems("flow: x\nnodes: [a,\n")
        assert found[0].startswith("f0.yaml:3:"), found

    def test_unknown_field_in_node(self) -> None:
        """A misspelt field name is reported with the right one."""
        found = problems(
            HEAD + "  a: {type: play, prompts: [hello], nxt: b, next: b}\n  b: {type: hangup}\n"
        )
        only(found, "f0.yaml:5:37", "unknown key 'nxt' in play node 'a' (did you mean 'next'?)")

    def test_all_problems_at_once(self) -> None:
        """Several problems in one file are all reported, sorted by line."""
        found = problems(HEAD + "  a: {type: play, prompts: [x], next: y}\n  z: {type: hangup}\n")
        assert len(found) >= 3


class TestShapeGuards:
    def test_duplicate_key(self) -> None:
        """A repeated field is rejected at the repeat, not silently overwritten."""
        found = problems(
            HEAD.replace("start: a\n", "start: a\nstart: b\n") + "  a: {type: hangup}\n"
        )
        only(found, "f0.yaml:4:1", "duplicate key 'start'")

    def test_duplicate_node(self) -> None:
        """A node name used twice is rejected at the second definition."""
        found = problems(HEAD + "  a: {type: hangup}\n  b: {type: hangup}\n  a: {type: hangup}\n")
        only(found, "f0.yaml:7:3", "node 'a' is defined twice")

    def test_quoted_and_bare_digit_are_one_key(self) -> None:
        """1: and "1": in one menu are the same digit twice."""
        found = problems(
            HEAD
            + "  a:\n    type: menu\n    prompt: menu\n    fallback: b\n"
            + '    options:\n      1: b\n      "1": c\n'
            + "  b: {type: hangup}\n  c: {type: hangup}\n"
        )
        only(found, "f0.yaml:11:7", "menu digit '1' is used twice")

    def test_alias_bomb(self) -> None:
        """Aliases that expand into a huge tree are refused before they are built."""
        lines = ['x0: &x0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
        for i in range(1, 8):
            lines.append(f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 9) + "]")
        found = problems(HEAD + "  a: {type: hangup}\n" + "\n".join(lines) + "\n")
        only(found, "f0.yaml:1:1", "too large or too deep")


class TestSchema:
    def test_committed_schema_is_generated_from_the_models(self) -> None:
        """ivr_flows/flow.schema.json is exactly what the loader's models generate."""
        from pathlib import Path

        from router.flows.spec import schema_text

        path = Path(__file__).resolve().parents[2] / "ivr_flows" / "flow.schema.json"
        assert path.read_text(encoding="utf-8") == schema_text(), (
            "regenerate: tierline flows schema > ivr_flows/flow.schema.json"
        )

    def test_schema_rejects_what_the_loader_rejects(self) -> None:
        """Unknown keys and mistyped values are closed in the schema, as in the loader."""
        from router.flows.spec import schema

        generated = schema()
        assert generated["additionalProperties"] is False
        play = generated["$defs"]["Play"]
        assert play["additionalProperties"] is False
        assert play["properties"]["interruptible"]["type"] == "boolean"
        assert set(generated["required"]) == {"flow", "start", "nodes"}


class TestMore:
    def test_dnis_served_twice(self) -> None:
        """Two flows serving one dialled number are rejected at the second's dnis."""
        other = HEAD.replace("flow: main", "flow: other") + "  a: {type: hangup}\n"
        found = problems(HEAD + "  a: {type: hangup}\n", other)
        only(found, "f1.yaml:2:", "DNIS 100 is already served by flow 'main'")

    def test_unknown_hours_and_bad_time(self) -> None:
        """A queue naming unknown hours, and a 25:00 opening time, are both located."""
        text = (
            "flow: main\nserves: {dnis: ['100']}\nstart: a\n"
            "hours:\n  office:\n    weekly: {mon: '09:00-25:00'}\n"
            "nodes:\n  a: {type: queue, service: billing, hours: ofice, closed: b}\n"
            "  b: {type: hangup}\n"
        )
        only(problems(text), "f0.yaml:6:19", "hours 'office': weekly.mon: bad time '25:00'")
        only(problems(text.replace("25:00", "20:00")), "f0.yaml:8:", "unknown hours 'ofice'")


SUB = """\
flow: {name}
subflow: true
start: s
nodes:
  s: {{type: subflow, flow: {calls}, next: r}}
  r: {{type: return}}
"""


class TestBounds:
    def test_subflow_recursion(self) -> None:
        """Two sub-flows calling each other are rejected at the first caller's flow: field."""
        main = HEAD + "  a: {type: subflow, flow: one, next: b}\n  b: {type: hangup}\n"
        one, two = SUB.format(name="one", calls="two"), SUB.format(name="two", calls="one")
        found = problems(main, one, two)
        only(found, "f1.yaml:5:", "sub-flow recursion: one -> two -> one")

    def test_subflow_calling_itself(self) -> None:
        """A sub-flow calling itself is recursion too."""
        main = HEAD + "  a: {type: subflow, flow: one, next: b}\n  b: {type: hangup}\n"
        found = problems(main, SUB.format(name="one", calls="one"))
        only(found, "f1.yaml:5:28", "sub-flow recursion: one -> one")

    def test_loop_without_key_press(self) -> None:
        """A branch/set loop with an exit that never reopens is rejected at its first node."""
        found = problems(
            HEAD + "  a:\n    type: branch\n    cases:\n      - when: customer.tier == 'x'\n"
            "        goto: out\n    default: b\n"
            "  b: {type: set, vars: {X: '1'}, next: a}\n  out: {type: hangup}\n"
        )
        only(found, "f0.yaml:5:3", "loop that waits for no key press: a -> b")

    def test_prompt_loop_without_key_press(self) -> None:
        """Playing prompts in a circle until a condition changes never ends: nothing changes."""
        found = problems(
            HEAD + "  a: {type: play, prompts: [hello], next: b}\n"
            "  b:\n    type: branch\n    cases: [{when: 'queues.sales.agents_available > 0',"
            " goto: q}]\n    default: a\n  q: {type: queue, service: sales}\n"
        )
        only(found, "f0.yaml:5:3", "loop that waits for no key press: a -> b")

    def test_menu_loop_is_allowed(self) -> None:
        """'Press 1 to hear it again' loops through a key press: accepted."""
        flows(
            HEAD + "  a: {type: play, prompts: [hello], next: m}\n"
            "  m: {type: menu, prompt: menu, options: {'1': a, '2': q}, fallback: q}\n"
            "  q: {type: queue, service: sales}\n"
        )

    def test_path_longer_than_guard(self) -> None:
        """A chain of 250 set nodes before any end is rejected: every call hits the guard."""
        text = HEAD.replace("start: a", "start: n0") + chain(250) + "  n250: {type: hangup}\n"
        only(problems(text), "f0.yaml:5:3", "every call through node 'n0' visits at least 251")

    def test_long_path_counts_subflow_steps(self) -> None:
        """Nodes walked inside a sub-flow count towards the guard too."""
        sub = "flow: long\nsubflow: true\nstart: n0\nnodes:\n" + chain(150)
        sub += "  n150: {type: return}\n"
        main = (
            HEAD + "  a: {type: subflow, flow: long, next: b}\n"
            "  b: {type: subflow, flow: long, next: c}\n  c: {type: hangup}\n"
        )
        only(problems(main, sub), "f0.yaml:5:3", "every call through node 'a' visits at least")

    def test_long_but_within_guard(self) -> None:
        """A 150-node chain is long but within the guard: accepted."""
        flows(HEAD.replace("start: a", "start: n0") + chain(150) + "  n150: {type: hangup}\n")


def chain(length: int) -> str:
    """Set nodes n0 -> n1 -> ... -> n<length> (the last one left to the caller)."""
    return "".join(
        f"  n{i}: {{type: set, vars: {{X: '{i}'}}, next: n{i + 1}}}\n" for i in range(length)
    )
