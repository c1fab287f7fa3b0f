"""The routing step as Asterisk sees it: CallRouter on the shipped flows vs a bare FastAGI floor.

Asterisk's ``AGI()`` lasts from its connect to our close, so that is what
is timed here, per call, by an Asterisk side in another process: connect,
environment (as Asterisk 22 writes it), a ``200`` reply to each command,
until the router closes. Variants, interleaved round by round so that the
shared machine's noise falls on all of them alike:

* ``floor``: a bare FastAGI server on the same ``AGIServer`` (connect,
  environment, close): what the protocol itself costs;
* ``floor + MSet``: the floor plus one ``EXEC MSet`` of a route's 11
  variables: the same AGI exchange as a routed call, with no decision;
* ``no flow``: ``CallRouter`` for a number no flow serves (one pipelined
  lookup + queue snapshot, the policy, one ``MSet``);
* ``telecom red-list``: ``CallRouter`` on ``ivr_flows/telecom.yaml`` for a
  red-list caller routed at once (set node, branch, queue node, one ``MSet``).

Printed per concurrency (``--conc``, default 1 and 50 calls in flight):
route step p50/p99, calls/s, router CPU per call (``process_time`` of this
process, which runs the servers and the Redis client; Redis and the
Asterisk side run elsewhere), and the ratios to ``floor + MSet``, measured
in the same run. Lookup/snapshot deadline misses are counted from the log.

    python benchmarks/call_path.py [--calls 1200] [--rounds 3] [--conc 1,50]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from router import eventloop
from router.agi import AGIServer, AGISession
from router.agi.double import environment
from router.ami.store import RedisQueueState
from router.calls import CallRouter
from router.customers.model import Customer, CustomerList
from router.customers.store import RedisCustomerStore
from router.flows.registry import FlowRegistry
from router.logs import configure_logging
from router.policy import TieredPolicy, load_routing
from router.settings import Settings
from router.storage.callback_stream import RedisCallbackStore
from router.storage.client import call_path_client, warm_pool
from router.storage.embedded import embedded_store
from router.types import CallInfo

IVR = Path(__file__).resolve().parents[1] / "ivr_flows"
RED = Customer("C-RED", tier="vip", list=CustomerList.RED, offers=("5G",), phones=("13800000001",))
NORMAL = Customer("C-MID", tier="mid", offers=("Roam",), phones=("13800000003",))
ROUTE = {
    "TIERLINE_CUSTOMER": "C-RED",
    "TIERLINE_TIER": "vip",
    "TIERLINE_LIST": "red",
    "TIERLINE_LIFECYCLE": "stable",
    "TIERLINE_OFFERS": "5G",
    "TIERLINE_ACTION": "queue",
    "TIERLINE_QUEUE": "red_desk",
    "TIERLINE_PRIO": "90",
    "TIERLINE_MAXWAIT": "0",
    "TIERLINE_REASON": "red_list",
    "TIERLINE_ANNOUNCE": "0",
}


@dataclass(frozen=True)
class Variant:
    name: str
    script: str
    caller: str
    dnis: str


VARIANTS = (
    Variant("floor", "floor", "13800000001", "10086"),
    Variant("floor + MSet", "floor_mset", "13800000001", "10086"),
    Variant("no flow", "noflow", "13800000003", "9999"),
    Variant("telecom red-list", "inbound", "13800000001", "10086"),
)
BASE = "floor + MSet"


# ---------------------------------------------------------------------- Asterisk side


class _Side(asyncio.Protocol):
    """One call: write the environment, answer every command, note when we are closed."""

    def __init__(self, env: bytes, done: asyncio.Future[None]) -> None:
        self.env, self.done, self.buf = env, done, b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self.env)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        n = self.buf.count(b"\n")
        self.buf = self.buf[self.buf.rfind(b"\n") + 1 :]
        if self.transport is not None:
            self.transport.write(b"200 result=0\n" * n)

    def eof_received(self) -> bool | None:
        if not self.done.done():
            self.done.set_result(None)
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def _calls(port: int, v: Variant, conc: int, n: int) -> tuple[list[float], float]:
    loop = asyncio.get_running_loop()
    env = ("\n".join(environment(v.caller, dnis=v.dnis, script=v.script)) + "\n").encode()
    samples: list[float] = []

    async def one() -> None:
        done: asyncio.Future[None] = loop.create_future()
        start = time.perf_counter()
        transport, _ = await loop.create_connection(lambda: _Side(env, done), "127.0.0.1", port)
        await done
        samples.append((time.perf_counter() - start) * 1000)
        transport.close()

    async def slot(count: int) -> None:
        for _ in range(count):
            await one()

    began = time.perf_counter()
    await asyncio.gather(*(slot(n // conc) for _ in range(conc)))
    return samples, time.perf_counter() - began


def _driver(pipe: Connection, uvloop: bool) -> None:
    """Child process: run each requested load, send back the samples."""

    async def main() -> None:
        while True:
            job = pipe.recv()
            if job is None:
                return
            pipe.send(await _calls(*job))

    eventloop.run(main(), uvloop)


# ---------------------------------------------------------------------- router side


async def floor(session: AGISession, call: CallInfo) -> None:
    """The protocol alone: the server closes as soon as the environment is in."""


async def floor_mset(session: AGISession, call: CallInfo) -> None:
    """The same AGI exchange as a routed call (one EXEC MSet), with no decision behind it."""
    await session.set_vars(ROUTE)


@asynccontextmanager
async def router_server(url: str, deadline_ms: float) -> AsyncIterator[tuple[int, CallRouter]]:
    """Every variant on one AGIServer, wired as ``tierline serve`` wires the router."""
    settings = Settings(lookup_deadline_ms=deadline_ms, redis_connect_timeout_ms=1000)
    client = call_path_client(settings, url)
    await warm_pool(client, 16)
    store = RedisCustomerStore(client, deadline_ms)
    await store.upsert_many([RED, NORMAL])
    policy = TieredPolicy(load_routing(IVR / "routing.yaml"))
    router = CallRouter(
        store, policy, FlowRegistry(IVR, policy.services), RedisCallbackStore(client),
        policy.default_queue, RedisQueueState(client), client,
    )  # fmt: skip
    routes = {"floor": floor, "floor_mset": floor_mset, "noflow": router, "inbound": router}
    server = AGIServer(routes, port=0)
    await server.start()
    try:
        yield server.port, router
    finally:
        await server.stop(drain_s=2.0)
        await router.aclose()
        await client.aclose()
        await client.connection_pool.disconnect()


@dataclass
class Runs:
    """Samples of one variant at one concurrency, over every round."""

    latencies: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    cpu_s: float = 0.0
    calls: int = 0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))]

    @property
    def rate(self) -> float:
        return self.calls / self.wall_s

    @property
    def cpu_us(self) -> float:
        return self.cpu_s / self.calls * 1e6


async def measure(url: str, args: Any, log: io.StringIO) -> dict[int, dict[str, Runs]]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_driver, args=(child, args.loop == "uvloop"))
    proc.start()
    loop = asyncio.get_running_loop()
    out: dict[int, dict[str, Runs]] = {c: {v.name: Runs() for v in VARIANTS} for c in args.conc}
    try:
        async with router_server(url, args.deadline_ms) as (port, _):
            eventloop.tune_gc()
            for v in VARIANTS:  # warm-up: scripts cached, flows planned, pool in use
                parent.send((port, v, 4, 200))
                await loop.run_in_executor(None, parent.recv)
            for _ in range(args.rounds):
                for conc in args.conc:
                    for v in VARIANTS:
                        cpu0 = time.process_time()
                        parent.send((port, v, conc, args.calls - args.calls % conc))
                        samples, wall = await loop.run_in_executor(None, parent.recv)
                        r = out[conc][v.name]
                        r.cpu_s += time.process_time() - cpu0
                        r.latencies += samples
                        r.wall_s += wall
                        r.calls += len(samples)
    finally:
        parent.send(None)
        proc.join()
    return out


def report(out: dict[int, dict[str, Runs]], log: str) -> None:
    for conc, runs in out.items():
        base = runs[BASE]
        print(f"\n{conc} call(s) in flight, {base.calls} calls per variant")
        print(
            f"  {'variant':<18} {'p50 ms':>7} {'p99 ms':>7} {'p50 over base':>13} "
            f"{'calls/s':>8} {'vs base':>7} {'CPU us/call':>11} {'vs base':>7}"
        )
        for name, r in runs.items():
            print(
                f"  {name:<18} {r.pct(0.5):>7.3f} {r.pct(0.99):>7.3f} "
                f"{r.pct(0.5) - base.pct(0.5):>+13.3f} {r.rate:>8.0f} {r.rate / base.rate:>7.2f} "
                f"{r.cpu_us:>11.0f} {r.cpu_us / base.cpu_us:>7.2f}"
            )
    degraded = {k: log.count(k) for k in ("call.lookup_degraded", "call.queues_unknown")}
    print(f"\ndeadline misses (log lines): {degraded}")


async def run(args: Any) -> None:
    log = io.StringIO()
    configure_logging("warning", log)
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp, embedded_store(Path(tmp)) as url:
        out = await measure(url, args, log)
    print(f"loop={args.loop} cores={os.cpu_count()} load average {load0:.2f} before, ", end="")
    print(f"{os.getloadavg()[0]:.2f} after; rounds={args.rounds} (variants interleaved)")
    report(out, log.getvalue())
    base = out[min(out)][BASE]
    spread = statistics.pstdev(base.latencies) if len(base.latencies) > 1 else 0.0
    print(f"base p50 {base.pct(0.5):.3f} ms, sd {spread:.3f} ms at {min(out)} in flight")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1200, help="calls per variant and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--conc", type=lambda s: [int(x) for x in s.split(",")], default=[1, 50])
    parser.add_argument("--deadline-ms", type=float, default=50.0)
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default=eventloop.loop_name())
    args = parser.parse_args()
    eventloop.run(run(args), want_uvloop=args.loop == "uvloop")


if __name__ == "__main__":
    main()
