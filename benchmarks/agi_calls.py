"""FastAGI call setup: Tierline's server vs panoramisk 1.4's ``fast_agi.Application``.

Each call: the Asterisk double sends a full environment; Tierline's side is
the production handler (``CallRouter`` on the shipped ``ivr_flows``, every
caller on the red list so the telecom flow routes at once: one pipelined
lookup + queue snapshot, one EXEC MSet), panoramisk's one Redis lookup +
EXEC MSet of the route (the routing decision); both then
ANSWER, GET VARIABLE, EXEC Wait (the call holding in the queue), SET
VARIABLE, GET VARIABLE (6 AGI exchanges), then closes. Both servers run in
this process on the same event loop (uvloop when installed, ``--loop``);
the Asterisk side runs in ``--drivers`` separate processes (a lean protocol
by default, the full double with ``--double model``) and Redis is the
embedded server, so the router's own CPU time can be measured alone.

Two loads, each against both servers:

* saturation: ``--calls`` slots placing calls back to back (closed loop,
  hold ``--hold-s``): the most calls per second the router completes, and
  calls per router CPU-second (``time.process_time`` of this process over
  the measured window, warm-up excluded);
* open loop, twice: Poisson arrivals at ``--load`` x our measured CPU
  capacity, then at ``--centre-rate`` calls/s (100/s = 360,000 calls an
  hour, a very large centre), each call holding ``--calls / rate`` s in
  EXEC Wait so that ``--calls`` calls are in progress: the decision latency
  a caller actually sees. Beside each, a PING sent at the same Poisson
  pacing: the floor of any decision that waits for one Redis round trip.

Decision latency = environment complete -> route variables about to be
written (for panoramisk from handler start: it hides when the environment
completed). ``benchmarks/call_path.py`` times the routing step
alone against a bare FastAGI floor.
A Redis PING round trip measured in the same run is printed as a baseline
for comparing machines.

    python benchmarks/agi_calls.py [--calls 500] [--seconds 5] [--load 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import multiprocessing as mp
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from router import eventloop
from router.agi import AGIServer, AGISession
from router.agi.protocol import encode_mset
from router.ami.store import RedisQueueState
from router.calls import CallRouter
from router.customers.model import Customer, CustomerList, LookupResult
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
LOG = io.StringIO()  # the router's warnings: a degraded lookup is a degraded call
CUSTOMERS = 2000
TIERS = ("vip", "high", "mid", "normal")
WARMUP_S = 1.0


def number(i: int) -> str:
    return f"139{i:08d}"


# ---------------------------------------------------------------------- driver processes


@dataclass(frozen=True)
class Load:
    """What one driver process places: ``slots`` back to back, or Poisson ``rate``."""

    port: int
    hold_s: float
    run_s: float
    slots: int = 0
    rate: float = 0.0
    seed: int = 0
    model: bool = False


class FastAsterisk(asyncio.Protocol):
    """A lean Asterisk side for the benchmark's six commands, so the driver keeps up.

    The full double (``router.agi.double``, used with ``--double model``)
    replays a virtual clock per call and costs more CPU than the router on
    this workload. This one answers each line as Asterisk 22 does (the replay
    tests check the model against the captures; these are the same reply
    lines), holds EXEC Wait on a timer, and reports how the call ended.
    """

    def __init__(self, env: bytes, done: asyncio.Future[bool]) -> None:
        self.env = env
        self.done = done
        self.vars: dict[str, str] = {}
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        self.transport.write(self.env)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while b"\n" in self.buf:
            line, _, self.buf = self.buf.partition(b"\n")
            self.command(line.decode())

    def command(self, line: str) -> None:
        assert self.transport is not None
        if line.startswith("EXEC Wait "):
            hold = float(line[10:])
            asyncio.get_running_loop().call_later(hold, self.reply, "200 result=0")
            return
        if line.startswith("GET VARIABLE "):
            value = self.vars.get(line[13:])
            self.reply("200 result=0" if value is None else f"200 result=1 ({value})")
            return
        if line.startswith("SET VARIABLE "):
            name, _, value = line[13:].partition(" ")
            self.vars[name] = value
            self.reply("200 result=1")
            return
        if line.startswith("EXEC MSet "):
            for pair in line[10:].strip('"').split(","):  # enough for the benchmark's values
                name, _, value = pair.partition("=")
                self.vars[name] = value
        self.reply("200 result=0")  # ANSWER, EXEC MSet

    def reply(self, text: str) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(text.encode() + b"\n")

    def eof_received(self) -> bool | None:
        if not self.done.done():
            self.done.set_result(True)  # the server closed: the call completed
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(True)


async def fast_call(port: int, env: list[str], max_s: float) -> None:
    """One call with ``FastAsterisk``; returns when the server has closed."""
    loop = asyncio.get_running_loop()
    ended: asyncio.Future[bool] = loop.create_future()
    payload = "".join(f"{line}\n" for line in env).encode()
    transport, _ = await loop.create_connection(
        lambda: FastAsterisk(payload, ended), "127.0.0.1", port
    )
    try:
        async with asyncio.timeout(max_s):
            await ended
    finally:
        transport.close()


def _drive(load: Load, out: Connection, want_uvloop: bool) -> None:
    """Child process: say "go", place calls for ``run_s``, send (completed, failed)."""
    from router.agi.caller import place_call
    from router.agi.double import environment

    done = [0, 0]

    async def one(n: int) -> None:
        env = environment(number((n * 7919) % (CUSTOMERS * 2)), uniqueid=f"{n}.{load.seed}")
        try:
            if load.model:
                record = await place_call("127.0.0.1", load.port, env, max_s=load.hold_s + 30)
                done[0 if record.closed_by_server else 1] += 1
                return
            await fast_call(load.port, env, load.hold_s + 30)
            done[0] += 1
        except (OSError, TimeoutError):
            done[1] += 1

    async def slot(index: int, until: float) -> None:
        n = index * 1_000_000
        while time.perf_counter() < until:
            n += 1
            await one(n)

    async def poisson(until: float) -> None:
        rng = random.Random(load.seed)
        tasks: set[asyncio.Task[None]] = set()
        n = 0
        at = time.perf_counter()
        while at < until:
            at += rng.expovariate(load.rate)
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            n += 1
            task = asyncio.create_task(one(load.seed * 10_000_000 + n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks)

    async def main() -> None:
        out.send("go")
        until = time.perf_counter() + load.run_s
        if load.slots:
            await asyncio.gather(*(slot(i, until) for i in range(load.slots)))
        else:
            await poisson(until)
        out.send(tuple(done))

    configure_logging("error")
    eventloop.run(main(), want_uvloop)


# ---------------------------------------------------------------------- servers


class Counted:
    """A store wrapper counting lookup outcomes (a timed-out lookup is a degraded call)."""

    def __init__(self, store: RedisCustomerStore) -> None:
        self.store = store
        self.reasons: dict[str, int] = {}

    async def lookup(self, number: str) -> LookupResult:
        result = await self.store.lookup(number)
        self.reasons[result.reason] = self.reasons.get(result.reason, 0) + 1
        return result

    async def link(self, number: str, customer_id: str) -> None:
        await self.store.link(number, customer_id)


@dataclass
class Stats:
    """Per-server samples: (perf_counter, decision ms) and completed call times."""

    decisions: list[tuple[float, float]] = field(default_factory=list)
    done: list[float] = field(default_factory=list)


class Ours:
    """Tierline's AGIServer with the production CallRouter plus 5 more exchanges."""

    name = "tierline CallRouter"

    def __init__(self, store: Counted, settings: Settings, hold_s: float) -> None:
        self.stats = Stats()
        client = store.store.client
        policy = TieredPolicy(load_routing(IVR / "routing.yaml"))
        self.route = CallRouter(
            store.store, policy, FlowRegistry(IVR, policy.services), RedisCallbackStore(client),
            policy.default_queue, RedisQueueState(client), client,
        )  # fmt: skip
        self.hold = str(round(hold_s, 3))
        self.server = AGIServer({"inbound": self.handler}, port=0)

    async def handler(self, session: AGISession, call: CallInfo) -> None:
        send = session.set_vars

        async def stamped(values: Mapping[str, str]) -> None:
            if "TIERLINE_QUEUE" in values:  # the route, about to be written: the decision
                now = time.perf_counter()
                self.stats.decisions.append((now, (now - session.env_done_at) * 1000))
            await send(values)

        session.set_vars = stamped  # type: ignore[method-assign]
        await self.route(session, call)  # lookup + snapshot, flow, EXEC MSet: production
        await session.answer()
        await session.get_var("TIERLINE_QUEUE")
        await session.exec("Wait", [self.hold])
        await session.set_var("TIERLINE_DONE", "1")
        await session.get_var("TIERLINE_PRIO")
        self.stats.done.append(time.perf_counter())

    async def start(self) -> int:
        await self.server.start()
        return self.server.port

    async def stop(self) -> None:
        await self.server.stop()
        await self.route.aclose()


