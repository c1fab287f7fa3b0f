"""Turning per-call outcomes into the figures planners read, with CIs.

A figure is a ratio over calls of one run; across independent replications
its mean gets a Student-t 95% confidence interval (replications are i.i.d.,
calls inside one run are not).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as st

from simulator.engine import RunResult

__all__ = ["METRICS", "Estimate", "TierFigures", "combine", "tier_figures"]

METRICS = ("offered", "answered", "abandoned", "p_wait", "asa", "service_level", "abandon_rate")


@dataclass(frozen=True, slots=True)
class TierFigures:
    offered: int
    answered: int
    abandoned: int
    p_wait: float
    asa: float
    service_level: float
    abandon_rate: float


@dataclass(frozen=True, slots=True)
class Estimate:
    mean: float
    ci95: float  # half-width; nan with one replication


def _figures(mask: np.ndarray, r: RunResult, sl_seconds: float) -> TierFigures:
    offered = int(mask.sum())
    answered_mask = mask & r.answered
    answered = int(answered_mask.sum())
    waits = r.wait[answered_mask]
    if offered == 0:
        return TierFigures(0, 0, 0, math.nan, math.nan, math.nan, math.nan)
    return TierFigures(
        offered=offered,
        answered=answered,
        abandoned=offered - answered,
        p_wait=float((r.wait[mask] > 0).mean()),
        asa=float(waits.mean()) if answered else math.nan,
        service_level=float((waits <= sl_seconds).sum() / offered),
        abandon_rate=(offered - answered) / offered,
    )


def tier_figures(r: RunResult) -> dict[str, TierFigures]:
    """Figures per tier over the measured window of one run."""
    tiers = np.array([s.tier for s in r.streams])[r.stream] if r.stream.size else np.array([])
    names = sorted({s.tier for s in r.streams})
    return {t: _figures(tiers == t, r, r.config.sl_seconds) for t in names}


def combine(runs: Sequence[TierFigures]) -> dict[str, Estimate]:
    """Mean and 95% CI half-width of each metric across replications."""
    out: dict[str, Estimate] = {}
    for name in METRICS:
        values = np.array([getattr(f, name) for f in runs], dtype=float)
        values = values[~np.isnan(values)]
        if values.size == 0:
            out[name] = Estimate(math.nan, math.nan)
            continue
        half = math.nan
        if values.size > 1:
            half = float(
                st.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size)
            )
        out[name] = Estimate(float(values.mean()), half)
    return out
