"""Routing policy speed: decisions/s of the pure policy (no I/O).

    python benchmarks/routing.py [--routing ivr_flows/routing.yaml] [--n 200000]

Prints decisions/s and us/decision for four mixes (plain lane with no live
state, lanes with live state that does not overflow, overflow firing, and a
mix of list/lifecycle customers), beside two baselines measured in the same
run: a loop of one dict lookup, and a loop calling a no-op function with the
same four arguments. The AMI events/s figure lives in benchmarks/ami_events.py.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from router.customers.model import Customer, CustomerList, Lifecycle
from router.policy import TieredPolicy, load_routing
from router.types import CallInfo, QueueSnapshot

ROOT = Path(__file__).resolve().parents[1]
Case = tuple[str, Customer | None, dict[str, QueueSnapshot]]


def rate(n: int, cases: Sequence[Case], fn: Callable[..., object], call: CallInfo) -> float:
    """Calls per second of ``fn`` over ``n`` calls cycling through ``cases`` (best of 3)."""
    work = (list(cases) * (n // len(cases) + 1))[:n]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for service, customer, live in work:
            fn(service, customer, call, live)
        best = min(best, time.perf_counter() - start)
    return n / best


def mixes(policy: TieredPolicy) -> dict[str, list[Case]]:
    tiers = policy.config.tiers
    calm = {q: QueueSnapshot(q, waiting=1, ewt=10.0, agents_available=2) for q in policy.queues}
    busy = {q: QueueSnapshot(q, waiting=30, ewt=900.0) for q in policy.queues}
    busy["support"] = QueueSnapshot("support", waiting=2, ewt=20.0)
    people = [Customer("c", tier=t) for t in tiers]
    special = [
        Customer("r", tier="mid", list=CustomerList.RED),
        Customer("b", tier="vip", list=CustomerList.BLACK),
        Customer("a", tier="high", lifecycle=Lifecycle.AT_RISK),
        None,
    ]
    services = sorted(policy.services)
    return {
        "lane, no live state": [(s, c, {}) for s in services for c in people],
        "lane, live state calm": [(s, c, calm) for s in services for c in people],
        "overflow firing": [(s, c, busy) for s in ("billing", "sales", "tech") for c in people],
        "lists / at_risk / unknown": [(s, c, calm) for s in (*services, "nope") for c in special],
    }


def noop(service: str, customer: object, call: object, queues: object) -> None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routing", type=Path, default=ROOT / "ivr_flows" / "routing.yaml")
    parser.add_argument("--n", type=int, default=200_000)
    args = parser.parse_args()
    policy = TieredPolicy(load_routing(args.routing))
    call = CallInfo("1.1", "13800138000", "4000", datetime.now(UTC))
    table = {s: s for s in policy.services}
    cases = mixes(policy)

    def lookup(service: str, customer: object, call: object, queues: object) -> object:
        return table.get(service)

    base_dict = rate(args.n, cases["lane, no live state"], lookup, call)
    base_noop = rate(args.n, cases["lane, no live state"], noop, call)
    print(f"baseline dict lookup in a function : {base_dict:12,.0f} /s")
    print(f"baseline no-op function call       : {base_noop:12,.0f} /s")
    for name, mix in cases.items():
        r = rate(args.n, mix, policy.decide, call)
        print(
            f"decide: {name:<27}: {r:12,.0f} /s  {1e6 / r:6.2f} us/decision"
            f"  ({base_noop / r:4.1f}x the no-op call)"
        )


if __name__ == "__main__":
    main()
