"""Read call records for a period from the calls stream (Redis adapter).

Stream ids are the time a record was written (the hangup). Calls are
reported by start time, so the read runs from ``start`` to ``end`` plus
``max_call_s`` and :func:`router.reports.aggregate.build_report` filters on
``started_at``.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from router.ami.records import CallRecord, from_fields
from router.storage import keys

__all__ = ["read_records", "stream_entries"]

_PAGE = 5000


async def read_records(
    redis: Redis, start: float, end: float, max_call_s: float = 6 * 3600
) -> list[CallRecord]:
    """Records whose stream entry falls in ``[start, end + max_call_s]``, paged."""
    low = f"{int(start * 1000)}-0"
    high = f"{int((end + max_call_s) * 1000)}-18446744073709551615"
    out: list[CallRecord] = []
    while True:
        page: list[Any] = (
            await redis.xrange(keys.CALLS_STREAM, min=low, max=high, count=_PAGE) or []
        )
        out.extend(from_fields(_decode(fields)) for _, fields in page)
        if len(page) < _PAGE:
            return out
        last = _text(page[-1][0])
        low = "(" + last


async def stream_entries(
    redis: Redis, stream: str, start: float, end: float
) -> list[dict[str, str]]:
    """The decoded fields of ``stream``'s entries written in ``[start, end)``, paged.

    For streams read by the time an entry was written (dialer attempts and
    refusals, offers, survey answers), so each entry counts in one period.
    """
    low, high = f"{int(start * 1000)}-0", f"({int(end * 1000)}-0"
    out: list[dict[str, str]] = []
    while True:
        page: list[Any] = await redis.xrange(stream, min=low, max=high, count=_PAGE) or []
        out.extend(_decode(fields) for _, fields in page)
        if len(page) < _PAGE:
            return out
        low = "(" + _text(page[-1][0])


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _decode(fields: dict[Any, Any]) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in fields.items()}
