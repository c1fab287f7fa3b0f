"""The channel variables every route carries: the screen pop and the route itself.

The agent's screen pop reads these from the channel whatever way the call
was routed (straight to a lane, or after an IVR flow), so they are built in
one place. Values are capped: the whole ``MSet`` line must stay far below
Asterisk's 2047-byte command limit.
"""

from __future__ import annotations

from router.customers.model import Customer
from router.types import RouteDecision

__all__ = ["MAX_VALUE_CHARS", "route_variables", "screen_pop"]

MAX_VALUE_CHARS = 120


def _cap(value: str) -> str:
    return value[:MAX_VALUE_CHARS]


def screen_pop(customer: Customer | None) -> dict[str, str]:
    """TIERLINE_CUSTOMER/TIER/LIST/LIFECYCLE/OFFERS; empty values for an unknown caller."""
    c = customer
    return {
        "TIERLINE_CUSTOMER": _cap(c.customer_id) if c else "",
        "TIERLINE_TIER": _cap(c.tier) if c else "",
        "TIERLINE_LIST": _cap(c.list.value) if c else "",
        "TIERLINE_LIFECYCLE": _cap(c.lifecycle.value) if c else "",
        "TIERLINE_OFFERS": _cap("|".join(c.offers)) if c else "",
    }


def route_variables(customer: Customer | None, decision: RouteDecision) -> dict[str, str]:
    """The screen pop plus the lane and priority, for a call routed without a flow."""
    return {
        **screen_pop(customer),
        "TIERLINE_QUEUE": _cap(decision.queue),
        "TIERLINE_PRIO": str(int(decision.priority)),
    }
