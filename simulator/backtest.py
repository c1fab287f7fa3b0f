"""Backtest: the calibrated twin against the period it was calibrated on.

Per interval of the day (the centre's clock, averaged over the days
recorded): service level, abandonment and ASA as observed, as simulated
(mean of replications, with the 95 % half-width), and the error. A planner
trusts the twin's plans as far as these errors go.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from router.ami.records import CallRecord
from simulator.calibration import local_slots
from simulator.runner import Replications

__all__ = ["BacktestRow", "backtest_rows", "observed"]


@dataclass(frozen=True, slots=True)
class BacktestRow:
    """One interval: observed, simulated (+- CI) and the error, per figure."""

    interval: int
    offered: float
    figures: dict[str, tuple[float | None, float | None, float | None]]

    def error(self, name: str) -> float | None:
        seen, sim, _ = self.figures[name]
        return None if seen is None or sim is None else sim - seen


def observed(
    records: Iterable[CallRecord], zone: ZoneInfo, minutes: int, sl_seconds: float
) -> dict[int, dict[str, float | None]]:
    """Figures of the queued calls per interval of the day, all days pooled."""
    rows = [r for r in records if r.joined_at]
    if not rows:
        return {}
    day, slot = local_slots(np.array([r.started_at or r.ended_at for r in rows]), zone, minutes)
    n_days = len(set(day.tolist()))
    out: dict[int, dict[str, float | None]] = {}
    for i in sorted(set(slot.tolist())):
        mine = [r for r, s in zip(rows, slot.tolist(), strict=True) if s == i]
        answered = [r for r in mine if r.outcome == "answered"]
        n = len(mine)
        out[i] = {
            "offered": n / n_days,
            "service_level": sum(r.wait_s <= sl_seconds for r in answered) / n,
            "abandon_rate": sum(r.outcome == "abandoned" for r in mine) / n,
            "asa": sum(r.wait_s for r in answered) / len(answered) if answered else None,
        }
    return out


def backtest_rows(
    seen: dict[int, dict[str, float | None]], reps: Replications, n_intervals: int
) -> list[BacktestRow]:
    """Rows for every interval that had queued calls in the records."""
    out = []
    for i in range(n_intervals):
        if i not in seen:
            continue
        est = reps.estimates.get(f"interval/{i}", {})
        figures = {}
        for name in ("service_level", "abandon_rate", "asa"):
            e = est.get(name)
            sim = e.mean if e is not None and math.isfinite(e.mean) else None
            ci = e.ci95 if e is not None and math.isfinite(e.ci95) else None
            figures[name] = (seen[i][name], sim, ci)
        out.append(BacktestRow(i, float(seen[i]["offered"] or 0.0), figures))
    return out
