"""The small interfaces the pure core is written against.

Live calls implement them with Redis and AMI; the simulator and unit tests
implement them with in-memory objects. Keeping them in one place is what
lets the simulator run the very same flow engine and routing policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from router.customer import LookupResult

__all__ = ["CustomerStore", "QueueSnapshot", "QueueState"]


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """Live state of one Asterisk queue, as routing conditions see it.

    Times are seconds. ``ewt`` is the expected wait of a caller joining now.
    """

    name: str
    waiting: int = 0
    longest_wait: float = 0.0
    agents_logged_in: int = 0
    agents_available: int = 0
    agents_paused: int = 0
    ewt: float = 0.0
    open: bool = True


class CustomerStore(Protocol):
    async def lookup(self, number: str) -> LookupResult:
        """Everything routing needs about the caller; never raises."""
        ...

    async def link(self, number: str, customer_id: str) -> None:
        """Attach a number to a customer (raises NumberConflictError)."""
        ...


class QueueState(Protocol):
    async def snapshot(self) -> Mapping[str, QueueSnapshot]:
        """Current state of every known queue; empty when unknown."""
        ...
