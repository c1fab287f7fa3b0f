"""Reading customer files: CSV or JSON Lines rows, validated and encoded.

Validation and encoding cost tens of microseconds a row in Python, which
made a million-row import CPU-bound on one core; ``checked_rows`` fans the
work out to a process pool in ordered chunks (a bounded window keeps memory
flat), while small files stay in-process where a pool would only add
start-up time.
"""

from __future__ import annotations

import codecs
import csv
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import orjson

from router.customers.factors import parse_factors
from router.customers.model import DEFAULT_TIERS, Customer, TierOrder
from router.customers.rows import RowError, validate_fields
from router.customers.store import encode_record

__all__ = ["CSV_COLUMNS", "DEFAULT_ENCODING", "CheckedChunk", "Row", "checked_chunks", "read_rows"]

DEFAULT_ENCODING = "utf-8-sig"  # UTF-8, with or without the BOM spreadsheet tools write

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

# (line, fields, errors): fields is a dict, or for CSV the bare values list,
# zipped with the header in the worker (lists pickle far cheaper than dicts).
RawRow = tuple[int, dict[str, object] | list[str], tuple[RowError, ...]]


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
    header = _header(path, encoding)
    for line, raw, errors in _raw_rows(path, encoding):
        fields = dict(zip(header, raw, strict=True)) if isinstance(raw, list) else raw
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


def _csv_header(path: Path, encoding: str) -> tuple[str, ...]:
    with path.open(newline="", encoding=encoding, errors="replace") as fh:
        return tuple(next(csv.reader(fh), ()))


def _csv_rows(path: Path, encoding: str) -> Iterator[RawRow]:
    with path.open(newline="", encoding=encoding) as fh:
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
                yield start, values, ()
            start = reader.line_num + 1


def _jsonl_lines(path: Path, encoding: str) -> Iterator[bytes | str]:
    """Raw lines: bytes for UTF-8 (orjson reads them as they are), else decoded text."""
    utf8 = codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    with path.open("rb") if utf8 else path.open(encoding=encoding, newline="\n") as fh:
        yield from fh


def _jsonl_rows(path: Path, encoding: str) -> Iterator[RawRow]:
    for line, raw in enumerate(_jsonl_lines(path, encoding), start=1):
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


def _is_jsonl(path: Path) -> bool:
    return path.suffix.lower() in {".jsonl", ".ndjson", ".json"}


def _raw_rows(path: Path, encoding: str) -> Iterator[RawRow]:
    bad = _encoding_problem(path, encoding)
    if bad:
        return iter((bad,))
    return _jsonl_rows(path, encoding) if _is_jsonl(path) else _csv_rows(path, encoding)


def _header(path: Path, encoding: str) -> tuple[str, ...]:
    return () if _is_jsonl(path) else _csv_header(path, encoding)


def _encoding_problem(path: Path, encoding: str) -> RawRow | None:
    """The first line that does not decode, as a problem (one fast pass before parsing).

    Why a pass of its own: a decode error met while parsing surfaces as a
    traceback from inside the csv module, after rows were already handed out.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(1 << 20)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                at = max(0, min(exc.start, len(chunk)))
                line += chunk.count(b"\n", 0, at)
                return line, {}, (RowError("encoding", _decode_hint(path, encoding, exc)),)
            if not chunk:
                return None
            line += chunk.count(b"\n")


def _decode_hint(path: Path, encoding: str, exc: UnicodeDecodeError) -> str:
    name = codecs.lookup(encoding).name
    message = f"not valid {name} (byte 0x{exc.object[exc.start]:02x})"
    if name not in ("utf-8", "utf-8-sig"):
        return message + "; check --encoding"
    try:
        path.read_bytes().decode("gb18030")
    except UnicodeDecodeError:
        return message + "; pass --encoding with the file's encoding"
    return message + "; it reads as Chinese GBK/GB18030: pass --encoding gb18030"


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
    chunks = _chunks(_raw_rows(path, encoding))
    header = _header(path, encoding)
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
