"""Engine CPU per call for a typical flow, against a hand-written baseline.

Run: ``python -P benchmarks/flows.py``. Target: < 50 us of engine time per
call (excluding I/O). Then the fetch step: our CPU per fetch (engine and
HTTP adapter) against a backend in another process answering in 1 ms,
beside bare httpx and a raw socket on the same backend; target <= 0.2 ms.
The engine's baseline is the same decision written as plain Python if/else
over the same objects, measured in the same run, so the ratio shows what
the YAML + CEL generality costs on this machine.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
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


# ---- fetch overhead: our CPU per fetch against a local backend answering in 1 ms ----
BACKEND_DELAY_S = 0.001
FETCHES = 2000
ANSWER = b'{"balance": "35.20", "topup": {"status": "credited"}}'


def _backend_process(port_box: Any) -> None:
    """A backend in its own process (its CPU is not ours): every request answered in 1 ms."""
    import asyncio

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                size = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        size = int(line.split(b":")[1])
                await reader.readexactly(size)
                await asyncio.sleep(BACKEND_DELAY_S)
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    + f"content-length: {len(ANSWER)}\r\n\r\n".encode()
                    + ANSWER
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port_box.value = server.sockets[0].getsockname()[1]
        await server.serve_forever()

    asyncio.run(serve())


async def _timed(fn: Any, n: int) -> tuple[float, float]:
    """(CPU ms, wall ms) per call of the coroutine function ``fn``, best of 3 runs."""
    for _ in range(50):
        await fn()
    cpu, wall = float("inf"), float("inf")
    for _ in range(3):
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(n):
            await fn()
        cpu = min(cpu, (time.process_time() - c0) / n * 1000)
        wall = min(wall, (time.perf_counter() - w0) / n * 1000)
    return cpu, wall


async def _fetch_figures(flows: Any, port: int) -> dict[str, tuple[float, float]]:
    import asyncio
    import json

    import httpx

    from router.backend_http import HttpBackends
    from router.customers.model import CustomerList
    from router.flows.engine import Engine

    # The shipped telecom self-service fetch, as the engine emits it for a black-listed caller.
    engine = Engine(flows, SimplePolicy())
    black = Customer("C00003", tier="normal", list=CustomerList.BLACK)
    at = datetime(2026, 11, 23, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    facts = engine.facts(CallInfo("b.1", "13900002222", "10086", at), black, {})
    state, out = engine.start("telecom", facts)
    state, out = engine.step(state, a.Digits("1"))
    fetch = out[-1]
    assert isinstance(fetch, a.Fetch), fetch
    shipped = flows.backends.backends[fetch.backend]
    backend = shipped.model_copy(update={"base_url": f"http://127.0.0.1:{port}/crm"})
    http = HttpBackends()
    bare = httpx.AsyncClient()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET /crm{fetch.path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n".encode()

    async def ours() -> None:
        answered = await http.fetch(fetch, backend, 1.0)
        assert answered.ok, answered
        engine.step(state, answered)  # the engine takes the answer: variables, next node

    async def httpx_bare() -> None:
        response = await bare.get(backend.base_url + fetch.path)
        json.loads(response.content)

    async def raw_socket() -> None:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        size = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        json.loads(await reader.readexactly(size))

    figures = {
        "ours": await _timed(ours, FETCHES),
        "httpx": await _timed(httpx_bare, FETCHES),
        "raw": await _timed(raw_socket, FETCHES),
    }
    writer.close()
    await bare.aclose()
    await http.aclose()
    return figures


def fetch_overhead(flows: Any) -> None:
    """Our CPU per fetch (engine + adapter) beside bare httpx and a raw socket, same backend."""
    import asyncio
    import multiprocessing

    box = multiprocessing.Value("i", 0)
    proc = multiprocessing.Process(target=_backend_process, args=(box,), daemon=True)
    proc.start()
    try:
        while not box.value:
            time.sleep(0.01)
        figures = asyncio.run(_fetch_figures(flows, box.value))
    finally:
        proc.terminate()
    ours_cpu, ours_wall = figures["ours"]
    print(f"\nfetch against a local backend answering in {BACKEND_DELAY_S * 1000:.0f} ms")
    print(f"(best of 3 runs of {FETCHES} sequential fetches; backend in another process)")
    for name, label in (
        ("ours", "fetch node (engine + adapter)"),
        ("httpx", "bare httpx GET (baseline)"),
        ("raw", "raw asyncio socket (floor)"),
    ):
        cpu, wall = figures[name]
        print(f"{label:32s} CPU {cpu:6.3f} ms   wall {wall:6.3f} ms")
    verdict = "meets" if ours_cpu <= 0.2 else "MISSES"
    print(
        f"RESULT: a fetch costs {ours_cpu:.3f} ms of our CPU = "
        f"{ours_cpu / figures['httpx'][0]:.2f}x bare httpx, "
        f"{ours_cpu / figures['raw'][0]:.1f}x a raw socket; wall {ours_wall:.3f} ms = backend "
        f"{BACKEND_DELAY_S * 1000:.0f} ms + {ours_wall - BACKEND_DELAY_S * 1000:.3f} ms; "
        f"{verdict} the <= 0.2 ms target"
    )


if __name__ == "__main__":
    main()
    fetch_overhead(load_flows(Path(__file__).resolve().parents[1] / "ivr_flows", QUEUES))
