"""Read the offers and surveys streams for a period (Redis adapter of the marketing part)."""

from __future__ import annotations

from redis.asyncio import Redis

from router.reports.source import stream_entries
from router.storage import keys

__all__ = ["read_marketing"]


async def read_marketing(
    redis: Redis, start: float, end: float
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(survey answers, offer events) written in ``[start, end)``.

    By the time they were given, not by the call's start: each answer and
    offer event counts in exactly one period, even for a call across midnight.
    """
    surveys = await stream_entries(redis, keys.SURVEYS_STREAM, start, end)
    offers = await stream_entries(redis, keys.OFFERS_STREAM, start, end)
    return surveys, offers
