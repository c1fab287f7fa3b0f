"""What every call leaves behind: its path through the flow, for reports.

A path never holds what the caller typed. Account numbers (and later PINs)
typed at an input node would otherwise sit in Redis, call records and
``tierline report`` output in clear; and a menu's digit says less than the
option's name, which stays right when the operator renumbers a menu. So
each step keeps a *choice*: the name of the menu option taken, or one of
the markers below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from router.flows.model import FlowSet, Input, Menu, Node, OfferNode

__all__ = ["INPUT", "INVALID", "TIMEOUT", "FlowWalk", "PathStep", "path_choice"]

INPUT = "(input)"
"""Digits were typed at an input node (never kept)."""
INVALID = "(invalid)"
"""The menu's last answer was a digit it has no option for."""
TIMEOUT = "(timeout)"
"""The node's last attempt timed out with no digit."""


def path_choice(node: Node | None, digits: str) -> str:
    """What a path may keep of ``digits`` noted at ``node``.

    The engine notes each attempt's digits ("-" for a timeout) one after
    the other; a menu takes one digit per attempt, so its last character
    is the answer that decided where the call went.
    """
    if not digits:
        return ""
    if isinstance(node, Menu):
        last = digits[-1]
        return TIMEOUT if last == "-" else node.options.get(last, INVALID)
    if isinstance(node, Input) and not digits.strip("-"):
        return TIMEOUT
    if isinstance(node, OfferNode):  # what the caller did with the last offer heard
        last = digits[-1]
        keys = {node.accept: "accept", node.skip: "next", node.back: "back"}
        return TIMEOUT if last == "-" else keys.get(last, "(menu choice)")
    return INPUT  # an input node, or digits noted anywhere else: never in clear


@dataclass(frozen=True, slots=True)
class PathStep:
    """One node a call visited and the choice made there ("" if none)."""

    flow: str
    node: str
    choice: str = ""
    at_ms: float = 0.0

    @classmethod
    def of(cls, flows: FlowSet, flow: str, node: str, digits: str, at_ms: float) -> PathStep:
        """The step for a visit where ``digits`` were noted; the digits themselves are dropped."""
        found = flows.flows.get(flow)
        return cls(flow, node, path_choice(found.nodes.get(node) if found else None, digits), at_ms)


@dataclass(frozen=True, slots=True)
class FlowWalk:
    """One call's walk: nodes, choices, timings, flow version and final decision."""

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
            "path": [[s.flow, s.node, s.choice, round(s.at_ms, 1)] for s in self.path],
            "outcome": self.outcome,
            "detail": self.detail,
            "duration_ms": round(self.duration_ms, 1),
            "flowset_version": self.flowset_version,
        }
