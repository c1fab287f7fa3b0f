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
from functools import partial

import numpy as np

from simulator.classes import Traffic, all_of_class, level, pool, traffic_classes
from simulator.distributions import Exponential, Never, Sampler
from simulator.engine import simulate
from simulator.mmng import erlang_figures
from simulator.model import SimModel
from simulator.occupancy import occupancy_misses, occupancy_room, raise_for
from simulator.routes import Shares, route_shares
from simulator.runner import Replications, replicate
from simulator.scenario import Target

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


def _meets_erlang(  # noqa: PLR0917 - one staffing test's inputs
    c: int, lam: float, aht: float, patience: Sampler, t: Target, max_occupancy: float = 1.0
) -> bool:
    """Erlang C, A or M/M/n+G by the patience's kind (:func:`simulator.mmng.erlang_figures`)."""
    got = erlang_figures(c, lam, aht, patience, t.within_s)
    return (
        got.service_level >= t.service_level
        and got.p_abandon <= t.max_abandon
        and got.occupancy <= max_occupancy
    )


def min_agents(
    lam: float, aht: float, patience: float | Sampler, t: Target, max_occupancy: float = 1.0
) -> int:
    """Smallest c meeting a target: start at square-root staffing, walk down or up.

    Square-root staffing c = a + beta sqrt(a) (Halfin & Whitt 1981; Borst,
    Mandelbaum & Reiman 2004) lands within a few agents of the optimum, so
    the walk costs a handful of Erlang evaluations even at 5,000 agents.
    ``patience`` is a distribution (used whole) or a mean (exponential).
    """
    if lam <= 0:
        return 0
    pat: Sampler = patience if not isinstance(patience, float | int) else _exponential(patience)
    load = lam * aht
    c = max(1, math.ceil(load + 0.5 * math.sqrt(load)))

    def ok(n: int) -> bool:
        return _meets_erlang(n, lam, aht, pat, t, max_occupancy)

    if ok(c):
        while c > 1 and ok(c - 1):
            c -= 1
        return c
    while not ok(c):
        c += 1
    return c


def _exponential(mean: float) -> Sampler:
    return Never() if not math.isfinite(mean) else Exponential(mean)


def erlang_staffing(
    model: SimModel, targets: Mapping[str, Target], seed: int, shares: Shares | None = None
) -> Staffing:
    """Per queue and interval, Erlang A staffing from the expected traffic of each tier.

    Where each tier's callers go comes from :func:`simulator.routes.route_shares`
    (computed exactly from the flow, caller model and policy), the rates from
    the scenario's expected arrivals, so identical traffic gets identical
    staffing and a sparse tier (three red-list calls a night) still gets its
    lane covered instead of zero agents by the luck of one sample.
    """
    if shares is None:
        shares = route_shares(model, np.random.default_rng(seed))
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
                pat = next(s for s in model.streams if s.tier == tier).patience
                need = max(
                    need, min_agents(lam, q.handle.mean, pat, targets[tier], q.max_occupancy)
                )
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
            if sl.mean + sl.half < t.service_level or ab.mean - ab.half > t.max_abandon:
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
        if sl.mean + sl.half >= t.service_level and ab.mean - ab.half <= t.max_abandon:
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
    return not misses and not _unstaffed(model, reps) and not occupancy_misses(model, reps)


def _slack(model: SimModel, reps: Replications, targets: Mapping[str, Target], i: int) -> bool:
    """Every tier with calls in interval ``i`` beats its targets even at its CI's worst."""
    for tier, t in targets.items():
        est = reps.estimates.get(f"tier/{tier}/{i}")
        if not est or not est["offered"].mean:
            continue
        sl, ab = est["service_level"], est["abandon_rate"]
        if sl.mean - sl.half < t.service_level + 0.02 or ab.mean + ab.half > t.max_abandon:
            return False
    return True


def _cut(
    model: SimModel,
    staffing: Staffing,
    reps: Replications,
    targets: Mapping[str, Target],
    traffic: Traffic,
) -> Staffing:
    """One agent fewer wherever the class has slack and occupancy room (kept monotone)."""
    classes = traffic.classes
    now = with_staffing(model, staffing)
    slack = all_of_class(classes, lambda i: _slack(model, reps, targets, i))
    out: Staffing = {}
    for q, agents in staffing.items():
        room = all_of_class(classes, partial(occupancy_room, now, reps, q))
        out[q] = [a - 1 if a > 1 and slack[i] and room[i] else a for i, a in enumerate(agents)]
    return level(out, traffic)


