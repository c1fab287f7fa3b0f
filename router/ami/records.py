"""The call record: one per call, as stored in the calls stream (pure).

Times are epoch seconds, ``0.0`` meaning "did not happen". The stream keeps
the full calling number because operations need it to call back; every
export (reports, JSON) goes through :func:`export`, which masks it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from router.logs import mask_number

__all__ = ["OUTCOMES", "CallRecord", "export", "from_fields", "to_fields"]

OUTCOMES = ("answered", "abandoned", "unanswered", "transfer", "voicemail", "ivr", "unknown")


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What happened to one call, from the first event to the hangup.

    ``path`` is the IVR path as the router reported it (JSON list or a
    ``node:choice>node`` string; see ``router.reports.paths``).
    """

    uniqueid: str
    caller: str = ""
    dnis: str = ""
    customer: str = ""
    tier: str = ""
    path: str = ""
    queue: str = ""
    priority: int = 0
    reason: str = ""
    started_at: float = 0.0
    joined_at: float = 0.0
    answered_at: float = 0.0
    abandoned_at: float = 0.0
    left_at: float = 0.0  # left the queue (answered, abandoned, timeout...)
    ended_at: float = 0.0
    agent: str = ""
    outcome: str = "ivr"

    @property
    def wait_s(self) -> float:
        """Time in queue until answer, abandon or hangup (0 if never queued)."""
        if not self.joined_at:
            return 0.0
        end = self.answered_at or self.abandoned_at or self.left_at or self.ended_at
        return max(0.0, end - self.joined_at)


_FLOATS = frozenset(f.name for f in fields(CallRecord) if f.type == "float")


def to_fields(record: CallRecord) -> dict[str, str]:
    """Stream entry fields (strings; floats with ms precision)."""
    out: dict[str, str] = {}
    for key, value in asdict(record).items():
        out[key] = f"{value:.3f}" if isinstance(value, float) else str(value)
    return out


def from_fields(raw: Mapping[str, str]) -> CallRecord:
    """Inverse of :func:`to_fields`; unknown fields are ignored, bad numbers are 0."""
    values: dict[str, Any] = {}
    for f in fields(CallRecord):
        if f.name not in raw:
            continue
        text = raw[f.name]
        if f.name in _FLOATS:
            values[f.name] = _num(text, float)
        elif f.name == "priority":
            values[f.name] = _num(text, int)
        else:
            values[f.name] = text
    return CallRecord(**values)


def _num(text: str, kind: type[float] | type[int]) -> Any:
    try:
        return kind(text)
    except ValueError:
        return kind(0)


def export(record: CallRecord) -> dict[str, Any]:
    """A JSON-ready record with the calling number masked."""
    out = asdict(record)
    out["caller"] = mask_number(record.caller) if record.caller else ""
    return out
