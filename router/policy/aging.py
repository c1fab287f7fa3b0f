"""Starvation guard: a waiting caller's priority rises until its tier's cap.

Asterisk reads ``QUEUE_PRIO`` once, when the caller joins, and always serves
the highest priority first, so a steady stream of VIP calls could keep a
``normal`` caller waiting for ever. The guard raises each waiting caller's
priority linearly from its join priority to ``aging.top_priority`` (above
every tier's join priority) over its tier's ``wait_cap_s``. At the cap the
caller outranks every fresh caller; among callers at the top, Asterisk keeps
the order in which they reached it, which is deadline order.

This module only computes; the AMI listener applies the result. On a timer
every ``aging.interval_s`` it calls :meth:`StarvationGuard.due_changes` with
the callers it tracks and sends, for each change::

    Action: QueueChangePriorityCaller
    Queue: <queue>
    Caller: <channel>
    Priority: <priority>
    Immediate: yes

``Immediate: yes`` (Asterisk >= 15) re-sorts the caller at once; without it
app_queue only stores the number and the caller keeps its place. After a
``Response: Success`` the listener records the new priority, so a change is
sent once per step; a failed action (the caller left) is simply dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from router.types import WaitingCaller

__all__ = ["PriorityChange", "StarvationGuard", "WaitingCaller"]


class PriorityChange(NamedTuple):
    """One QueueChangePriorityCaller to send (``channel`` is its ``Caller``)."""

    channel: str
    queue: str
    priority: int
    uniqueid: str


class StarvationGuard:
    """Pure aging rule built from a routing config's ``aging`` section."""

    __slots__ = ("_caps", "_default_cap", "interval_s", "min_step", "top_priority")

    def __init__(
        self,
        top_priority: int,
        wait_cap_s: Mapping[str, float],
        lowest_tier: str,
        interval_s: float = 5.0,
        min_step: int = 1,
    ) -> None:
        self.top_priority = top_priority
        self.interval_s = interval_s
        self.min_step = max(1, min_step)
        self._caps = dict(wait_cap_s)
        self._default_cap = self._caps[lowest_tier]

    def cap(self, tier: str) -> float:
        """The wait cap of ``tier``; unknown tiers get the lowest tier's cap."""
        return self._caps.get(tier, self._default_cap)

    def aged_priority(self, base_priority: int, tier: str, waited_s: float) -> int:
        """Priority after ``waited_s`` in queue: never below ``base_priority``.

        Rises linearly in steps of ``min_step`` and is ``top_priority`` from
        the cap on. A base already at or above the top (red list) is kept.
        """
        top = self.top_priority
        if base_priority >= top:
            return base_priority
        cap = self.cap(tier)
        if waited_s >= cap:
            return top
        if waited_s <= 0:
            return base_priority
        gained = int((top - base_priority) * waited_s / cap)
        gained -= gained % self.min_step
        return min(top, base_priority + gained)

    def due_changes(self, waiting: Iterable[WaitingCaller], now: float) -> list[PriorityChange]:
        """Changes to send now: callers whose aged priority passed their current one."""
        changes = []
        for caller in waiting:
            new = self.aged_priority(caller.base_priority, caller.tier, now - caller.joined_at)
            if new > caller.priority:
                changes.append(PriorityChange(caller.channel, caller.queue, new, caller.uniqueid))
        return changes
