"""The calibrated scenario as a file: what ``tierline calibrate`` writes (pure).

Kept apart from :mod:`simulator.calibration`, which estimates; this module
only decides how the estimates become a scenario a planner can read, edit,
simulate and plan on.
"""

from __future__ import annotations

from typing import Any

from simulator.calibration import Calibration, Traffic

__all__ = ["scenario_document"]


def scenario_document(
    cal: Calibration, *, cost_per_hour: float = 1.0, shrinkage: float = 0.0
) -> dict[str, Any]:
    """The scenario file (as data) a planner can simulate and plan on at once.

    Callers reach queues as recorded, interval by interval: one arrival
    stream per (dialled number, queue), named ``number>queue``, whose menu
    sends it to that queue; priorities by tier. To walk the operator's own
    flows and routing policy instead, calibrate with ``--flows``.

    Records cannot tell the targets, pay or shrinkage: they are written
    out (the default targets; cost 1 an hour, so costs read as paid
    agent-hours) for the planner to see and edit, rather than left as
    defaults nobody sees in the file.
    """
    tiers: dict[str, Any] = {}
    for tier, pat in sorted(cal.patience.items()):
        spec: Any = {"dist": "empirical", "values": list(pat.values)} if pat.values else "never"
        tiers[tier] = {
            "patience": spec,
            "customer": "unknown" if tier == "unknown" else {"tier": tier},
            "target": {"service_level": 0.8, "within_s": 20, "max_abandon": 1.0},
        }
    return {
        "start": cal.start,
        "interval_minutes": cal.interval_minutes,
        "intervals": 1440 // cal.interval_minutes,
        "tiers": tiers,
        "arrivals": [
            {"dnis": _stream(t), "calls": [round(c, 2) for c in t.mean], "mix": t.mix}
            for t in cal.traffic
        ],
        "ivr": {"menus": _menus(cal)},
        "queues": {
            q: {
                "handle": _handle(cal, q),
                "agents": list(cal.agents.get(q, (0,) * len(cal.traffic[0].mean))),
                "cost_per_hour": cost_per_hour,
                "shrinkage": shrinkage,
            }
            for q in sorted(set(cal.handle) | {t.queue for t in cal.traffic} - {""})
        },
    }


def _handle(cal: Calibration, queue: str) -> dict[str, Any]:
    """The queue's fitted handle time; with too few calls to fit, the median queue's mean."""
    if queue in cal.handle:
        return cal.handle[queue].as_spec()
    means = sorted(f.mean for f in cal.handle.values()) or [180.0]
    return {"dist": "exponential", "mean": round(means[len(means) // 2], 1)}


def _stream(t: Traffic) -> str:
    return f"{t.dnis}>{t.queue}" if t.queue else t.dnis


def _menus(cal: Calibration) -> dict[str, Any]:
    """A menu per arrival stream: to its own queue, or by the number's shares."""
    return {
        _stream(t): {"choices": {t.queue: 1} if t.queue else cal.routes.get(t.dnis, {})}
        for t in cal.traffic
    }
