"""What every call leaves behind: its path through the flow, for reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["FlowWalk", "PathStep"]


@dataclass(frozen=True, slots=True)
class PathStep:
    flow: str
    node: str
    digits: str = ""
    at_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class FlowWalk:
    """One call's walk: nodes, digits, timings, flow version and final decision."""

    uniqueid: str
    flow: str
    flow_version: str
    path: tuple[PathStep, ...]
    outcome: str  # queue | transfer | callback | voicemail | hangup | caller_hangup | error
    detail: dict[str, Any] = field(default_factory=dict)
    duration_ms: float = 0.0
    flowset_version: str = ""  # hash of the whole directory (sub-flows, prompts) it ran on

    def as_dict(self) -> dict[str, Any]:
        return {
            "uniqueid": self.uniqueid,
            "flow": self.flow,
            "flow_version": self.flow_version,
            "path": [[s.flow, s.node, s.digits, round(s.at_ms, 1)] for s in self.path],
            "outcome": self.outcome,
            "detail": self.detail,
            "duration_ms": round(self.duration_ms, 1),
            "flowset_version": self.flowset_version,
        }
