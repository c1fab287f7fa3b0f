"""Business hours: holidays and make-up working days from the calendar, operator dates on top."""

from __future__ import annotations

from datetime import datetime

from router.flows.hours import BusinessHours
from tests.flows.helpers import SHANGHAI, flows

FLOW = """\
flow: main
serves: {{dnis: ["100"]}}
start: a
hours:
  office:
    timezone: Asia/Shanghai
    {extra}
    weekly: {{mon-thu: "08:00-20:00", fri: "08:00-17:00"}}
nodes:
  a: {{type: hangup}}
"""


def office(extra: str = "holidays: CN") -> BusinessHours:
    return flows(FLOW.format(extra=extra)).flows["main"].hours["office"]


def at(day: str, hhmm: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=SHANGHAI)


class TestMakeUpWorkingDays:
    def test_calendar_make_up_saturday_is_open(self) -> None:
        """2026-02-28, a Saturday China works, opens from the package alone, with Monday's hours."""
        hours = office()
        assert hours.is_open(at("2026-02-28", "10:00"))
        assert hours.is_open(at("2026-02-28", "19:00"))  # Monday's 08:00-20:00
        assert not hours.is_open(at("2026-03-07", "10:00"))  # an ordinary Saturday

    def test_make_up_sunday_too(self) -> None:
        """2026-01-04 (Sunday) is a make-up working day as well."""
        assert office().is_open(at("2026-01-04", "09:00"))

    def test_workday_hours_picks_the_weekday(self) -> None:
        """workday_hours: fri gives make-up days Friday's hours (to 17:00)."""
        hours = office("holidays: CN\n    workday_hours: fri")
        assert hours.is_open(at("2026-02-28", "16:00"))
        assert not hours.is_open(at("2026-02-28", "18:00"))

    def test_without_calendar_a_saturday_stays_closed(self) -> None:
        """No holidays: calendar, no make-up days."""
        assert not office("").is_open(at("2026-02-28", "10:00"))


class TestHolidaysAndOverrides:
    def test_public_holiday_closed(self) -> None:
        """National Day (Thursday 2026-10-01) is closed from the calendar."""
        assert not office().is_open(at("2026-10-01", "10:00"))

    def test_operator_closed_beats_make_up_day(self) -> None:
        """closed: wins over the calendar's make-up working day."""
        hours = office("holidays: CN\n    closed: [2026-02-28]")
        assert not hours.is_open(at("2026-02-28", "10:00"))

    def test_operator_open_beats_holiday_with_workday_hours(self) -> None:
        """open: opens a public holiday, with the working-day hours."""
        hours = office("holidays: CN\n    open: [2026-10-01]")
        assert hours.is_open(at("2026-10-01", "19:00"))

    def test_subdivision_holidays(self) -> None:
        """A subdivision adds its own holidays (Texas Independence Day, Monday 2026-03-02)."""
        base = FLOW.replace("Asia/Shanghai", "America/Chicago")
        texas = flows(base.format(extra="holidays: US\n    subdivision: TX"))
        plain = flows(base.format(extra="holidays: US"))
        when = datetime.fromisoformat("2026-03-02T10:00-06:00")
        assert not texas.flows["main"].hours["office"].is_open(when)
        assert plain.flows["main"].hours["office"].is_open(when)
