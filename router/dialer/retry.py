"""When to call again: retry rules per outcome, calling hours, expiry (pure).

A contact is never dropped: each attempt either ends it in a final,
reported state (done, exhausted, expired) or gives it the next due time,
which always falls inside the customer's calling hours.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from router.dialer.model import Campaign, Contact, ContactState, DialResult
from router.flows.hours import BusinessHours

__all__ = ["NextStep", "after_attempt", "next_open"]

_STEP = timedelta(minutes=5)
_HORIZON = timedelta(days=21)  # longer than any holiday run plus a weekend


@dataclass(frozen=True, slots=True)
class NextStep:
    """The contact's state after an attempt; ``due`` is set while it stays pending."""

    state: ContactState
    due: datetime | None = None


def next_open(hours: BusinessHours, at: datetime, timezone: str = "") -> datetime | None:
    """The first moment at or after ``at`` when calling is allowed, or None within 21 days.

    ``timezone`` is the customer's own zone when known: calling hours are
    the customer's local time, not the centre's.
    """
    local = replace(hours, timezone=timezone) if timezone else hours
    if local.is_open(at):
        return at
    probe = at - timedelta(seconds=at.second, microseconds=at.microsecond)
    probe -= timedelta(minutes=probe.minute % 5)
    end = at + _HORIZON
    while probe < end:
        probe += _STEP
        if local.is_open(probe):
            return probe
    return None


def after_attempt(
    campaign: Campaign,
    contact: Contact,
    result: DialResult,
    same_result_before: int,
    *,
    now: datetime,
    timezone: str = "",
) -> NextStep:
    """Decide the contact's next state after attempt number ``contact.attempts``.

    Args:
        same_result_before: earlier attempts of this contact with this result;
            the rule's ``count`` bounds how many retries one outcome earns.
    """
    if result is DialResult.ANSWERED:
        return NextStep(ContactState.DONE)
    if contact.attempts >= campaign.max_attempts:
        return NextStep(ContactState.EXHAUSTED)
    rule = campaign.retry.get(result)
    if rule is None and result is DialResult.UNKNOWN:
        rule = campaign.retry.get(DialResult.NO_ANSWER)  # may have rung: treat as not answered
    if rule is None or same_result_before >= rule.count:
        return NextStep(ContactState.EXHAUSTED)
    due = next_open(campaign.hours, now + timedelta(seconds=rule.gap_s), timezone)
    return _within_windows(campaign, contact, due)


def _within_windows(campaign: Campaign, contact: Contact, due: datetime | None) -> NextStep:
    ends = [t for t in (campaign.expires_at, contact.due_until) if t is not None]
    if due is None or any(due >= end for end in ends):
        return NextStep(ContactState.EXPIRED)
    return NextStep(ContactState.PENDING, due)
