"""Bulk import speed: N generated customers (CSV) into an empty store.

    python benchmarks/import_speed.py [--rows 1000000] [--redis URL]

Prints rows/s for the validation pass, the write pass and the whole import,
beside a baseline measured in the same run: a plain pipelined SET of one key
per row (the least any importer must do).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from router.customers.import_rows import CSV_COLUMNS
from router.customers.importer import import_path
from router.storage.client import bulk_client
from router.storage.embedded import embedded_store


def generate(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for i in range(rows):
            phones = f"13{i:09d}" + (f";0105{i:07d}" if i % 4 == 0 else "")
            w.writerow(
                [
                    f"C{i:07d}",
                    "张三",
                    ("vip", "high", "mid", "normal")[i % 4],
                    "",
                    "stable",
                    "123.5",
                    "24",
                    "700",
                    "zh",
                    "",
                    "Offer A;Offer B",
                    phones,
                ]
            )


async def baseline(url: str, rows: int) -> float:
    client = bulk_client(url)
    start = time.perf_counter()
    for base in range(0, rows, 1000):
        async with client.pipeline(transaction=False) as pipe:
            for i in range(base, min(rows, base + 1000)):
                pipe.set(f"bench:{i}", "x")
            await pipe.execute()
    elapsed = time.perf_counter() - start
    await client.flushall()
    await client.aclose()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--redis", default=os.environ.get("REDIS_URL"))
    args = ap.parse_args()
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = args.redis or stack.enter_context(embedded_store(tmp / "store"))
        path = tmp / "customers.csv"
        generate(path, args.rows)
        base = asyncio.run(baseline(url, args.rows))
        start = time.perf_counter()
        report = asyncio.run(import_path(url, path))
        elapsed = time.perf_counter() - start
        assert report.ok, report.problems[:3]
        assert report.written == args.rows
        print(f"rows                      {args.rows}")
        print(f"baseline pipelined SET    {base:6.1f} s  {args.rows / base:10.0f} rows/s")
        print(
            f"import (validate + write) {elapsed:6.1f} s  {args.rows / elapsed:10.0f} rows/s"
            f"  x{elapsed / base:.1f} of baseline"
        )


if __name__ == "__main__":
    main()
