"""What offer and survey nodes leave behind: conversions and survey answers.

The engine only says *what* happened (``RecordOffer``, ``RecordAnswer``
actions); the adapter running the call adds who, which flow version and
when, and hands the records to a :class:`FlowRecords` sink once the route
is set: one write, before the AGI session ends, only for calls that heard an
offer or answered a survey (one round trip, the price of not losing a
conversion when the router stops right after). Live calls write them to
Redis streams (:mod:`router.storage.flow_records`); tests, traces and the
simulator keep them in memory. Neither ever holds a calling number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Protocol

__all__ = ["FlowRecords", "MemoryFlowRecords", "OfferEvent", "SurveyAnswer"]


@dataclass(frozen=True, slots=True)
class OfferEvent:
    """An offer ``presented`` to a caller, or ``accepted`` (a conversion)."""

    event: str
    offer: str
    position: int
    customer_id: str
    tier: str
    flow: str
    flow_version: str
    uniqueid: str
    at: datetime

    def fields(self) -> dict[str, str]:
        """Flat string fields, as a Redis Stream entry takes them."""
        return _flat(asdict(self))


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    """One answer; the agent is joined later from the AMI call records by ``uniqueid``."""

    uniqueid: str
    flow: str
    survey: str
    question: str
    answer: str
    tier: str
    queue: str  # the queue the caller was served from (post-call surveys), else ""
    at: datetime

    def fields(self) -> dict[str, str]:
        return _flat(asdict(self))


class FlowRecords(Protocol):
    async def add(self, offers: Sequence[OfferEvent], answers: Sequence[SurveyAnswer]) -> None:
        """Store durably; raises ``StoreError`` when that failed."""
        ...


class MemoryFlowRecords:
    """In-memory sink for tests, ``flows trace`` and the simulator."""

    def __init__(self) -> None:
        self.offers: list[OfferEvent] = []
        self.answers: list[SurveyAnswer] = []

    async def add(self, offers: Sequence[OfferEvent], answers: Sequence[SurveyAnswer]) -> None:
        self.offers += offers
        self.answers += answers


def _flat(values: dict[str, object]) -> dict[str, str]:
    return {k: v.isoformat() if isinstance(v, datetime) else str(v) for k, v in values.items()}
