"""Per-call tracking from AMI events into one :class:`CallRecord` (pure).

A channel is tracked from ``Newchannel`` (or its first queue event) to its
``Hangup``. Only channels that went through the router (a ``TIERLINE_*``
variable was set on them, i.e. is non-empty) or joined a queue become
records, so the ``;1`` halves of Local channels and agent legs do not count
as calls. With manager.conf ``channelvars``, Asterisk puts every listed
variable on every channel's events, empty when unset: an empty value is
"not set", never a sign of routing.

The router tells the listener about a call through channel variables,
read from ``VarSet`` events and from ``ChanVariable(NAME)`` headers
(manager.conf ``channelvars``): see :data:`CALL_VARS`. Asterisk C-escapes
both (``ast_escape_c``); :func:`unescape_c` undoes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from router.ami.records import CallRecord

__all__ = [
    "CALL_VARS",
    "CallTrack",
    "absorb_caller",
    "absorb_vars",
    "finish_call",
    "rebuilt_track",
    "started_at_of",
    "track_for",
]

CALL_VARS: Mapping[str, str] = {
    "TIERLINE_TIER": "tier",
    "TIERLINE_CUSTOMER": "customer",
    "TIERLINE_PRIO": "priority",
    "QUEUE_PRIO": "priority",
    "TIERLINE_REASON": "reason",
    "TIERLINE_DNIS": "dnis",
    "TIERLINE_PATH": "path",
    "TIERLINE_ACTION": "action",
}
"""Channel variable -> :class:`CallTrack` attribute."""

_CHANVAR_KEYS = tuple((f"ChanVariable({name})", attr) for name, attr in CALL_VARS.items())
_UNKNOWN = "<unknown>"
_ACTION_OUTCOMES = frozenset({"transfer", "voicemail"})
_IVR_ACTIONS = frozenset({"hangup", "callback"})  # the call ended in the IVR


@dataclass(slots=True)
class CallTrack:
    """Mutable facts about one channel while it is up."""

    uniqueid: str
    channel: str
    caller: str = ""
    dnis: str = ""
    started_at: float = 0.0
    customer: str = ""
    tier: str = ""
    priority: int = 0
    reason: str = ""
    path: str = ""
    action: str = ""
    queue: str = ""
    joined_at: float = 0.0
    answered_at: float = 0.0
    abandoned_at: float = 0.0
    left_at: float = 0.0
    agent: str = ""
    routed: bool = False
    priority_known: bool = False  # TIERLINE_PRIO / QUEUE_PRIO / QueueEntry seen
    rebuilt: bool = False  # first seen at its Hangup: what happened before is unknown


def track_for(calls: dict[str, CallTrack], frame: Mapping[str, str], now: float) -> CallTrack:
    """The track of the frame's channel, created on first sight."""
    uid = frame.get("Uniqueid", "")
    track = calls.get(uid)
    if track is None:
        caller = frame.get("CallerIDNum", "")
        track = calls[uid] = CallTrack(
            uid,
            frame.get("Channel", ""),
            caller="" if caller == _UNKNOWN else caller,
            dnis=frame.get("Exten", ""),
            started_at=now,
        )
    return track


def absorb_caller(track: CallTrack, frame: Mapping[str, str]) -> None:
    """Take the calling number once it is known (Newchannel may say <unknown>)."""
    caller = frame.get("CallerIDNum", "")
    if caller and caller != _UNKNOWN:
        track.caller = caller


def absorb_vars(track: CallTrack, frame: Mapping[str, str]) -> None:
    """Copy the router's channel variables found in ``frame`` onto ``track``."""
    for key, attr in _CHANVAR_KEYS:
        value = frame.get(key)
        if not value:  # absent, or empty as channelvars= sends an unset variable
            continue
        if attr == "priority":
            try:
                track.priority = int(value)
            except ValueError:
                continue
            track.priority_known = True
        else:
            setattr(track, attr, value)
        if key != "ChanVariable(QUEUE_PRIO)":
            track.routed = True


def started_at_of(uniqueid: str, fallback: float) -> float:
    """The channel's creation second from its uniqueid (``[system-]epoch.seq``)."""
    try:
        return float(uniqueid.rpartition("-")[2].partition(".")[0]) if uniqueid else fallback
    except ValueError:
        return fallback


def rebuilt_track(frame: Mapping[str, str], now: float) -> CallTrack | None:
    """A track for a Hangup whose channel started while AMI was disconnected.

    Only a channel the router touched (a non-empty ``TIERLINE_*`` header)
    is rebuilt; its start comes from the uniqueid. None otherwise.
    """
    track = CallTrack(frame.get("Uniqueid", ""), frame.get("Channel", ""))
    absorb_vars(track, frame)
    if not track.routed:
        return None
    absorb_caller(track, frame)
    track.started_at = started_at_of(track.uniqueid, now)
    track.rebuilt = True
    return track


def outcome_of(track: CallTrack) -> str:
    """answered / abandoned / unanswered (left the queue) / transfer / voicemail / ivr / unknown."""
    if track.answered_at:
        return "answered"
    if track.abandoned_at:
        return "abandoned"
    if track.queue:
        return "unanswered"
    if track.action in _ACTION_OUTCOMES:
        return track.action
    if track.rebuilt and track.action not in _IVR_ACTIONS:
        return "unknown"  # e.g. queued and maybe answered while AMI was down
    return "ivr"


def finish_call(track: CallTrack, now: float) -> CallRecord | None:
    """The call's record at hangup, or None for channels that are not calls."""
    if not (track.routed or track.queue or track.path):
        return None
    return CallRecord(
        uniqueid=track.uniqueid,
        caller=track.caller,
        dnis=track.dnis,
        customer=track.customer,
        tier=track.tier,
        path=track.path,
        queue=track.queue,
        priority=track.priority,
        reason=track.reason,
        started_at=track.started_at,
        joined_at=track.joined_at,
        answered_at=track.answered_at,
        abandoned_at=track.abandoned_at,
        left_at=track.left_at,
        ended_at=now,
        agent=track.agent,
        outcome=outcome_of(track),
    )
