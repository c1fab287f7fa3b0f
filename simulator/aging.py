"""The live starvation guard inside the simulation, as Asterisk applies it.

Live, the AMI listener runs the routing policy's :class:`StarvationGuard`
every ``interval_s`` and sends ``QueueChangePriorityCaller ... Immediate:
yes``; app_queue then moves the caller behind every caller of equal or
higher priority. So at a given moment a waiting caller's rank is its
priority at the last timer tick, and among equal priorities, the time it
reached that priority (its join time when it never moved). This module
computes exactly that key, so simulated low-tier waits are the live ones.
"""

from __future__ import annotations

import math

from router.policy.aging import StarvationGuard

__all__ = ["AgedOrder"]


class AgedOrder:
    """Sort key of a waiting caller under the guard: higher first, then earlier."""

    __slots__ = ("guard", "tick")

    def __init__(self, guard: StarvationGuard) -> None:
        self.guard = guard
        self.tick = guard.interval_s

    def key(self, base: int, tier: str, joined: float, now: float) -> tuple[int, float]:
        """``(-priority, reached_at)``: what app_queue's order amounts to at ``now``."""
        last_tick = math.floor(now / self.tick) * self.tick
        prio = self.guard.aged_priority(base, tier, last_tick - joined)
        if prio <= base:
            return -base, joined
        return -prio, self._reached(base, tier, joined, prio)

    def _reached(self, base: int, tier: str, joined: float, prio: int) -> float:
        """The first tick at which the guard gave this caller ``prio``."""
        g = self.guard
        cap = g.cap(tier)
        need = cap if prio >= g.top_priority else (prio - base) * cap / (g.top_priority - base)
        first = math.ceil((joined + need) / self.tick) * self.tick
        # Integer rounding in aged_priority can lag the linear estimate by a tick.
        while g.aged_priority(base, tier, first - joined) < prio:
            first += self.tick
        return first
