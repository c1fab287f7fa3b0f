"""Simulator speed: calls/s at c = 10, 100, 1000, a 1,000-agent day, and Ciw as baseline.

Run: ``python benchmarks/simulator.py``. Every model has two tiers with
different QUEUE_PRIO and exponential patience (abandonment), routed through a
RoutingPolicy object exactly as the engine always does. The Ciw baseline runs
the same single-class M/M/c+M model in the same process, so the ratio is
machine-independent.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from router.customers.model import Customer
from router.types import CallInfo, QueueSnapshot, RouteDecision
from simulator.distributions import Exponential
from simulator.engine import simulate
from simulator.model import FixedIvr, QueueSpec, SimModel, Stream

AHT = 180.0
PATIENCE = 120.0


class TierPolicy:
    """A minimal RoutingPolicy: one lane, VIPs first."""

    def decide(
        self,
        service: str,
        customer: Customer | None,
        call: CallInfo,
        queues: Mapping[str, QueueSnapshot],
    ) -> RouteDecision:
        vip = customer is not None and customer.tier == "vip"
        return RouteDecision("default", 40 if vip else 10, "tier_lane")


def model(servers: int, calls: int, rho: float = 0.95, intervals: int = 1) -> SimModel:
    lam = rho * servers / AHT
    length = calls / lam / intervals
    return SimModel(
        streams=(
            Stream("vip", "100", "vip", (0.2 * lam,) * intervals, Exponential(PATIENCE)),
            Stream("normal", "100", "normal", (0.8 * lam,) * intervals, Exponential(PATIENCE)),
        ),
        queues=(QueueSpec("default", Exponential(AHT), (servers,) * intervals),),
        policy=TierPolicy(),
        interval_s=length,
    )


def ours(servers: int, calls: int, intervals: int = 1) -> tuple[float, float]:
    m = model(servers, calls, intervals=intervals)
    t = time.perf_counter()
    log = simulate(m, np.random.default_rng(1))
    dt = time.perf_counter() - t
    return log.arrive.size / dt, dt


def ciw_rate(servers: int, calls: int) -> float:
    import ciw

    lam = 0.95 * servers / AHT
    net = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(lam)],
        service_distributions=[ciw.dists.Exponential(1 / AHT)],
        number_of_servers=[servers],
        reneging_time_distributions=[ciw.dists.Exponential(1 / PATIENCE)],
    )
    ciw.seed(1)
    sim = ciw.Simulation(net)
    t = time.perf_counter()
    sim.simulate_until_max_time(calls / lam)
    dt = time.perf_counter() - t
    return len(sim.get_all_records()) / dt


def main() -> None:
    print("calls/s, 2 tiers with priority, exponential patience, rho = 0.95")
    for c, n in [(10, 100_000), (100, 200_000), (1000, 200_000)]:
        rate, _ = ours(c, n)
        base = ciw_rate(c, 30_000)
        print(f"  c={c:>5}: tierline {rate:>9,.0f}/s ciw {base:>8,.0f}/s ratio {rate / base:.1f}x")
    _, dt = ours(1000, 200_000, intervals=48)
    print(f"1,000-agent day, 48 intervals, ~200,000 calls: {dt:.2f} s per replication")
    flow_day()


def flow_day() -> None:
    """The shipped telecom day with every caller walking the YAML flow in the live engine."""
    from simulator.scenario import load_scenario

    root = Path(__file__).resolve().parents[1]
    os.chdir(root)  # the scenario's routing path is relative to the repository root
    sc = load_scenario(root / "simulator" / "scenarios" / "telecom.yaml")
    fixed = replace(sc.model, ivr=FixedIvr("general"))
    t = time.perf_counter()
    log = simulate(sc.model, np.random.default_rng(1))
    walk = time.perf_counter() - t
    t = time.perf_counter()
    simulate(fixed, np.random.default_rng(1))
    base = time.perf_counter() - t
    n = log.arrive.size
    print(
        f"telecom day through the flow engine: {n:,} calls in {walk:.2f} s = {n / walk:,.0f}/s; "
        f"same day without IVR {base:.2f} s; flow walk {(walk - base) / n * 1e6:.0f} us/call"
    )


if __name__ == "__main__":
    main()
