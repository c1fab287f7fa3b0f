"""Cheapest staffing per queue and interval that meets every tier's targets.

Two stages, because each is good at what the other is bad at: Erlang A gives
a near-optimal start in milliseconds but ignores priorities, tier mixes and
IVR routing; simulation (through the real routing policy) is exact for the
model but costly, so it only verifies and nudges: every (tier, interval)
that misses a target adds agents to the queues that tier used then.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, replace

import numpy as np

from simulator.distributions import Never
from simulator.engine import simulate
from simulator.model import SimModel
from simulator.routes import route_shares
from simulator.runner import Replications, replicate
from simulator.scenario import Target
from simulator.stats import Estimate
from simulator.theory import erlang_a_sl, erlang_c_sl

__all__ = [
    "FrontierPoint",
    "Plan",
    "erlang_staffing",
    "frontier",
    "min_agents",
    "plan_staffing",
    "trim_plan",
    "with_staffing",
]

Staffing = dict[str, list[int]]


@dataclass(frozen=True, slots=True)
class Plan:
    staffing: Mapping[str, tuple[int, ...]]
    cost: float
    result: Replications
    rounds: int
    met: bool


@dataclass(frozen=True, slots=True)
class FrontierPoint:
    scale: float
    cost: float
    service_level: Mapping[str, float]
    abandon_rate: Mapping[str, float]


def _meets_erlang(c: int, lam: float, aht: float, patience: float, t: Target) -> bool:
    if not math.isfinite(patience):
        load = lam * aht
        return load < c and erlang_c_sl(c, load, aht, t.within_s) >= t.service_level
    sl, p_abandon = erlang_a_sl(c, lam, aht, patience, t.within_s)
    return sl >= t.service_level and p_abandon <= t.max_abandon


def min_agents(lam: float, aht: float, patience: float, t: Target) -> int:
    """Smallest c meeting a target: start at square-root staffing, walk down or up.

    Square-root staffing c = a + beta sqrt(a) (Halfin & Whitt 1981; Borst,
    Mandelbaum & Reiman 2004) lands within a few agents of the optimum, so
    the walk costs a handful of Erlang A evaluations even at 5,000 agents.
    """
    if lam <= 0:
        return 0
    load = lam * aht
    c = max(1, math.ceil(load + 0.5 * math.sqrt(load)))
    if _meets_erlang(c, lam, aht, patience, t):
        while c > 1 and _meets_erlang(c - 1, lam, aht, patience, t):
            c -= 1
        return c
    while not _meets_erlang(c, lam, aht, patience, t):
        c += 1
    return c


def erlang_staffing(model: SimModel, targets: Mapping[str, Target], seed: int) -> Staffing:
    """Per queue and interval, Erlang A staffing from the expected traffic of each tier.

    Where each tier's callers go comes from :func:`simulator.routes.route_shares`
    (a pilot run, plus sample walks where the pilot is too thin); the rates
    come from the scenario's expected arrivals, not the pilot's counts, so a
    sparse tier (three red-list calls a night) still gets its lane covered
    instead of zero agents by the luck of one sample.
    """
    rng = np.random.default_rng(seed)
    shares = route_shares(model, simulate(model, rng), rng)
    rates = _tier_rates(model)
    out: Staffing = {}
    for qi, q in enumerate(model.queues):
        out[q.name] = []
        for i in range(model.n_intervals):
            lam = sum(rate[i] * shares[tier][i][qi] for tier, rate in rates.items())
            need = 0
            for tier in model.tiers:
                if shares[tier][i][qi] <= 0:
                    continue
                stream = next(s for s in model.streams if s.tier == tier)
                pat = math.inf if isinstance(stream.patience, Never) else stream.patience.mean
                need = max(need, min_agents(lam, q.handle.mean, pat, targets[tier]))
            out[q.name].append(need)
    return out


def _tier_rates(model: SimModel) -> dict[str, list[float]]:
    rates = {t: [0.0] * model.n_intervals for t in model.tiers}
    for s in model.streams:
        for i, r in enumerate(s.rates):
            rates[s.tier][i] += r
    return rates


def with_staffing(model: SimModel, staffing: Mapping[str, list[int]]) -> SimModel:
    queues = tuple(replace(q, agents=tuple(staffing[q.name])) for q in model.queues)
    return replace(model, queues=queues)


def _cost(model: SimModel) -> float:
    return sum(
        a * model.interval_s / 3600 / (1 - q.shrinkage) * q.cost_per_hour
        for q in model.queues
        for a in q.agents
    )


def _half(e: Estimate) -> float:
    return e.ci95 if math.isfinite(e.ci95) else 0.0


def _misses(
    model: SimModel, reps: Replications, targets: Mapping[str, Target]
) -> set[tuple[str, int]]:
    out = set()
    for tier, t in targets.items():
        for i in range(model.n_intervals):
            est = reps.estimates.get(f"tier/{tier}/{i}")
            if not est or not est["offered"].mean:
                continue
            sl, ab = est["service_level"], est["abandon_rate"]
            # Only significant misses count: a night interval with three VIP calls
            # cannot show a 90% service level either way, nor can one replication's
            # single call (no interval at all) when the others had none.
            if len(reps.runs) > 1 and not math.isfinite(sl.ci95):
                continue
            if sl.mean + _half(sl) < t.service_level or ab.mean - _half(ab) > t.max_abandon:
                out.add((tier, i))
    return out


def _daily_misses(
    model: SimModel, reps: Replications, targets: Mapping[str, Target]
) -> set[tuple[str, int]]:
    """A tier whose whole-day figure significantly misses: its worst intervals.

    Per-interval checks alone pass a day of small, insignificant misses that
    add up to a significant daily one (abandonment 6.5 % +- 0.6 against a
    5 % cap); then every interval whose point estimate misses is a miss.
    """
    out = set()
    for tier, t in targets.items():
        day = reps.estimates.get(f"tier/{tier}")
        if not day or not day["offered"].mean:
            continue
        sl, ab = day["service_level"], day["abandon_rate"]
        if sl.mean + _half(sl) >= t.service_level and ab.mean - _half(ab) <= t.max_abandon:
            continue
        for i in range(model.n_intervals):
            est = reps.estimates.get(f"tier/{tier}/{i}")
            if not est or not est["offered"].mean:
                continue
            s_i, a_i = est["service_level"].mean, est["abandon_rate"].mean
            if s_i < t.service_level or a_i > t.max_abandon:
                out.add((tier, i))
    return out


def _unstaffed(model: SimModel, reps: Replications) -> list[tuple[str, int]]:
    """Lanes that received calls in an interval where they had no agent.

    Sampling the split against idle queues cannot see overflow (a busy VIP
    desk spilling into support at noon), so a lane with calls and zero agents
    would pass as "no significant miss" while every such caller abandons.
    """
    return [
        (q.name, i)
        for q in model.queues
        for i in range(model.n_intervals)
        if q.agents[i] == 0 and reps.estimates[f"queue/{q.name}/{i}"]["offered"].mean > 0
    ]


def _verdict(model: SimModel, reps: Replications, targets: Mapping[str, Target]) -> bool:
    """True when no interval, no day and no empty lane misses (as ``plan_staffing`` judges)."""
    misses = _misses(model, reps, targets) | _daily_misses(model, reps, targets)
    return not misses and not _unstaffed(model, reps)


def _slack(model: SimModel, reps: Replications, targets: Mapping[str, Target], i: int) -> bool:
    """Every tier with calls in interval ``i`` beats its targets even at its CI's worst."""
    for tier, t in targets.items():
        est = reps.estimates.get(f"tier/{tier}/{i}")
        if not est or not est["offered"].mean:
            continue
        sl, ab = est["service_level"], est["abandon_rate"]
        if sl.mean - _half(sl) < t.service_level + 0.02 or ab.mean + _half(ab) > t.max_abandon:
            return False
    return True


