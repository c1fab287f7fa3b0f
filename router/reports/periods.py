"""Report periods in the centre's local time: intervals, days, weeks, months.

Supervisors read "Tuesday 09:00-09:30", not epoch seconds in UTC, and a
week or a month starts at local midnight; across a daylight-saving change
an interval is still a wall-clock interval. Pure: zone arithmetic only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["KINDS", "Period", "intervals", "local_time", "period_of", "previous"]

KINDS = ("day", "week", "month")


@dataclass(frozen=True, slots=True)
class Period:
    """``[start, end)`` in epoch seconds, with the local label readers see."""

    kind: str
    start: float
    end: float
    label: str


def local_time(text: str, zone: ZoneInfo) -> float:
    """ISO 8601 date or time; without an offset it is the centre's local time."""
    when = datetime.fromisoformat(text)
    return (when if when.tzinfo else when.replace(tzinfo=zone)).timestamp()


def _midnight(day: date, zone: ZoneInfo) -> float:
    return datetime.combine(day, time(0), zone).timestamp()


def _bounds(kind: str, day: date) -> tuple[date, date]:
    if kind == "day":
        return day, day + timedelta(days=1)
    if kind == "week":  # ISO weeks start on Monday
        first = day - timedelta(days=day.weekday())
        return first, first + timedelta(days=7)
    if kind == "month":
        first = day.replace(day=1)
        nxt = (first + timedelta(days=32)).replace(day=1)
        return first, nxt
    raise ValueError(f"unknown period {kind!r} (one of {', '.join(KINDS)})")


def _label(kind: str, first: date) -> str:
    if kind == "week":
        year, week, _ = first.isocalendar()
        return f"{year}-W{week:02d}"
    return first.strftime("%Y-%m") if kind == "month" else first.isoformat()


def period_of(kind: str, day: date, zone: ZoneInfo) -> Period:
    """The day, ISO week or month that contains ``day``, local midnight to midnight."""
    first, after = _bounds(kind, day)
    return Period(kind, _midnight(first, zone), _midnight(after, zone), _label(kind, first))


def previous(period: Period, zone: ZoneInfo) -> Period:
    """The period of the same kind just before (yesterday, last week, last month)."""
    last_day = datetime.fromtimestamp(period.start, zone).date() - timedelta(days=1)
    return period_of(period.kind, last_day, zone)


def intervals(
    start: float, end: float, minutes: int, zone: ZoneInfo
) -> list[tuple[float, float, str]]:
    """Wall-clock intervals of ``minutes`` covering ``[start, end)``, labelled ``HH:MM``.

    Boundaries are local clock times (09:00, 09:30...), so a day with a
    daylight-saving jump has one interval fewer or more, never shifted ones.
    """
    if minutes not in (15, 30, 60):
        raise ValueError("interval must be 15, 30 or 60 minutes")
    out = []
    many_days = end - start > 25 * 3600
    local = datetime.fromtimestamp(start, zone)
    local = local.replace(minute=local.minute - local.minute % minutes, second=0, microsecond=0)
    while local.timestamp() < end:
        nxt = (local.replace(tzinfo=None) + timedelta(minutes=minutes)).replace(tzinfo=zone)
        lo, hi = max(local.timestamp(), start), min(nxt.timestamp(), end)
        if hi > lo:  # a local time skipped by a spring-forward jump has no interval
            out.append((lo, hi, _slot(local, many_days)))
        local = nxt
    return out


def _slot(local: datetime, many_days: bool) -> str:
    return local.strftime("%m-%d %H:%M" if many_days else "%H:%M")