def trim_plan(
    model: SimModel,
    plan: Plan,
    targets: Mapping[str, Target],
    *,
    replications: int = 5,
    seed: int = 1,
    rounds: int = 3,
    executor: Executor | None = None,
    traffic: Traffic | None = None,
) -> Plan:
    """Remove agents where every tier has slack, while the whole plan still meets its targets.

    Adding agents only ever overshoots (the Erlang start sizes pooled traffic
    to the strictest tier's target, ignoring priorities). Each round takes one
    agent from every interval with slack and keeps the cut only if the plan,
    simulated with the same seeds (common random numbers), still meets every
    interval, day, occupancy and lane target. With ``traffic``
    (:mod:`simulator.classes`) a class of identical traffic is judged on its
    pooled figures and cut only as a whole, never below lighter intervals.
    """
    traffic = traffic or Traffic.alone(model.n_intervals)
    classes = traffic.classes
    best, staffing = plan, {k: list(v) for k, v in plan.staffing.items()}
    for _ in range(rounds):
        cut = _cut(model, staffing, pool(model, best.result, classes), targets, traffic)
        if cut == staffing:
            break
        trial = with_staffing(model, cut)
        reps = replicate(trial, replications, seed, executor)
        if not _verdict(trial, pool(trial, reps, classes), targets):
            break
        staffing = cut
        best = Plan({k: tuple(v) for k, v in cut.items()}, _cost(trial), reps, best.rounds, True)
    return best


def _added(  # noqa: PLR0917 - one round's findings
    trial: SimModel,
    reps: Replications,
    staffing: Staffing,
    misses: set[tuple[str, int]],
    empty: list[tuple[str, int]],
    busy: set[tuple[str, int]],
    seed: int,
) -> Staffing:
    """Agents added for one round's misses: to the lanes a missing tier used then, to
    lanes over their occupancy cap, and one to every lane that had calls but no agent."""
    out = {k: list(v) for k, v in staffing.items()}
    for name, i in empty:
        out[name][i] = 1
    for name, i in busy:
        occ = reps.estimates[f"queue/{name}/{i}"]["occupancy"].mean
        cap = next(q.max_occupancy for q in trial.queues if q.name == name)
        out[name][i] = raise_for(out[name][i], occ, cap)
    tier_of = {si: s.tier for si, s in enumerate(trial.streams)}
    log = simulate(trial, np.random.default_rng(seed))
    interval = np.minimum(log.enqueue // trial.interval_s, trial.n_intervals - 1)
    for tier, i in misses:
        used = {
            int(q)
            for si, q, iv in zip(log.stream, log.queue, interval, strict=True)
            if tier_of[int(si)] == tier and iv == i and q >= 0
        }
        for qi in used:
            name = trial.queues[qi].name
            out[name][i] += max(1, math.ceil(0.05 * out[name][i]))
    return out


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
    target or the day's (then in its missing intervals), where a lane is
    significantly busier than its ``max_occupancy``, and gives one agent
    to every lane that received calls while unstaffed. ``met`` is True only
    when none of these remain. A plan that meets its targets is then trimmed
    (:func:`trim_plan`), so the result is the cheapest found, not the first.
    Intervals of identical traffic are added to and cut as one
    (:mod:`simulator.classes`), so they end with identical staffing.
    """
    shares = route_shares(model, np.random.default_rng(seed))
    traffic = traffic_classes(model, shares)
    classes = traffic.classes
    staffing = level(erlang_staffing(model, targets, seed, shares), traffic)
    for r in range(rounds + 1):
        trial = with_staffing(model, staffing)
        reps = replicate(trial, replications, seed, executor)
        view = pool(trial, reps, classes)
        misses = _misses(trial, view, targets) | _daily_misses(trial, view, targets)
        empty = _unstaffed(trial, view)
        busy = occupancy_misses(trial, view)
        if (not misses and not empty and not busy) or r == rounds:
            met = not misses and not empty and not busy
            plan = Plan({k: tuple(v) for k, v in staffing.items()}, _cost(trial), reps, r, met)
            if met and trim:
                return trim_plan(model, plan, targets, replications=replications, seed=seed,
                                 executor=executor, traffic=traffic)  # fmt: skip
            return plan
        staffing = level(_added(trial, view, staffing, misses, empty, busy, seed), traffic)
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
