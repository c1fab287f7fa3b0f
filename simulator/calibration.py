"""A scenario from the centre's own call records: the planner's digital twin.

Pure: call records in (``router.ami.records.CallRecord``, one per call, as
the AMI listener writes them), parameters out:

* arrivals per local interval of the day, per dialled number: the mean over
  the days observed and their spread, with each number's tier mix;
* handle time per queue (answered calls' talk time), fitted with goodness
  of fit (:mod:`simulator.fitting`);
* patience per tier from queue waits with censoring handled properly: an
  abandoned caller shows its patience, an answered one only that its
  patience was longer than its wait. Kaplan-Meier (``scipy.stats.ecdf`` on
  ``CensoredData``) estimates the patience distribution, written as an
  empirical distribution of its quantiles;
* agents per queue and interval as observed: the most calls talking at once
  (exact where callers queued, a lower bound where agents idled) - a
  starting point that ``tierline plan`` then improves on.

Arrays throughout, so a million records calibrate in seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from scipy.stats import CensoredData, ecdf

from router.ami.records import CallRecord
from simulator.fitting import Fit, fit_durations

__all__ = [
    "Calibration",
    "Patience",
    "Traffic",
    "calibrate",
    "local_slots",
]

QUANTILES = 100  # points of an empirical patience distribution
MIN_AT_RISK = 50  # callers still waiting at a KM median for it to be reported


@dataclass(frozen=True, slots=True)
class Traffic:
    """One dialled number's calls per interval (to one queue, when ``queue`` is set):
    mean and spread over the days."""

    dnis: str
    mean: tuple[float, ...]
    sd: tuple[float, ...]
    mix: dict[str, float]
    queue: str = ""


@dataclass(frozen=True, slots=True)
class Patience:
    """A tier's patience, estimated with answered callers as censored observations."""

    tier: str
    median: float | None  # None when fewer than half ever abandon (KM never falls to 0.5)
    values: tuple[float, ...]  # quantiles 0.5/Q ... for an empirical distribution
    abandoned: int
    censored: int


@dataclass(frozen=True, slots=True)
class Calibration:
    """Everything a scenario needs, plus how sure we are of it."""

    interval_minutes: int
    days: int
    start: str
    traffic: tuple[Traffic, ...]
    handle: dict[str, Fit]
    patience: dict[str, Patience]
    agents: dict[str, tuple[int, ...]] = field(default_factory=dict)
    routes: dict[str, dict[str, float]] = field(default_factory=dict)  # dnis -> queue shares
    calls: int = 0
    contained: int = 0  # calls that ended in the IVR (never queued): not in ``traffic``


@dataclass(slots=True)
class _Arrays:
    started: NDArray[np.float64]
    joined: NDArray[np.float64]
    answered: NDArray[np.float64]
    ended: NDArray[np.float64]
    wait: NDArray[np.float64]
    abandoned: NDArray[np.bool_]
    dnis: NDArray[np.str_]
    tier: NDArray[np.str_]
    queue: NDArray[np.str_]


_FIELDS = attrgetter(
    "started_at", "joined_at", "answered_at", "abandoned_at", "left_at", "ended_at",
    "outcome", "dnis", "tier", "queue",
)  # fmt: skip


def _arrays(records: Iterable[CallRecord]) -> _Arrays:
    """Columns of the records; one attribute fetch per record, the rest vectorised."""
    rows = [_FIELDS(r) for r in records]
    if not rows:
        raise ValueError("no call records in the period")
    cols = list(zip(*rows, strict=True))
    started, joined, answered, abandoned, left, ended = (
        np.asarray(c, dtype=float) for c in cols[:6]
    )
    outcome = np.asarray(cols[6], dtype=str)
    # CallRecord.wait_s, vectorised: until answer, abandon, leaving or hang-up
    until = np.where(answered > 0, answered, np.where(abandoned > 0, abandoned,
                     np.where(left > 0, left, ended)))  # fmt: skip
    wait = np.where(joined > 0, np.maximum(0.0, until - joined), 0.0)
    return _Arrays(
        started=np.where(started > 0, started, ended), joined=joined, answered=answered,
        ended=ended, wait=wait, abandoned=outcome == "abandoned",
        dnis=_named(cols[7]), tier=_named(cols[8]), queue=np.asarray(cols[9], dtype=str),
    )  # fmt: skip


def _named(values: Sequence[str]) -> NDArray[np.str_]:
    """Names with the blank ones (no dialled number, an unknown caller) as ``unknown``."""
    out = np.asarray(values, dtype=str)
    return np.where(out == "", "unknown", out)


