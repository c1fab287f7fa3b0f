"""Back into a flow after Queue() gave up: the token the dialplan carries.

A queue node's ``overflow`` is checked up front (expected wait too long, no
agent logged in), but a caller can still wait out ``max_wait_s`` in
Asterisk's ``Queue()``. So a route from a queue node with an overflow
carries ``TIERLINE_RESUME = <flow-set version>.<hops>.<flow>.<node>``; when
``Queue()`` returns ``TIMEOUT``, ``FULL``, ``LEAVEEMPTY`` or ``JOINEMPTY``
the dialplan calls the router again with ``?resume=<token>``, and the call
goes on at that node's overflow: in the same flow-set version while the
router still holds it, else in the current one (logged). A queue node inside
a sub-flow adds the call stack as ``.<flow>.<node>`` pairs (outermost
first), so a ``return`` after the overflow still goes back to its caller.

The token is built here from names the loader accepted and is checked
again when it comes back (the dialplan filters it too), so it can neither
inject dialplan syntax nor point anywhere a flow does not. ``hops`` bounds
overflow chains that lead back into a queue: after :data:`MAX_HOPS` resumes
no token is set and the dialplan's own after-queue handling (voicemail)
takes over.

A ``transfer`` node with a ``fallback`` (a customer's account manager,
:mod:`router.flows.people`) carries a token the same way: when its
``Dial()`` ends BUSY, NOANSWER, CHANUNAVAIL or CONGESTION the dialplan
resumes the flow at that fallback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from router.flows import model as m
from router.flows.engine import Stack

__all__ = [
    "MAX_HOPS",
    "NAME_RE",
    "RESUME_STATUSES",
    "RESUME_VAR",
    "Resume",
    "overflow_of",
    "resumable",
    "resume_token",
    "stack_of",
]

MAX_HOPS = 3
RESUME_VAR = "TIERLINE_RESUME"
RESUME_STATUSES = frozenset({"TIMEOUT", "FULL", "LEAVEEMPTY", "JOINEMPTY"})
"""QUEUESTATUS values after which the dialplan resumes the flow (documentation; tests check)."""
NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_VERSION_RE = re.compile(r"[0-9a-f]{1,64}")
_MAX_DEPTH = 4  # sub-flow calls carried in a token (keeps it far under AGI's line cap)


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a call that left a queue comes back: the queue node it waited for."""

    version: str
    hops: int
    flow: str
    node: str
    stack: Stack = ()

    @classmethod
    def parse(cls, token: str) -> Resume | None:
        """The token the router set, or None for anything else."""
        parts = token.split(".")
        # version.hops.flow.node, then (flow, node) pairs of the call stack
        if len(parts) < 4 or len(parts) % 2 or len(parts) > 4 + 2 * _MAX_DEPTH:
            return None
        version, hops, *names = parts
        if not (_VERSION_RE.fullmatch(version) and hops.isdigit() and len(hops) <= 2):
            return None
        if not all(NAME_RE.fullmatch(name) for name in names):
            return None
        stack = tuple(zip(names[2::2], names[3::2], strict=True))
        return cls(version, int(hops), names[0], names[1], stack)


def resumable(node: m.Node | None) -> str:
    """Where a call that comes back for ``node`` goes on: its overflow or fallback; "" for none."""
    if isinstance(node, m.QueueNode):
        return node.overflow
    if isinstance(node, m.Transfer):
        return node.fallback
    return ""


def resume_token(flows: m.FlowSet, flow: str, node: str, hops: int, stack: Stack = ()) -> str:
    """``TIERLINE_RESUME`` for a route left from queue node ``flow.node``; "" for none.

    None when the node has no overflow, after :data:`MAX_HOPS` resumes, for
    a stack deeper than the token carries, or when a name holds characters
    the dialplan would filter out.
    """
    found = flows.flows[flow].nodes.get(node) if flow in flows.flows else None
    if not resumable(found) or hops >= MAX_HOPS:
        return ""
    names = [flow, node, *(name for pair in stack for name in pair)]
    if len(stack) > _MAX_DEPTH or not all(NAME_RE.fullmatch(name) for name in names):
        return ""
    return ".".join([flows.version, str(hops + 1), *names])


def stack_of(flows: m.FlowSet, resume: Resume) -> Stack | None:
    """The resumed call's stack if every return point exists in ``flows``, else None."""
    for flow, node in resume.stack:
        if node not in (flows.flows[flow].nodes if flow in flows.flows else {}):
            return None
    return resume.stack


def overflow_of(flows: m.FlowSet, resume: Resume) -> str:
    """The overflow (queue) or fallback (transfer) of the resumed node; "" when it has none."""
    flow = flows.flows.get(resume.flow)
    return resumable(flow.nodes.get(resume.node) if flow is not None else None)
