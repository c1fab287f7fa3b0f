"""Business hours: a weekly timetable, a public-holiday calendar, overrides.

Holidays and official make-up working days (China's adjusted weekends,
``weekend_workdays``) come from the ``holidays`` package for the country
and optional subdivision, so nobody hand-lists them each year. A make-up
working day is a normal working day: it keeps the weekly hours of the
weekday named by ``workday_hours`` (Monday unless the operator says
otherwise), not the weekend's. Explicit ``closed``/``open`` dates override
the calendar, because every centre has its own exceptions (a company event,
an extra open Saturday); an ``open`` date is a working day too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "DAYS",
    "BusinessHours",
    "known_calendar",
    "parse_day_spec",
    "parse_ranges",
    "subdivisions",
    "weekly_from",
]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Range = tuple[time, time]


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """When a flow or queue is open. Weekdays are 0=Monday, as in ``date.weekday()``."""

    name: str
    timezone: str = "UTC"
    weekly: Mapping[int, tuple[Range, ...]] = field(default_factory=dict)
    calendar: str = ""
    closed: frozenset[date] = frozenset()
    open: frozenset[date] = frozenset()
    subdivision: str = ""
    workday: int = 0  # whose weekly hours make-up working days and open dates keep

    def is_open(self, at: datetime) -> bool:
        """True when ``at`` (naive = already local) falls in an open range."""
        local = at.astimezone(ZoneInfo(self.timezone)) if at.tzinfo else at
        now = local.time()
        return any(start <= now < end for start, end in self.ranges_on(local.date()))

    def ranges_on(self, day: date) -> tuple[Range, ...]:
        """Open ranges of a local date: closed > open > make-up working day > holiday > weekly."""
        if day in self.closed:
            return ()
        if day in self.open:
            return self.weekly.get(self.workday, ())
        if self.calendar:
            off, worked = _calendar(self.calendar, self.subdivision, day.year)
            if day in worked:
                return self.weekly.get(self.workday, ())
            if day in off:
                return ()
        return self.weekly.get(day.weekday(), ())


@lru_cache(maxsize=64)
def _calendar(country: str, subdivision: str, year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(public holidays, make-up working days) of one year, as sets (cheap per-call lookups)."""
    cal = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    worked = frozenset(d for d in cal.weekend_workdays if d.year == year)  # holidays >= 0.48
    return frozenset(cal), worked


def parse_ranges(text: str) -> tuple[Range, ...]:
    """``"08:00-12:00, 13:00-20:00"`` -> ranges; ``"closed"`` -> none.

    Raises:
        ValueError: with a message an operator understands.
    """
    if text.strip().lower() == "closed":
        return ()
    out = []
    for part in text.split(","):
        start, sep, end = part.strip().partition("-")
        if not sep:
            raise ValueError(f"expected HH:MM-HH:MM, got {part.strip()!r}")
        begin, finish = _hhmm(start), _hhmm(end)
        if finish <= begin and finish != time(0, 0):
            raise ValueError(f"range {part.strip()!r} ends before it starts")
        out.append((begin, finish if finish != time(0, 0) else time.max))
    return tuple(out)


def _hhmm(text: str) -> time:
    hour, sep, minute = text.strip().partition(":")
    if not sep or not hour.isdigit() or not minute.isdigit():
        raise ValueError(f"expected HH:MM, got {text.strip()!r}")
    if hour == "24" and minute == "00":
        return time(0, 0)
    if int(hour) > 23 or int(minute) > 59:
        raise ValueError(f"bad time {text.strip()!r}: use 00:00 to 24:00")
    return time(int(hour), int(minute))


def parse_day_spec(spec: str) -> tuple[int, ...]:
    """``"mon-fri"`` -> (0..4); ``"sat"`` -> (5,); ``"sat,sun"`` -> (5, 6)."""
    days: list[int] = []
    for part in spec.lower().split(","):
        first, sep, last = part.strip().partition("-")
        if first not in DAYS or (sep and last not in DAYS):
            raise ValueError(f"unknown day {part.strip()!r}; use {', '.join(DAYS)}")
        lo = DAYS.index(first)
        hi = DAYS.index(last) if sep else lo
        if hi < lo:
            raise ValueError(f"day range {part.strip()!r} runs backwards")
        days.extend(range(lo, hi + 1))
    return tuple(days)


def known_calendar(country: str) -> bool:
    """Whether ``holidays`` knows this country code."""
    try:
        holidays.country_holidays(country, years=2026)
    except NotImplementedError:
        return False
    return True


def subdivisions(country: str) -> frozenset[str]:
    """The subdivision codes ``holidays`` knows for ``country`` (empty when none or unknown)."""
    return frozenset(holidays.list_supported_countries().get(country, ()))


def weekly_from(spec: Mapping[str, str]) -> dict[int, tuple[Range, ...]]:
    """Fold ``{"mon-fri": "...", "sat": "..."}``; later keys override earlier ones."""
    weekly: dict[int, tuple[Range, ...]] = {}
    for days, ranges in spec.items():
        parsed = parse_ranges(str(ranges))
        for day in parse_day_spec(days):
            weekly[day] = parsed
    return weekly
