"""The starvation guard in a small model of app_queue's ordering.

The model follows app_queue: a joining caller is placed before the first
caller with a strictly lower priority, and QueueChangePriorityCaller with
``Immediate: yes`` re-places the caller the same way. Agents take the head.
Arrivals are seeded (``random.Random(7)``), so the run is a regression check
of a fixed scenario, not a statistical claim.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from router.policy import StarvationGuard, TieredPolicy, WaitingCaller

TIER_MIX = (("vip", 0.55), ("high", 0.25), ("mid", 0.12), ("normal", 0.08))


@dataclass
class Served:
    caller: WaitingCaller
    at: int


def insert(line: list[WaitingCaller], caller: WaitingCaller) -> None:
    """Place ``caller`` before the first entry with a strictly lower priority."""
    for i, other in enumerate(line):
        if caller.priority > other.priority:
            line.insert(i, caller)
            return
    line.append(caller)


def run(policy: TieredPolicy, guard: StarvationGuard | None, seconds: int) -> list[Served]:
    """Near-saturated single queue: ~1 arrival / 10.5 s, 1 agent, 10 s per call."""
    rng = random.Random(7)
    line: list[WaitingCaller] = []
    served: list[Served] = []
    busy_until = 0
    tiers, weights = zip(*TIER_MIX, strict=True)
    for now in range(seconds):
        if rng.random() < 1 / 10.5:
            tier = rng.choices(tiers, weights)[0]
            prio = policy.config.priorities[tier]
            n = len(served) + len(line)
            insert(line, WaitingCaller(f"u{n}", f"c{n}", "q", tier, prio, prio, now))
        if guard is not None and now % guard.interval_s == 0:
            for change in guard.due_changes(list(line), now):
                old = next(c for c in line if c.channel == change.channel)
                line.remove(old)
                insert(line, replace(old, priority=change.priority))
        if now >= busy_until and line:
            served.append(Served(line.pop(0), now))
            busy_until = now + 10
    return served


def passed_after_cap(served: list[Served], guard: StarvationGuard) -> int:
    """Times a caller past its cap (+ one timer interval) was passed by a later joiner."""
    count = 0
    for i, x in enumerate(served):
        deadline = x.caller.joined_at + guard.cap(x.caller.tier) + guard.interval_s
        count += sum(1 for y in served[:i] if y.caller.joined_at > deadline)
    return count


def max_wait(served: list[Served], tier: str) -> int:
    return max(s.at - s.caller.joined_at for s in served if s.caller.tier == tier)


class TestStarvationModel:
    def test_without_guard_low_tiers_starve(self, policy: TieredPolicy) -> None:
        """Without aging, fresh VIPs keep passing normal callers long past the cap."""
        served = run(policy, None, 4 * 3600)
        assert passed_after_cap(served, policy.guard) > 100
        assert max_wait(served, "normal") > 2 * policy.guard.cap("normal")

    def test_with_guard_nobody_is_passed_after_cap(self, policy: TieredPolicy) -> None:
        """With aging on its timer, no caller past its cap is passed by a later joiner."""
        served = run(policy, policy.guard, 4 * 3600)
        assert len(served) > 1000
        assert passed_after_cap(served, policy.guard) == 0

    def test_with_guard_waits_stay_near_caps(self, policy: TieredPolicy) -> None:
        """Regression for this seed: every tier's longest wait is within 60 s of its cap."""
        served = run(policy, policy.guard, 4 * 3600)
        for tier, _ in TIER_MIX:
            assert max_wait(served, tier) <= policy.guard.cap(tier) + 60, tier
