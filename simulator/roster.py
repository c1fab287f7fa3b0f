"""Shifts that cover a staffing plan at least cost: an integer program (scipy ``milp``).

The planner says how many agents each interval needs; people work shifts.
Each shift template has a length, a cost per hour and, for long shifts, one
unpaid break of one interval somewhere in a window of the shift. Variables
count the agents on each (template, start, break position); constraints say
every interval has at least its requirement working, grossed up for
shrinkage (holidays, training, sickness: the share of rostered agents not
actually on the phones). The day is circular, so night shifts wrap past
midnight. HiGHS (inside scipy) solves the few hundred variables exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

__all__ = ["DEFAULT_TEMPLATES", "Roster", "Shift", "ShiftTemplate", "build_roster"]


@dataclass(frozen=True, slots=True)
class ShiftTemplate:
    """A shift kind: ``hours`` long, a break of one interval after ``break_after`` hours
    (a window of ``(earliest, latest)``), or no break when ``break_after`` is None."""

    name: str
    hours: float
    cost_per_hour: float = 1.0
    break_after: tuple[float, float] | None = None


DEFAULT_TEMPLATES = (
    ShiftTemplate("full", 8.5, break_after=(3.0, 5.0)),  # 8 h paid, a 30-min break
    ShiftTemplate("part", 4.0),
)


@dataclass(frozen=True, slots=True)
class Shift:
    """``count`` agents on ``template`` from interval ``start``, break at ``break_at``."""

    template: str
    start: int
    break_at: int | None
    count: int


@dataclass(frozen=True, slots=True)
class Roster:
    shifts: tuple[Shift, ...]
    need: tuple[int, ...]  # agents required on the phones, after shrinkage
    working: tuple[int, ...]  # agents the roster puts on the phones
    paid_hours: float
    cost: float


def _columns(
    templates: Sequence[ShiftTemplate], n: int, minutes: int
) -> list[tuple[ShiftTemplate, int, int | None, np.ndarray]]:
    """Every (template, start, break) with the intervals it works (circular day)."""
    per_hour = 60 / minutes
    out = []
    for t in templates:
        length = round(t.hours * per_hour)
        if length < 1 or length > n:
            raise ValueError(f"shift {t.name!r} must be between one interval and one day")
        breaks: list[int | None] = [None]
        if t.break_after is not None:
            lo, hi = (round(h * per_hour) for h in t.break_after)
            breaks = list(range(max(1, lo), min(length - 1, hi) + 1))
        for start in range(n):
            for b in breaks:
                cover = np.zeros(n)
                for k in range(length):
                    if k != b:
                        cover[(start + k) % n] = 1.0
                out.append((t, start, None if b is None else (start + b) % n, cover))
    return out


def build_roster(
    required: Sequence[int],
    minutes: int,
    *,
    shrinkage: float = 0.0,
    templates: Sequence[ShiftTemplate] = DEFAULT_TEMPLATES,
) -> Roster:
    """The cheapest shifts putting ``required[i] / (1 - shrinkage)`` agents in interval i."""
    if not 0.0 <= shrinkage < 1.0:
        raise ValueError("shrinkage must be in [0, 1)")
    n = len(required)
    need = [math.ceil(r / (1.0 - shrinkage) - 1e-9) if r > 0 else 0 for r in required]
    cols = _columns(templates, n, minutes)
    if not any(need):
        return Roster((), tuple(need), (0,) * n, 0.0, 0.0)
    cover = np.array([c[3] for c in cols]).T  # n x columns
    # paid = the intervals worked: an 8.5 h shift on hourly intervals spans 8 of them, and
    # its break takes a whole hour, so it pays 7 h, not 8.5 - 1
    paid = cover.sum(axis=0) * minutes / 60
    cost = paid * np.array([c[0].cost_per_hour for c in cols])
    result = milp(
        c=cost,
        constraints=LinearConstraint(cover, lb=np.array(need, dtype=float), ub=np.inf),
        integrality=np.ones(len(cols)),
        bounds=Bounds(0, np.inf),
    )
    if not result.success:
        raise ValueError(f"no roster found: {result.message}")
    counts = np.rint(result.x).astype(int)
    shifts = tuple(
        Shift(t.name, start, brk, int(k))
        for (t, start, brk, _), k in zip(cols, counts, strict=True)
        if k > 0
    )
    working = tuple(int(v) for v in cover @ counts)
    return Roster(shifts, tuple(need), working, float(paid @ counts), float(cost @ counts))
