"""What conditions can read: one getter per field of the call, customer and queues.

Kept apart from :mod:`router.flows.expr` so the field list (and its
documentation in ``ivr_flows/README.md``) lives in one short place; the
names are checked at load and each getter is called at most once per call.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from router.customers.model import Customer
from router.types import CallInfo, QueueSnapshot

__all__ = [
    "CALL_FIELDS",
    "CALL_GETTERS",
    "CUSTOMER_FIELDS",
    "CUSTOMER_GETTERS",
    "NOBODY",
    "QUEUE_FIELDS",
    "QUEUE_GETTERS",
    "call_vars",
    "customer_vars",
    "queue_vars",
]

NOBODY = Customer(customer_id="")

CALL_GETTERS: dict[str, Callable[[CallInfo, datetime], Any]] = {
    "dnis": lambda c, _at: c.dnis,
    "caller": lambda c, _at: c.caller,
    "anonymous": lambda c, _at: not c.caller,
    "caller_name": lambda c, _at: c.caller_name,
    "language": lambda c, _at: c.language,
    "script": lambda c, _at: c.script,
    "params": lambda c, _at: dict(c.params),
    "hour": lambda _c, at: at.hour,
    "minute": lambda _c, at: at.minute,
    "weekday": lambda _c, at: at.isoweekday(),
    "date": lambda _c, at: at.date().isoformat(),
    "time": lambda _c, at: f"{at.hour:02d}:{at.minute:02d}",
}
CUSTOMER_GETTERS: dict[str, Callable[[Customer], Any]] = {
    "known": lambda u: bool(u.customer_id),
    "id": lambda u: u.customer_id,
    "name": lambda u: u.name,
    "tier": lambda u: u.tier,
    "list": lambda u: str(u.list.value),
    "lifecycle": lambda u: str(u.lifecycle.value),
    "arpu": lambda u: float(u.arpu),
    "tenure_months": lambda u: int(u.tenure_months),
    "credit_score": lambda u: int(u.credit_score),
    "offers": lambda u: list(u.offers),
    "language": lambda u: u.language,
    "account_manager": lambda u: u.account_manager,
}
QUEUE_GETTERS: dict[str, Callable[[QueueSnapshot], Any]] = {
    "waiting": lambda q: q.waiting,
    "ewt": lambda q: float(q.ewt),
    "agents_available": lambda q: q.agents_available,
    "agents_logged_in": lambda q: q.agents_logged_in,
    "longest_wait": lambda q: float(q.longest_wait),
    "open": lambda q: q.open,
}


def call_vars(call: CallInfo, at: datetime) -> dict[str, Any]:
    return {k: get(call, at) for k, get in CALL_GETTERS.items()}


def customer_vars(customer: Customer | None) -> dict[str, Any]:
    who = customer or NOBODY
    return {k: get(who) for k, get in CUSTOMER_GETTERS.items()}


def queue_vars(q: QueueSnapshot) -> dict[str, Any]:
    return {k: get(q) for k, get in QUEUE_GETTERS.items()}


CALL_FIELDS = frozenset(CALL_GETTERS)
CUSTOMER_FIELDS = frozenset(CUSTOMER_GETTERS)
QUEUE_FIELDS = frozenset(QUEUE_GETTERS)
