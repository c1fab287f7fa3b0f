"""Shift rosters: every interval covered, at the cost an exhaustive search finds."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from simulator.roster import ShiftTemplate, build_roster

EIGHT = ShiftTemplate("eight", 8.0)


class TestRoster:
    def test_a_flat_day_needs_exactly_three_shifts_per_seat(self) -> None:
        """3 agents round the clock with 8-hour shifts: 9 shifts, 72 paid hours, no waste."""
        r = build_roster([3] * 48, 30, templates=[EIGHT])
        assert sum(s.count for s in r.shifts) == 9
        assert r.paid_hours == 72.0
        assert r.working == (3,) * 48

    def test_shrinkage_grosses_up_the_requirement(self) -> None:
        """With 30 % shrinkage, 7 on the phones needs 10 rostered (ceil(7 / 0.7))."""
        r = build_roster([7] * 48, 30, shrinkage=0.3, templates=[EIGHT])
        assert r.need == (10,) * 48
        assert min(r.working) >= 10

    def test_breaks_fall_in_their_window_and_are_unpaid(self) -> None:
        """A 8.5-hour shift with a 30-minute break 3-5 hours in: 8 paid hours, coverage kept."""
        full = ShiftTemplate("full", 8.5, break_after=(3.0, 5.0))
        req = [0] * 16 + [5] * 20 + [0] * 12
        r = build_roster(req, 30, templates=[full])
        assert all(w >= n for w, n in zip(r.working, r.need, strict=True))
        for s in r.shifts:
            assert s.break_at is not None
            assert 6 <= (s.break_at - s.start) % 48 <= 10
        assert r.paid_hours == 8.0 * sum(s.count for s in r.shifts)

    def test_nobody_needed_means_no_shifts(self) -> None:
        assert build_roster([0] * 24, 60).shifts == ()

    def test_cost_is_the_exhaustive_optimum(self) -> None:
        """A 6-hour circular day of 1-hour intervals, 2-hour shifts at 10/h and 3-hour ones at
        8/h: the integer program's cost equals the best of every combination of 0-2 agents
        per (shift, start), enumerated in full (3^12 rosters)."""
        req = np.array([1, 2, 2, 1, 0, 2])
        short, long_ = ShiftTemplate("2h", 2.0, 10.0), ShiftTemplate("3h", 3.0, 8.0)
        r = build_roster(req.tolist(), 60, templates=[short, long_])
        n = req.size
        cols = [(2, 10.0, s) for s in range(n)] + [(3, 8.0, s) for s in range(n)]
        cover = np.zeros((len(cols), n), dtype=int)
        for c, (length, _, start) in enumerate(cols):
            for j in range(length):
                cover[c, (start + j) % n] = 1
        price = np.array([length * rate for length, rate, _ in cols])
        counts = np.array(list(itertools.product(range(3), repeat=len(cols))))
        feasible = (counts @ cover >= req).all(axis=1)
        assert r.cost == pytest.approx(float((counts[feasible] @ price).min()))
