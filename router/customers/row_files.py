"""Reading operator row files: CSV (header row) or JSON Lines, line by line.

One reader for every file an operator imports (customers, campaign
contacts), so they all take the same encodings (with a hint when a file is
really GBK), count lines the same way and report an unreadable row in the
same shape: a :class:`~router.customers.rows.RowError` on its line. What a
row must contain is the caller's business.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

import orjson

from router.customers.rows import RowError

__all__ = ["DEFAULT_ENCODING", "RawRow", "Record", "file_header", "raw_rows", "read_records"]

DEFAULT_ENCODING = "utf-8-sig"  # UTF-8, with or without the BOM spreadsheet tools write

# (line, fields, errors): fields is a dict, or for CSV the bare values list,
# zipped with the header in the worker (lists pickle far cheaper than dicts).
RawRow = tuple[int, dict[str, object] | list[str], tuple[RowError, ...]]
Record = tuple[int, dict[str, object], tuple[RowError, ...]]
"""(line, fields, errors) of one row: the fields are empty when the row could not be read."""


def read_records(
    path: Path,
    required: Sequence[str],
    allowed: Sequence[str] | None = None,
    encoding: str = DEFAULT_ENCODING,
) -> Iterator[Record]:
    """Every row of a CSV (header row) or JSON Lines file as its fields, with its line.

    The one reader of operator files (customers, campaign contacts), so both
    imports agree on encodings, line numbers and the shape of a complaint.
    A CSV header missing a ``required`` column, or naming one outside
    ``allowed``, is one problem on line 1 and ends the file; a row that
    cannot be read (bad JSON, wrong field count) is a problem on its line.
    """
    header = file_header(path, encoding)
    for line, raw, errors in raw_rows(path, encoding, required, allowed):
        yield line, dict(zip(header, raw, strict=True)) if isinstance(raw, list) else raw, errors


def _csv_header(path: Path, encoding: str) -> tuple[str, ...]:
    with path.open(newline="", encoding=encoding, errors="replace") as fh:
        return tuple(next(csv.reader(fh), ()))


def _csv_rows(
    path: Path, encoding: str, required: Sequence[str], allowed: Sequence[str] | None
) -> Iterator[RawRow]:
    with path.open(newline="", encoding=encoding) as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        missing = [c for c in required if header is None or c not in header]
        unknown = [c for c in header or () if allowed is not None and c not in allowed]
        if missing or unknown:
            what = f"missing columns: {', '.join(missing)}" if missing else ""
            what = what or f"unknown columns: {', '.join(unknown)}"
            yield 1, {}, (RowError("header", what),)
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


def raw_rows(
    path: Path, encoding: str, required: Sequence[str], allowed: Sequence[str] | None = None
) -> Iterator[RawRow]:
    """Rows as read, CSV values not yet zipped with the header (cheap to send to workers)."""
    bad = _encoding_problem(path, encoding)
    if bad:
        return iter((bad,))
    if _is_jsonl(path):
        return _jsonl_rows(path, encoding)
    return _csv_rows(path, encoding, required, allowed)


def file_header(path: Path, encoding: str) -> tuple[str, ...]:
    """A CSV file's column names (none for JSON Lines, whose rows name their fields)."""
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
