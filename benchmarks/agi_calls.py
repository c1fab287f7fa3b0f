"""FastAGI call setup: Tierline's server vs panoramisk 1.4's ``fast_agi.Application``.

Each call: the Asterisk double sends a full environment; the router answers
with ANSWER, one Redis lookup + EXEC MSet of the route (the routing
decision), GET VARIABLE, EXEC NoOp, SET VARIABLE, GET VARIABLE (6 AGI
exchanges), then closes. ``--calls`` concurrent calls (default 500), repeated
``--rounds`` times. The double runs in a separate process so the router
process's throughput is what is measured; Redis is the embedded server.

Decision latency = environment complete -> route variables written.

    python benchmarks/agi_calls.py [--calls 500] [--rounds 4] [--uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from router.agi import AGIServer, AGISession, InboundRoute
from router.agi.protocol import encode_mset
from router.customer import Customer
from router.embedded import embedded_store
from router.logs import configure_logging
from router.redis_client import call_path_client
from router.settings import Settings
from router.store import RedisCustomerStore
from router.types import CallInfo

CUSTOMERS = 2000
HOLD_S = "0.2"  # seconds each call spends in EXEC Wait (stands in for the queue)
TIERS = ("vip", "high", "mid", "normal")


def number(i: int) -> str:
    return f"139{i:08d}"


# ---------------------------------------------------------------------- driver process


def _drive(port: int, calls: int, seconds: float, out: Any) -> None:
    """Child process: ``calls`` slots, each placing calls back to back (closed loop).

    So ``calls`` calls are in progress at any moment, each holding for
    ``HOLD_S`` inside EXEC Wait (the queue stay), as on a busy switch.
    """
    from router.agi.caller import place_call
    from router.agi.double import environment

    async def slot(index: int, until: float, counts: list[int]) -> None:
        n = 0
        while time.perf_counter() < until:
            n += 1
            env = environment(number((index * 7919 + n) % (CUSTOMERS * 2)), uniqueid=f"{n}.{index}")
            try:
                record = await place_call("127.0.0.1", port, env, max_s=30)
            except OSError:
                continue
            counts[0] += record.closed_by_server

    async def main() -> None:
        warm = [0]
        await asyncio.gather(*(slot(i, time.perf_counter() + 1.0, warm) for i in range(calls)))
        counts = [0]
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(*(slot(i, until, counts) for i in range(calls)))
        out.send((counts[0], time.perf_counter() - started))

    asyncio.run(main())


def drive(port: int, calls: int, seconds: float) -> tuple[int, float]:
    parent, child = mp.get_context("spawn").Pipe()
    proc = mp.get_context("spawn").Process(target=_drive, args=(port, calls, seconds, child))
    proc.start()
    result: tuple[int, float] = parent.recv()
    proc.join()
    return result


# ---------------------------------------------------------------------- workloads


class Ours:
    """Tierline's AGIServer with the real InboundRoute plus 5 more exchanges."""

    def __init__(self, store: RedisCustomerStore, settings: Settings) -> None:
        self.route = InboundRoute(store, settings)
        self.route.decisions = []
        self.queued: list[float] = []  # env complete -> handler start (task scheduling)
        self.server = AGIServer({"inbound": self.handler}, port=0)

    async def handler(self, session: AGISession, call: CallInfo) -> None:
        self.queued.append((time.perf_counter() - session.env_done_at) * 1000)
        await self.route(session, call)  # lookup + EXEC MSet (the decision), as in production
        await session.answer()
        await session.get_var("TIERLINE_QUEUE")
        await session.exec("Wait", [HOLD_S])
        await session.set_var("TIERLINE_DONE", "1")
        await session.get_var("TIERLINE_PRIO")

    async def start(self) -> int:
        await self.server.start()
        return self.server.port

    async def stop(self) -> None:
        await self.server.stop()

    @property
    def decisions(self) -> list[float]:
        return self.route.decisions or []

    @property
    def from_handler(self) -> list[float]:
        """Decision latency counted from handler start, as panoramisk's is."""
        return [d - q for d, q in zip(self.decisions, self.queued, strict=False)]


