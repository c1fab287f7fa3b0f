"""Callback requests: the value stored and the tiny store interface.

The lead implements the store over a Redis Stream (``router.storage.keys.CALLBACKS``)
so nothing is lost across restarts; tests and the simulator use memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = ["CallbackRequest", "CallbackStore", "MemoryCallbackStore"]


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    number: str
    customer_id: str
    tier: str
    service: str
    requested_at: datetime
    uniqueid: str
    flow: str

    def fields(self) -> dict[str, str]:
        """Flat string fields, as a Redis Stream entry takes them."""
        return {
            "number": self.number,
            "customer_id": self.customer_id,
            "tier": self.tier,
            "service": self.service,
            "requested_at": self.requested_at.isoformat(),
            "uniqueid": self.uniqueid,
            "flow": self.flow,
        }


class CallbackStore(Protocol):
    async def add(self, request: CallbackRequest) -> str:
        """Persist durably; returns the request id (the stream entry id)."""
        ...


class MemoryCallbackStore:
    """In-memory store for tests, ``flows trace`` and the simulator."""

    def __init__(self) -> None:
        self.requests: list[CallbackRequest] = []

    async def add(self, request: CallbackRequest) -> str:
        self.requests.append(request)
        return str(len(self.requests))
