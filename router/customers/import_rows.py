"""Reading customer files: CSV or JSON Lines rows, validated and encoded.

Validation and encoding cost tens of microseconds a row in Python, which
made a million-row import CPU-bound on one core; ``checked_rows`` fans the
work out to a process pool in ordered chunks (a bounded window keeps memory
flat), while small files stay in-process where a pool would only add
start-up time. The file reading itself (encodings, lines, unreadable rows) is
:mod:`router.customers.row_files`, shared with the campaign import.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

from router.customers.factors import parse_factors
from router.customers.model import DEFAULT_TIERS, Customer, TierOrder
from router.customers.row_files import DEFAULT_ENCODING, RawRow, file_header, raw_rows, read_records
from router.customers.rows import RowError, validate_fields
from router.customers.store import encode_record

__all__ = ["CSV_COLUMNS", "DEFAULT_ENCODING", "CheckedChunk", "Row", "checked_chunks", "read_rows"]


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
CHUNK = 2000
POOL_MIN_BYTES = 4 * 1024 * 1024  # below this a pool costs more than it saves


@dataclass(frozen=True, slots=True)
class Row:
    """One parsed row: a customer, or the reasons it was rejected."""

    line: int
    customer: Customer | None
    errors: tuple[RowError, ...] = ()


def read_rows(
    path: Path, tiers: TierOrder = DEFAULT_TIERS, now: str = "", encoding: str = DEFAULT_ENCODING
) -> Iterator[Row]:
    """Parse and validate each row; line numbers are the file's own."""
    now = now or datetime.now(UTC).isoformat(timespec="seconds")
    for line, fields, errors in read_records(path, CSV_COLUMNS, encoding=encoding):
        if errors:
            yield Row(line, None, errors)
            continue
        result = validate_fields(fields, tiers, now)
        bad = parse_factors(fields)  # checked only: rows read here are not stored
        if isinstance(bad, RowError):
            result = (*(() if isinstance(result, Customer) else result), bad)
        if isinstance(result, Customer):
            yield Row(line, result)
        else:
            yield Row(line, None, result)


@dataclass(frozen=True, slots=True)
class CheckedChunk:
    """A chunk of rows, validated: spool lines for the good ones, reasons for the rest.

    Workers build the spool lines (``line\\tid\\tphones\\trec``) themselves, so
    the encoded records cross the process boundary once, as one bytes
    object, and the importer's own process only checks duplicates.
    """

    rows: int
    spool: bytes
    good: list[tuple[int, str, str]]  # (line, customer_id, phones joined with ';')
    bad: list[tuple[int, tuple[RowError, ...]]]


def _check_chunk(
    chunk: list[RawRow], header: tuple[str, ...], tier_names: tuple[str, ...], now: str
) -> CheckedChunk:
    tiers = TierOrder(tier_names)
    lines: list[bytes] = []
    good: list[tuple[int, str, str]] = []
    bad: list[tuple[int, tuple[RowError, ...]]] = []
    for line, raw, errors in chunk:
        fields = dict(zip(header, raw, strict=True)) if isinstance(raw, list) else raw
        result = errors or validate_fields(fields, tiers, now)
        factors = parse_factors(fields) if isinstance(result, Customer) else {}
        if isinstance(factors, RowError):
            result, factors = (factors,), {}
        if isinstance(result, Customer):
            cid, phones, rec = encode_record(result, factors)
            lines.append(b"%d\t%s\t%s\t%s\n" % (line, cid.encode(), phones.encode(), rec))
            good.append((line, cid, phones))
        else:
            bad.append((line, result))
    return CheckedChunk(len(chunk), b"".join(lines), good, bad)


def _chunks(rows: Iterable[RawRow]) -> Iterator[list[RawRow]]:
    it = iter(rows)
    while chunk := list(islice(it, CHUNK)):
        yield chunk


def checked_chunks(
    path: Path,
    tiers: TierOrder = DEFAULT_TIERS,
    now: str = "",
    workers: int | None = None,
    encoding: str = DEFAULT_ENCODING,
) -> Iterator[CheckedChunk]:
    """Every row of ``path`` in file order, validated in chunks (in parallel for big files)."""
    now = now or datetime.now(UTC).isoformat(timespec="seconds")
    if workers is None:
        big = path.stat().st_size >= POOL_MIN_BYTES
        workers = min(os.cpu_count() or 1, 8) if big else 1
    chunks = _chunks(raw_rows(path, encoding, CSV_COLUMNS))
    header = file_header(path, encoding)
    if workers <= 1:
        for chunk in chunks:
            yield _check_chunk(chunk, header, tiers.names, now)
        return
    ctx = multiprocessing.get_context("spawn")  # no fork of a process running an event loop
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        window: deque[Future[CheckedChunk]] = deque()
        for chunk in chunks:
            window.append(pool.submit(_check_chunk, chunk, header, tiers.names, now))
            if len(window) >= 2 * workers:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
