"""The wallboard under a busy centre: its CPU, AMI-to-screen latency, effect on routing.

    python benchmarks/wallboard.py [--seconds 20] [--queues 200] [--calls-per-min 5000]

A writer does what the AMI listener does for ``--calls-per-min`` calls spread over
``--queues`` queues (each call joins, waits, is answered or abandons: queue state mirrored
and a record appended, through the listener's own ``RedisStateWriter``), while
``tierline web`` runs as its own process, exactly as deployed. Figures:

* the web process's CPU (user+sys from /proc) per second of wall time;
* latency from a state write to the board arriving on an SSE stream (as a browser gets it):
  a marker queue's waiting count changes every 0.7 s and the stream is watched for it;
* customer lookups (the call path's Redis round trip, one every 5 ms) under the same event
  load with the wallboard off and on, in alternating phases, and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import orjson

from router.ami.records import CallRecord
from router.ami.state import Delta, LiveState, Member
from router.ami.store import RedisStateWriter
from router.customers.model import Customer
from router.customers.store import RedisCustomerStore
from router.settings import Settings
from router.storage.client import bulk_client, call_path_client, warm_pool
from router.storage.embedded import embedded_store
from router.types import WaitingCaller
from tests.redis_server import free_port

MARKER = "zz_marker"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


class Centre:
    """A LiveState driven like the listener drives it, written with its writer."""

    def __init__(self, writer: RedisStateWriter, queues: int, rng: random.Random) -> None:
        self.writer, self.rng = writer, rng
        self.state = LiveState()
        self.names = [f"q{i:03d}" for i in range(queues)]
        for name in [*self.names, MARKER]:
            q = self.state.queue(name)
            for m in range(8):
                q.members[f"Local/{name}-{m}"] = Member(f"Local/{name}-{m}", status=1)
        self.seq = 0
        self.marks: dict[int, float] = {}

    async def step(self, n_calls: int, now: float) -> None:
        delta = Delta()
        for _ in range(n_calls):
            self.seq += 1
            name = self.rng.choice(self.names)
            uid = f"b.{self.seq}"
            q = self.state.queues[name]
            q.waiting[uid] = WaitingCaller(
                uid, "PJSIP/x", name, self.rng.choice(["vip", "normal"]), 0, 0, now
            )
            delta.queues.add(name)
            if len(q.waiting) > 3:  # the oldest leaves: answered or abandoned
                old = next(iter(q.waiting))
                w = q.waiting.pop(old)
                outcome = "answered" if self.rng.random() < 0.9 else "abandoned"
                delta.finished.append(CallRecord(
                    old, tier=w.tier, queue=name, joined_at=w.joined_at, outcome=outcome,
                    answered_at=now if outcome == "answered" else 0.0,
                    abandoned_at=now if outcome == "abandoned" else 0.0, ended_at=now,
                ))  # fmt: skip
        await self.writer.write(self.state, delta, now)

    async def mark(self, k: int, now: float) -> None:
        """Set the marker queue's waiting count to ``k % 5`` and remember when."""
        q = self.state.queues[MARKER]
        q.waiting = {
            f"m{i}": WaitingCaller(f"m{i}", "x", MARKER, "vip", 0, 0, now) for i in range(k % 5)
        }
        delta = Delta()
        delta.queues.add(MARKER)
        await self.writer.write(self.state, delta, now)
        self.marks[k % 5] = time.perf_counter()


async def watch(url: str, centre: Centre, lat: list[float], stop: asyncio.Event) -> None:
    last = None
    async with httpx.AsyncClient(timeout=None) as http, http.stream("GET", f"{url}/events") as res:
        async for line in res.aiter_lines():
            if stop.is_set():
                return
            if not line.startswith("data: "):
                continue
            board = orjson.loads(line[6:])
            row = next((q for q in board["queues"] if q["name"] == MARKER), None)
            if row is None:
                continue
            value = int(row["figures"]["waiting"])
            if value != last and value in centre.marks:
                lat.append(time.perf_counter() - centre.marks[value])
            last = value


