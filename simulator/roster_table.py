"""A roster as a planner reads it: shifts by clock time, and coverage per interval.

:func:`simulator.roster.build_roster` works in interval numbers on a
circular day; people work from 08:00 to 16:30 with a break at 12:00. These
rows are what ``roster.csv`` and the report's roster tables show, so the
file a planner circulates and the page agree to the agent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from simulator.report_labels import Labels, labels
from simulator.roster import DEFAULT_TEMPLATES, Roster, ShiftTemplate

__all__ = ["CSV_HEADER", "RosterTable", "coverage_rows", "roster_table"]

CSV_HEADER = ("queue", "shift", "start", "end", "break", "agents", "paid_hours")


@dataclass(frozen=True, slots=True)
class RosterTable:
    """One queue's shifts as rows, and its totals."""

    queue: str
    rows: tuple[tuple[str, str, str, str, str, int, float], ...]  # as CSV_HEADER
    people: int
    paid_hours: float
    floor_hours: float  # the interval minimum: required agent-intervals in hours


def _end(clock: Sequence[str], index: int, n: int, lab: Labels | None) -> str:
    """The clock time ``index`` intervals from the start, marked when on the next day."""
    text = clock[index % n]
    if index < n:
        return text
    return f"{text} {lab['next_day']}" if lab else f"{text}+1"


def roster_table(
    queue: str,
    roster: Roster,
    clock: Sequence[str],
    minutes: int,
    *,
    lang: str | None = None,
    templates: Sequence[ShiftTemplate] = DEFAULT_TEMPLATES,
) -> RosterTable:
    """Shifts of ``roster`` with start, end and break as ``clock`` (interval labels) shows them.

    The day of ``clock`` is circular like the roster's, so a night shift
    starting at 22:00 ends at 06:30 the next day and says so. With ``lang``
    the shift kinds are named for people; without, as in the CSV, by their
    template names.
    """
    lab, n = (labels(lang) if lang else None), len(clock)
    kinds = {t.name: t for t in templates}
    rows = []
    for s in sorted(roster.shifts, key=lambda s: (s.start, s.template, s.break_at or 0)):
        t = kinds[s.template]
        length = round(t.hours * 60 / minutes)
        paid = (length - (s.break_at is not None)) * minutes / 60 * s.count  # as build_roster pays
        pause = "" if s.break_at is None else clock[s.break_at]
        name = lab.get(s.template, s.template) if lab else s.template
        end = _end(clock, s.start + length, n, lab)
        rows.append((queue, name, clock[s.start], end, pause, s.count, round(paid, 2)))
    return RosterTable(
        queue,
        tuple(rows),
        sum(s.count for s in roster.shifts),
        roster.paid_hours,
        sum(roster.need) * minutes / 60,
    )


def coverage_rows(
    rosters: Mapping[str, Roster], clock: Sequence[str]
) -> list[tuple[str, list[tuple[int, int]]]]:
    """Per interval: its clock time and, per queue, (rostered on the phones, required)."""
    return [
        (label, [(r.working[i], r.need[i]) for r in rosters.values()])
        for i, label in enumerate(clock)
    ]
