"""Planner on the telecom day: run time, agent-hours against the per-interval Erlang minimum.

Run: ``python -P benchmarks/planner.py`` (it runs from the repository root:
the scenario's routing path is relative to it). CPU time is printed beside
wall time because the machine may be shared. This is exactly what
``tierline plan simulator/scenarios/telecom.yaml --workers 1`` runs: the
Erlang start from the traffic split, then simulate, adjust and trim.

The baseline is the per-interval Erlang minimum of the same run: for every
lane and interval, the fewest agents an Erlang A model of that lane's
offered traffic says meet the strictest target of a tier reaching it
(:func:`simulator.planner.erlang_staffing`). The plan can beat it (priorities
let low tiers wait) or exceed it (the split and pooling are not Erlang's).
It also prints the weekday scenario's sales lane at its three busiest
half-hours (392 / 400 / 392 calls), which a noisy split used to staff
34 / 30 / 33, and its support lane at night, Erlang start and final plan.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.planner import erlang_staffing, plan_staffing  # noqa: E402
from simulator.scenario import load_scenario  # noqa: E402


def hours(staffing: Mapping[str, Sequence[int]], interval_s: float) -> float:
    return sum(sum(v) for v in staffing.values()) * interval_s / 3600


def main() -> None:
    os.chdir(ROOT)
    weekday = load_scenario("simulator/scenarios/weekday.yaml")
    start = erlang_staffing(weekday.model, weekday.targets, seed=1)
    final = plan_staffing(weekday.model, weekday.targets, replications=5, seed=1).staffing
    print(
        "weekday sales at 10:30/11:00/11:30 (392/400/392 calls): "
        f"Erlang start {start['sales'][21:24]}, plan {list(final['sales'][21:24])}"
    )
    print("weekday support 00:00-05:00 (20 20 20 20 21 21 22 24 27 32 calls): "
          f"Erlang start {start['support'][:10]}, plan {list(final['support'][:10])}")  # fmt: skip
    sc = load_scenario("simulator/scenarios/telecom.yaml")
    model = sc.model
    t0, c0 = time.perf_counter(), time.process_time()
    minimum = erlang_staffing(model, sc.targets, seed=1)
    t1, c1 = time.perf_counter(), time.process_time()
    plan = plan_staffing(model, sc.targets, replications=5, seed=1)
    t2, c2 = time.perf_counter(), time.process_time()
    floor, paid = hours(minimum, model.interval_s), hours(plan.staffing, model.interval_s)
    print(f"telecom: split + Erlang start {t1 - t0:.2f} s (CPU {c1 - c0:.2f} s), "
          f"whole plan {t2 - t0:.1f} s (CPU {c2 - c0:.1f} s)")  # fmt: skip
    print(f"telecom: plan {paid:.1f} agent-hours vs per-interval Erlang minimum {floor:.1f} "
          f"(ratio {paid / floor:.3f}); rounds {plan.rounds}, met {plan.met}, "
          f"cost {plan.cost:,.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
