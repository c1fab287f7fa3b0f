"""Contact rules that protect customers: which refusals, for how long.

Two kinds of rule, checked on every attempt:

* **Standing rules** depend only on who the customer is and what the
  campaign is (no telemarketing to the black list; red-list and VIP
  customers only through their account manager's lane). They are decided
  here, in pure code, from the customer record.
* **History rules** depend on what other dialers are doing right now (the
  do-not-call list, a call already in flight, the frequency caps). They are
  decided in Redis by one Lua script (``router.dialer.store``), so two
  dialer processes can never both pass them for one customer. This module
  holds their limits and what each refusal means.

Every refusal carries a :class:`Refusal` reason; ``final`` ones end the
contact (it is reported, never silently dropped), the others only delay it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from router.customers.model import Customer, CustomerList
from router.dialer.model import Campaign, CampaignKind

__all__ = ["FINAL_REFUSALS", "ContactLimits", "Refusal", "standing_refusal"]


class Refusal(StrEnum):
    DNC = "dnc"
    BLACK_LIST = "black_list"
    MANAGER_LANE = "manager_lane"
    IN_FLIGHT = "in_flight"
    PER_DAY = "per_day"
    MARKETING_CAP = "marketing_cap"
    CAMPAIGN_ATTEMPTS = "campaign_attempts"
    OUTSIDE_HOURS = "outside_hours"
    TAKEN = "taken"  # another dialer claimed this contact first
    NO_NUMBER = "no_number"  # neither the row nor the customer record has a number


FINAL_REFUSALS = frozenset(
    {
        Refusal.DNC,
        Refusal.BLACK_LIST,
        Refusal.MANAGER_LANE,
        Refusal.CAMPAIGN_ATTEMPTS,
        Refusal.NO_NUMBER,
    }
)
"""Refusals that end a contact; the others put it back with a later due time."""

_PROTECTED_TIERS = frozenset({"vip"})


@dataclass(frozen=True, slots=True)
class ContactLimits:
    """Frequency caps across all campaigns (per customer, else per number).

    Defaults follow the issue's example: at most one marketing call in 7
    days, at most 3 attempts per campaign, never twice in one day.
    ``manager_lanes`` maps an account manager to the lane that red-list and
    VIP customers of that manager may be called from.
    """

    per_day: int = 1
    day_window_s: int = 24 * 3600
    marketing_max: int = 1
    marketing_window_s: int = 7 * 24 * 3600
    campaign_attempts: int = 3
    manager_lanes: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("per_day", "day_window_s", "marketing_max", "marketing_window_s"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.campaign_attempts < 1:
            raise ValueError("campaign_attempts must be at least 1")


def standing_refusal(
    campaign: Campaign, customer: Customer | None, limits: ContactLimits, lane: str = ""
) -> Refusal | None:
    """The standing rule this attempt breaks, if any (pure, no history needed).

    ``lane`` is the lane the call would use when it is not the campaign's
    (a callback goes to the lane of the service the caller asked for).
    """
    if customer is None:
        return None
    if campaign.kind is CampaignKind.TELEMARKETING and customer.list is CustomerList.BLACK:
        return Refusal.BLACK_LIST
    protected = customer.list is CustomerList.RED or customer.tier in _PROTECTED_TIERS
    manager_lane = limits.manager_lanes.get(customer.account_manager, "")
    if protected and manager_lane and (lane or campaign.lane) != manager_lane:
        return Refusal.MANAGER_LANE
    return None
