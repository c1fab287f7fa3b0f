"""Customer lookup latency vs. a plain PING on the same client and server.

    python benchmarks/lookup.py [--calls 20000] [--concurrency 100] [--redis URL]

Without --redis (or $REDIS_URL) an embedded Valkey is started in a temp dir.
Targets (issue 2): lookup p50 <= 1.5 x PING p50, lookup p99 < 1 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path

from router.customers.model import Customer
from router.customers.store import RedisCustomerStore
from router.settings import Settings
from router.storage.client import call_path_client, warm_pool
from router.storage.embedded import embedded_store

N_CUSTOMERS = 10_000


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def timed(op: Callable[[], Awaitable[object]], calls: int, conc: int) -> list[float]:
    samples: list[float] = []

    async def worker(n: int) -> None:
        for _ in range(n):
            t = time.perf_counter()
            await op()
            samples.append((time.perf_counter() - t) * 1e6)

    per = calls // conc
    await asyncio.gather(*(worker(per) for _ in range(conc)))
    return samples


def line(name: str, s: list[float], base: list[float] | None) -> str:
    p50, p99 = pct(s, 50), pct(s, 99)
    ratio = f"  x{p50 / pct(base, 50):.2f} of PING p50" if base else ""
    mean = statistics.fmean(s)
    return f"{name:<26} p50 {p50:7.1f} us  p99 {p99:7.1f} us  mean {mean:7.1f} us{ratio}"


async def run(url: str, calls: int, conc: int) -> None:
    settings = Settings(redis_pool_size=max(conc, 8), redis_connect_timeout_ms=1000)
    client = call_path_client(settings, url)
    store = RedisCustomerStore(client)
    rng = random.Random(1)
    numbers = [f"13{rng.randrange(10**9):09d}" for _ in range(N_CUSTOMERS)]
    custs = [
        Customer(f"B{i}", name="Bench", tier="vip", offers=("a", "b"), phones=(n,))
        for i, n in enumerate(numbers)
    ]
    for i in range(0, len(custs), 1000):
        await store.upsert_many(custs[i : i + 1000])
    await store.lookup(numbers[0])  # load the script

    async def ping() -> object:
        return await client.ping()

    async def lookup() -> object:
        result = await store.lookup(rng.choice(numbers))
        assert result.found, result.reason
        return result

    for label, c in (("sequential", 1), (f"{conc} concurrent tasks", conc)):
        await warm_pool(client, c)  # open the connections one by one, as the router does
        await timed(ping, 2000, c)  # warm up
        base = await timed(ping, calls, c)
        look = await timed(lookup, calls, c)
        print(f"-- {label}, {calls} calls each")
        print(line("PING round trip", base, None))
        print(line("lookup (1 EVALSHA)", look, base))
    await client.aclose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=20_000)
    ap.add_argument("--concurrency", type=int, default=100)
    ap.add_argument("--redis", default=os.environ.get("REDIS_URL"))
    args = ap.parse_args()
    with ExitStack() as stack:
        url = args.redis or stack.enter_context(
            embedded_store(Path(stack.enter_context(tempfile.TemporaryDirectory())))
        )
        asyncio.run(run(url, args.calls, args.concurrency))


if __name__ == "__main__":
    main()
