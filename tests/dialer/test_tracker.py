"""The originate tracker against the real Asterisk 22 captures (ami/09, 11, 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.ami.framing import Frame
from router.dialer.model import AttemptResult, DialResult
from router.dialer.tracker import AttemptTracker, classify_reason
from tests.dialer.captures import as_sent_to, frames, originate

ACTION = {"ActionID": "dial-1", "ChannelId": "att-1", "OtherChannelId": "att-1-b"}

# (capture, Channel as sent, nth, result, Reason, instant hang-up)
CASES = [
    ("09", "Local/s@answerwait", 0, DialResult.ANSWERED, "4", False),
    ("09", "Local/s@nosuchcontext", 0, DialResult.FAILED, "0", False),
    ("09", "Local/busy@cdrtest", 0, DialResult.BUSY, "5", False),
    ("11", "Local/noanswer@callee", 0, DialResult.NO_ANSWER, "3", False),
    ("11", "Local/silent@callee", 0, DialResult.NO_ANSWER, "3", False),
    ("11", "Local/busy@callee", 0, DialResult.BUSY, "5", False),
    ("11", "Local/congestion@callee", 0, DialResult.CONGESTION, "8", False),
    ("11", "Local/answerhangup@callee", 0, DialResult.ANSWERED, "4", True),
    ("11", "Local/unallocated@callee", 0, DialResult.FAILED, "0", False),
    ("11", "Local/nosuchnumber@callee", 0, DialResult.FAILED, "0", False),
    ("11", "Foo/13900000042", 0, DialResult.FAILED, "0", False),
    ("11", "Local/busy@callee", 1, DialResult.BUSY, "5", False),
    ("12", "Local/13900000042@callee", 0, DialResult.ANSWERED, "4", False),
    ("12", "Local/answerhangup@callee", 0, DialResult.ANSWERED, "4", True),
]


def capture(shared: Path, prefix: str) -> Path:
    return next((shared / "ami").glob(f"{prefix}-*.txt"))


def run(events: list[Frame], tracker: AttemptTracker | None = None) -> list[AttemptResult]:
    t = tracker or AttemptTracker()
    if tracker is None:
        t.start("att-1", "dial-1", 0.0, 100.0)
    out = []
    for frame in events:
        if "Response" in frame and "Event" not in frame:
            if frame["Response"] == "Error":
                done = t.rejected("att-1", frame.get("Message", ""))
                out.extend([done] if done else [])
            continue
        done = t.feed(frame)
        out.extend([done] if done else [])
    return out


def replayed(shared: Path, prefix: str, channel: str, nth: int = 0) -> list[Frame]:
    return frames(as_sent_to(originate(capture(shared, prefix), channel, nth), ACTION))


class TestCaptures:
    @pytest.mark.parametrize(("prefix", "channel", "nth", "result", "reason", "instant"), CASES)
    def test_outcome(  # noqa: PLR0917 - one parametrized case
        self,
        shared_dir: Path,
        prefix: str,
        channel: str,
        nth: int,
        result: DialResult,
        reason: str,
        instant: bool,
    ) -> None:
        """Each captured Originate ends in exactly one result with its Reason code."""
        out = run(replayed(shared_dir, prefix, channel, nth))
        assert [(r.result, r.reason_code, r.instant_hangup) for r in out] == [
            (result, reason, instant)
        ]

    @pytest.mark.parametrize("channel", ["13900000042", "Local/13900000042@callee"])
    def test_rejected_at_once(self, shared_dir: Path, channel: str) -> None:
        """'Invalid channel' / 'Extension does not exist.' errors fail the attempt at once."""
        out = run(replayed(shared_dir, "11", channel))
        assert [r.result for r in out] == [DialResult.FAILED]
        assert out[0].reason_code in {"Invalid channel", "Extension does not exist."}

    def test_progressive_call_talk_and_hold(self, shared_dir: Path) -> None:
        """ami/12: AgentComplete's TalkTime 6 and HoldTime 1 reach the record."""
        (out,) = run(replayed(shared_dir, "12", "Local/13900000042@callee"))
        assert (out.talk_s, out.hold_s, out.hangup_cause) == (6.0, 1.0, "16")

    def test_agent_connect_marks_the_attempt_at_an_agent(self, shared_dir: Path) -> None:
        """ami/12: an attempt is at an agent from its AgentConnect on, never before."""
        events = replayed(shared_dir, "12", "Local/13900000042@callee")
        connect = next(
            i
            for i, e in enumerate(events)
            if e.get("Event") == "AgentConnect" and e.get("Uniqueid") == "att-1"
        )
        tracker = AttemptTracker()
        tracker.start("att-1", "dial-1", 0.0, 100.0)
        for frame in events[:connect]:
            tracker.feed(frame)
        assert not tracker.at_agent("att-1")
        tracker.feed(events[connect])
        assert tracker.at_agent("att-1")

    def test_failed_response_matched_by_action_id(self, shared_dir: Path) -> None:
        """A failed OriginateResponse says Uniqueid <unknown>; its ActionID is enough."""
        events = replayed(shared_dir, "09", "Local/s@nosuchcontext")
        response = next(e for e in events if e.get("Event") == "OriginateResponse")
        assert response["Uniqueid"] == "<unknown>"
        assert [r.result for r in run([response])] == [DialResult.FAILED]

    @pytest.mark.parametrize(
        "channel", ["Local/busy@callee", "Local/congestion@callee", "Local/answerhangup@callee"]
    )
    @pytest.mark.parametrize("where", ["first", "last"])
    def test_response_anywhere(self, shared_dir: Path, channel: str, where: str) -> None:
        """OriginateResponse has no fixed place: moved first or last, the result is the same."""
        events = replayed(shared_dir, "11", channel)
        expected = [r.result for r in run(events)]
        response = next(e for e in events if e.get("Event") == "OriginateResponse")
        rest = [e for e in events if e is not response]
        moved = [response, *rest] if where == "first" else [*rest, response]
        assert [r.result for r in run(moved)] == expected

    def test_other_calls_are_ignored(self, shared_dir: Path) -> None:
        """Events of a call this tracker did not place finish nothing."""
        tracker = AttemptTracker()
        tracker.start("att-9", "dial-9", 0.0, 100.0)
        assert run(replayed(shared_dir, "11", "Local/busy@callee"), tracker) == []
        assert len(tracker) == 1