async def drive(centre: Centre, per_min: int, seconds: float, lat_marks: bool) -> None:
    start = time.perf_counter()
    k = 0
    next_mark = start
    while (el := time.perf_counter() - start) < seconds:
        await centre.step(max(1, round(per_min / 60 / 10)), time.time())
        if lat_marks and time.perf_counter() >= next_mark:
            k += 1
            await centre.mark(k, time.time())
            next_mark += 0.7
        await asyncio.sleep(max(0.0, 0.1 - (time.perf_counter() - start - el)))


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def lookups(store: RedisCustomerStore, numbers: list[str], seconds: float) -> list[float]:
    """One lookup every 5 ms for ``seconds``: samples spread over the whole load window."""
    out = []
    end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < end:
        t = time.perf_counter()
        await store.lookup(numbers[i % len(numbers)])
        out.append((time.perf_counter() - t) * 1e6)
        i += 1
        await asyncio.sleep(0.005)
    return out


async def run(url: str, args: argparse.Namespace) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    centre = Centre(RedisStateWriter(redis), args.queues, random.Random(1))
    client = call_path_client(Settings(redis_connect_timeout_ms=1000), url)
    store = RedisCustomerStore(client)
    numbers = [f"139{i:08d}" for i in range(2000)]
    bulk = bulk_client(url)
    await RedisCustomerStore(bulk).upsert_many(
        [Customer(f"W{i}", tier="vip", phones=(n,)) for i, n in enumerate(numbers)]
    )
    await bulk.aclose()
    await store.lookup(numbers[0])  # load the script
    await warm_pool(client, 4)
    await centre.step(args.queues * 3, time.time())  # every queue known before the web starts
    port = free_port()
    env = {**os.environ, "REDIS_URL": url}
    off: list[float] = []
    on: list[float] = []
    lat: list[float] = []
    for phase in range(args.phases):  # wallboard off / on, alternating
        driving = asyncio.create_task(drive(centre, args.calls_per_min, args.seconds, False))
        off += await lookups(store, numbers, args.seconds)
        await driving
        web = subprocess.Popen(  # noqa: ASYNC220 - started once per phase, outside the timing
            [sys.executable, "-m", "router", "web", "--port", str(port), "--redis", url],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as http:
            for _ in range(200):
                try:
                    if (await http.get(f"{base}/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.05)
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch(base, centre, lat, stop))
        cpu0, wall0 = cpu_s(web.pid), time.perf_counter()
        driving = asyncio.create_task(drive(centre, args.calls_per_min, args.seconds, True))
        on += await lookups(store, numbers, args.seconds)
        await driving
        cpu = (cpu_s(web.pid) - cpu0) / (time.perf_counter() - wall0)
        stop.set()
        watcher.cancel()
        web.terminate()
        web.wait(5)
        print(f"phase {phase + 1}: web process CPU {cpu * 100:.1f}% of one core "
              f"({args.queues} queues, {args.calls_per_min} calls/min)")  # fmt: skip
    print(f"AMI write -> SSE board latency: n={len(lat)} p50 {pct(lat, 50) * 1000:.0f} ms "
          f"p99 {pct(lat, 99) * 1000:.0f} ms max {max(lat, default=0) * 1000:.0f} ms")  # fmt: skip
    for label, s in (("lookup, wallboard off", off), ("lookup, wallboard on ", on)):
        mean = statistics.fmean(s)
        print(f"{label}: p50 {pct(s, 50):6.1f} us  p99 {pct(s, 99):6.1f} us  mean {mean:6.1f} us")
    p50, p99 = pct(on, 50) / pct(off, 50), pct(on, 99) / pct(off, 99)
    print(f"ratio on/off: p50 x{p50:.2f}  p99 x{p99:.2f}")
    await client.aclose()
    await redis.aclose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--queues", type=int, default=200)
    ap.add_argument("--calls-per-min", type=int, default=5000)
    ap.add_argument("--phases", type=int, default=2)
    ap.add_argument("--redis", default=os.environ.get("REDIS_URL"))
    args = ap.parse_args()
    with ExitStack() as stack:
        url = args.redis or stack.enter_context(
            embedded_store(Path(stack.enter_context(tempfile.TemporaryDirectory())))
        )
        asyncio.run(run(url, args))


if __name__ == "__main__":
    main()
