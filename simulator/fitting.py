"""Fit handle-time distributions to observed durations, with goodness of fit.

A planner must see how well a fitted distribution matches their calls
before trusting a plan built on it, so each fit carries its Kolmogorov-
Smirnov distance and p-value (scipy.stats.kstest) and the better of the two
families the simulator draws from (exponential, lognormal) is chosen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

__all__ = ["Fit", "fit_durations"]


@dataclass(frozen=True, slots=True)
class Fit:
    """A fitted family with its parameters (mean, sd in seconds) and its fit."""

    dist: str
    mean: float
    sd: float
    n: int
    ks: float
    p_value: float

    def as_spec(self) -> dict[str, object]:
        """The scenario file's ``{dist: ..., mean: ..., sd: ...}``."""
        if self.dist == "exponential":
            return {"dist": "exponential", "mean": round(self.mean, 2)}
        return {"dist": "lognormal", "mean": round(self.mean, 2), "sd": round(self.sd, 2)}


def _exponential(x: NDArray[np.float64]) -> Fit:
    mean = float(x.mean())
    res = stats.kstest(x, "expon", args=(0, mean))
    return Fit("exponential", mean, mean, x.size, float(res.statistic), float(res.pvalue))


def _lognormal(x: NDArray[np.float64]) -> Fit:
    logs = np.log(x)
    mu, sigma = float(logs.mean()), float(logs.std(ddof=1))
    mean = math.exp(mu + sigma**2 / 2)
    sd = mean * math.sqrt(math.expm1(sigma**2))
    res = stats.kstest(x, "lognorm", args=(sigma, 0, math.exp(mu)))
    return Fit("lognormal", mean, sd, x.size, float(res.statistic), float(res.pvalue))


def fit_durations(values: NDArray[np.float64]) -> Fit | None:
    """The better-fitting family for positive durations (None with fewer than 10)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x) & (x > 0)]
    if x.size < 10:
        return None
    fits = [_exponential(x), _lognormal(x)]
    return min(fits, key=lambda f: f.ks)
