"""An import is one transaction: nothing of it is seen before it is whole.

The file is staged under an import id and published at once; a conflict met
while staging, a cancelled or killed import leaves the old data as it was,
and a reader never sees half of a file.
"""

from __future__ import annotations

import asyncio
import csv
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from subprocess import DEVNULL
from typing import Any

import pytest
from redis.asyncio import Redis

from router.call_inputs import RedisInputs
from router.customers import importer
from router.customers.import_rows import CSV_COLUMNS
from router.customers.importer import import_path
from router.customers.model import Customer
from router.customers.staging import ImportTransaction
from router.customers.store import RedisCustomerStore, packed_record
from router.errors import StoreError
from router.settings import Settings
from router.storage import keys
from router.storage.client import call_path_client

ROOT = Path(__file__).resolve().parents[2]
STAGED = "tl:{c}:imp:*"


def number(i: int) -> str:
    return f"139{i:08d}"


def customers_file(path: Path, rows: int, name: str) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for i in range(rows):
            w.writerow([f"C{i}", name, "mid", "", "stable", "1", "1", "1", "zh", "", "", number(i)])
    return path


async def names(client: Redis, rows: int) -> set[str]:
    """The names the call path sees for every imported number (or why it saw none)."""
    store = RedisCustomerStore(client, deadline_ms=60_000)
    seen = set()
    for i in range(rows):
        result = await store.lookup(number(i))
        seen.add(result.customer.name if result.customer else result.reason)
    return seen


async def call_path_name(url: str, caller: str) -> str:
    """What the router's pipelined call-path read finds for ``caller``."""
    client = call_path_client(Settings(lookup_deadline_ms=60_000), url)
    reader = RedisInputs(RedisCustomerStore(client, deadline_ms=60_000), None, 60_000)
    try:
        found = (await reader.read(caller)).lookup
    finally:
        await reader.aclose()
        await client.aclose()
    return found.customer.name if found.customer else found.reason


def after_flushes(
    monkeypatch: pytest.MonkeyPatch, count: int, then: Callable[[], Awaitable[None]]
) -> None:
    """Run ``then`` once the importer has sent ``count`` batches."""
    original = importer._flush
    calls = 0

    async def flush(*args: Any) -> int:
        nonlocal calls
        result = await original(*args)
        calls += 1
        if calls == count:
            await then()
        return result

    monkeypatch.setattr(importer, "_flush", flush)