class Panoramisk:
    """The same exchanges through panoramisk 1.4's FastAGI Application."""

    def __init__(self, store: RedisCustomerStore, settings: Settings) -> None:
        from panoramisk import fast_agi

        self.store = store
        self.settings = settings
        self.app = fast_agi.Application(loop=asyncio.get_running_loop())
        self.app.add_route("inbound", self.handler)
        self.decisions: list[float] = []
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
        self.decisions.append((time.perf_counter() - started) * 1000)
        await send(f'EXEC MSet "{encode_mset(values)}"')
        await send("ANSWER")
        await send("GET VARIABLE TIERLINE_QUEUE")
        await send(f"EXEC Wait {HOLD_S}")
        await send("SET VARIABLE TIERLINE_DONE 1")
        await send("GET VARIABLE TIERLINE_PRIO")

    async def start(self) -> int:
        self.server = await asyncio.start_server(self.app.handler, "127.0.0.1", 0, backlog=4096)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


# ---------------------------------------------------------------------- main


async def seed(url: str) -> None:
    client = call_path_client(Settings(lookup_deadline_ms=2000), url)
    store = RedisCustomerStore(client, 2000)
    batch = [
        Customer(customer_id=f"C{i:06d}", tier=TIERS[i % 4], phones=(number(i),))
        for i in range(CUSTOMERS)
    ]
    await store.upsert_many(batch)
    await client.aclose()
    await client.connection_pool.disconnect()


async def measure(kind: type[Ours] | type[Panoramisk], url: str, args: Any) -> dict[str, float]:
    settings = Settings(lookup_deadline_ms=args.deadline_ms, redis_pool_size=64)
    client = call_path_client(settings, url)
    store = RedisCustomerStore(client, settings.lookup_deadline_ms)
    impl = kind(store, settings)
    port = await impl.start()
    loop = asyncio.get_running_loop()
    cpu0 = os.times()
    ok, elapsed = await loop.run_in_executor(None, drive, port, args.calls, args.seconds)
    cpu1 = os.times()
    # Router CPU spent (this process only: the driver and Redis are others),
    # 1 s warm-up included, so capacity is understated.
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    await impl.stop()
    await client.aclose()
    await client.connection_pool.disconnect()
    lat = sorted(impl.decisions[-ok:]) if ok else [0.0]  # measured calls, not warm-up
    extra = {}
    if isinstance(impl, Ours) and ok:
        alt = sorted(impl.from_handler[-ok:])
        extra = {"h50": statistics.median(alt), "h99": alt[int(len(alt) * 0.99)]}
    return {
        **extra,
        "ok": ok,
        "rate": ok / elapsed,
        "capacity": ok / cpu,
        "p50": statistics.median(lat),
        "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
    }


def report(name: str, r: dict[str, float]) -> None:
    print(
        f"{name:<28} {int(r['ok']):>6} calls  {r['rate']:>6.0f} calls/s wall  "
        f"{r['capacity']:>6.0f} calls/s per router CPU-second  "
        f"decision p50 {r['p50']:.3f} ms  p99 {r['p99']:.3f} ms"
    )
    if "h50" in r:
        print(
            f"{'':<28} from handler start (panoramisk's basis): "
            f"p50 {r['h50']:.3f} ms  p99 {r['h99']:.3f} ms"
        )


async def run(args: Any) -> None:
    configure_logging("error")
    with tempfile.TemporaryDirectory() as tmp, embedded_store(Path(tmp)) as url:
        await seed(url)
        ours = await measure(Ours, url, args)
        theirs = await measure(Panoramisk, url, args)
    print(
        f"{args.calls} concurrent calls for {args.seconds:g} s, hold {HOLD_S} s, loop={args.loop}"
    )
    report("tierline AGIServer", ours)
    report("panoramisk 1.4 Application", theirs)
    print(f"ratio wall calls/s: {ours['rate'] / theirs['rate']:.2f}x")
    print(f"ratio router capacity: {ours['capacity'] / theirs['capacity']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--deadline-ms", type=float, default=50.0)
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    args.loop = "uvloop" if args.uvloop else "asyncio"
    if args.uvloop:
        import uvloop

        uvloop.run(run(args))
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
