"""Erlang A with the patience distribution itself: the M/M/n+G queue, exactly.

Calibrated patience is a Kaplan-Meier distribution, not an exponential: a
crowd that hangs up at 30-60 s and a few who wait minutes abandon quite
differently from an exponential with the same mean (the planner's Erlang
start used only the mean). :mod:`simulator.theory` keeps the Markovian
models; this module adds the general-patience one the planner starts from.

M/M/n+G, FCFS (Baccelli & Hebuterne 1981, "On queues with impatient
customers"; Zeltyn & Mandelbaum 2005, "Call centers with impatient
customers: many-server asymptotics of the M/M/n+G queue", Queueing Systems
51). With Gbar(x) = P(patience > x) and H(x) = integral of Gbar on [0, x],
the offered wait V (what an arrival would wait if infinitely patient) has
an atom P(V = 0) = pi_{n-1} E and, for x > 0, the density

    v(x) = lambda pi_{n-1} exp(lambda H(x) - n mu x),

from level crossing: only arrivals who will be served (patience > V) add
an Exp(n mu) amount to V. E = sum_{k<n} (n-1)!/k! (mu/lambda)^(n-1-k) and
normalisation gives pi_{n-1} = 1 / (E + lambda J), J = integral of
exp(lambda H - n mu x). By PASTA an arrival abandons with P(patience < V)
and is answered within t with P(V <= t, patience >= V). For exponential
patience these are Erlang A's figures (tests check that).

Patience is taken as a step survival function (empirical and Kaplan-Meier
patience are exactly that; a lognormal is cut into 1,000 quantiles), so H
is piecewise linear and every integral is closed-form, in log space (no
overflow at thousands of agents).
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import cast

import numpy as np
from numpy.typing import NDArray
from scipy.special import gammaln
from scipy.stats import norm

from simulator.distributions import Constant, Empirical, LogNormal, Never, Sampler, Scaled
from simulator.theory import erlang_a

__all__ = ["GResult", "PatienceSteps", "erlang_figures", "mmn_g", "patience_steps"]

LOGNORMAL_POINTS = 1_000
Floats = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PatienceSteps:
    """P(patience > x) = ``survival[j]`` for x in [``at[j]``, ``at[j+1]``); at[0] = 0."""

    at: tuple[float, ...]
    survival: tuple[float, ...]
    arrays: tuple[Floats, Floats] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:  # built once: staffing searches evaluate thousands of times
        arrays = (np.asarray(self.at, dtype=float), np.asarray(self.survival, dtype=float))
        object.__setattr__(self, "arrays", arrays)


@dataclass(frozen=True, slots=True)
class GResult:
    service_level: float  # answered within t, of all arrivals
    p_abandon: float
    p_wait: float
    occupancy: float  # carried load per agent


def patience_steps(sampler: Sampler) -> PatienceSteps | None:
    """The sampler's survival as steps; None for the Markovian ones (exponential, never)."""
    return _patience_steps(cast("Hashable", sampler))  # samplers are frozen dataclasses


@lru_cache(maxsize=256)
def _patience_steps(sampler: Hashable) -> PatienceSteps | None:
    match sampler:
        case Empirical():
            return _steps(np.asarray(sampler.values, dtype=float))
        case Constant():
            return _steps(np.array([sampler.mean]))
        case LogNormal():
            sigma = math.sqrt(math.log1p((sampler.sd / sampler.mean) ** 2))
            mu = math.log(sampler.mean) - sigma * sigma / 2
            q = (np.arange(LOGNORMAL_POINTS) + 0.5) / LOGNORMAL_POINTS
            return _steps(np.exp(mu + sigma * norm.ppf(q)))
        case Scaled():
            base = patience_steps(sampler.base)
            if base is None:
                return None
            return PatienceSteps(tuple(x * sampler.factor for x in base.at), base.survival)
    return None


