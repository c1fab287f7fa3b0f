"""Starvation guard: aging rule and the changes the AMI timer must send."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from router.policy import PriorityChange, StarvationGuard, TieredPolicy, WaitingCaller

CAPS = {"vip": 60.0, "high": 120.0, "mid": 240.0, "normal": 360.0}


def guard(min_step: int = 1) -> StarvationGuard:
    return StarvationGuard(50, CAPS, "normal", interval_s=5, min_step=min_step)


def waiting(tier: str, base: int, prio: int, joined: float, n: int = 1) -> WaitingCaller:
    return WaitingCaller(f"u{n}", f"PJSIP/c-{n}", "support", tier, base, prio, joined)


class TestAgedPriority:
    def test_starts_at_base(self) -> None:
        """A caller who just joined keeps the router's priority."""
        assert guard().aged_priority(10, "normal", 0) == 10

    def test_linear_halfway(self) -> None:
        """Halfway to the cap, half the distance to the top is gained."""
        assert guard().aged_priority(10, "normal", 180) == 30

    def test_reaches_top_at_cap(self) -> None:
        """At its tier's cap a caller reaches the top priority, and stays there."""
        assert guard().aged_priority(10, "normal", 360) == 50
        assert guard().aged_priority(40, "vip", 10_000) == 50

    def test_min_step_quantises(self) -> None:
        """With min_step 5 the priority moves in steps of 5 below the top."""
        assert guard(5).aged_priority(10, "normal", 100) == 20  # 11.1 gained -> 10

    def test_base_above_top_is_kept(self) -> None:
        """A red-list priority above the top never changes."""
        assert guard().aged_priority(60, "vip", 1000) == 60

    def test_unknown_tier_uses_lowest_cap(self) -> None:
        """An unknown tier ages on the lowest tier's cap."""
        assert guard().aged_priority(10, "gold", 180) == guard().aged_priority(10, "normal", 180)

    def test_shipped_config_guard(self, policy: TieredPolicy) -> None:
        """The shipped config's guard uses its aging section."""
        assert policy.guard.top_priority == policy.config.aging.top_priority
        assert policy.guard.cap("vip") == policy.config.aging.wait_cap_s["vip"]

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(
        tier=st.sampled_from([*CAPS, "other"]),
        base=st.integers(0, 70),
        a=st.floats(0, 1000),
        b=st.floats(0, 1000),
        step=st.integers(1, 7),
    )
    def test_never_lowers_and_monotone(
        self, tier: str, base: int, a: float, b: float, step: int
    ) -> None:
        """Aging never lowers priority, never falls with longer waits, and is top by the cap."""
        g = guard(step)
        lo, hi = sorted((a, b))
        p_lo, p_hi = g.aged_priority(base, tier, lo), g.aged_priority(base, tier, hi)
        assert base <= p_lo <= p_hi
        assert p_hi <= max(base, 50)
        if hi >= g.cap(tier):
            assert p_hi == max(base, 50)


class TestDueChanges:
    def test_emits_only_rises(self) -> None:
        """Only callers whose aged priority passed their current one get a change."""
        now = 1000.0
        callers = [
            waiting("normal", 10, 10, now - 180, 1),  # due: 30
            waiting("normal", 10, 30, now - 180, 2),  # already there
            waiting("vip", 40, 40, now - 1, 3),  # not yet a whole step
            waiting("vip", 40, 45, now - 60, 4),  # at cap: top
        ]
        assert guard().due_changes(callers, now) == [
            PriorityChange("PJSIP/c-1", "support", 30, "u1"),
            PriorityChange("PJSIP/c-4", "support", 50, "u4"),
        ]

    def test_is_a_tuple_of_channel_queue_priority(self) -> None:
        """A change unpacks as (channel, queue, priority, uniqueid) for the AMI action."""
        (change,) = guard().due_changes([waiting("mid", 20, 20, 0.0)], 240.0)
        channel, queue, priority, uniqueid = change
        assert (channel, queue, priority, uniqueid) == ("PJSIP/c-1", "support", 50, "u1")

    def test_nobody_waits_past_cap_unraised(self) -> None:
        """Running the timer every interval, every caller is at the top by its cap."""
        g = guard(2)
        callers = {
            t: waiting(t, p, p, 0.0, i)
            for i, (t, p) in enumerate((("vip", 40), ("high", 30), ("mid", 20), ("normal", 10)))
        }
        now = 0.0
        while now <= 400:
            for change in g.due_changes(callers.values(), now):
                tier = next(t for t, c in callers.items() if c.uniqueid == change.uniqueid)
                old = callers[tier]
                callers[tier] = WaitingCaller(
                    old.uniqueid,
                    old.channel,
                    old.queue,
                    old.tier,
                    old.base_priority,
                    change.priority,
                    old.joined_at,
                )
            for tier, caller in callers.items():
                if now >= CAPS[tier]:
                    assert caller.priority == 50, (tier, now)
            now += g.interval_s
