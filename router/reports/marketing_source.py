"""Read the offers and surveys streams for a period (Redis adapter of the marketing part)."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from router.reports.source import _decode
from router.storage import keys

__all__ = ["read_marketing"]

_PAGE = 5000


async def read_marketing(
    redis: Redis, start: float, end: float
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(survey answers, offer events) written in ``[start, end)``.

    By the time they were given, not by the call's start: each answer and
    offer event counts in exactly one period, even for a call across midnight.
    """
    surveys = await _entries(redis, keys.SURVEYS_STREAM, start, end)
    offers = await _entries(redis, keys.OFFERS_STREAM, start, end)
    return surveys, offers


async def _entries(redis: Redis, key: str, start: float, end: float) -> list[dict[str, str]]:
    low = f"{int(start * 1000)}-0"
    high = f"({int(end * 1000)}-0"
    out: list[dict[str, str]] = []
    while True:
        page: list[Any] = await redis.xrange(key, min=low, max=high, count=_PAGE) or []
        out.extend(_decode(fields) for _, fields in page)
        if len(page) < _PAGE:
            return out
        last = page[-1][0]
        low = "(" + (last.decode() if isinstance(last, bytes) else str(last))