class Panoramisk:
    """The same exchanges through panoramisk 1.4's FastAGI Application."""

    name = "panoramisk 1.4 Application"

    def __init__(self, store: Counted, settings: Settings, hold_s: float) -> None:
        from panoramisk import fast_agi

        self.store = store
        self.settings = settings
        self.hold = str(round(hold_s, 3))
        self.app = fast_agi.Application(loop=asyncio.get_running_loop())
        self.app.add_route("inbound", self.handler)
        self.stats = Stats()
        self.server: asyncio.Server | None = None

    async def handler(self, request: Any) -> None:
        started = time.perf_counter()  # handler start: panoramisk hides when the env completed
        send: Callable[[str], Awaitable[Any]] = request.send_command
        result = await self.store.lookup(request.headers.get("agi_callerid", ""))
        c = result.customer
        prio = {"vip": 10, "high": 5, "mid": 2}.get(c.tier, 0) if c else 0
        values = {
            "TIERLINE_CUSTOMER": c.customer_id if c else "",
            "TIERLINE_TIER": c.tier if c else "",
            "TIERLINE_QUEUE": self.settings.default_queue,
            "TIERLINE_PRIO": str(prio),
        }
        now = time.perf_counter()
        self.stats.decisions.append((now, (now - started) * 1000))
        await send(f'EXEC MSet "{encode_mset(values)}"')
        await send("ANSWER")
        await send("GET VARIABLE TIERLINE_QUEUE")
        await send(f"EXEC Wait {self.hold}")
        await send("SET VARIABLE TIERLINE_DONE 1")
        await send("GET VARIABLE TIERLINE_PRIO")
        self.stats.done.append(time.perf_counter())

    async def start(self) -> int:
        self.server = await asyncio.start_server(self.app.handler, "127.0.0.1", 0, backlog=4096)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


