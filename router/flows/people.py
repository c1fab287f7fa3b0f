"""Transfers to the customer's own people: a target read from a customer field.

A ``transfer`` node may name a customer field (``to: {customer:
account_manager}``) instead of a fixed number; it then needs a
``fallback`` node, taken whenever that person cannot take the call:

* before anything is sent: the field is empty, holds a value the dialplan
  would refuse (the same character set as a written target, checked here
  so a customer record can never smuggle dialplan syntax), or the live
  state says nobody is there: the person's *personal queue* (an Asterisk
  queue named like the person's id, with the person as its member) is
  known and has no available member (not logged in, paused, or already on
  a call);
* after the ``Dial()``: the dialplan comes back with ``DIALSTATUS`` BUSY,
  NOANSWER, CHANUNAVAIL or CONGESTION and the router resumes the flow at
  the fallback (:mod:`router.flows.resume`).

No live state for the personal queue (no listener, or an id without one)
is not "unreachable": the ``Dial()`` is tried and its outcome decides.
Pure: no I/O; the engine calls these while walking.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from router.customers.model import Customer
from router.flows import actions as a
from router.flows import model as m
from router.types import QueueSnapshot

__all__ = [
    "DEST_RE",
    "DIAL_RESUME_STATUSES",
    "PERSON_FIELDS",
    "detour",
    "person_target",
    "transfer_action",
]

DEST_RE = re.compile(r"[0-9*#+A-Za-z_-]{1,64}(@[0-9A-Za-z_-]{1,64})?")
"""What the dialplan lets through as a transfer target (its FILTER keeps the same set)."""
PERSON_FIELDS: Mapping[str, str] = {"account_manager": "the customer's account manager (客户经理)"}
"""Customer fields a transfer may read its target from."""
DIAL_RESUME_STATUSES = frozenset({"BUSY", "NOANSWER", "CHANUNAVAIL", "CONGESTION"})
"""DIALSTATUS values after which the dialplan resumes the flow at the fallback."""


def person_target(node: m.Transfer, customer: Customer | None) -> str:
    """The destination a customer-field transfer dials; "" when there is none to dial."""
    value = getattr(customer, node.field, "") if customer is not None else ""
    if not isinstance(value, str) or not value:
        return ""
    target = f"{value}@{node.context}" if node.context and "@" not in value else value
    return target if DEST_RE.fullmatch(target) else ""


def detour(
    node: m.Transfer, customer: Customer | None, queues: Mapping[str, QueueSnapshot]
) -> tuple[str, str] | None:
    """``(fallback node, reason)`` when the person cannot take the call now, else None."""
    if not node.field:
        return None
    target = person_target(node, customer)
    if not target:
        why = "no_person" if not getattr(customer, node.field, "") else "bad_target"
        return node.fallback, f"{why}:{node.field}"
    snap = queues.get(target.partition("@")[0])
    if snap is not None and snap.agents_available <= 0:
        state = "paused" if snap.agents_logged_in and snap.agents_paused else "absent"
        if snap.agents_logged_in > snap.agents_paused:
            state = "busy"
        return node.fallback, f"unreachable:{state}"
    return None


def transfer_action(node: m.Transfer, customer: Customer | None) -> a.TransferTo:
    """The terminal action of a transfer node: its written target, or the person's."""
    target = person_target(node, customer) if node.field else node.destination
    return a.TransferTo(target, node.ring_s)
