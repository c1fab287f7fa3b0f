"""Bulk customer import from CSV or JSON Lines: one all-or-nothing transaction.

Rows are validated in chunks (on a process pool for big files, and against
the store's numbers) and spooled, already encoded, to a temporary file;
each validated chunk is staged (``staging``: invisible to calls) while the
next one is validated. When the whole file is good the staging area is
published at once; a bad row, or a number taken meanwhile, publishes
nothing, and a store changed meanwhile means staging again from the spool.
So every problem of a file comes out of one run, and a reader sees all of
the old data or all of the new, never half.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from router.customers.import_rows import DEFAULT_ENCODING, checked_chunks
from router.customers.model import DEFAULT_TIERS, TierOrder
from router.customers.rows import RowError
from router.customers.staging import ImportTransaction, merge
from router.customers.store import RedisCustomerStore, packed_record
from router.errors import Problem, StoreError
from router.logs import mask_number
from router.storage.client import bulk_client

__all__ = ["ImportReport", "import_path", "import_path_sync"]

BATCH = 1000
PUBLISH_ATTEMPTS = 3  # stagings thrown away because the store changed meanwhile


@dataclass
class ImportReport:
    rows: int = 0
    written: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def import_path(
    url: str,
    path: Path,
    skip_invalid: bool = False,
    tiers: TierOrder = DEFAULT_TIERS,
    encoding: str = DEFAULT_ENCODING,
) -> ImportReport:
    """Validate ``path`` whole, then publish it (or its good rows) as one transaction.

    Raises ``StoreError`` when another import runs, or when the store kept
    changing under this one; nothing of this file is visible then.
    """
    client = bulk_client(url)
    try:
        store = RedisCustomerStore(client)
        async with ImportTransaction(client, uuid.uuid4().hex[:16]).lease() as tx:
            with tempfile.TemporaryFile() as spool:
                seen = await tx.version()
                report, first = await _validate(
                    store,
                    tx,
                    path,
                    spool,
                    tiers=tiers,
                    encoding=encoding,
                    skip_invalid=skip_invalid,
                )
                if report.ok or skip_invalid:
                    attempt = _Attempt(seen, *first)
                    report.written = await _publish(
                        tx, path, spool, report, attempt, skip_invalid=skip_invalid
                    )
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
        self.bad_lines: set[int] = set()

    def add(self, line: int, cid: str, phones: str) -> None:
        """Note a valid row; a clash with an earlier row is a problem on this line."""
        first = self.seen_ids.setdefault(cid, line)
        if first != line:
            self.problem(line, "customer_id", f"customer {cid} already defined at line {first}")
            return
        for number in phones.split(";"):
            prior = self.seen_numbers.setdefault(number, (cid, line))
            if prior[0] != cid:
                msg = f"{mask_number(number)} is also given to {prior[0]} at line {prior[1]}"
                self.problem(line, "phones", msg)
            self.pending.append((line, cid, number))

    async def check_store(self, force: bool = False) -> None:
        """Report numbers the store already gives to another customer."""
        if not self.pending or (len(self.pending) < BATCH and not force):
            return
        owners = await self.store.owners([n for _, _, n in self.pending])
        for line, cid, n in self.pending:
            if owners.get(n, cid) != cid:
                self.problem(line, "phones", _taken(n, owners[n]))
        self.pending.clear()

    def problem(self, line: int, field: str, message: str) -> None:
        self.report.problems.append(_problem(self.path, line, RowError(field, message)))
        self.bad_lines.add(line)


@dataclass(frozen=True, slots=True)
class _Attempt:
    """A staging pass: the store version it started from, what it staged and refused."""

    seen: str
    staged: int
    conflicts: list[Problem]


async def _validate(
    store: RedisCustomerStore,
    tx: ImportTransaction,
    path: Path,
    spool: IO[bytes],
    *,
    tiers: TierOrder,
    encoding: str,
    skip_invalid: bool,
) -> tuple[ImportReport, tuple[int, list[Problem]]]:
    """Every row checked and spooled; good chunks staged meanwhile (staging is invisible).

    Staging a chunk while the next one is validated hides the write behind
    the validation; a file with a bad row is thrown away whole (unless
    ``--skip-invalid``), and the spool serves a second staging pass if the
    store changed meanwhile. Returns the report and (rows staged, conflicts).
    """
    v = _Validator(store, path)
    staged, conflicts = 0, list[Problem]()
    in_flight: asyncio.Task[tuple[int, list[Problem]]] | None = None
    try:
        for chunk in checked_chunks(path, tiers, encoding=encoding):
            v.report.rows += chunk.rows
            for line, errors in chunk.bad:
                v.report.problems.extend(_problem(path, line, e) for e in errors)
                v.bad_lines.add(line)
            spool.write(chunk.spool)
            for line, cid, phones in chunk.good:
                v.add(line, cid, phones)
            await v.check_store(force=True)
            staged, conflicts = await _collect(in_flight, staged, conflicts)
            in_flight = None
            if v.report.ok or skip_invalid:
                lines = chunk.spool.splitlines(keepends=True)
                in_flight = asyncio.create_task(_stage(tx, path, lines, set(v.bad_lines)))
        staged, conflicts = await _collect(in_flight, staged, conflicts)
        in_flight = None
    finally:
        if in_flight:
            in_flight.cancel()
            await asyncio.wait([in_flight])
    v.report.problems.sort(key=lambda p: p.line)
    return v.report, (staged, conflicts)


async def _collect(
    task: asyncio.Task[tuple[int, list[Problem]]] | None, staged: int, conflicts: list[Problem]
) -> tuple[int, list[Problem]]:
    if task is None:
        return staged, conflicts
    more, refused = await task
    return staged + more, conflicts + refused


async def _publish(
    tx: ImportTransaction,
    path: Path,
    spool: IO[bytes],
    report: ImportReport,
    attempt: _Attempt,
    *,
    skip_invalid: bool,
) -> int:
    """Publish what was staged; stage again from the spool if the store changed meanwhile."""
    bad = {p.line for p in report.problems}
    for _ in range(PUBLISH_ATTEMPTS):
        if attempt.conflicts and not skip_invalid:
            await tx.discard()
            _add_problems(report, attempt.conflicts)
            return 0
        outcome = await tx.publish(attempt.seen)
        if outcome == "ok":
            _add_problems(report, attempt.conflicts)
            await merge(tx.client, tx.prefix)
            return attempt.staged
        await tx.discard()
        seen = await tx.version()
        spool.seek(0)
        attempt = _Attempt(seen, *await _stage(tx, path, spool, bad))
    raise StoreError(
        f"the customer store changed during each of {PUBLISH_ATTEMPTS} attempts to publish "
        f"{path}; nothing of it was written, run the import again"
    )


async def _stage(
    tx: ImportTransaction, path: Path, spool: Iterable[bytes], bad: set[int]
) -> tuple[int, list[Problem]]:
    """Stream spool lines into the staging area, one batch in flight while the next is packed."""
    staged, conflicts = 0, list[Problem]()
    in_flight: asyncio.Task[int] | None = None
    batch: list[bytes] = []
    lines: dict[str, int] = {}
    try:
        for entry in spool:
            line_text, cid, phones, rec = entry.rstrip(b"\n").split(b"\t", 3)
            line = int(line_text)
            if line in bad:
                continue
            batch.append(packed_record(cid, phones, rec))
            lines[cid.decode()] = line
            if len(batch) >= BATCH:
                staged += await in_flight if in_flight else 0
                in_flight = asyncio.create_task(_flush(tx, path, batch, lines, conflicts))
                batch, lines = [], {}
        staged += await in_flight if in_flight else 0
    finally:
        if in_flight and not in_flight.done():
            in_flight.cancel()
            await asyncio.wait([in_flight])
    return staged + await _flush(tx, path, batch, lines, conflicts), conflicts


async def _flush(
    tx: ImportTransaction,
    path: Path,
    batch: list[bytes],
    lines: dict[str, int],
    conflicts: list[Problem],
) -> int:
    """Stage a batch; a conflict that appeared since validation is reported."""
    if not batch:
        return 0
    refused = await tx.stage_packed(b"".join(batch), len(batch))
    for cid, number, owner in refused:
        conflicts.append(_problem(path, lines[cid], RowError("phones", _taken(number, owner))))
    return len(batch) - len(refused)


def _add_problems(report: ImportReport, problems: list[Problem]) -> None:
    report.problems.extend(problems)
    report.problems.sort(key=lambda p: p.line)


def _taken(number: str, owner: str) -> str:
    return f"{mask_number(number)} belongs to customer {owner}"


def _problem(path: Path, line: int, err: RowError) -> Problem:
    return Problem(str(path), line, 0, f"{err.field}: {err.message}")
