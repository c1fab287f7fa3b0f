"""Back into a flow after Queue() gave up: the token the dialplan carries.

A queue node's ``overflow`` is checked up front (expected wait too long, no
agent logged in), but a caller can still wait out ``max_wait_s`` in
Asterisk's ``Queue()``. So a route from a queue node with an overflow
carries ``TIERLINE_RESUME = <flow-set version>.<hops>.<flow>.<node>``; when
``Queue()`` returns ``TIMEOUT``, ``FULL``, ``LEAVEEMPTY`` or ``JOINEMPTY``
the dialplan calls the router again with ``?resume=<token>``, and the call
goes on at that node's overflow: in the same flow-set version while the
router still holds it, else in the current one (logged).

The token is built here from names the loader accepted and is checked
again when it comes back (the dialplan filters it too), so it can neither
inject dialplan syntax nor point anywhere a flow does not. ``hops`` bounds
overflow chains that lead back into a queue: after :data:`MAX_HOPS` resumes
no token is set and the dialplan's own after-queue handling (voicemail)
takes over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from router.flows import model as m

__all__ = [
    "MAX_HOPS",
    "NAME_RE",
    "RESUME_STATUSES",
    "RESUME_VAR",
    "Resume",
    "overflow_of",
    "resume_token",
]

MAX_HOPS = 3
RESUME_VAR = "TIERLINE_RESUME"
RESUME_STATUSES = frozenset({"TIMEOUT", "FULL", "LEAVEEMPTY", "JOINEMPTY"})
"""QUEUESTATUS values after which the dialplan resumes the flow (documentation; tests check)."""
NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_VERSION_RE = re.compile(r"[0-9a-f]{1,64}")


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a call that left a queue comes back: the queue node it waited for."""

    version: str
    hops: int
    flow: str
    node: str

    @classmethod
    def parse(cls, token: str) -> Resume | None:
        """The token the router set, or None for anything else."""
        parts = token.split(".")
        if len(parts) != 4:  # version.hops.flow.node
            return None
        version, hops, flow, node = parts
        if not (_VERSION_RE.fullmatch(version) and hops.isdigit() and len(hops) <= 2):
            return None
        if not (NAME_RE.fullmatch(flow) and NAME_RE.fullmatch(node)):
            return None
        return cls(version, int(hops), flow, node)


def resume_token(flows: m.FlowSet, flow: str, node: str, hops: int) -> str:
    """``TIERLINE_RESUME`` for a route left from queue node ``flow.node``; "" for none.

    None when the node has no overflow, after :data:`MAX_HOPS` resumes, or
    when a name holds characters the dialplan would filter out.
    """
    found = flows.flows[flow].nodes.get(node) if flow in flows.flows else None
    if not isinstance(found, m.QueueNode) or not found.overflow or hops >= MAX_HOPS:
        return ""
    if not (NAME_RE.fullmatch(flow) and NAME_RE.fullmatch(node)):
        return ""
    return f"{flows.version}.{hops + 1}.{flow}.{node}"


def overflow_of(flows: m.FlowSet, resume: Resume) -> str:
    """The overflow node of the resumed queue node in ``flows``; "" when it has none there."""
    flow = flows.flows.get(resume.flow)
    node = flow.nodes.get(resume.node) if flow is not None else None
    return node.overflow if isinstance(node, m.QueueNode) else ""
