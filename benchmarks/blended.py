"""Simulated blended day: inbound service level per tier with and without outbound.

Run from the repository root: ``python -P benchmarks/blended.py [--reps N]``.

Two shipped scenarios, loaded exactly as ``tierline simulate`` loads them:

* ``simulator/scenarios/blended.yaml``: one lane, a payment-reminder campaign
  paced by the live rule (guards and an Erlang C reserve). Beside it, in the
  same run and on the same seeds, the live rule with the guards and reserve
  dropped (the dialer's default when a lane has no ``pacing:``), to show what
  the guards are worth.
* ``simulator/scenarios/telecom.yaml`` (live flows, live routing policy) with
  an ``outbound:`` block appended: the IVR's own callback nodes (after hours,
  overflow) feed callbacks dialled on the billing lane, and a return-visit
  campaign after repairs shares the tech lane. Each lane's forecast is the
  scenario's own inbound traffic per interval (offered calls of an
  inbound-only pilot), as a planner would paste from the WFM forecast.

Each figure is printed beside its inbound-only baseline from the same run
(same seeds: common random numbers), with the paired difference's 95 %
half-width, and the run time of both runs with their ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from router.dialer.pacing import LanePacing, PacingDecision, decide
from router.types import QueueSnapshot
from simulator.blended import Blended, compare, inbound_only, lines
from simulator.engine import simulate
from simulator.model import SimModel
from simulator.runner import replicate
from simulator.scenario import load_scenario, parse_scenario
from simulator.stats import summarize
from simulator.whatif import WhatIf, apply

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "simulator" / "scenarios"

TELECOM_OUTBOUND = """
outbound:
  pacing:
    billing:
      guards: [{{queue: billing}}]
      forecast: {{calls_per_hour: {billing}, aht_s: 220, target_sl: {target}}}
    tech:
      guards: [{{queue: tech}}]
      forecast: {{calls_per_hour: {tech}, aht_s: 300, target_sl: {target}}}
  callbacks:
    lane: billing
    uptake: 0.8
    hours: {{weekly: {{mon-sun: "08:00-21:00"}}}}
    customers: {{answer: 0.8, talk: {{dist: lognormal, mean: 200, sd: 90}}}}
  campaigns:
    repair_followup:
      kind: return_visit
      lane: tech
      hours: {{weekly: {{mon-fri: "09:00-20:00"}}, holidays: CN}}
      retry: {{no_answer: {{count: 2, gap_minutes: 120}}, busy: {{count: 2, gap_minutes: 15}}}}
      list_size: 1500
      customers: {{answer: 0.55, right_party: 0.9, talk: {{dist: lognormal, mean: 150, sd: 80}}}}
"""


def no_guards(
    pacing: LanePacing, live: dict[str, QueueSnapshot], free: int, in_flight: int, on: int = 0
) -> PacingDecision:
    """The live rule for a lane with no ``pacing:`` entry: no guard, no reserve."""
    return decide(LanePacing(pacing.lane), live, free, in_flight, on)


def timed(model: SimModel, reps: int, ex: Executor, base: SimModel | None = None) -> tuple:
    t0 = time.perf_counter()
    blended = replicate(model, reps, 1, ex)
    t1 = time.perf_counter()
    inbound = replicate(base or inbound_only(model), reps, 1, ex)
    t2 = time.perf_counter()
    return compare(model, reps, 1, blended=blended, base=inbound), t1 - t0, t2 - t1


def show(title: str, result: Blended, t_blend: float, t_base: float) -> None:
    print(f"\n== {title}")
    for line in lines(result):
        print(line)
    verdict = "within 1 point" if result.worst_loss < 0.01 else "MORE than 1 point"
    print(f"  worst tier loss {100 * result.worst_loss:.2f} pt: {verdict}")
    print(
        f"  run time: blended {t_blend:.1f} s, inbound-only {t_base:.1f} s "
        f"(ratio {t_blend / t_base:.2f})"
    )


def telecom_forecast(reps: int) -> dict[str, list[float]]:
    """Offered calls/hour per interval of each lane, from inbound-only pilots."""
    model = apply(load_scenario(SCENARIOS / "telecom.yaml").model, WhatIf(staffing=1.8))
    per_hour = 3600 / model.interval_s
    offered = {q: np.zeros(model.n_intervals) for q in ("billing", "tech")}
    for r in range(reps):
        s = summarize(simulate(model, np.random.default_rng(1000 + r)), model)
        for q, row in offered.items():
            row += [s[f"queue/{q}/{i}"]["offered"] * per_hour / reps for i in range(len(row))]
    return {q: [round(float(v), 1) for v in row] for q, row in offered.items()}


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument("--reps", type=int, default=20, help="replications per run [20]")
    args.add_argument("--telecom-reps", type=int, default=6, help="for telecom [6]")
    opts = args.parse_args()
    with ProcessPoolExecutor(max_workers=2) as ex:
        sc = load_scenario(SCENARIOS / "blended.yaml")
        assert sc.model.outbound is not None
        result, tb, ti = timed(sc.model, opts.reps, ex)
        show(f"blended.yaml, live pacing, {opts.reps} reps", result, tb, ti)
        greedy = replace(sc.model, outbound=replace(sc.model.outbound, rule=no_guards))
        result, tb, ti = timed(greedy, opts.reps, ex)
        show("blended.yaml, same day without guards or reserve", result, tb, ti)

        forecast = telecom_forecast(3)
        text = (SCENARIOS / "telecom.yaml").read_text(encoding="utf-8")
        for target in (0.97, 0.85):
            text += TELECOM_OUTBOUND.format(target=target, **forecast)
            tc = parse_scenario(text, "telecom.yaml+outbound", SCENARIOS)
            # telecom.yaml is staffed thin on purpose (plan shows the cost); at x1.8 agents
            # its tiers are near target, so outbound has idle agents to find.
            staffed = apply(tc.model, WhatIf(staffing=1.8))
            result, tb, ti = timed(staffed, opts.telecom_reps, ex)
            title = (
                f"telecom.yaml x1.8 agents + callbacks + return visits, reserve for SL {target}, "
                f"{opts.telecom_reps} reps"
            )
            show(title, result, tb, ti)
            text = text[: text.index("\noutbound:")]


if __name__ == "__main__":
    main()