class TestFaults:
    def test_link_lost_before_response_is_unknown(self) -> None:
        """An Originate with no response when the link dies is unknown, and closed once."""
        t = AttemptTracker()
        t.start("a", "x", 0.0, 100.0)
        assert [r.result for r in t.lost()] == [DialResult.UNKNOWN]
        assert t.lost() == []

    def test_link_lost_after_success_is_answered(self) -> None:
        """A call whose success was seen is answered even if its hang-up is missed."""
        t = AttemptTracker()
        t.start("a", "x", 0.0, 100.0)
        assert (
            t.feed(
                {
                    "Event": "OriginateResponse",
                    "ActionID": "x",
                    "Response": "Success",
                    "Reason": "4",
                    "Uniqueid": "a",
                }
            )
            is None
        )
        assert [r.result for r in t.lost()] == [DialResult.ANSWERED]

    def test_deadline_expires_silent_attempt(self) -> None:
        """An attempt that hears nothing by its deadline is counted unknown."""
        t = AttemptTracker()
        t.start("a", "x", 0.0, 10.0)
        assert t.expire(9.0) == []
        assert [r.result for r in t.expire(10.0)] == [DialResult.UNKNOWN]

    def test_disposition_and_offer_variables(self) -> None:
        """TIERLINE_DISPOSITION and TIERLINE_OFFER_ACCEPTED set on the call are recorded."""
        t = AttemptTracker()
        t.start("a", "x", 0.0, 100.0)
        t.feed(
            {
                "Event": "VarSet",
                "Uniqueid": "a-b",
                "Linkedid": "a",
                "Variable": "TIERLINE_DISPOSITION",
                "Value": "sale",
            }
        )
        t.feed(
            {
                "Event": "VarSet",
                "Uniqueid": "agent.7",
                "Linkedid": "a",
                "Variable": "TIERLINE_OFFER_ACCEPTED",
                "Value": "yes",
            }
        )
        t.feed(
            {"Event": "OriginateResponse", "ActionID": "x", "Response": "Success", "Reason": "4"}
        )
        (r,) = [x for x in [t.feed({"Event": "Hangup", "Uniqueid": "a", "Cause": "16"})] if x]
        assert (r.disposition, r.offer_accepted) == ("sale", True)

    @pytest.mark.parametrize(
        ("reason", "result"),
        [
            ("4", DialResult.ANSWERED),
            ("3", DialResult.NO_ANSWER),
            ("5", DialResult.BUSY),
            ("8", DialResult.CONGESTION),
            ("0", DialResult.FAILED),
            ("1", DialResult.FAILED),
            ("", DialResult.FAILED),
        ],
    )
    def test_reason_codes(self, reason: str, result: DialResult) -> None:
        """Reason 0 (and anything unseen) is a failure; 4 only means answered."""
        assert classify_reason(reason) is result
