"""Replays of real frames with manager.conf ``channelvars`` headers as Asterisk 22 adds them.

The captures were taken without ``channelvars``; these tests add the headers
the shipped manager.conf makes Asterisk write (after each snapshot's
``Linkedid``, empty for unset variables, values C-escaped) and check which
channels become call records.
"""

from __future__ import annotations

import configparser
from collections.abc import Mapping
from pathlib import Path

import pytest

from router.ami.state import LiveState, apply
from tests.ami.replay import replay_bytes, split_frames, with_channelvars
from tests.ami.transcripts import load

CONF = Path(__file__).resolve().parents[2] / "asterisk_conf" / "manager.conf"


def shipped_manager_conf() -> tuple[list[str], set[str]]:
    """(channelvars, read classes of the tierline user) from asterisk_conf/manager.conf."""
    text = "\n".join(line for line in CONF.read_text().splitlines() if not line.startswith("#"))
    parser = configparser.ConfigParser(strict=False, comment_prefixes=(";",))
    parser.read_string(text)
    names = [n.strip() for n in parser["general"]["channelvars"].split(",") if n.strip()]
    read = {c.strip() for c in parser["tierline"]["read"].split(",") if c.strip()}
    return names, read


def _server(shared: Path, name: str) -> bytes:
    return bytes(load(next((shared / "ami").glob(f"{name}-*.txt")))[0].server)


def _empty(names: list[str]) -> Mapping[str, str]:
    return dict.fromkeys(names, "")


@pytest.mark.shared
class TestEmptyChannelvarsHeaders:
    @pytest.mark.parametrize("form", ["snapshot", "manager"])
    def test_routed_call_is_the_only_record(self, shared_dir: Path, form: str) -> None:
        """ami/10 + empty ChanVariable headers on every channel: one record, not four.

        The ``;1`` half and both agent legs carry the same empty headers as the
        routed ``;2`` channel; an empty header is "not set", not "routed".
        """
        names, _ = shipped_manager_conf()
        data = with_channelvars(
            _server(shared_dir, "10"), lambda _ch: _empty([*names, "TIERLINE_QUEUE"]), form=form
        )
        r = replay_bytes(data)
        assert sum("ChanVariable(TIERLINE_TIER)" in f for f in r.frames) > 50, "headers present"
        [rec] = r.records
        assert (rec.queue, rec.priority, rec.outcome) == ("support", 10, "answered")
        assert rec.dnis == "s"
        assert r.state.calls == {}

    def test_agent_legs_never_count_as_dialled_numbers(self, shared_dir: Path) -> None:
        """ami/02 (a queue call answered by a Local agent): only the queued channel is a call."""
        names, _ = shipped_manager_conf()
        r = replay_bytes(with_channelvars(_server(shared_dir, "02"), lambda _ch: _empty(names)))
        assert [(x.uniqueid, x.outcome) for x in r.records] == [("1795348027.1", "answered")]
        assert all("agent" not in x.dnis for x in r.records)


@pytest.mark.shared
class TestShippedConfigDeliversActions:
    def test_transfer_and_voicemail_outcomes_reach_the_listener(self, shared_dir: Path) -> None:
        """ami/07 with what the shipped AMI user receives: TIERLINE_ACTION decides the outcome.

        ``read=`` without ``dialplan`` means no VarSet; only ``channelvars``
        can carry TIERLINE_ACTION. Values arrive C-escaped and are unescaped.
        """
        names, read = shipped_manager_conf()
        set_on = {
            "Local/normal@cdrtest-0000000b;2": {"TIERLINE_ACTION": "transfer"},
            "Local/rejected@cdrtest-0000000c;2": {"TIERLINE_ACTION": "voicemail"},
            "Local/normal@cdrtest-0000000d;2": {"TIERLINE_TIER": "vip"},
        }
        customer = 'C\\"42\\\\b'  # C"42\b, as ast_escape_c writes it

        def values(channel: str) -> Mapping[str, str]:
            mine = {**set_on.get(channel, {}), "TIERLINE_CUSTOMER": customer}
            if channel not in set_on:
                mine = {}
            return {n: mine.get(n, "") for n in names}

        frames = split_frames(with_channelvars(_server(shared_dir, "07"), values), 4096)[1]
        if "dialplan" not in read:
            frames = [f for f in frames if f.get("Event") != "VarSet"]
        state, records = LiveState(), []
        for i, frame in enumerate(frames):
            records.extend(apply(state, frame, 1000.0 + i).finished)
        got = sorted((r.uniqueid, r.outcome, r.customer) for r in records)
        assert [(o, c) for _, o, c in got] == [
            ("transfer", 'C"42\\b'),
            ("voicemail", 'C"42\\b'),
            ("ivr", 'C"42\\b'),
        ]


class TestVarSetEscapes:
    def test_varset_value_is_unescaped(self) -> None:
        """VarSet ``Value`` is ast_escape_c'd by Asterisk 22 (stasis_channels.c)."""
        state = LiveState()
        base = {"Channel": "PJSIP/t-1", "Uniqueid": "5.1"}
        apply(state, {"Event": "Newchannel", **base, "CallerIDNum": "100", "Exten": "200"}, 1.0)
        apply(
            state,
            {"Event": "VarSet", **base, "Variable": "TIERLINE_PATH", "Value": 'main:1>\\"x\\"'},
            2.0,
        )
        [rec] = apply(state, {"Event": "Hangup", **base}, 3.0).finished
        assert rec.path == 'main:1>"x"'