class TestAllOrNothing:
    async def test_number_taken_after_validation_publishes_nothing(
        self, tmp_path: Path, redis_url: str, redis_client: Redis, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A number linked to someone else between validation and writing: no row is written."""
        store = RedisCustomerStore(redis_client)
        await store.upsert(Customer("X9", phones=("13700000000",)))
        path = customers_file(tmp_path / "c.csv", 3000, "new")
        original = importer._validate

        async def validate_then_link(*args: Any, **kwargs: Any) -> Any:
            report = await original(*args, **kwargs)
            await store.link(number(2500), "X9")  # another admin, meanwhile
            return report

        monkeypatch.setattr(importer, "_validate", validate_then_link)
        report = await import_path(redis_url, path)
        assert report.written == 0
        assert [str(p) for p in report.problems] == [
            f"{path}:2502: phones: 139****2500 belongs to customer X9"
        ]
        assert await names(redis_client, 3) == {"unknown"}
        assert await store.customer_by_id("C0") is None
        assert await redis_client.keys(STAGED) == []

    async def test_cancelled_import_leaves_the_old_data_and_a_rerun_finishes(
        self, tmp_path: Path, redis_url: str, redis_client: Redis, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An import cancelled mid-write changes nothing; running it again imports it whole."""
        assert (await import_path(redis_url, customers_file(tmp_path / "a.csv", 3000, "old"))).ok
        new = customers_file(tmp_path / "b.csv", 3000, "new")
        half_way = asyncio.Event()

        async def mark() -> None:
            half_way.set()
            await asyncio.sleep(3600)  # the client is killed here, mid-file

        monkeypatch.setattr(importer, "BATCH", 100)
        after_flushes(monkeypatch, 10, mark)
        task = asyncio.create_task(import_path(redis_url, new))
        await half_way.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await names(redis_client, 3000) == {"old"}
        monkeypatch.undo()
        report = await import_path(redis_url, new)
        assert (report.ok, report.written) == (True, 3000)
        assert await names(redis_client, 3000) == {"new"}
        assert await redis_client.keys(STAGED) == []

    async def test_reader_never_sees_half_a_file(
        self, tmp_path: Path, redis_url: str, redis_client: Redis, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Once a reader sees one new record it never sees an old one again."""
        store = RedisCustomerStore(redis_client, deadline_ms=60_000)  # a busy CI is no miss
        rows = 3000
        assert (await import_path(redis_url, customers_file(tmp_path / "a.csv", rows, "old"))).ok
        monkeypatch.setattr(importer, "BATCH", 100)
        task = asyncio.create_task(
            import_path(redis_url, customers_file(tmp_path / "b.csv", rows, "new"))
        )
        seen: list[str] = []
        while not task.done():
            for i in (0, rows // 2, rows - 1):
                result = await store.lookup(number(i))
                seen.append(result.customer.name if result.customer else result.reason)
        assert (await task).written == rows
        assert "new" in seen
        first_new = seen.index("new")
        assert set(seen[first_new:]) == {"new"}, "a reader saw new and then old records"
        assert set(seen[:first_new]) <= {"old"}


class TestWritesDuringAnImport:
    async def test_a_write_while_staging_means_staging_again(
        self, tmp_path: Path, redis_url: str, redis_client: Redis, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An unrelated admin write mid-import: the import stages again and both survive."""
        store = RedisCustomerStore(redis_client)
        await store.upsert(Customer("X9", phones=("13700000000",)))
        monkeypatch.setattr(importer, "BATCH", 100)
        after_flushes(monkeypatch, 3, lambda: store.link("13700000001", "X9"))
        report = await import_path(redis_url, customers_file(tmp_path / "c.csv", 1000, "new"))
        assert (report.ok, report.written) == (True, 1000)
        assert await names(redis_client, 1000) == {"new"}
        x9 = await store.customer_by_id("X9")
        assert x9 is not None
        assert x9.phones == ("13700000000", "13700000001")
        assert await redis_client.keys(STAGED) == []

    async def test_a_store_that_keeps_changing_gets_nothing(
        self, tmp_path: Path, redis_url: str, redis_client: Redis, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A write during every staging attempt: a clear error and nothing published."""
        store = RedisCustomerStore(redis_client)
        await store.upsert(Customer("X9", phones=("13700000000",)))
        original = importer._flush

        async def flush_then_write(*args: Any) -> int:
            result = await original(*args)
            await store.upsert(Customer("X9", name="busy", phones=("13700000000",)))
            return result

        monkeypatch.setattr(importer, "_flush", flush_then_write)
        with pytest.raises(StoreError, match="changed during each of 3 attempts"):
            await import_path(redis_url, customers_file(tmp_path / "c.csv", 50, "new"))
        assert await names(redis_client, 50) == {"unknown"}
        assert await redis_client.keys(STAGED) == []

    async def test_a_second_import_is_refused_while_one_runs(
        self, tmp_path: Path, redis_url: str, redis_client: Redis, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Two imports at once would race on the same numbers: the second is refused."""
        path = customers_file(tmp_path / "c.csv", 300, "new")
        second: list[BaseException] = []

        async def try_another() -> None:
            try:
                await import_path(redis_url, path)
            except StoreError as exc:
                second.append(exc)

        monkeypatch.setattr(importer, "BATCH", 100)
        after_flushes(monkeypatch, 1, try_another)
        assert (await import_path(redis_url, path)).written == 300
        assert len(second) == 1
        assert "another import" in str(second[0])


class TestCrashRecovery:
    async def test_crash_after_publishing_is_finished_by_the_next_writer(
        self, tmp_path: Path, redis_url: str, redis_client: Redis, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Published but not merged: readers see the new file; the next admin write finishes it."""
        store = RedisCustomerStore(redis_client)
        assert (await import_path(redis_url, customers_file(tmp_path / "a.csv", 500, "old"))).ok

        async def die(*_: Any) -> None:
            raise asyncio.CancelledError

        monkeypatch.setattr(importer, "merge", die)
        with pytest.raises(asyncio.CancelledError):
            await import_path(redis_url, customers_file(tmp_path / "b.csv", 500, "new"))
        assert await redis_client.get(keys.IMPORT_LIVE)
        assert await names(redis_client, 500) == {"new"}
        assert await call_path_name(redis_url, number(7)) == "new"
        await store.link("13700000000", "C1")
        assert await redis_client.get(keys.IMPORT_LIVE) is None
        assert await redis_client.keys(STAGED) == []
        assert await names(redis_client, 500) == {"new"}
        assert await store.count() == 500

    async def test_killed_client_is_cleaned_up_after_its_lease(
        self, tmp_path: Path, redis_url: str, redis_client: Redis
    ) -> None:
        """SIGKILL mid-staging: old data intact; a re-run waits for the lease, then cleans up."""
        rows = 10_000
        assert (await import_path(redis_url, customers_file(tmp_path / "a.csv", rows, "old"))).ok
        new = customers_file(tmp_path / "b.csv", rows, "new")
        cli = [sys.executable, "-m", "router", "customers", "import", str(new)]
        proc = await asyncio.create_subprocess_exec(
            *cli, "--redis", redis_url, cwd=ROOT, stdout=DEVNULL, stderr=DEVNULL
        )
        try:
            while not await redis_client.keys(STAGED):
                assert proc.returncode is None, "the import ended before it was killed"
                await asyncio.sleep(0.005)
        finally:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
        assert await names(redis_client, 200) == {"old"}
        with pytest.raises(StoreError, match="another import"):
            await import_path(redis_url, new)
        await redis_client.pexpire(keys.IMPORT_LEASE, 1)  # as if its lease lapsed
        await asyncio.sleep(0.01)
        report = await import_path(redis_url, new)
        assert (report.ok, report.written) == (True, rows)
        assert await names(redis_client, 200) == {"new"}
        assert await redis_client.keys(STAGED) == []


class TestStaging:
    async def test_a_number_claimed_twice_in_one_batch_is_refused(
        self, redis_client: Redis
    ) -> None:
        """Inside one staged batch the second claim of a number is a conflict, as in the store."""
        tx = ImportTransaction(redis_client, "t1")
        first, second = (packed_record(cid.encode(), b"13700000000", b"{}") for cid in ("A", "B"))
        async with tx.lease():
            refused = await tx.stage_packed(first + second, 2)
            await tx.discard()
        assert refused == [("B", "13700000000", "A")]
        assert await redis_client.keys(STAGED) == []
