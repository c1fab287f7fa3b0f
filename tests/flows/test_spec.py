"""The typed flow models reject what YAML would silently mistype, each problem at file:line:col."""

from __future__ import annotations

import pytest

from router.errors import FlowError
from router.flows import model as m
from tests.flows.helpers import flows

HEAD = """\
flow: main
serves: {dnis: ["100"]}
start: a
nodes:
"""
HANGUP = "  a: {type: hangup}\n"


def problems(text: str) -> list[str]:
    with pytest.raises(FlowError) as info:
        flows(text)
    return [str(p) for p in info.value.problems]


class TestTypes:
    def test_misspelt_time_zone(self) -> None:
        """An unknown time zone is a load error naming the nearest zone, not a run-time one."""
        found = problems(HEAD.replace("start: a", "timezone: Asia/Shangai\nstart: a") + HANGUP)
        assert found == [
            "f0.yaml:3:11: timezone: unknown time zone 'Asia/Shangai'"
            " (did you mean 'Asia/Shanghai'?)"
        ]

    def test_misspelt_time_zone_in_hours(self) -> None:
        """The time zone of a named timetable is checked the same way."""
        text = HEAD.replace("start: a", "hours:\n  office: {timezone: Europe/Pariss}\nstart: a")
        found = problems(text + HANGUP)
        assert found == [
            "f0.yaml:4:22: hours 'office': timezone: unknown time zone 'Europe/Pariss'"
            " (did you mean 'Europe/Paris'?)"
        ]

    def test_quoted_no_is_not_true(self) -> None:
        """interruptible: 'no' (text) is rejected, never read as true."""
        found = problems(
            HEAD + "  a: {type: play, prompts: [hello], interruptible: 'no', next: b}\n"
            "  b: {type: hangup}\n"
        )
        assert found == [
            "f0.yaml:5:52: play node 'a': interruptible: expected true or false, got the text"
            " 'no' (write true or false, without quotes)"
        ]

    def test_unquoted_yes_is_a_real_boolean(self) -> None:
        """Unquoted yes/no are YAML booleans and load as such."""
        fs = flows(
            HEAD + "  a: {type: play, prompts: [hello], interruptible: no, next: b}\n"
            "  b: {type: hangup}\n"
        )
        node = fs.flows["main"].nodes["a"]
        assert isinstance(node, m.Play)
        assert node.interruptible is False

    def test_unquoted_dialled_number(self) -> None:
        """A dialled number YAML reads as a number (010070 is octal 4152) must be quoted."""
        found = problems(HEAD.replace('["100"]', "[010070]") + HANGUP)
        assert found == [
            "f0.yaml:2:17: serves: dnis.0: expected text, got the number 4152 (quote it: '4152')"
        ]

    def test_number_where_text_is_expected(self) -> None:
        """transfer to: 8800 unquoted is a number: rejected with a quoting hint."""
        found = problems(HEAD + "  a: {type: transfer, to: 8800}\n")
        assert found == [
            "f0.yaml:5:27: transfer node 'a': to: expected text, got the number 8800"
            " (quote it: '8800')"
        ]

    def test_number_out_of_range(self) -> None:
        """A menu timeout above 60 s names the bound."""
        found = problems(
            HEAD
            + "  a: {type: menu, options: {'1': b}, fallback: b, timeout_s: 600}\n"
            + HANGUP[:2]
            + "b: {type: hangup}\n"
        )
        assert found == [
            "f0.yaml:5:62: menu node 'a': timeout_s: input should be less than or equal to 60"
        ]


class TestKeys:
    def test_unknown_key_suggests_the_right_one(self) -> None:
        """A misspelt key is reported at the key, with the closest real one."""
        found = problems(
            HEAD + "  a:\n    type: play\n    prompts: [hello]\n    interuptible: true\n"
            "    next: b\n  b: {type: hangup}\n"
        )
        assert found == [
            "f0.yaml:8:5: unknown key 'interuptible' in play node 'a'"
            " (did you mean 'interruptible'?)"
        ]

    def test_unknown_top_level_key(self) -> None:
        """Top-level keys are closed too."""
        found = problems(HEAD.replace("start: a", "strat: a\nstart: a") + HANGUP)
        assert found == ["f0.yaml:3:1: unknown key 'strat' (did you mean 'start'?)"]

    def test_unknown_node_type(self) -> None:
        """An unknown type: is reported at its value with the nearest type."""
        found = problems(HEAD + "  a: {type: plya, prompts: [hello]}\n")
        assert found == ["f0.yaml:5:13: node 'a': unknown type 'plya' (did you mean 'play'?)"]

    def test_missing_required_key(self) -> None:
        """A queue node without service: is reported at the node."""
        found = problems(HEAD + "  a: {type: queue}\n")
        assert found == ["f0.yaml:5:6: queue node 'a': missing required key 'service'"]

    def test_bad_menu_digit_key(self) -> None:
        """A menu option that is not one digit is reported at the key."""
        found = problems(
            HEAD + "  a:\n    type: menu\n    fallback: b\n    options:\n      '12': b\n"
            "  b: {type: hangup}\n"
        )
        assert len(found) == 1
        assert found[0].startswith("f0.yaml:9:7: menu node 'a': options.12:")


class TestCalendars:
    def test_unknown_calendar_and_subdivision(self) -> None:
        """holidays: and subdivision: must be known to the holidays package."""
        text = HEAD.replace("start: a", "hours:\n  office: {holidays: XX}\nstart: a") + HANGUP
        assert problems(text) == [
            "f0.yaml:4:22: hours 'office': holidays: unknown holiday calendar 'XX'"
            " (use a country code such as CN)"
        ]
        text = text.replace("holidays: XX", "holidays: US, subdivision: CAA")
        assert problems(text) == [
            "f0.yaml:4:11: hours 'office': unknown subdivision 'CAA' of holiday calendar 'US'"
            " (did you mean 'CA'?)"
        ]

    def test_expressions_written_as_yaml_scalars(self) -> None:
        """when: true and priority: 8 are expressions, though YAML reads them as bool and int."""
        fs = flows(
            HEAD + "  a: {type: branch, cases: [{when: true, goto: b}], default: b}\n"
            "  b: {type: queue, service: billing, priority: 8}\n"
        )
        node = fs.flows["main"].nodes["b"]
        assert isinstance(node, m.QueueNode)
        assert node.priority is not None
        assert node.priority.source == "8"
