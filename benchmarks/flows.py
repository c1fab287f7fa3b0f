"""Engine CPU per call for a typical flow, against a hand-written baseline.

Run: ``python benchmarks/flows.py``. Target: < 50 us of engine time per
call (excluding I/O). The baseline is the same decision written as plain
Python if/else over the same objects, measured in the same run, so the
ratio shows what the YAML + CEL generality costs on this machine.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cel

from router.customers.model import Customer, Lifecycle
from router.flows import actions as a
from router.flows.loader import load_flows, load_texts
from router.flows.trace import SimplePolicy, trace_call
from router.types import CallInfo, QueueSnapshot

QUEUES = frozenset(
    ["vip", "red_desk", "billing", "tech", "sales", "retention", "general", "restricted", "english"]
)
N = 5000


REPEATS = 7


def per_call_us(fn, n: int = N, repeats: int = REPEATS) -> float:  # type: ignore[no-untyped-def]
    """Best of ``repeats`` runs of ``n`` calls, in CPU us per call.

    The box is shared: process time ignores time other processes hold the
    CPU, and the minimum drops runs slowed by cache or frequency noise.
    """
    for i in range(200):
        fn(i)
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for i in range(n):
            fn(i)
        best = min(best, (time.process_time() - start) / n * 1e6)
    return best


def main() -> None:
    flows = load_flows(Path(__file__).resolve().parents[1] / "ivr_flows", QUEUES)
    at = datetime(2026, 11, 23, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    cust = Customer("C1", tier="mid", lifecycle=Lifecycle.STABLE, offers=("5g",), tenure_months=30)
    queues = {q: QueueSnapshot(q, ewt=30.0, agents_logged_in=5) for q in QUEUES}
    policy = SimplePolicy()

    def engine_call(i: int) -> None:
        call = CallInfo(uniqueid=f"1700000000.{i}", caller="13800138000", dnis="10086", at=at)
        t = trace_call(flows, "telecom", call, cust, ["1"], policy=policy, queues=queues)
        assert isinstance(t.state.result, a.Route)

    def baseline_call(i: int) -> None:
        call = CallInfo(uniqueid=f"1700000000.{i}", caller="13800138000", dnis="10086", at=at)
        if cust.is_red:
            service = "red_desk"
        elif cust.is_black:
            service = "restricted"
        elif not 8 <= call.at.hour < 20:
            service = "callback"
        elif cust.tier == "vip":
            service = "vip"
        elif cust.lifecycle is Lifecycle.AT_RISK and cust.tenure_months >= 12:
            service = "retention"
        else:
            service = "billing"
        policy.decide(service, cust, call, queues)

    program = cel.compile('customer.tier == "vip"')
    ctx = cel.Context(variables={"customer": {"tier": "mid"}})

    def one_cel(_i: int) -> None:
        program.execute(ctx)

    def one_context(_i: int) -> None:
        cel.Context(variables={"customer": {"tier": "mid"}})

    one_text = (
        'flow: one\nserves: {dnis: ["1"]}\nstart: q\nnodes:\n  q: {type: queue, service: general}\n'
    )
    one_node = load_texts({"one.yaml": one_text}, QUEUES)

    def one_node_call(i: int) -> None:
        call = CallInfo(uniqueid=f"1700000000.{i}", caller="13800138000", dnis="1", at=at)
        trace_call(one_node, "one", call, cust, [], policy=policy, queues=queues)

    engine = per_call_us(engine_call)
    fixed = per_call_us(one_node_call)
    base = per_call_us(baseline_call)
    probe = trace_call(
        flows, "telecom", CallInfo("1.1", "138", "10086", at), cust, ["1"], queues=queues
    )
    print(f"flow: telecom, path {len(probe.state.path)} nodes, typed '1' -> billing or sales")
    print(f"(CPU time per call, best of {REPEATS} runs of {N} calls)")
    print(f"engine per call      {engine:8.1f} us   (target < 50 us)")
    print(f"one-node flow        {fixed:8.1f} us   (fixed cost per call)")
    print(f"python if/else       {base:8.1f} us   (baseline, same run)")
    print(f"one CEL evaluation   {per_call_us(one_cel, 20000):8.2f} us")
    print(f"one CEL context      {per_call_us(one_context, 20000):8.2f} us")
    verdict = "meets" if engine < 50 else "MISSES"
    print(
        f"RESULT: engine {engine:.1f} us/call = {engine / base:.1f}x the in-run "
        f"if/else baseline ({base:.1f} us); {verdict} the < 50 us target"
    )


if __name__ == "__main__":
    main()
