"""Local-time periods and interval views: what a supervisor reads, in their clock."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from router.ami.records import CallRecord
from router.reports.intervals import compare, headline, interval_rows
from router.reports.periods import intervals, local_time, period_of, previous

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")


def at(zone: ZoneInfo, *parts: int) -> float:
    return datetime(*parts, tzinfo=zone).timestamp()  # type: ignore[misc]


class TestPeriods:
    def test_day_starts_at_local_midnight(self) -> None:
        """A Shanghai day is 16:00 UTC to 16:00 UTC, labelled by its local date."""
        day = period_of("day", date(2026, 12, 2), SH)
        assert (day.start, day.end, day.label) == (
            at(SH, 2026, 12, 2), at(SH, 2026, 12, 3), "2026-12-02"
        )  # fmt: skip

    def test_week_and_month(self) -> None:
        """ISO weeks start on Monday; months at the 1st; previous() steps back one."""
        week = period_of("week", date(2026, 12, 2), SH)  # a Wednesday
        assert week.label == "2026-W49"
        assert week.start == at(SH, 2026, 11, 30)
        assert previous(week, SH).label == "2026-W48"
        month = period_of("month", date(2026, 12, 31), SH)
        assert (month.start, month.end) == (at(SH, 2026, 12, 1), at(SH, 2027, 1, 1))
        assert previous(period_of("month", date(2027, 1, 5), SH), SH).label == "2026-12"

    def test_naive_times_are_local(self) -> None:
        """--from 2026-12-02T09:00 means 09:00 in the centre, not in UTC."""
        assert local_time("2026-12-02T09:00", SH) == at(SH, 2026, 12, 2, 9)
        assert local_time("2026-12-02T09:00+00:00", SH) == at(ZoneInfo("UTC"), 2026, 12, 2, 9)

    def test_intervals_follow_the_wall_clock_across_dst(self) -> None:
        """New York's spring-forward day has 23 hourly intervals, each on the hour."""
        day = period_of("day", date(2026, 3, 8), NY)
        slots = intervals(day.start, day.end, 60, NY)
        assert len(slots) == 23
        assert [s[2] for s in slots[:4]] == ["00:00", "01:00", "03:00", "04:00"]
        today = period_of("day", date(2026, 12, 2), SH)
        assert len(intervals(today.start, today.end, 15, SH)) == 96

    def test_bad_interval(self) -> None:
        with pytest.raises(ValueError, match="15, 30 or 60"):
            intervals(0, 3600, 20, SH)


def call(
    start: float, outcome: str, wait: float = 10, tier: str = "vip", path: str = ""
) -> CallRecord:
    joined = start + 5 if outcome in ("answered", "abandoned") else 0.0
    return CallRecord(
        f"u{start}", tier=tier, path=path, started_at=start, joined_at=joined, outcome=outcome,
        answered_at=joined + wait if outcome == "answered" else 0.0,
        abandoned_at=joined + wait if outcome == "abandoned" else 0.0,
        ended_at=joined + wait + 100,
    )  # fmt: skip


class TestIntervalFigures:
    def test_rows_per_interval_and_tier(self) -> None:
        """Calls land in the interval they started in; each tier gets its own row."""
        nine = at(SH, 2026, 12, 2, 9)
        slots = intervals(nine, nine + 3600, 30, SH)
        records = [
            call(nine + 60, "answered", wait=5),
            call(nine + 120, "answered", wait=60),
            call(nine + 1900, "abandoned", tier="normal"),
            call(nine + 1950, "ivr", tier="normal", path='{"steps": []}'),
            call(nine + 4000, "answered"),  # after the period: not counted
        ]
        rows = {(r.label, r.group): r.figures for r in interval_rows(records, slots, 20, by="tier")}
        vip = rows[("09:00", "vip")]
        assert (vip.offered, vip.answered, vip.service_level) == (2, 2, 0.5)
        assert vip.asa_s == pytest.approx(32.5)
        assert vip.aht_s == pytest.approx(100)
        normal = rows[("09:30", "normal")]
        assert (normal.calls, normal.offered, normal.abandon_rate, normal.containment) == (
            2,
            1,
            1.0,
            1.0,
        )
        assert rows[("09:30", "vip")].service_level is None  # nothing offered: no figure

    def test_compare_with_the_period_before(self) -> None:
        """Change = now - before; a figure missing on either side has no change."""
        now = headline([call(0, "answered", 5), call(1, "abandoned")], 20)
        before = headline([call(0, "answered", 5)], 20)
        diff = compare(now, before)
        assert diff["service_level"] == {"now": 0.5, "before": 1.0, "change": -0.5}
        assert diff["containment"] == {"now": None, "before": None, "change": None}
