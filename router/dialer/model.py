"""What the dialer works on: campaigns, contacts, attempts and their results.

Everything here is a frozen value; the dialling loop and the Redis store
pass them around, and the pure modules (rules, retry, pacing) decide from
them without any I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from router.flows.hours import BusinessHours

__all__ = [
    "CALLBACK_CAMPAIGN",
    "Attempt",
    "AttemptResult",
    "Campaign",
    "CampaignKind",
    "CampaignState",
    "Contact",
    "ContactState",
    "DialMode",
    "DialResult",
    "RetryRule",
]

CALLBACK_CAMPAIGN = "callbacks"
"""The built-in campaign every callback request is dialled under."""


class CampaignKind(StrEnum):
    RETURN_VISIT = "return_visit"
    PAYMENT_REMINDER = "payment_reminder"
    TELEMARKETING = "telemarketing"
    CALLBACK = "callback"

    @property
    def marketing(self) -> bool:
        """Marketing calls count against the marketing cap and skip black-listed customers."""
        return self is CampaignKind.TELEMARKETING


class CampaignState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


class DialMode(StrEnum):
    PROGRESSIVE = "progressive"  # customer first, then into the lane's queue (ami/12)
    PREVIEW = "preview"  # the agent first, then the customer


class DialResult(StrEnum):
    """The outcome of one Originate, from OriginateResponse plus the call's events."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"
    FAILED = "failed"  # Reason 0: bad number, unknown technology, rejected at once
    UNKNOWN = "unknown"  # in flight when the AMI link died; never re-sent


class ContactState(StrEnum):
    """Where a contact is; every non-pending state is final and reported."""

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    DONE = "done"  # answered
    EXHAUSTED = "exhausted"  # max attempts reached without an answer
    EXPIRED = "expired"  # its due window or the campaign ended first
    REFUSED = "refused"  # a contact rule forbids it for good (DNC, black list, ...)
    STOPPED = "stopped"  # its campaign was stopped


@dataclass(frozen=True, slots=True)
class RetryRule:
    """How often and how far apart to retry after one kind of failure."""

    count: int
    gap_s: int


@dataclass(frozen=True, slots=True)
class Campaign:
    """One campaign as the operator configured it (validated once at load)."""

    name: str
    kind: CampaignKind
    lane: str
    hours: BusinessHours
    retry: dict[DialResult, RetryRule] = field(default_factory=dict)
    max_attempts: int = 3
    expires_at: datetime | None = None
    mode: DialMode = DialMode.PROGRESSIVE
    caller_id: str = ""
    priority: int = 0


@dataclass(frozen=True, slots=True)
class Contact:
    """One customer to call in one campaign (or one callback request)."""

    contact_id: str
    campaign: str
    number: str
    customer_id: str = ""
    offer: str = ""
    due_from: datetime | None = None
    due_until: datetime | None = None
    attempts: int = 0
    priority: int = 0
    requested_at: datetime | None = None
    tier: str = ""
    timezone: str = ""
    lane: str = ""  # a callback's own lane; campaign contacts use the campaign's


@dataclass(frozen=True, slots=True)
class Attempt:
    """One Originate: its ids tie every AMI event back to the contact."""

    attempt_id: str
    contact: Contact
    number: int
    action_id: str = ""
    agent: str = ""


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one attempt came to, as written to the attempts stream."""

    attempt_id: str
    result: DialResult
    reason_code: str = ""
    hangup_cause: str = ""
    talk_s: float = 0.0
    hold_s: float = 0.0
    disposition: str = ""
    offer_accepted: bool | None = None
    instant_hangup: bool = False
