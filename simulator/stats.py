"""From call logs to planner figures: per tier, queue and interval, with 95% CIs.

Statistics count callers by arrival time inside [warmup, horizon), so the
warm-up transient and the drain after the last interval are both excluded
from rates while their calls still finish naturally.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from simulator.engine import ABANDONED, ANSWERED, IVR_ENDED, TIMED_OUT, CallLog
from simulator.model import IVR_ENDINGS, SimModel

__all__ = [
    "METRICS",
    "Estimate",
    "JsonResults",
    "LittleCheck",
    "as_json",
    "combine",
    "littles_law",
    "summarize",
]

METRICS = (
    "calls",
    "ivr_ended",
    "ivr_s",
    "offered",
    "answered",
    "abandoned",
    "p_wait",
    "asa",
    "service_level",
    "abandon_rate",
    "mean_wait",
    "callbacks",
)
DEFAULT_SL_SECONDS = 20.0
Summary = dict[str, dict[str, float]]


@dataclass(frozen=True, slots=True)
class Estimate:
    """Mean over replications and the 95% confidence half-width (Student t)."""

    mean: float
    ci95: float

    @property
    def half(self) -> float:
        """The half-width to lean on: 0 when too few replications give no interval."""
        return self.ci95 if math.isfinite(self.ci95) else 0.0


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


def _measure(log: CallLog, sl: NDArray[np.float64], mask: NDArray[np.bool_]) -> dict[str, float]:
    """Queue figures count the calls offered to a queue: calls ended in the IVR
    (self-service, a callback request, a transfer) are reported apart, as a
    contact centre's containment figure, and never dilute the service level.
    """
    calls = int(mask.sum())
    contained = mask & (log.outcome == IVR_ENDED)
    mask = mask & ~contained
    offered = int(mask.sum())
    ans = mask & (log.outcome == ANSWERED)
    lost = mask & ((log.outcome == ABANDONED) | (log.outcome == TIMED_OUT))
    n_ans = int(ans.sum())
    waited = mask & (np.nan_to_num(log.wait, nan=np.inf) > 0)
    done = mask & ~np.isnan(log.wait)
    return {
        "calls": float(calls),
        "ivr_ended": float(contained.sum()),
        "ivr_s": float(log.ivr_time[mask | contained].mean()) if calls else math.nan,
        "offered": float(offered),
        "answered": float(n_ans),
        "abandoned": float(lost.sum()),
        "p_wait": _ratio(float(waited.sum()), offered),
        "asa": float(log.wait[ans].mean()) if n_ans else math.nan,
        "service_level": _ratio(float((ans & (log.wait <= sl)).sum()), offered),
        "abandon_rate": _ratio(float(lost.sum()), offered),
        "mean_wait": float(log.wait[done].mean()) if done.any() else math.nan,
        "callbacks": float((mask & log.callback).sum()),
    }


def _endings(log: CallLog, window: NDArray[np.bool_]) -> Summary:
    """How contained calls ended, one key per ending so every replication has the same keys."""
    return {
        f"ivr/{name}": {"calls": float((window & (log.ivr_ending == i)).sum())}
        for i, name in enumerate(IVR_ENDINGS)
    }


def _busy_by_interval(log: CallLog, model: SimModel, qi: int) -> NDArray[np.float64]:
    """Agent-seconds of talk inside each interval (service spans clipped)."""
    ans = (log.queue == qi) & (log.outcome == ANSWERED)
    start = log.enqueue[ans] + log.wait[ans]
    end = start + log.service[ans]
    edges = np.arange(model.n_intervals + 1) * model.interval_s
    cum = np.array([np.clip(b - start, 0, end - start).sum() for b in edges])
    return np.diff(cum)


def summarize(log: CallLog, model: SimModel) -> Summary:
    """Figures of one replication, keyed "all", "tier/T", "queue/Q", "interval/I", "tier/T/I"."""
    window = (log.arrive >= model.warmup_s) & (log.arrive < model.horizon)
    tier_of = np.array([s.tier for s in model.streams])[log.stream]
    sl_by_tier = {t: model.sl_seconds.get(t, DEFAULT_SL_SECONDS) for t in model.tiers}
    sl = np.array([sl_by_tier[s.tier] for s in model.streams])[log.stream]
    interval = np.minimum((log.arrive // model.interval_s).astype(int), model.n_intervals - 1)
    out: Summary = {"all": _measure(log, sl, window), **_endings(log, window)}
    for tier in model.tiers:
        in_tier = window & (tier_of == tier)
        out[f"tier/{tier}"] = _measure(log, sl, in_tier)
        for i in range(model.n_intervals):
            out[f"tier/{tier}/{i}"] = _measure(log, sl, in_tier & (interval == i))
    for i in range(model.n_intervals):
        out[f"interval/{i}"] = _measure(log, sl, window & (interval == i))
    for qi, q in enumerate(model.queues):
        out[f"queue/{q.name}"] = _measure(log, sl, window & (log.queue == qi))
        busy = _busy_by_interval(log, model, qi)
        in_queue = window & (log.queue == qi)
        for i in range(model.n_intervals):
            paid = q.agents[i] * model.interval_s / 3600 / (1 - q.shrinkage)
            out[f"queue/{q.name}/{i}"] = {
                "agents": float(q.agents[i]),
                "offered": float((in_queue & (interval == i)).sum()),
                "occupancy": _ratio(float(busy[i]), q.agents[i] * model.interval_s),
                "cost": paid * q.cost_per_hour,
            }
    out.update({key: dict(figures) for key, figures in log.outbound.items()})
    return out


@lru_cache(maxsize=64)
def _t975(n: int) -> float:
    """Student-t 97.5 % quantile for n replications (scipy's ppf costs ~0.1 ms; the planner
    combines thousands of figures a round)."""
    return float(sps.t.ppf(0.975, n - 1))


def combine(reps: list[Summary]) -> dict[str, dict[str, Estimate]]:
    """Mean and 95% CI half-width over independent replications (NaNs skipped)."""
    out: dict[str, dict[str, Estimate]] = {}
    for key, first in reps[0].items():
        out[key] = {}
        for metric in first:
            vals = np.array([r[key][metric] for r in reps], dtype=float)
            vals = vals[~np.isnan(vals)]
            n = vals.size
            if n == 0:
                out[key][metric] = Estimate(math.nan, math.nan)
                continue
            half = float(_t975(n) * vals.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
            out[key][metric] = Estimate(float(vals.mean()), half)
    return out


@dataclass(frozen=True, slots=True)
class LittleCheck:
    """Time-average queue length L against lambda x W over one window, per queue."""

    queue: str
    length: float
    rate_times_wait: float

    @property
    def relative_error(self) -> float:
        return abs(self.length - self.rate_times_wait) / max(self.rate_times_wait, 1e-12)


def littles_law(log: CallLog, model: SimModel) -> list[LittleCheck]:
    """L from the queue-length path clipped to the window; lambda W from its arrivals.

    The two differ only by callers straddling the window edges, so a large
    gap means waits or counts were booked wrongly.
    """
    t0, t1 = model.warmup_s, model.horizon
    out = []
    for qi, q in enumerate(model.queues):
        m = (log.queue == qi) & ~np.isnan(log.wait)
        enq, leave = log.enqueue[m], log.enqueue[m] + log.wait[m]
        area = np.clip(np.minimum(leave, t1) - np.maximum(enq, t0), 0, None).sum()
        arrived = (enq >= t0) & (enq < t1)
        if not arrived.any():  # a lane nobody was routed to: L = lambda W = 0
            out.append(LittleCheck(q.name, float(area / (t1 - t0)), 0.0))
            continue
        lw = float(arrived.sum()) / (t1 - t0) * float(log.wait[m][arrived].mean())
        out.append(LittleCheck(q.name, float(area / (t1 - t0)), lw))
    return out


JsonResults = dict[str, dict[str, dict[str, float | None]]]


def as_json(combined: Mapping[str, Mapping[str, Estimate]]) -> JsonResults:
    """Plain dicts for results.json / --json."""
    return {
        k: {m: {"mean": _finite(e.mean), "ci95": _finite(e.ci95)} for m, e in v.items()}
        for k, v in combined.items()
    }


def _finite(x: float) -> float | None:
    """JSON has no NaN: a figure that cannot be estimated (one replication's CI) is null."""
    return x if math.isfinite(x) else None
