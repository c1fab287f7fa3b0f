"""Replay every AGI capture: our parser and our Asterisk double against Asterisk 22."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.agi.double import USAGE_HEAD, USAGE_TAIL, AsteriskModel
from router.agi.protocol import Hangup, Reply, ReplyParser, check_reply
from router.errors import AGIDeadChannelError, AGIInvalidCommandError, AGIUsageError
from tests.agi.transcripts import Transcript, all_transcripts

pytestmark = pytest.mark.shared


def _rebuild(reply: Reply) -> str:
    """The wire line a 200 reply came from, rebuilt from its typed fields."""
    line = f"{reply.code} result={reply.result}"
    if reply.data is not None:
        line += f" ({reply.data})"
    if reply.endpos is not None:
        line += f" endpos={reply.endpos}"
    return line


def _collapse_usage(lines: list[str]) -> list[str]:
    """520 bodies are Asterisk's docs; compare their frame, not the prose."""
    out, inside = [], False
    for line in lines:
        if line == USAGE_HEAD:
            inside = True
            out.append(line)
        elif inside and line == USAGE_TAIL:
            inside = False
            out += ["<usage>", line]
        elif not inside:
            out.append(line)
    return out


def _replay_model(tr: Transcript) -> list[str]:
    model = AsteriskModel(tr.env, tr.script())
    produced: list[str] = []
    for at, lines in tr.server_writes():
        produced += [line for _, line in model.advance(at)]
        model.feed("".join(f"{line}\n" for line in lines).encode(), at)
    # Run out the clock: the last reply may land within a millisecond of the close.
    produced += [line for _, line in model.advance(float("inf"))]
    return produced


class TestReplyParserReplay:
    def test_every_asterisk_line_parses_to_its_typed_result(self, shared_dir: Path) -> None:
        """Each Asterisk line of every capture yields a typed event that rebuilds the line."""
        checked = 0
        for tr in all_transcripts(shared_dir):
            parser = ReplyParser()
            for line in tr.asterisk_lines():
                event = parser.feed(line)
                if event is None:
                    continue
                checked += 1
                if isinstance(event, Hangup):
                    assert line == "HANGUP", tr.name
                elif event.code == 200:
                    assert _rebuild(event) == line, tr.name
                    assert check_reply(event) is event
                elif event.code == 510:
                    with pytest.raises(AGIInvalidCommandError):
                        check_reply(event)
                elif event.code == 511:
                    with pytest.raises(AGIDeadChannelError):
                        check_reply(event)
                else:
                    assert event.code == 520
                    assert line == USAGE_TAIL
                    with pytest.raises(AGIUsageError) as err:
                        check_reply(event)
                    assert err.value.usage.startswith("Invalid command syntax.")
        assert checked > 100

    def test_reply_fields_match_their_meaning(self) -> None:
        """Timeout, partial digits, endpos, negative results and data with parens parse right."""
        parse = ReplyParser().feed
        expected = Reply(200, "", "timeout", None, "result= (timeout)")
        assert parse("200 result= (timeout)") == expected
        partial = parse("200 result=78 (timeout)")
        assert isinstance(partial, Reply)
        assert partial.result == "78"
        assert partial.timed_out
        hung = parse("200 result=-1 endpos=8160")
        assert isinstance(hung, Reply)
        assert hung.value == -1
        assert hung.endpos == 8160
        cid = parse('200 result=1 ("Doe, John; "JJ" O\'Neil" <13900002222>)')
        assert isinstance(cid, Reply)
        assert cid.data == '"Doe, John; "JJ" O\'Neil" <13900002222>'
        assert isinstance(parse("HANGUP"), Hangup)


class TestDoubleReplay:
    def test_double_answers_every_capture_like_asterisk(self, shared_dir: Path) -> None:
        """Given each capture's server lines at their times, the double writes Asterisk's lines."""
        for tr in all_transcripts(shared_dir):
            expected = _collapse_usage(tr.asterisk_lines())
            assert _collapse_usage(_replay_model(tr)) == expected, tr.name

    def test_all_captures_are_covered(self, shared_dir: Path) -> None:
        """The corpus holds the 19 AGI captures the README lists."""
        assert len(all_transcripts(shared_dir)) == 19
