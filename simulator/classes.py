"""Intervals with identical traffic get identical staffing, in the final plan too.

The exact split makes the Erlang start identical for identical traffic, but
the simulated rounds judge each interval on its own noisy estimate: a night
of 20 calls every half-hour came out 3 4 3 4 agents. Intervals whose every
stream brings the same expected calls, split the same way, form a class.
The plan's checks read the class's pooled figures (:func:`pool`: all its
intervals' calls in one estimate per replication, so a tighter interval and
no max-of-noise bias), an agent added
to one interval of a class is added to all (the class takes its largest
staffing), and one is removed only where the class has slack: the plan
stays uniform where the traffic is, and never lower where it is heavier.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from simulator.model import SimModel
from simulator.routes import Shares
from simulator.runner import Replications
from simulator.stats import Summary, combine

__all__ = ["Traffic", "all_of_class", "level", "members", "pool", "traffic_classes"]


@dataclass(frozen=True, slots=True)
class Traffic:
    """Which intervals carry the same traffic, and which carry no more than another."""

    classes: tuple[int, ...]  # a class number per interval: equal for equal rates and splits
    below: tuple[tuple[int, ...], ...]  # per interval: intervals with the same split, no more calls

    @classmethod
    def alone(cls, n: int) -> Traffic:
        """Every interval judged on its own (no pooling, no levelling)."""
        return cls(tuple(range(n)), tuple((i,) for i in range(n)))


def traffic_classes(model: SimModel, shares: Shares) -> Traffic:
    """Classes of identical traffic, and for each interval the ones it dominates.

    An interval whose every stream brings at least the calls of another, split
    the same way, offers every lane at least as much load, so it never needs
    fewer agents: 400 calls at 11:00 are not staffed below 392 at 10:30.
    """
    seen: dict[object, int] = {}
    rates, splits, classes = [], [], []
    for i in range(model.n_intervals):
        rates.append(tuple(s.rates[i] for s in model.streams))
        splits.append(tuple(tuple(round(x, 12) for x in shares[t][i]) for t in model.tiers))
        classes.append(seen.setdefault((rates[-1], splits[-1]), len(seen)))
    below = tuple(
        tuple(
            i
            for i in range(model.n_intervals)
            if splits[i] == splits[j]
            and all(a <= b for a, b in zip(rates[i], rates[j], strict=True))
        )
        for j in range(model.n_intervals)
    )
    return Traffic(tuple(classes), below)


def members(classes: Sequence[int]) -> list[list[int]]:
    """The intervals of each interval's class (itself included)."""
    groups: dict[int, list[int]] = {}
    for i, c in enumerate(classes):
        groups.setdefault(c, []).append(i)
    return [groups[c] for c in classes]


def level(staffing: Mapping[str, list[int]], traffic: Traffic) -> dict[str, list[int]]:
    """A class staffed like its largest; a staffed interval at least like lighter ones.

    A lane left at zero stays there (the split sends it no calls then); if
    calls reach it anyway (overflow), the plan's empty-lane check staffs it.
    That keeps one night's overflow agent from spreading to every heavier hour.
    """
    peers = members(traffic.classes)
    out = {}
    for q, v in staffing.items():
        same = [max(v[i] for i in peers[j]) for j in range(len(v))]
        out[q] = [max(same[i] for i in traffic.below[j]) if same[j] else 0 for j in range(len(v))]
    return out


def all_of_class(classes: Sequence[int], test: Callable[[int], bool]) -> list[bool]:
    """Per interval: ``test`` holds for every interval of its class."""
    peers = members(classes)
    ok: dict[int, bool] = {}
    for i, c in enumerate(classes):
        if c not in ok:
            ok[c] = all(test(j) for j in peers[i])
    return [ok[c] for c in classes]


def pool(model: SimModel, reps: Replications, classes: Sequence[int]) -> Replications:
    """``reps`` with each interval's tier and queue figures replaced by its class's.

    Per replication, rates are pooled over the class's calls (service level
    and abandonment weighted by calls offered) and occupancy over its agent
    time (equal staffing within a class: a plain mean); the confidence
    interval then comes from the replications as for any other figure.
    """
    if len(set(classes)) == len(classes):
        return reps  # no two intervals alike: nothing to pool
    peers = members(classes)
    runs = [_pooled_run(model, run, peers) for run in reps.runs]
    return replace(reps, estimates={**reps.estimates, **combine(runs)})


def _pooled_run(model: SimModel, run: Summary, peers: list[list[int]]) -> Summary:
    out: Summary = {}
    for i, group in enumerate(peers):
        for tier in model.tiers:
            rows = [run[f"tier/{tier}/{j}"] for j in group]
            offered = sum(r["offered"] for r in rows)
            out[f"tier/{tier}/{i}"] = {
                "offered": offered,
                "service_level": _weighted(rows, "service_level", offered),
                "abandon_rate": _weighted(rows, "abandon_rate", offered),
            }
        for q in model.queues:
            rows = [run[f"queue/{q.name}/{j}"] for j in group]
            busy = [r["occupancy"] for r in rows if math.isfinite(r["occupancy"])]
            out[f"queue/{q.name}/{i}"] = {
                **run[f"queue/{q.name}/{i}"],
                "offered": sum(r["offered"] for r in rows),
                "occupancy": sum(busy) / len(busy) if busy else math.nan,
            }
    return out


def _weighted(rows: list[dict[str, float]], metric: str, offered: float) -> float:
    if not offered:
        return math.nan
    return sum(r[metric] * r["offered"] for r in rows if r["offered"]) / offered
