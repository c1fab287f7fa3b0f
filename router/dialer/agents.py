"""Which lane members are free, from the AMI events the dialer sees (pure).

The listener's queue state counts waiting callers, not members, and
Asterisk with ``ringinuse=yes`` keeps offering an agent who is on an
outbound call, so the dialer keeps its own book. Inputs, as captured in
ami/13: ``QueueMember`` (QueueStatus reply: ``Name``/``Location``),
``QueueMemberStatus``/``QueueMemberPause``/``QueueMemberAdded``
(``MemberName``/``Interface``) and ``QueueMemberRemoved``. A member is free
when ``Paused: 0`` and ``Status: 1`` (NOT_INUSE); a ringing Local member
already shows ``Status: 2``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["MemberBook"]

_NOT_INUSE = "1"
_MEMBER_EVENTS = frozenset(
    {"QueueMember", "QueueMemberStatus", "QueueMemberPause", "QueueMemberAdded"}
)


@dataclass(slots=True)
class _Member:
    status: str = _NOT_INUSE
    paused: bool = False


@dataclass(slots=True)
class MemberBook:
    """Members per queue; ``held`` are agents the dialer itself is using."""

    queues: dict[str, dict[str, _Member]] = field(default_factory=dict)
    held: dict[str, set[str]] = field(default_factory=dict)

    def apply(self, frame: Mapping[str, str]) -> bool:
        """Fold one event in; True when it changed a member."""
        event = frame.get("Event", "")
        queue = frame.get("Queue", "")
        iface = frame.get("Interface") or frame.get("Location") or ""
        if not queue or not iface:
            return False
        if event == "QueueMemberRemoved":
            return self.queues.get(queue, {}).pop(iface, None) is not None
        if event not in _MEMBER_EVENTS:
            return False
        member = self.queues.setdefault(queue, {}).setdefault(iface, _Member())
        member.status = frame.get("Status", member.status)
        member.paused = frame.get("Paused", "1" if member.paused else "0") == "1"
        return True

    def reset(self, queue: str) -> None:
        """Forget a queue's members before a QueueStatus resync lists them again."""
        self.queues.pop(queue, None)

    def free(self, queue: str) -> list[str]:
        """Interfaces free for outbound: not paused, not in use, not held by us."""
        held = self.held.get(queue, set())
        return [
            iface
            for iface, m in self.queues.get(queue, {}).items()
            if not m.paused and m.status == _NOT_INUSE and iface not in held
        ]

    def hold(self, queue: str, iface: str) -> None:
        self.held.setdefault(queue, set()).add(iface)

    def release(self, queue: str, iface: str) -> None:
        self.held.get(queue, set()).discard(iface)
