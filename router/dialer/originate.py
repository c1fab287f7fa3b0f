"""The Originate action for one attempt (pure).

Progressive (ami/12): the customer is dialled first (``Channel`` =
the customer's number through the outbound trunk context) and, once
answered, runs ``[tierline-outbound]`` which puts the call into the lane's
queue with the campaign's priority. Preview: the agent's interface is
dialled first and ``[tierline-preview]`` then dials the customer.

Variables go as repeated ``Variable:`` headers (ami/12 shows the repeated
and comma-joined forms are equivalent). Asterisk splits each header on
commas and the AMI wire on CR/LF, so values are reduced to a safe alphabet:
no caller- or operator-supplied text can add a variable or a header.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from router.dialer.model import Attempt, Campaign, DialMode
from router.dialer.tracker import OTHER_SUFFIX

__all__ = ["DialPlan", "originate_fields", "safe_value"]

_UNSAFE = re.compile(r"[^0-9A-Za-z _.:@+|/\-]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_VALUE = 120


@dataclass(frozen=True, slots=True)
class DialPlan:
    """Where Originates go in the dialplan (``asterisk_conf/extensions_outbound.conf``)."""

    customer_channel: str = "Local/{number}@tierline-dial"
    progressive_context: str = "tierline-outbound"
    preview_context: str = "tierline-preview"
    timeout_ms: int = 30_000
    caller_id: str = "Tierline <4000>"


def safe_value(value: str) -> str:
    """A channel-variable value Asterisk cannot split or misread."""
    return _UNSAFE.sub("", value)[:_MAX_VALUE]


def originate_fields(
    attempt: Attempt,
    campaign: Campaign,
    plan: DialPlan,
    screen: Mapping[str, str],
) -> dict[str, str | list[str]]:
    """Every header of the Originate (without ActionID, which the link assigns)."""
    contact = attempt.contact
    variables = {
        "TIERLINE_CAMPAIGN": campaign.name,
        "TIERLINE_CONTACT": contact.contact_id,
        "TIERLINE_ATTEMPT": attempt.attempt_id,
        "TIERLINE_LANE": contact.lane or campaign.lane,
        "TIERLINE_PRIO": str(max(contact.priority, campaign.priority)),
        "TIERLINE_OFFER": contact.offer,
        "TIERLINE_NUMBER": contact.number,
        **screen,
    }
    fields: dict[str, str | list[str]] = {
        "Action": "Originate",
        "Priority": "1",
        "CallerID": _CONTROL.sub("", campaign.caller_id or plan.caller_id)[:_MAX_VALUE],
        "Variable": [f"{k}={safe_value(v)}" for k, v in variables.items()],
        "Async": "true",
        "Timeout": str(plan.timeout_ms),
        "ChannelId": attempt.attempt_id,
        "OtherChannelId": attempt.attempt_id + OTHER_SUFFIX,
    }
    number = safe_value(contact.number)
    if campaign.mode is DialMode.PREVIEW and attempt.agent:
        fields.update(Channel=attempt.agent, Context=plan.preview_context, Exten=number)
    else:
        fields.update(
            Channel=plan.customer_channel.format(number=number),
            Context=plan.progressive_context,
            Exten="s",
        )
    return fields
