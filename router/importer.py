"""Bulk customer import from CSV or JSON Lines, all-or-nothing by default.

The file is read twice: the first pass validates every row (and checks
numbers against the store) without keeping the rows, the second writes the
good ones in pipelined batches. Streaming twice keeps memory flat for
million-row files, and validating first is what makes "any bad row: nothing
written" hold without a transaction spanning the whole file.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson

from router.customer import DEFAULT_TIERS, Customer, TierOrder
from router.errors import Problem
from router.redis_client import bulk_client
from router.rows import RowError, validate_fields
from router.store import RedisCustomerStore

__all__ = ["CSV_COLUMNS", "ImportReport", "import_path", "import_path_sync", "read_rows"]

CSV_COLUMNS = (
    "customer_id",
    "name",
    "tier",
    "list",
    "lifecycle",
    "arpu",
    "tenure_months",
    "credit_score",
    "language",
    "account_manager",
    "offers",
    "phones",
)
BATCH = 1000


@dataclass
class ImportReport:
    rows: int = 0
    written: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class Row:
    """One parsed row: a customer, or the reasons it was rejected."""

    line: int
    customer: Customer | None
    errors: tuple[RowError, ...] = ()


def read_rows(path: Path, tiers: TierOrder = DEFAULT_TIERS, now: str = "") -> Iterator[Row]:
    """Parse and validate each row; line numbers are the file's own."""
    now = now or datetime.now(UTC).isoformat(timespec="seconds")
    reader = _jsonl_rows if path.suffix.lower() in {".jsonl", ".ndjson", ".json"} else _csv_rows
    for line, fields, errors in reader(path):
        if errors:
            yield Row(line, None, errors)
            continue
        result = validate_fields(fields, tiers, now)
        if isinstance(result, Customer):
            yield Row(line, result)
        else:
            yield Row(line, None, result)


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, object], tuple[RowError, ...]]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        missing = [c for c in CSV_COLUMNS if header is None or c not in header]
        if missing:
            yield 1, {}, (RowError("header", f"missing columns: {', '.join(missing)}"),)
            return
        assert header is not None
        start = reader.line_num + 1
        for values in reader:
            if values and len(values) != len(header):
                err = RowError("row", f"expected {len(header)} fields, found {len(values)}")
                yield start, {}, (err,)
            elif values:
                yield start, dict(zip(header, values, strict=True)), ()
            start = reader.line_num + 1


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, object], tuple[RowError, ...]]]:
    with path.open("rb") as fh:
        for line, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                yield line, {}, (RowError("json", str(exc)),)
                continue
            if not isinstance(obj, dict):
                yield line, {}, (RowError("json", "each line must be a JSON object"),)
            else:
                yield line, obj, ()


async def import_path(
    url: str, path: Path, skip_invalid: bool = False, tiers: TierOrder = DEFAULT_TIERS
) -> ImportReport:
    """Validate ``path`` whole, then write it (or its good rows)."""
    client = bulk_client(url)
    try:
        store = RedisCustomerStore(client)
        report = await _validate(store, path, tiers)
        if report.ok or skip_invalid:
            bad = {p.line for p in report.problems}
            report.written = await _write(store, path, tiers, bad, report)
        return report
    finally:
        await client.aclose()


def import_path_sync(url: str, path: Path, skip_invalid: bool = False) -> ImportReport:
    return asyncio.run(import_path(url, path, skip_invalid))


async def _validate(store: RedisCustomerStore, path: Path, tiers: TierOrder) -> ImportReport:
    report = ImportReport()
    seen_ids: dict[str, int] = {}
    seen_numbers: dict[str, tuple[str, int]] = {}
    pending: list[tuple[int, str, str]] = []  # (line, customer_id, number) to check in Redis
    for row in read_rows(path, tiers):
        report.rows += 1
        if row.customer is None:
            report.problems.extend(_problem(path, row.line, e) for e in row.errors)
            continue
        c = row.customer
        if c.customer_id in seen_ids:
            msg = f"customer {c.customer_id} already defined at line {seen_ids[c.customer_id]}"
            report.problems.append(_problem(path, row.line, RowError("customer_id", msg)))
            continue
        seen_ids[c.customer_id] = row.line
        for number in c.phones:
            prior = seen_numbers.setdefault(number, (c.customer_id, row.line))
            if prior[0] != c.customer_id:
                msg = f"{number} is also given to {prior[0]} at line {prior[1]}"
                report.problems.append(_problem(path, row.line, RowError("phones", msg)))
            pending.append((row.line, c.customer_id, number))
        if len(pending) >= BATCH:
            report.problems.extend(await _store_conflicts(store, path, pending))
            pending.clear()
    report.problems.extend(await _store_conflicts(store, path, pending))
    report.problems.sort(key=lambda p: p.line)
    return report


async def _store_conflicts(
    store: RedisCustomerStore, path: Path, pending: list[tuple[int, str, str]]
) -> list[Problem]:
    owners = await store.owners([n for _, _, n in pending])
    return [
        _problem(path, line, RowError("phones", f"{n} belongs to customer {owners[n]}"))
        for line, cid, n in pending
        if owners.get(n, cid) != cid
    ]


async def _write(
    store: RedisCustomerStore, path: Path, tiers: TierOrder, bad: set[int], report: ImportReport
) -> int:
    written = 0
    batch: list[Customer] = []
    lines: dict[str, int] = {}
    for row in read_rows(path, tiers):
        if row.customer is None or row.line in bad:
            continue
        batch.append(row.customer)
        lines[row.customer.customer_id] = row.line
        if len(batch) >= BATCH:
            written += await _flush(store, path, batch, lines, report)
    return written + await _flush(store, path, batch, lines, report)


async def _flush(
    store: RedisCustomerStore,
    path: Path,
    batch: list[Customer],
    lines: dict[str, int],
    report: ImportReport,
) -> int:
    """Write a batch; a conflict that appeared since validation is reported."""
    if not batch:
        return 0
    conflicts = await store.upsert_many(batch)
    for c in conflicts:
        err = RowError("phones", f"{c.number} belongs to customer {c.owner}")
        report.problems.append(_problem(path, lines[c.customer_id], err))
    written = len(batch) - len(conflicts)
    batch.clear()
    lines.clear()
    return written


def _problem(path: Path, line: int, err: RowError) -> Problem:
    return Problem(str(path), line, 0, f"{err.field}: {err.message}")
