"""The customer record routing decisions are made from.

A frozen value object: it is read once per call (one Redis round trip) and
then handed to the pure flow engine and routing policy, which must never
see a half-updated record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "DEFAULT_TIERS",
    "MAX_OFFERS",
    "Customer",
    "CustomerList",
    "Lifecycle",
    "LookupResult",
    "TierOrder",
]

MAX_OFFERS = 3


class CustomerList(StrEnum):
    """Red list = protected VIP handling; black list = restricted service."""

    NONE = ""
    RED = "red"
    BLACK = "black"


class Lifecycle(StrEnum):
    NEW = "new"
    GROWTH = "growth"
    STABLE = "stable"
    AT_RISK = "at_risk"


@dataclass(frozen=True, slots=True)
class TierOrder:
    """Ordered tier names, highest first.

    Tiers are configurable because every contact centre names its segments
    differently; everything that compares tiers goes through ``rank`` so the
    order lives in one place.
    """

    names: tuple[str, ...] = ("vip", "high", "mid", "normal")

    def __post_init__(self) -> None:
        if not self.names or len(set(self.names)) != len(self.names):
            raise ValueError("tiers must be a non-empty list of distinct names")

    def rank(self, tier: str) -> int:
        """0 for the highest tier; unknown tiers rank below the lowest."""
        try:
            return self.names.index(tier)
        except ValueError:
            return len(self.names)

    @property
    def lowest(self) -> str:
        return self.names[-1]

    def __contains__(self, tier: object) -> bool:
        return tier in self.names


DEFAULT_TIERS = TierOrder()


@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: str
    name: str = ""
    tier: str = "normal"
    list: CustomerList = CustomerList.NONE
    lifecycle: Lifecycle = Lifecycle.STABLE
    arpu: float = 0.0
    tenure_months: int = 0
    credit_score: int = 0
    language: str = ""
    account_manager: str = ""
    offers: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    updated_at: str = ""

    @property
    def is_red(self) -> bool:
        return self.list is CustomerList.RED

    @property
    def is_black(self) -> bool:
        return self.list is CustomerList.BLACK


@dataclass(frozen=True, slots=True)
class LookupResult:
    """What a lookup by calling number found, and why if nothing.

    ``reason`` is ``"found"``, ``"unknown"`` (no such number), ``"anonymous"``
    (no usable caller number), or a failure such as ``"timeout"`` /
    ``"store_down"`` / ``"bad_record"``: a failed lookup degrades to an
    unknown caller instead of raising into the call.
    """

    number: str
    customer: Customer | None = None
    reason: str = "unknown"
    elapsed_ms: float = 0.0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return self.customer is not None


def offers_tuple(values: Sequence[str]) -> tuple[str, ...]:
    """Keep the ranked offers the screen pop can show."""
    return tuple(v for v in (s.strip() for s in values) if v)[:MAX_OFFERS]