def trim_plan(
    model: SimModel,
    plan: Plan,
    targets: Mapping[str, Target],
    *,
    replications: int = 5,
    seed: int = 1,
    rounds: int = 3,
    executor: Executor | None = None,
) -> Plan:
    """Remove agents where every tier has slack, while the whole plan still meets its targets.

    Adding agents only ever overshoots (the Erlang start sizes pooled traffic
    to the strictest tier's target, ignoring priorities). Each round takes one
    agent from every interval with slack and keeps the cut only if the plan,
    simulated with the same seeds (common random numbers), still meets every
    interval, day and lane target.
    """
    best, staffing = plan, {k: list(v) for k, v in plan.staffing.items()}
    for _ in range(rounds):
        slack = [i for i in range(model.n_intervals) if _slack(model, best.result, targets, i)]
        cut = {q: [a - 1 if i in slack and a > 1 else a for i, a in enumerate(v)]
               for q, v in staffing.items()}  # fmt: skip
        if cut == staffing:
            break
        trial = with_staffing(model, cut)
        reps = replicate(trial, replications, seed, executor)
        if not _verdict(trial, reps, targets):
            break
        staffing = cut
        best = Plan({k: tuple(v) for k, v in cut.items()}, _cost(trial), reps, best.rounds, True)
    return best