def erlang_figures(
    servers: int, arrival_rate: float, aht: float, patience: Sampler, t: float
) -> GResult:
    """What the planner's Erlang start tests: the best model the patience allows.

    Infinite patience is Erlang C, exponential patience Erlang A (both exact
    Markov chains), any other distribution M/M/n+G with its own survival
    function rather than only its mean.
    """
    lam = arrival_rate
    if isinstance(patience, Never):
        if lam * aht >= servers:
            return GResult(0.0, 0.0, 1.0, 1.0)
        steps = None
    else:
        steps = patience_steps(patience)
    if steps is not None:
        return mmn_g(servers, lam, aht, steps, t)
    a = erlang_a(servers, lam, aht, patience.mean, t)
    return GResult(a.service_level, a.p_abandon, a.p_wait, lam * (1 - a.p_abandon) * aht / servers)


def _steps(values: Floats) -> PatienceSteps:
    values = np.sort(values)
    at = np.concatenate([[0.0], np.unique(values[values > 0])])
    above = 1.0 - np.searchsorted(values, at, side="right") / values.size
    return PatienceSteps(tuple(at.tolist()), tuple(above.tolist()))


def mmn_g(
    servers: int, arrival_rate: float, aht: float, patience: PatienceSteps, t: float
) -> GResult:
    """Service level, abandonment, P(wait) and occupancy of M/M/n+G (see the module notes)."""
    if servers < 1 or aht <= 0 or arrival_rate < 0:
        raise ValueError("need servers >= 1, aht > 0 and arrival_rate >= 0")
    if arrival_rate == 0:
        return GResult(1.0, 0.0, 0.0, 0.0)
    lam, rate = arrival_rate, servers / aht
    at, surv = patience.arrays
    if lam * surv[-1] >= rate:  # patient callers beyond the last step: the queue grows forever
        return GResult(0.0, 1.0 - rate / lam * surv[-1], 1.0, 1.0)
    lengths = np.append(np.diff(at), np.inf)
    h_at = np.concatenate([[0.0], np.cumsum(surv[:-1] * lengths[:-1])])
    f_at = lam * h_at - rate * at  # log of v / (lambda pi) at each step's start
    slope = lam * surv - rate
    log_piece = f_at + _log_segment(slope, lengths)
    log_j = _lse(log_piece)
    k = np.arange(servers)
    log_e = _lse(gammaln(servers) - gammaln(k + 1) + (servers - 1 - k) * math.log(1 / (aht * lam)))
    log_pi = -np.logaddexp(log_e, math.log(lam) + log_j)
    p_now = math.exp(log_pi + log_e)
    weights = np.exp(log_piece + log_pi + math.log(lam))  # P(V in each piece)
    p_abandon = float(((1 - surv) * weights).sum())
    within = np.clip(t - at, 0.0, lengths)
    log_within = f_at + _log_segment(slope, within)
    answered_by_t = float((surv * np.exp(log_within + log_pi + math.log(lam))).sum())
    served = 1.0 - p_abandon
    return GResult(
        min(1.0, p_now + answered_by_t), p_abandon, 1.0 - p_now, lam * served * aht / servers
    )


def _lse(x: Floats) -> float:
    """log(sum(exp(x))) without overflow (scipy's logsumexp costs ~1 ms a call here)."""
    top = float(np.max(x))
    if not math.isfinite(top):
        return top
    return top + math.log(float(np.exp(x - top).sum()))


def _log_segment(slope: Floats, length: Floats) -> Floats:
    """log of the integral of exp(slope u) for u in [0, length] (length may be inf)."""
    s, n = np.asarray(slope, dtype=float), np.asarray(length, dtype=float)
    out = np.full(s.shape, -np.inf)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        zero = s == 0
        out[zero] = np.log(n[zero])
        up = (s > 0) & (n > 0)
        out[up] = s[up] * n[up] + np.log1p(-np.exp(-s[up] * n[up])) - np.log(s[up])
        down = (s < 0) & (n > 0)
        out[down] = np.log(-np.expm1(s[down] * n[down])) - np.log(-s[down])
    return out
