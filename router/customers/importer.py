"""Bulk customer import from CSV or JSON Lines, all-or-nothing by default.

Two passes: the first validates every row (and checks numbers against the
store) and spools each good row, already encoded for the upsert script, to
a temporary file; the second streams the spool to Redis in batches of one
script call each. Validating first is what makes "any bad row: nothing
written" hold without a transaction spanning the whole file; spooling keeps
memory flat for million-row files without validating twice.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from router.customers.import_rows import checked_chunks
from router.customers.model import DEFAULT_TIERS, TierOrder
from router.customers.rows import RowError
from router.customers.store import RedisCustomerStore, packed_record
from router.errors import Problem
from router.storage.client import bulk_client

__all__ = ["ImportReport", "import_path", "import_path_sync"]

BATCH = 1000


@dataclass
class ImportReport:
    rows: int = 0
    written: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def import_path(
    url: str, path: Path, skip_invalid: bool = False, tiers: TierOrder = DEFAULT_TIERS
) -> ImportReport:
    """Validate ``path`` whole, then write it (or its good rows)."""
    client = bulk_client(url)
    try:
        store = RedisCustomerStore(client)
        with tempfile.TemporaryFile() as spool:
            report = await _validate(store, path, tiers, spool)
            if report.ok or skip_invalid:
                spool.seek(0)
                bad = {p.line for p in report.problems}
                report.written = await _write(store, path, spool, bad, report)
        return report
    finally:
        await client.aclose()


def import_path_sync(url: str, path: Path, skip_invalid: bool = False) -> ImportReport:
    return asyncio.run(import_path(url, path, skip_invalid))


class _Validator:
    """Pass-one state: duplicates inside the file, numbers to check in Redis."""

    def __init__(self, store: RedisCustomerStore, path: Path) -> None:
        self.store = store
        self.path = path
        self.report = ImportReport()
        self.seen_ids: dict[str, int] = {}
        self.seen_numbers: dict[str, tuple[str, int]] = {}
        self.pending: list[tuple[int, str, str]] = []  # (line, customer_id, number)

    def add(self, line: int, cid: str, phones: str) -> None:
        """Note a valid row; a clash with an earlier row is a problem on this line."""
        first = self.seen_ids.setdefault(cid, line)
        if first != line:
            self.problem(line, "customer_id", f"customer {cid} already defined at line {first}")
            return
        for number in phones.split(";"):
            prior = self.seen_numbers.setdefault(number, (cid, line))
            if prior[0] != cid:
                msg = f"{number} is also given to {prior[0]} at line {prior[1]}"
                self.problem(line, "phones", msg)
            self.pending.append((line, cid, number))

    async def check_store(self, force: bool = False) -> None:
        """Report numbers the store already gives to another customer."""
        if not self.pending or (len(self.pending) < BATCH and not force):
            return
        owners = await self.store.owners([n for _, _, n in self.pending])
        for line, cid, n in self.pending:
            if owners.get(n, cid) != cid:
                self.problem(line, "phones", f"{n} belongs to customer {owners[n]}")
        self.pending.clear()

    def problem(self, line: int, field: str, message: str) -> None:
        self.report.problems.append(_problem(self.path, line, RowError(field, message)))


async def _validate(
    store: RedisCustomerStore, path: Path, tiers: TierOrder, spool: IO[bytes]
) -> ImportReport:
    """Every row checked; good rows spooled (a row found bad later is skipped by its line)."""
    v = _Validator(store, path)
    for chunk in checked_chunks(path, tiers):
        v.report.rows += chunk.rows
        for line, errors in chunk.bad:
            v.report.problems.extend(_problem(path, line, e) for e in errors)
        spool.write(chunk.spool)
        for line, cid, phones in chunk.good:
            v.add(line, cid, phones)
        await v.check_store()
    await v.check_store(force=True)
    v.report.problems.sort(key=lambda p: p.line)
    return v.report


async def _write(
    store: RedisCustomerStore, path: Path, spool: IO[bytes], bad: set[int], report: ImportReport
) -> int:
    """Stream the spool to Redis, one batch in flight while the next is packed."""
    written = 0
    in_flight: asyncio.Task[int] | None = None
    batch: list[bytes] = []
    lines: dict[str, int] = {}
    for entry in spool:
        line_text, cid, phones, rec = entry.rstrip(b"\n").split(b"\t", 3)
        line = int(line_text)
        if line in bad:
            continue
        batch.append(packed_record(cid, phones, rec))
        lines[cid.decode()] = line
        if len(batch) >= BATCH:
            written += await in_flight if in_flight else 0
            in_flight = asyncio.create_task(_flush(store, path, batch, lines, report))
            batch, lines = [], {}
    written += await in_flight if in_flight else 0
    return written + await _flush(store, path, batch, lines, report)


async def _flush(
    store: RedisCustomerStore,
    path: Path,
    batch: list[bytes],
    lines: dict[str, int],
    report: ImportReport,
) -> int:
    """Write a batch; a conflict that appeared since validation is reported."""
    if not batch:
        return 0
    conflicts = await store.upsert_packed(b"".join(batch), len(batch))
    for c in conflicts:
        err = RowError("phones", f"{c.number} belongs to customer {c.owner}")
        report.problems.append(_problem(path, lines[c.customer_id], err))
    return len(batch) - len(conflicts)


def _problem(path: Path, line: int, err: RowError) -> Problem:
    return Problem(str(path), line, 0, f"{err.field}: {err.message}")
