"""Live queue and call state folded from AMI events (pure, no I/O).

``apply(state, frame, now)`` is the reducer: deterministic, no sockets, no
Redis, no clock of its own (AMI queue events carry no timestamp, so the
listener passes the time it read the frame). For speed it updates ``state``
in place and returns a :class:`Delta` naming what changed — the queues to
rewrite and the calls that ended — which the Redis adapter then writes.

Field names differ between events and action replies: events say
``MemberName``/``Interface``, the ``QueueStatus`` reply says
``Name``/``Location``; both are read here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from router.ami.calls import (
    CALL_VARS,
    CallTrack,
    absorb_caller,
    absorb_vars,
    finish_call,
    rebuilt_track,
    track_for,
)
from router.ami.framing import Frame, unescape_c
from router.ami.records import CallRecord
from router.types import WaitingCaller

__all__ = [
    "DEFAULT_AHT_S",
    "STALE_CALL_S",
    "Delta",
    "LiveState",
    "Member",
    "QueueLive",
    "apply",
    "expected_wait",
    "resync",
]

DEFAULT_AHT_S = 180.0  # handle time assumed until the queue reports one
STALE_CALL_S = 12 * 3600  # a call tracked this long lost its Hangup; dropped at resync
_AHT_WEIGHT = 0.1  # EWMA weight of one finished call's talk time
# Device states (ast_device_state) that mean "not reachable": INVALID, UNAVAILABLE.
_OFFLINE = frozenset({4, 5})
# NOT_INUSE and UNKNOWN: app_queue rings members in either state.
_IDLE = frozenset({0, 1})


@dataclass(slots=True)
class Member:
    """One queue member (agent) as app_queue reports it."""

    interface: str
    name: str = ""
    paused: bool = False
    status: int = 0
    in_call: bool = False


@dataclass(slots=True)
class QueueLive:
    """Everything tracked about one queue."""

    name: str
    members: dict[str, Member] = field(default_factory=dict)
    waiting: dict[str, WaitingCaller] = field(default_factory=dict)
    aht: float = 0.0  # average handle (talk) time in s; 0 = not known yet

    def counts(self) -> tuple[int, int, int]:
        """(logged in, available, paused) agents."""
        logged = avail = paused = 0
        for m in self.members.values():
            if m.status in _OFFLINE:
                continue
            logged += 1
            if m.paused:
                paused += 1
            elif m.status in _IDLE and not m.in_call:
                avail += 1
        return logged, avail, paused


@dataclass(slots=True)
class LiveState:
    """All queues and the calls in progress on one Asterisk."""

    queues: dict[str, QueueLive] = field(default_factory=dict)
    calls: dict[str, CallTrack] = field(default_factory=dict)
    # Waiting callers whose queue priority is not known yet (no TIERLINE_PRIO
    # or QUEUE_PRIO header): the starvation guard leaves them alone until a
    # QueueEntry tells their real priority.
    priority_unknown: set[str] = field(default_factory=set)
    # records_rebuilt: Hangups of calls that started while disconnected, made
    # into records; hangups_not_rebuilt: such Hangups with no TIERLINE_*
    # header at all (channelvars not configured), so no way to tell a call.
    counters: dict[str, int] = field(default_factory=dict)

    def count(self, name: str) -> None:
        self.counters[name] = self.counters.get(name, 0) + 1

    def queue(self, name: str) -> QueueLive:
        q = self.queues.get(name)
        if q is None:
            q = self.queues[name] = QueueLive(name)
        return q

    def waiting_calls(self) -> list[WaitingCaller]:
        return [w for q in self.queues.values() for w in q.waiting.values()]


@dataclass(slots=True)
class Delta:
    """What one or more events changed: queues to rewrite, calls that ended."""

    queues: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    finished: list[CallRecord] = field(default_factory=list)

    def merge(self, other: Delta) -> None:
        self.queues |= other.queues
        self.removed |= other.removed
        self.finished.extend(other.finished)

    def __bool__(self) -> bool:
        return bool(self.queues or self.removed or self.finished)


def expected_wait(waiting: int, available: int, logged_in: int, paused: int, aht: float) -> float:
    """Expected wait (s) of a caller joining now.

    With ``n = logged_in - paused`` agents serving, calls finish at a rate of
    ``n / aht``; a new caller is served after the ``waiting - available + 1``
    next completions, so ``EWT = max(0, waiting - available + 1) * aht / n``,
    0 when an agent is free for it and ``inf`` when nobody serves. It
    assumes FIFO within the queue (a VIP joining ahead of others waits less).
    """
    if available > waiting:
        return 0.0
    serving = logged_in - paused
    if serving <= 0:
        return float("inf")
    return (waiting - available + 1) * (aht or DEFAULT_AHT_S) / serving


_Handler = Callable[[LiveState, Frame, float, Delta], None]


def apply(state: LiveState, frame: Frame, now: float, delta: Delta | None = None) -> Delta:
    """Fold one frame into ``state``; returns (or extends) the change set."""
    out = Delta() if delta is None else delta
    handler = _HANDLERS.get(frame.get("Event", ""))
    if handler is not None:
        handler(state, frame, now, out)
    return out


def _member_key(frame: Frame) -> str:
    return frame.get("Interface") or frame.get("Location") or frame.get("StateInterface", "")


def _on_member(state: LiveState, frame: Frame, _now: float, delta: Delta) -> None:
    q = state.queue(frame.get("Queue", ""))
    key = _member_key(frame)
    m = q.members.get(key)
    if m is None:
        m = q.members[key] = Member(key)
    m.name = frame.get("MemberName") or frame.get("Name") or m.name
    m.paused = frame.get("Paused", "0") == "1"
    m.status = _int(frame.get("Status"), m.status)
    m.in_call = frame.get("InCall", "0") == "1"
    delta.queues.add(q.name)


def _on_member_removed(state: LiveState, frame: Frame, _now: float, delta: Delta) -> None:
    q = state.queue(frame.get("Queue", ""))
    q.members.pop(_member_key(frame), None)
    delta.queues.add(q.name)


def _on_pause(state: LiveState, frame: Frame, now: float, delta: Delta) -> None:
    _on_member(state, frame, now, delta)


def _on_params(state: LiveState, frame: Frame, _now: float, delta: Delta) -> None:
    q = state.queue(frame.get("Queue", ""))
    talk = _float(frame.get("TalkTime"), 0.0)
    if talk > 0 and not q.aht:
        q.aht = talk
    delta.queues.add(q.name)


def _on_join(state: LiveState, frame: Frame, now: float, delta: Delta) -> None:
    uid = frame.get("Uniqueid", "")
    track = track_for(state.calls, frame, now)
    absorb_vars(track, frame)
    absorb_caller(track, frame)
    q = state.queue(frame.get("Queue", ""))
    track.queue, track.joined_at = q.name, now
    q.waiting[uid] = WaitingCaller(
        uid, frame.get("Channel", ""), q.name, track.tier, track.priority, track.priority, now
    )
    if not track.priority_known:
        state.priority_unknown.add(uid)
    delta.queues.add(q.name)


def _on_leave(state: LiveState, frame: Frame, now: float, delta: Delta) -> None:
    track = state.calls.get(frame.get("Uniqueid", ""))
    if track is not None and not track.left_at:
        track.left_at = now
    state.priority_unknown.discard(frame.get("Uniqueid", ""))
    q = state.queues.get(frame.get("Queue", ""))
    if q is not None and q.waiting.pop(frame.get("Uniqueid", ""), None) is not None:
        delta.queues.add(q.name)


def _on_abandon(state: LiveState, frame: Frame, now: float, delta: Delta) -> None:
    track = state.calls.get(frame.get("Uniqueid", ""))
    if track is not None and not track.abandoned_at:
        track.abandoned_at = now
    _on_leave(state, frame, now, delta)


def _on_connect(state: LiveState, frame: Frame, now: float, _delta: Delta) -> None:
    track = state.calls.get(frame.get("Uniqueid", ""))
    if track is not None:
        track.answered_at = track.answered_at or now
        track.queue = frame.get("Queue") or track.queue
        track.agent = frame.get("MemberName") or frame.get("Interface", "")


def _on_complete(state: LiveState, frame: Frame, _now: float, delta: Delta) -> None:
    q = state.queue(frame.get("Queue", ""))
    talk = _float(frame.get("TalkTime"), -1.0)
    if talk >= 0:
        q.aht = talk if not q.aht else q.aht + _AHT_WEIGHT * (talk - q.aht)
        delta.queues.add(q.name)


def _on_entry(state: LiveState, frame: Frame, now: float, delta: Delta) -> None:
    q = state.queue(frame.get("Queue", ""))
    uid = frame.get("Uniqueid", "")
    prio = _int(frame.get("Priority"), 0)
    old = q.waiting.get(uid)
    joined = now - _float(frame.get("Wait"), 0.0)
    track = state.calls.get(uid)
    if track is None:  # joined while AMI was down: track it from here
        track = track_for(state.calls, frame, now)
        track.started_at, track.queue, track.joined_at = joined, q.name, joined
    if uid in state.priority_unknown or not track.priority_known:
        # Asterisk's own number is the truth; aging must start from it.
        state.priority_unknown.discard(uid)
        track.priority, track.priority_known = prio, True
        old = None
    base = old.base_priority if old else prio
    q.waiting[uid] = WaitingCaller(
        uid, frame.get("Channel", ""), q.name, track.tier, base, prio, joined
    )
    delta.queues.add(q.name)


def _on_newchannel(state: LiveState, frame: Frame, now: float, _delta: Delta) -> None:
    track_for(state.calls, frame, now)


def _on_callerid(state: LiveState, frame: Frame, _now: float, _delta: Delta) -> None:
    track = state.calls.get(frame.get("Uniqueid", ""))
    if track is not None:
        absorb_caller(track, frame)


def _on_varset(state: LiveState, frame: Frame, _now: float, _delta: Delta) -> None:
    name = frame.get("Variable", "")
    if name not in CALL_VARS:
        return
    track = state.calls.get(frame.get("Uniqueid", ""))
    if track is not None:
        absorb_vars(track, {f"ChanVariable({name})": unescape_c(frame.get("Value", ""))})


def _on_hangup(state: LiveState, frame: Frame, now: float, delta: Delta) -> None:
    uid = frame.get("Uniqueid", "")
    track = state.calls.pop(uid, None) or _rebuild(state, frame, now)
    if track is None:
        return
    state.priority_unknown.discard(uid)
    absorb_vars(track, frame)
    for q in state.queues.values():
        if q.waiting.pop(uid, None) is not None:
            delta.queues.add(q.name)
    record = finish_call(track, now)
    if record is not None:
        delta.finished.append(record)


def _rebuild(state: LiveState, frame: Frame, now: float) -> CallTrack | None:
    """The track of a call whose start was missed (AMI was disconnected)."""
    track = rebuilt_track(frame, now)
    if track is not None:
        state.count("records_rebuilt")
    elif not any(key.startswith("ChanVariable(TIERLINE_") for key in frame):
        state.count("hangups_not_rebuilt")
    return track


_HANDLERS: dict[str, _Handler] = {
    "QueueMember": _on_member,
    "QueueMemberAdded": _on_member,
    "QueueMemberStatus": _on_member,
    "QueueMemberPause": _on_pause,
    "QueueMemberPenalty": _on_member,
    "QueueMemberRinginuse": _on_member,
    "QueueMemberRemoved": _on_member_removed,
    "QueueParams": _on_params,
    "QueueCallerJoin": _on_join,
    "QueueCallerLeave": _on_leave,
    "QueueCallerAbandon": _on_abandon,
    "QueueEntry": _on_entry,
    "AgentConnect": _on_connect,
    "AgentComplete": _on_complete,
    "Newchannel": _on_newchannel,
    "NewCallerid": _on_callerid,
    "VarSet": _on_varset,
    "Hangup": _on_hangup,
}


def resync(state: LiveState, frames: Iterable[Frame], now: float) -> Delta:
    """Replace queue state with a ``QueueStatus`` reply (after a (re)connect).

    Members and waiting callers absent from the reply are gone (events were
    missed while disconnected); tier and base priority of callers still
    waiting are kept, because the reply does not carry them. Calls tracked
    for over ``STALE_CALL_S`` are dropped without a record.
    """
    old = state.queues
    state.queues = {}
    # A Hangup missed while disconnected would keep its track for ever.
    state.calls = {u: t for u, t in state.calls.items() if now - t.started_at < STALE_CALL_S}
    delta = Delta()
    for frame in frames:
        name = frame.get("Queue")
        if name is not None and name not in state.queues:
            fresh = state.queue(name)
            if name in old:
                fresh.aht = old[name].aht
                fresh.waiting = {}
        if frame.get("Event") == "QueueEntry" and name in old:
            prev = old[name].waiting.get(frame.get("Uniqueid", ""))
            if prev is not None:
                state.queues[name].waiting[prev.uniqueid] = prev
        apply(state, frame, now, delta)
    waiting = {w.uniqueid for w in state.waiting_calls()}
    state.priority_unknown &= waiting
    delta.removed = set(old) - set(state.queues)
    delta.queues |= set(state.queues)
    return delta


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw else default
    except ValueError:
        return default


def _float(raw: str | None, default: float) -> float:
    try:
        return float(raw) if raw else default
    except ValueError:
        return default
