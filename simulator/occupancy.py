"""A ceiling on agent occupancy: the planner's guard against burning agents out.

Service-level targets alone let a big lane run at 95 % occupancy (large
pools meet 80/20 that way), which no centre sustains: agents need time
between calls. The scenario's ``targets: {max_occupancy: 0.85}`` caps every
lane, or ``{max_occupancy: {support: 0.85, sales: 0.9}}`` named ones. The
Erlang start sizes for it (:func:`simulator.mmng.erlang_figures` gives the
carried load), and the simulated plan is checked against it with its 95 %
interval like the tier targets: only a significant excess is a miss, and
an agent is only removed where the occupancy stays under the cap even at
the interval's worst.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from simulator.model import SimModel
from simulator.problems import Collector
from simulator.stats import Estimate

if TYPE_CHECKING:  # the planner's results; parsing a scenario must not load the engine
    from simulator.runner import Replications

__all__ = ["occupancy_misses", "occupancy_room", "parse_max_occupancy", "raise_for"]


def parse_max_occupancy(ctx: Collector, raw: Any, lanes: set[str]) -> dict[str, float]:
    """``targets.max_occupancy``: one cap for every lane, or caps by lane name."""
    targets = raw if isinstance(raw, dict) else {}
    if raw is not None and not isinstance(raw, dict):
        ctx.bad(("targets",), "must be a mapping like {max_occupancy: 0.85}")
    value = targets.get("max_occupancy")
    if value is None:
        return {}
    path = ("targets",)
    if not isinstance(value, dict):
        cap = ctx.num(targets, "max_occupancy", path, 1.0, lo=0.01, hi=1.0)
        return dict.fromkeys(lanes, cap)
    caps = {}
    for lane in value:
        if lane not in lanes:
            ctx.bad(
                (*path, "max_occupancy", lane), f"no queue named {lane!r}", ", ".join(sorted(lanes))
            )
            continue
        caps[str(lane)] = ctx.num(value, lane, (*path, "max_occupancy"), 1.0, lo=0.01, hi=1.0)
    return caps


def _occupancy(reps: Replications, lane: str, i: int) -> Estimate | None:
    est = reps.estimates.get(f"queue/{lane}/{i}", {}).get("occupancy")
    return est if est is not None and math.isfinite(est.mean) else None


def occupancy_misses(model: SimModel, reps: Replications) -> set[tuple[str, int]]:
    """(lane, interval) whose occupancy is significantly above the lane's cap."""
    out = set()
    for q in model.queues:
        if q.max_occupancy >= 1.0:
            continue
        for i in range(model.n_intervals):
            est = _occupancy(reps, q.name, i)
            if est is not None and est.mean - est.half > q.max_occupancy:
                out.add((q.name, i))
    return out


def occupancy_room(model: SimModel, reps: Replications, lane: str, i: int) -> bool:
    """One agent fewer keeps the lane under its cap, even at the interval's worst.

    The same talk time on one agent fewer raises occupancy by c / (c - 1).
    """
    q = next(q for q in model.queues if q.name == lane)
    c, est = q.agents[i], _occupancy(reps, lane, i)
    if q.max_occupancy >= 1.0 or est is None:
        return True
    if c <= 1:
        return False
    return (est.mean + est.half) * c / (c - 1) <= q.max_occupancy


def raise_for(agents: int, occupancy: float, cap: float) -> int:
    """Agents that bring a measured occupancy under ``cap``: at least one more."""
    return max(agents + 1, math.ceil(agents * occupancy / cap))