def _local(t: NDArray[np.float64], zone: ZoneInfo) -> NDArray[np.float64]:
    """Epoch seconds shifted to the centre's wall clock (one UTC offset per UTC day)."""
    days, inverse = np.unique(np.floor(t / 86400).astype(np.int64), return_inverse=True)
    offsets = np.array([
        (datetime.fromtimestamp(float(d) * 86400 + 43200, zone).utcoffset() or timedelta(0))
        .total_seconds()
        for d in days
    ])  # fmt: skip
    return np.asarray(t + offsets[inverse], dtype=float)


def local_slots(
    t: NDArray[np.float64], zone: ZoneInfo, minutes: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(local day number, interval of the day) of epoch times, by the centre's clock."""
    return _slots(_local(t, zone), minutes)


def _slots(local: NDArray[np.float64], minutes: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(local day number, interval of the day) of each wall-clock time."""
    day = np.floor(local / 86400).astype(np.int64)
    return day, ((local - day * 86400) // (minutes * 60)).astype(np.int64)


def _traffic(  # noqa: PLR0917 - the columns and the grid's shape
    a: _Arrays,
    day: NDArray[np.int64],
    slot: NDArray[np.int64],
    n_days: int,
    n: int,
    by_queue: bool = False,
) -> tuple[Traffic, ...]:
    """Calls per interval of each dialled number, or of each (number, queue) pair.

    Per pair, because which queue a number's callers reach changes through
    the day (after hours only the red-list desk answers): one day-wide
    share per number would send night calls to lanes nobody staffs.
    """
    out = []
    day_index = {d: i for i, d in enumerate(np.unique(day))}
    di = np.array([day_index[d] for d in day])
    groups = sorted(set(zip(a.dnis.tolist(), a.queue.tolist() if by_queue else [""] * len(a.dnis),
                            strict=True)))  # fmt: skip
    for dnis, queue in groups:
        mine = (a.dnis == dnis) & (a.queue == queue) if by_queue else a.dnis == dnis
        grid = np.zeros((n_days, n))
        np.add.at(grid, (di[mine], slot[mine]), 1.0)
        tiers, counts = np.unique(a.tier[mine], return_counts=True)
        mix = {
            str(t): round(float(c) / int(mine.sum()), 4) for t, c in zip(tiers, counts, strict=True)
        }
        sd = grid.std(axis=0, ddof=1) if n_days > 1 else np.zeros(n)
        mean = tuple(round(float(v), 3) for v in grid.mean(axis=0))
        out.append(Traffic(dnis, mean, tuple(round(float(v), 3) for v in sd), mix, queue))
    return tuple(out)


def _patience(a: _Arrays) -> dict[str, Patience]:
    out = {}
    queued = a.joined > 0
    for tier in sorted(set(a.tier[queued].tolist())):
        mine = queued & (a.tier == tier)
        events, censored = a.wait[mine & a.abandoned], a.wait[mine & ~a.abandoned]
        if events.size == 0:
            out[tier] = Patience(tier, None, (), 0, int(censored.size))
            continue
        sf = ecdf(CensoredData(uncensored=events, right=censored)).sf
        times, surv = sf.quantiles, sf.probabilities
        values = _quantile_values(times, surv, float(a.wait[mine].max()))
        median = _median(times, surv, a.wait[mine])
        out[tier] = Patience(tier, median, values, int(events.size), int(censored.size))
    return out


def _median(
    times: NDArray[np.float64], survival: NDArray[np.float64], waits: NDArray[np.float64]
) -> float | None:
    """KM median, or None where the data cannot tell it.

    Beyond the waits observed, a few callers still at risk make each event a
    big step, so the curve can fall past 0.5 on two or three calls (VIPs
    answered within a minute tell nothing about a two-minute patience). A
    median is given only with at least ``MIN_AT_RISK`` callers still waiting
    there.
    """
    below = np.flatnonzero(survival <= 0.5)
    if not below.size:
        return None
    median = float(times[below[0]])
    return median if int((waits >= median).sum()) >= MIN_AT_RISK else None


def _quantile_values(
    times: NDArray[np.float64], survival: NDArray[np.float64], longest: float
) -> tuple[float, ...]:
    """Patience values at probabilities (k + 0.5) / Q of the KM distribution.

    Beyond the longest wait observed the data says only "more than that":
    that mass is placed at twice the longest wait (a caller that patient
    never abandons in practice), and said so in the calibration report.
    """
    cdf = 1.0 - survival
    probs = (np.arange(QUANTILES) + 0.5) / QUANTILES
    idx = np.searchsorted(cdf, probs, side="left")
    values = np.where(idx < times.size, times[np.minimum(idx, times.size - 1)], 2 * longest)
    return tuple(round(float(v), 2) for v in values)


def _agents(
    a: _Arrays, zone: ZoneInfo, *, n_days: int, n: int, minutes: int
) -> dict[str, tuple[int, ...]]:
    """Agents seen at work per interval: the most calls talking at once, mean over days,
    and at least one where any day had a call talking.

    Records do not say who was logged in, only who talked. Where callers
    waited, every agent was busy, so the peak is the staffing; where agents
    sat idle it is a lower bound that ``tierline plan`` then corrects.
    """
    out = {}
    talk = (a.answered > 0) & (a.ended > a.answered)
    for queue in sorted(set(a.queue[talk].tolist()) - {""}):
        mine = talk & (a.queue == queue)
        # ms, as the calls stream stores times: an agent's next answer at the instant its
        # last call ended must not count as two calls at once
        times = np.round(_local(np.concatenate([a.answered[mine], a.ended[mine]]), zone), 3)
        steps = np.concatenate([np.ones(int(mine.sum())), -np.ones(int(mine.sum()))])
        order = np.lexsort((steps, times))  # an end before a start at the same instant
        times, level = times[order], np.cumsum(steps[order])
        day, slot = _slots(times, minutes)
        key = (day - day.min()) * n + slot
        peak = np.zeros(int(key.max()) + 1)
        np.maximum.at(peak, key, level)
        days = np.zeros((-(-peak.size // n), n))  # whole days, zero-padded
        days.flat[: peak.size] = peak
        # a slot where some day had a call talking had someone logged in: at least one
        # agent, or a quiet night's mean (one call in three days) rounds to an empty lane
        seen = days.max(axis=0) > 0
        per_slot = np.maximum(np.rint(days.sum(axis=0) / n_days), seen)
        out[queue] = tuple(int(v) for v in per_slot)
    return out


def calibrate(
    records: Iterable[CallRecord],
    zone: ZoneInfo,
    *,
    interval_minutes: int = 30,
    weekdays: Sequence[int] | None = None,
    all_calls: bool = False,
) -> Calibration:
    """Parameters of the centre from its records (``weekdays``: 0 = Monday; None = all).

    Arrivals count the calls that reached a queue, as the per-number menus
    of :func:`simulator.twin.scenario_document` route them; with ``all_calls`` every call,
    for a twin that walks the operator's flows (which contain the rest).
    """
    if 1440 % interval_minutes:
        raise ValueError("interval_minutes must divide a day (e.g. 15, 30, 60)")
    a = _arrays(records)
    local = _local(a.started, zone)
    day, slot = _slots(local, interval_minutes)
    if weekdays is not None:  # 1970-01-01 was a Thursday (weekday 3)
        keep = np.isin((day + 3) % 7, np.asarray(list(weekdays)))
        a = _Arrays(*(getattr(a, f)[keep] for f in _Arrays.__dataclass_fields__))
        day, slot = day[keep], slot[keep]
        if not a.started.size:
            raise ValueError("no call records on those weekdays")
    calls, queued = int(a.started.size), a.joined > 0
    if not queued.any():
        raise ValueError("no call in the records reached a queue")
    n = 1440 // interval_minutes
    everyone = _traffic(a, day, slot, int(np.unique(day).size), n) if all_calls else None
    a = _Arrays(*(getattr(a, f)[queued] for f in _Arrays.__dataclass_fields__))
    day, slot = day[queued], slot[queued]
    n_days = int(np.unique(day).size)
    first = datetime.fromtimestamp(float(day.min()) * 86400, ZoneInfo("UTC")).date()
    answered = (a.answered > 0) & (a.ended > a.answered)
    handle = {}
    for queue in sorted(set(a.queue[answered].tolist()) - {""}):
        fit = fit_durations(
            a.ended[answered & (a.queue == queue)] - a.answered[answered & (a.queue == queue)]
        )
        if fit is not None:
            handle[queue] = fit
    return Calibration(
        interval_minutes=interval_minutes,
        days=n_days,
        start=f"{first.isoformat()}T00:00:00",
        traffic=everyone or _traffic(a, day, slot, n_days, n, by_queue=True),
        handle=handle,
        patience=_patience(a),
        agents=_agents(a, zone, n_days=n_days, n=n, minutes=interval_minutes),
        routes=_routes(a),
        calls=calls,
        contained=calls - int(a.started.size),
    )


def _routes(a: _Arrays) -> dict[str, dict[str, float]]:
    out = {}
    for dnis in sorted(set(a.dnis.tolist())):
        names, counts = np.unique(a.queue[a.dnis == dnis], return_counts=True)
        total = int(counts.sum())
        out[dnis] = {str(q): round(float(c) / total, 4) for q, c in zip(names, counts, strict=True)}
    return out