Server = Ours | Panoramisk


# ---------------------------------------------------------------------- measuring


@dataclass
class Result:
    """One server under one load, over the measured window only."""

    calls: int
    wall_s: float
    cpu_s: float
    p50: float
    p99: float
    failed: int
    degraded: int
    decisions: int

    @property
    def rate(self) -> float:
        return self.calls / self.wall_s

    @property
    def capacity(self) -> float:
        return self.calls / self.cpu_s if self.cpu_s else 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def _await_drivers(pipes: list[Connection]) -> list[Any]:
    return [p.recv() for p in pipes]


async def measure(
    kind: type[Server], url: str, args: Any, *, slots: int, rate: float, hold_s: float
) -> Result:
    """Start the server, run the drivers, read CPU and calls over the window."""
    # A patient connect timeout: 64 connects at once on a loaded box can take 100 ms.
    settings = Settings(
        lookup_deadline_ms=args.deadline_ms, redis_pool_size=64, redis_connect_timeout_ms=1000
    )
    client = call_path_client(settings, url)
    await warm_pool(client, 64)
    store = Counted(RedisCustomerStore(client, settings.lookup_deadline_ms))
    impl = kind(store, settings, hold_s)
    port = await impl.start()
    loop = asyncio.get_running_loop()
    run_s = WARMUP_S + args.seconds + 0.5
    ctx = mp.get_context("spawn")
    pipes, procs = [], []
    for i in range(args.drivers):
        parent, child = ctx.Pipe()
        load = Load(
            port,
            hold_s,
            run_s,
            slots=-(-slots // args.drivers),
            rate=rate / args.drivers,
            seed=i + 1,
            model=args.double == "model",
        )
        proc = ctx.Process(target=_drive, args=(load, child, args.loop == "uvloop"))
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    await loop.run_in_executor(None, _await_drivers, pipes)  # every driver said "go"
    await asyncio.sleep(WARMUP_S)
    t0, cpu0, reasons0 = time.perf_counter(), time.process_time(), dict(store.reasons)
    logged0 = LOG.getvalue().count("call.lookup_degraded")
    await asyncio.sleep(args.seconds)
    t1, cpu1 = time.perf_counter(), time.process_time()
    degraded = sum(v - reasons0.get(k, 0) for k, v in store.reasons.items() if k == "timeout")
    degraded += LOG.getvalue().count("call.lookup_degraded") - logged0
    outcomes = await loop.run_in_executor(None, _await_drivers, pipes)
    for proc in procs:
        proc.join()
    await impl.stop()
    await client.aclose()
    await client.connection_pool.disconnect()
    lat = [ms for at, ms in impl.stats.decisions if t0 <= at < t1]
    return Result(
        calls=sum(1 for at in impl.stats.done if t0 <= at < t1),
        wall_s=t1 - t0,
        cpu_s=cpu1 - cpu0,
        p50=percentile(lat, 0.5),
        p99=percentile(lat, 0.99),
        failed=sum(o[1] for o in outcomes),
        degraded=degraded,
        decisions=len(lat),
    )


async def ping_p50(url: str, n: int = 2000) -> float:
    """Redis PING round trip p50 (ms) with the call-path client: the machine baseline."""
    client = call_path_client(Settings(lookup_deadline_ms=1000), url)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        await client.ping()
        samples.append((time.perf_counter() - start) * 1000)
    await client.aclose()
    await client.connection_pool.disconnect()
    return statistics.median(samples)


async def paced_ping(url: str, rate: float, n: int = 1000) -> tuple[float, float]:
    """PING p50/p99 (ms) sent at Poisson times at ``rate``/s: the latency floor of a decision.

    A decision waits for one Redis round trip. Back to back a PING is fast,
    but at call-like pacing the router, Redis and the kernel go idle between
    requests and every wake-up costs; the decision pays the same at the
    same pacing.
    """
    client = call_path_client(Settings(lookup_deadline_ms=1000), url)
    await warm_pool(client, 4)
    rng = random.Random(7)
    samples = []
    for _ in range(n):
        await asyncio.sleep(rng.expovariate(rate))
        start = time.perf_counter()
        await client.ping()
        samples.append((time.perf_counter() - start) * 1000)
    await client.aclose()
    await client.connection_pool.disconnect()
    return percentile(samples, 0.5), percentile(samples, 0.99)


async def seed(url: str) -> None:
    client = call_path_client(Settings(lookup_deadline_ms=2000), url)
    store = RedisCustomerStore(client, 2000)
    batch = [
        Customer(
            customer_id=f"C{i:06d}", tier=TIERS[i % 4], list=CustomerList.RED, phones=(number(i),)
        )
        for i in range(CUSTOMERS)
    ]
    await store.upsert_many(batch)
    await client.aclose()
    await client.connection_pool.disconnect()


# ---------------------------------------------------------------------- report


def line(name: str, r: Result) -> str:
    return (
        f"  {name:<27} {r.rate:>6.0f} calls/s wall  {r.capacity:>6.0f} per router CPU-s  "
        f"CPU {r.cpu_s / r.wall_s:>4.0%}  decision p50 {r.p50:7.3f} ms  p99 {r.p99:8.3f} ms  "
        f"({r.calls} calls ended, {r.decisions} decisions, {r.failed} failed, "
        f"{r.degraded} lookups timed out)"
    )


async def run(args: Any) -> None:
    configure_logging("warning", LOG)
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp, embedded_store(Path(tmp)) as url:
        await seed(url)
        eventloop.tune_gc()  # as `tierline serve` does once set up (for both servers)
        ping = await ping_p50(url)
        sat = {
            kind: await measure(kind, url, args, slots=args.calls, rate=0, hold_s=args.hold_s)
            for kind in (Ours, Panoramisk)
        }
        real = []
        for rate in (args.load * sat[Ours].capacity, args.centre_rate):
            hold = args.calls / rate
            runs = {
                kind: await measure(kind, url, args, slots=0, rate=rate, hold_s=hold)
                for kind in (Ours, Panoramisk)
            }
            real.append((rate, hold, runs, await paced_ping(url, rate)))
    load1 = os.getloadavg()
    ours, theirs = sat[Ours], sat[Panoramisk]
    print(f"loop={args.loop}  drivers={args.drivers} ({args.double} double)  ", end="")
    print(f"cores={os.cpu_count()}  ", end="")
    print(f"load average {load0[0]:.2f} before, {load1[0]:.2f} after")
    print(f"baseline: Redis PING round trip p50 {ping * 1000:.0f} us")
    print(f"saturation: {args.calls} slots back to back, hold {args.hold_s:g} s")
    for kind, r in sat.items():
        print(line(kind.name, r))
    labels = (f"{args.load:.0%} of our CPU capacity", "a large centre's busy hour")
    for (rate, hold, runs, (ping50, ping99)), label in zip(real, labels, strict=True):
        print(f"open loop: Poisson {rate:.0f} calls/s ({label}), ", end="")
        print(f"hold {hold:.2f} s -> {args.calls} calls in progress")
        print(f"  baseline: PING at the same pacing p50 {ping50:.3f} ms  p99 {ping99:.3f} ms")
        for kind, r in runs.items():
            print(line(kind.name, r) + f"  (p99 {r.p99 / ping99:.1f}x PING's)")
    per_call = {kind: r.cpu_s / max(r.calls, 1) for kind, r in real[0][2].items()}
    print(
        f"ratio to panoramisk: wall calls/s {ours.rate / theirs.rate:.2f}x, "
        f"calls per router CPU-s {ours.capacity / theirs.capacity:.2f}x at saturation, "
        f"{per_call[Panoramisk] / per_call[Ours]:.2f}x at {args.load:.0%} load"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="calls in progress")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured window per run")
    parser.add_argument("--hold-s", type=float, default=0.2, help="hold at saturation")
    parser.add_argument("--load", type=float, default=0.5, help="open-loop rate / capacity")
    parser.add_argument("--centre-rate", type=float, default=100.0, help="second rate, calls/s")
    parser.add_argument("--drivers", type=int, default=1, help="Asterisk double processes")
    parser.add_argument("--deadline-ms", type=float, default=50.0)
    parser.add_argument(
        "--double", choices=("fast", "model"), default="fast", help="Asterisk side per call"
    )
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default=eventloop.loop_name())
    args = parser.parse_args()
    eventloop.run(run(args), want_uvloop=args.loop == "uvloop")


if __name__ == "__main__":
    main()
