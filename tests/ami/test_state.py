"""Reducer: live queue state and call records folded from the captures."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from router.ami.framing import parse_frame
from router.ami.state import LiveState, apply, expected_wait, resync
from tests.ami.replay import replay, split_frames
from tests.ami.transcripts import load


def _cap(shared: Path, name: str) -> Path:
    return next((shared / "ami").glob(f"{name}-*.txt"))


@pytest.mark.shared
class TestReplayQueueCalls:
    def test_answered_call_gives_one_answered_record(self, shared_dir: Path) -> None:
        """ami/02: one record for the queued ;2 channel, answered by Agent1, QUEUE_PRIO 10."""
        r = replay(_cap(shared_dir, "02"))
        assert len(r.records) == 1
        rec = r.records[0]
        assert (rec.uniqueid, rec.queue, rec.outcome, rec.agent) == (
            "1795348027.1",
            "support",
            "answered",
            "Agent1",
        )
        assert (rec.caller, rec.priority) == ("13800138000", 10)
        assert rec.started_at < rec.joined_at <= rec.answered_at < rec.ended_at
        assert r.state.queues["support"].waiting == {}
        assert r.state.calls == {}, "every channel hung up, nothing may leak"

    def test_abandoned_caller(self, shared_dir: Path) -> None:
        """ami/03: the caller hung up in 'sales' -> outcome abandoned, no answer time."""
        r = replay(_cap(shared_dir, "03"))
        [rec] = r.records
        assert (rec.queue, rec.outcome, rec.answered_at) == ("sales", "abandoned", 0.0)
        assert rec.abandoned_at >= rec.joined_at > 0

    def test_priorities_and_peak_waiting(self, shared_dir: Path) -> None:
        """ami/04: three callers wait (prio 0, 10, 0) while the only agent is paused."""
        path = _cap(shared_dir, "04")
        state, peak = LiveState(), None
        for conn in load(path):
            for i, frame in enumerate(split_frames(bytes(conn.server), 333)[1]):
                apply(state, frame, 1000.0 + i)
                q = state.queues.get("support")
                if q and len(q.waiting) == 3 and peak is None:
                    peak = (sorted(w.priority for w in q.waiting.values()), q.counts())
        assert peak == ([0, 0, 10], (1, 0, 1))
        r = replay(path)
        assert [x.outcome for x in r.records] == ["answered"] * 3
        assert [x.priority for x in sorted(r.records, key=lambda x: x.answered_at)] == [10, 0, 0]

    def test_routed_call_record(self, shared_dir: Path) -> None:
        """ami/10: the AGI channel that set QUEUE_PRIO 10 and joined support is the one record."""
        r = replay(_cap(shared_dir, "10"))
        [rec] = r.records
        assert (rec.queue, rec.priority, rec.outcome) == ("support", 10, "answered")

    @pytest.mark.parametrize("name", ["01", "06", "07", "08", "09"])
    def test_no_record_for_channels_that_are_not_routed_calls(
        self, shared_dir: Path, name: str
    ) -> None:
        """Originated Local channels and agent legs that never queued are not call records."""
        r = replay(_cap(shared_dir, name))
        assert r.records == []
        assert r.state.calls == {}

    def test_member_add_pause_remove(self, shared_dir: Path) -> None:
        """ami/06: agent2 added (available), paused, penalty set, removed."""
        state = LiveState()
        seen = []
        for frame in split_frames(bytes(load(_cap(shared_dir, "06"))[0].server), 50)[1]:
            apply(state, frame, 1.0)
            if frame.get("Event", "").startswith("QueueMember"):
                seen.append((frame["Event"], state.queues["support"].counts()))
        assert seen == [
            ("QueueMemberAdded", (1, 1, 0)),
            ("QueueMemberPause", (1, 0, 1)),
            ("QueueMemberPause", (1, 1, 0)),
            ("QueueMemberPause", (1, 0, 1)),
            ("QueueMemberPenalty", (1, 0, 1)),
            ("QueueMemberRemoved", (0, 0, 0)),
        ]


class TestResync:
    @pytest.mark.shared
    def test_queuestatus_reply_rebuilds_queues(self, shared_dir: Path) -> None:
        """ami/05 QueueStatus cap-7: support has callers prio 10 and 0 and a paused agent."""
        frames = split_frames(bytes(load(_cap(shared_dir, "05"))[0].server), 4096)[1]
        reply = [f for f in frames if f.get("ActionID") == "cap-7" and "Event" in f]
        state = LiveState()
        state.queue("gone")  # a queue removed from Asterisk while we were away
        delta = resync(state, reply, now=500.0)
        assert delta.removed == {"gone"}
        assert set(state.queues) == {"support", "sales"}
        support = state.queues["support"]
        assert {w.priority: 500.0 - w.joined_at for w in support.waiting.values()} == {
            10: 3.0,
            0: 4.0,
        }
        assert support.counts() == (1, 0, 1)
        assert support.aht == 3.0
        assert state.queues["sales"].waiting == {}

    def test_resync_keeps_tier_and_base_priority(self) -> None:
        """A caller still waiting keeps its tier and join priority; a vanished caller is dropped."""
        state = LiveState()
        join = (
            "Event: QueueCallerJoin\nQueue: q\nUniqueid: {u}\nChannel: C/{u}\n"
            "ChanVariable: TIERLINE_TIER={t}\nChanVariable: TIERLINE_PRIO=5\n"
        )
        for u, t in (("1.1", "vip"), ("1.2", "normal")):
            apply(state, parse_frame(join.format(u=u, t=t).encode()), 100.0)
        entry = parse_frame(
            b"Event: QueueEntry\nQueue: q\nUniqueid: 1.1\nChannel: C/1.1\nWait: 20\nPriority: 9"
        )
        resync(state, [entry], now=120.0)
        [w] = state.queues["q"].waiting.values()
        assert (w.uniqueid, w.tier, w.base_priority, w.priority, w.joined_at) == (
            "1.1",
            "vip",
            5,
            9,
            100.0,
        )

    def test_stale_calls_are_dropped_at_resync(self) -> None:
        """A call whose Hangup was missed while disconnected is forgotten after STALE_CALL_S."""
        state = LiveState()
        apply(state, parse_frame(b"Event: Newchannel\nUniqueid: old\nChannel: C/1"), 0.0)
        apply(state, parse_frame(b"Event: Newchannel\nUniqueid: new\nChannel: C/2"), 50_000.0)
        resync(state, [], now=50_001.0)
        assert set(state.calls) == {"new"}


class TestExpectedWait:
    def test_formula(self) -> None:
        """EWT = (waiting - available + 1) * aht / serving; 0 if an agent is free, inf if none."""
        assert expected_wait(waiting=3, available=0, logged_in=2, paused=0, aht=100.0) == 200.0
        assert expected_wait(waiting=0, available=1, logged_in=1, paused=0, aht=100.0) == 0.0
        assert math.isinf(expected_wait(waiting=0, available=0, logged_in=1, paused=1, aht=100.0))
        assert expected_wait(waiting=1, available=0, logged_in=4, paused=2, aht=0.0) == 180.0

    def test_talk_time_updates_aht(self) -> None:
        """AgentComplete TalkTime seeds then smooths the queue's handle time (EWMA 0.1)."""
        state = LiveState()
        for talk in ("100", "200"):
            apply(state, {"Event": "AgentComplete", "Queue": "q", "TalkTime": talk}, 1.0)
        state.queue("q")
        assert state.queues["q"].aht == pytest.approx(110.0)
