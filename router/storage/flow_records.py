"""Offer events and survey answers in Redis streams (one pipelined round trip per call)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from router.errors import StoreError
from router.flows.records import OfferEvent, SurveyAnswer
from router.storage import keys

__all__ = ["RedisFlowRecords"]


class RedisFlowRecords:
    """``router.flows.records.FlowRecords`` on ``keys.OFFERS_STREAM`` / ``keys.SURVEYS_STREAM``."""

    def __init__(self, client: Redis) -> None:
        self._r = client

    async def add(self, offers: Sequence[OfferEvent], answers: Sequence[SurveyAnswer]) -> None:
        if not offers and not answers:
            return
        pipe = self._r.pipeline(transaction=False)
        for stream, rows in ((keys.OFFERS_STREAM, offers), (keys.SURVEYS_STREAM, answers)):
            for row in rows:
                fields: dict[Any, Any] = dict(row.fields())
                pipe.xadd(stream, fields, maxlen=keys.FLOW_RECORDS_MAXLEN, approximate=True)
        try:
            await pipe.execute()
        except RedisError as exc:
            raise StoreError(f"offer/survey records not stored: {exc}") from exc