def plan_staffing(
    model: SimModel,
    targets: Mapping[str, Target],
    *,
    replications: int = 5,
    seed: int = 1,
    rounds: int = 6,
    executor: Executor | None = None,
    trim: bool = True,
) -> Plan:
    """Erlang A start, then simulate and add agents where a tier misses its target.

    A round adds agents where a tier significantly misses an interval's
    target or the day's (then in its missing intervals), and gives one agent
    to every lane that received calls while unstaffed. ``met`` is True only
    when none of these remain. A plan that meets its targets is then trimmed
    (:func:`trim_plan`), so the result is the cheapest found, not the first.
    """
    staffing = erlang_staffing(model, targets, seed)
    tier_of = {si: s.tier for si, s in enumerate(model.streams)}
    for r in range(rounds + 1):
        trial = with_staffing(model, staffing)
        reps = replicate(trial, replications, seed, executor)
        misses = _misses(trial, reps, targets) | _daily_misses(trial, reps, targets)
        empty = _unstaffed(trial, reps)
        if (not misses and not empty) or r == rounds:
            met = not misses and not empty
            plan = Plan({k: tuple(v) for k, v in staffing.items()}, _cost(trial), reps, r, met)
            if met and trim:
                return trim_plan(model, plan, targets, replications=replications, seed=seed,
                                 executor=executor)  # fmt: skip
            return plan
        for name, i in empty:
            staffing[name][i] = 1
        log = simulate(trial, np.random.default_rng(seed))
        interval = np.minimum(log.enqueue // model.interval_s, model.n_intervals - 1)
        for tier, i in misses:
            used = {
                int(q)
                for si, q, iv in zip(log.stream, log.queue, interval, strict=True)
                if tier_of[int(si)] == tier and iv == i and q >= 0
            }
            for qi in used:
                name = model.queues[qi].name
                staffing[name][i] += max(1, math.ceil(0.05 * staffing[name][i]))
    raise AssertionError("unreachable")  # pragma: no cover


def frontier(
    model: SimModel,
    plan: Plan,
    *,
    scales: tuple[float, ...] = (0.8, 0.9, 1.0, 1.1, 1.2),
    replications: int = 3,
    seed: int = 1,
    executor: Executor | None = None,
) -> list[FrontierPoint]:
    """Cost against service when the whole plan is scaled up or down."""
    points = []
    for k in scales:
        staffing = {q: [max(0, round(a * k)) for a in v] for q, v in plan.staffing.items()}
        trial = with_staffing(model, staffing)
        reps = replicate(trial, replications, seed, executor)
        points.append(
            FrontierPoint(
                k,
                _cost(trial),
                {t: reps.estimates[f"tier/{t}"]["service_level"].mean for t in model.tiers},
                {t: reps.estimates[f"tier/{t}"]["abandon_rate"].mean for t in model.tiers},
            )
        )
    return points
