"""Where each tier's callers go, per interval: the traffic split the planner sizes lanes by.

Routing depends on the hour (business hours, holidays, the policy's closed
queues), so the split is measured per interval. A pilot run gives it where
it has enough callers; where it does not (a sparse tier at night) the flow
and policy are asked directly with sample callers at that time, against idle
queues, so a lane that must be covered (red list at 3 a.m.) is covered and
one nobody reaches (retention after hours) is not.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from router.types import CallInfo, QueueSnapshot
from simulator.engine import CallLog
from simulator.model import IvrExit, IvrPath, SimModel

__all__ = ["MIN_SAMPLES", "Shares", "route_shares"]

MIN_SAMPLES = 20  # pilot callers of a tier in an interval below which sampling takes over
Shares = dict[str, list[list[float]]]  # [tier][interval][queue] -> fraction of arrivals


def route_shares(model: SimModel, log: CallLog, rng: np.random.Generator) -> Shares:
    """Fraction of each tier's arrivals reaching each queue, per interval."""
    tiers = np.array([s.tier for s in model.streams])[log.stream]
    interval = np.minimum((log.arrive // model.interval_s).astype(int), model.n_intervals - 1)
    nq = len(model.queues)
    out: Shares = {}
    for tier in model.tiers:
        out[tier] = []
        for i in range(model.n_intervals):
            here = log.queue[(tiers == tier) & (interval == i)]
            if here.size >= MIN_SAMPLES:
                out[tier].append(_fractions(here, nq))
            else:
                out[tier].append(_sampled(model, tier, i, rng))
    return out


def _fractions(queues: NDArray[np.int32], nq: int) -> list[float]:
    counts = np.bincount(queues[queues >= 0], minlength=nq)
    return [float(c) / queues.size for c in counts]


def _sampled(model: SimModel, tier: str, interval: int, rng: np.random.Generator) -> list[float]:
    """Walk MIN_SAMPLES callers of ``tier`` through the IVR and policy at the interval's middle."""
    index = {q.name: k for k, q in enumerate(model.queues)}
    idle = _idle_queues(model, interval)
    streams = [s for s in model.streams if s.tier == tier]
    weights = np.array([s.rates[interval] for s in streams]) + 1e-12
    at = datetime.fromisoformat(model.start) + timedelta(
        seconds=(interval + 0.5) * model.interval_s
    )
    counts = [0] * len(model.queues)
    for k in range(MIN_SAMPLES):
        stream = streams[int(rng.choice(len(streams), p=weights / weights.sum()))]
        call = CallInfo(f"plan.{tier}.{interval}.{k}", "", stream.dnis, at)
        customer = stream.customer()
        done = _run(model.ivr.walk(call, customer, rng, idle))
        if done.ending:
            continue
        decision = done.decision or model.policy.decide(done.service, customer, call, idle)
        counts[index[decision.queue]] += 1
    return [c / MIN_SAMPLES for c in counts]


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
