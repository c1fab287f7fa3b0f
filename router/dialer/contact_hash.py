"""How a contact is kept in its Redis hash (pure codec).

Each field is its own hash field, so ``campaigns status`` and an operator
with ``redis-cli`` read them plainly; ``core`` repeats the fields that never
change after import as one JSON array, because the screen reads thousands
of contacts a second and one field decoded by orjson costs the server and
the client a third of what a dozen separate fields cost. ``attempts``
changes with every call, so it stays out of ``core``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import orjson

from router.dialer.model import Contact, ContactState

__all__ = [
    "FIELDS",
    "SCREEN_FIELDS",
    "contact_from_core",
    "contact_from_values",
    "contact_to_hash",
]

FIELDS = (
    "campaign",
    "number",
    "customer_id",
    "offer",
    "due_from",
    "due_until",
    "attempts",
    "priority",
    "requested_at",
    "tier",
    "tz",
    "lane",
    "state",
    "results",
    "last_result",
    "attempt",
    "refusal",
)
"""The contact hash fields a full read returns, in this order (positional, no dict work)."""

_CORE = ("campaign", "number", "customer_id", "offer", "due_from", "due_until", "priority",
         "requested_at", "tier", "tz", "lane")  # fmt: skip
SCREEN_FIELDS = ("core", "attempts", "campaign")
"""The screen's read; ``campaign`` tells a contact stored before ``core`` from a missing one."""


def _ts(value: datetime | None) -> str:
    return "" if value is None else repr(value.timestamp())


def _dt(value: str) -> datetime | None:
    return datetime.fromtimestamp(float(value), UTC) if value else None


def contact_to_hash(c: Contact, lane: str, state: ContactState) -> dict[str, str]:
    h = {
        "campaign": c.campaign,
        "number": c.number,
        "customer_id": c.customer_id,
        "offer": c.offer,
        "due_from": _ts(c.due_from),
        "due_until": _ts(c.due_until),
        "attempts": str(c.attempts),
        "priority": str(c.priority),
        "lane": lane,
        "requested_at": _ts(c.requested_at),
        "tier": c.tier,
        "tz": c.timezone,
        "state": state.value,
        "results": "",
    }
    h["core"] = orjson.dumps([h[f] for f in _CORE]).decode()
    return h


def contact_from_values(contact_id: str, v: Sequence[str]) -> Contact:
    """A contact from the values of ``FIELDS``, in order."""
    return Contact(
        contact_id, v[0], v[1], v[2], v[3], _dt(v[4]), _dt(v[5]), int(v[6] or 0), int(v[7] or 0),
        _dt(v[8]), v[9], v[10], v[11],
    )  # fmt: skip


def contact_from_core(contact_id: str, core: str, attempts: str) -> Contact:
    """A contact from its ``core`` field and attempts (the screen's hot path)."""
    v = orjson.loads(core)
    return Contact(
        contact_id, v[0], v[1], v[2], v[3], _dt(v[4]), _dt(v[5]), int(attempts or 0),
        int(v[6] or 0), _dt(v[7]), v[8], v[9], v[10],
    )  # fmt: skip
