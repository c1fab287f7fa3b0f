"""Where each tier's callers go, per interval: the traffic split the planner sizes lanes by.

Computed, not sampled from a pilot run: for each stream (a tier on a dialled
number, with its customer fields) :func:`simulator.split.exits` gives the
exact probability of each way out of the IVR, and the live policy names the
lane for each. Routing depends on the time (business hours, a policy's
closed queues), so the split is taken per minute of the interval, found by
bisection: where the split at both ends of a span is the same, the whole
span has it (a routing that changes and changes back inside one span is
the one case this misses). A stream's shares are weighted by its expected
calls into the tier's. Queues are seen idle and staffed, so the split is
the one the planner wants, not the scenario's gaps.

An IVR the split cannot enumerate is sampled instead: walks at uniform times
of the interval, until every lane's share has a 95 % Wilson interval under
one point either side.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from router.types import CallInfo, QueueSnapshot
from simulator.model import IvrExit, IvrPath, SimModel, Stream
from simulator.split import exits

__all__ = ["HALF_WIDTH", "Shares", "route_shares"]

HALF_WIDTH = 0.01  # a sampled share's 95 % half-width must be below this
MAX_WALKS = 40_000  # sampling stops here even if a share is still wider (never in practice)
Shares = dict[str, list[list[float]]]  # [tier][interval][queue] -> fraction of arrivals
Vector = NDArray[np.float64]


def route_shares(model: SimModel, rng: np.random.Generator) -> Shares:
    """Fraction of each tier's arrivals reaching each queue, per interval.

    ``rng`` is only used where an IVR cannot be enumerated and is sampled.
    """
    out: Shares = {tier: [] for tier in model.tiers}
    for i in range(model.n_intervals):
        idle = _idle_queues(model, i)
        for tier in model.tiers:
            streams = [s for s in model.streams if s.tier == tier]
            weights = np.array([s.rates[i] for s in streams])
            if weights.sum() <= 0:
                weights = np.ones(len(streams))  # no calls expected: the split if one came
            weights = weights / weights.sum()  # one stream: exactly 1, so equal splits stay equal
            split = sum(
                (
                    w * _interval_split(model, s, i, idle, rng)
                    for s, w in zip(streams, weights, strict=True)
                ),
                np.zeros(len(model.queues)),
            )
            out[tier].append([float(x) for x in split])
    return out


def _interval_split(
    model: SimModel,
    stream: Stream,
    i: int,
    queues: dict[str, QueueSnapshot],
    rng: np.random.Generator,
) -> Vector:
    """Mean split over the interval's minutes, each computed exactly."""
    slots = max(1, round(model.interval_s / 60))
    t0 = datetime.fromisoformat(model.start) + timedelta(seconds=i * model.interval_s)
    memo: dict[int, Vector | None] = {}

    def at(k: int) -> Vector | None:
        if k not in memo:
            when = t0 + timedelta(seconds=(k + 0.5) * model.interval_s / slots)
            memo[k] = _split_at(model, stream, when, queues)
        return memo[k]

    def span(lo: int, hi: int) -> Vector | None:
        first, last = at(lo), at(hi)
        if first is None or last is None:
            return None
        if np.array_equal(first, last):
            return first * (hi - lo + 1)
        if hi - lo == 1:
            return first + last
        mid = (lo + hi) // 2
        left, right = span(lo, mid), span(mid + 1, hi)
        return None if left is None or right is None else left + right

    total = span(0, slots - 1)
    if total is None:
        return _sampled(model, stream, t0, queues, rng)
    return total / slots


def _split_at(
    model: SimModel, stream: Stream, at: datetime, queues: dict[str, QueueSnapshot]
) -> Vector | None:
    """Exact share of the stream's callers at time ``at`` reaching each lane, or None."""
    call = CallInfo("split", "", stream.dnis, at)
    customer = stream.customer()
    found = exits(model.ivr, call, customer, queues)
    if found is None:
        return None
    out = np.zeros(len(model.queues))
    for done, p in found.items():
        lane = _lane(model, done, stream, call, queues)
        if lane >= 0:
            out[lane] += p
    return out


def _lane(
    model: SimModel, done: IvrExit, stream: Stream, call: CallInfo, queues: dict[str, QueueSnapshot]
) -> int:
    """The queue index a caller leaving the IVR this way joins (-1: the IVR ended the call)."""
    if done.ending:
        return -1
    decision = done.decision or model.policy.decide(done.service, stream.customer(), call, queues)
    return next(k for k, q in enumerate(model.queues) if q.name == decision.queue)


def _sampled(
    model: SimModel,
    stream: Stream,
    t0: datetime,
    queues: dict[str, QueueSnapshot],
    rng: np.random.Generator,
) -> Vector:
    """Sample walks at uniform times of the interval until every share is within a point."""
    counts, n, batch = np.zeros(len(model.queues)), 0, 400
    while True:
        for _ in range(batch):
            call = CallInfo(
                f"plan.{stream.name}.{n}", "", stream.dnis,
                t0 + timedelta(seconds=float(rng.random()) * model.interval_s),
            )  # fmt: skip
            customer = stream.customer()
            done = _run(model.ivr.walk(call, customer, rng, queues))
            lane = _lane(model, done, stream, call, queues)
            if lane >= 0:
                counts[lane] += 1
            n += 1
        share = counts / n
        if _wilson_half(share, n).max() < HALF_WIDTH or n >= MAX_WALKS:
            return share
        batch = n


def _wilson_half(p: Vector, n: int, z: float = 1.96) -> Vector:
    """Half-width of the 95 % Wilson score interval (sane at shares of 0 and 1)."""
    return z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)


def _idle_queues(model: SimModel, interval: int) -> dict[str, QueueSnapshot]:
    """Every lane staffed and free: the split the planner wants, not the scenario's gaps."""
    staffed = {q.name: max(1, q.agents[interval]) for q in model.queues}
    return {
        name: QueueSnapshot(name, agents_logged_in=n, agents_available=n)
        for name, n in staffed.items()
    }


def _run(walk: IvrPath) -> IvrExit:
    """Drive a walk to its end; time does not matter here, only where it leads."""
    if isinstance(walk, IvrExit):
        return walk
    try:
        while True:
            next(walk)
    except StopIteration as stop:
        done: IvrExit = stop.value
        return done
