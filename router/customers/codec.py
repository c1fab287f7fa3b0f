"""How a customer is stored in Redis and exported.

A customer is a hash with two fields: ``rec``, one JSON document with every
field but the phones, and ``phones``, the normalised numbers joined with
``;``. The split keeps the hot paths cheap: a lookup decodes one JSON string
(orjson), a bulk import writes two fields per customer, and the link/unlink
scripts edit only ``phones`` without re-encoding the JSON in Lua.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from router.customers.model import Customer, CustomerList, Lifecycle

__all__ = ["SEP", "decode", "encode_rec", "factor_of", "to_json_dict"]

SEP = ";"


def to_json_dict(c: Customer) -> dict[str, Any]:
    """The export shape: what ``customers import`` reads back as JSON Lines."""
    return {
        "customer_id": c.customer_id,
        "name": c.name,
        "tier": c.tier,
        "list": c.list.value,
        "lifecycle": c.lifecycle.value,
        "arpu": c.arpu,
        "tenure_months": c.tenure_months,
        "credit_score": c.credit_score,
        "language": c.language,
        "account_manager": c.account_manager,
        "offers": list(c.offers),
        "phones": list(c.phones),
        "updated_at": c.updated_at,
    }


def encode_rec(c: Customer, factors: Mapping[str, str] | None = None) -> bytes:
    """The ``rec`` field: every field except ``phones``, plus hashed second ``factors``.

    The factors (salted hashes, :mod:`router.customers.factors`) are never
    decoded into a :class:`Customer`, so they never reach a flow, a screen
    pop or an export; only :func:`factor_of` reads them.
    """
    doc = to_json_dict(c)
    del doc["phones"]
    if factors:
        doc["factors"] = dict(factors)
    return orjson.dumps(doc)


def factor_of(rec: str | bytes, kind: str) -> str:
    """The stored hash of second factor ``kind`` in a ``rec`` field; "" for none or a bad record."""
    try:
        found = orjson.loads(rec).get("factors") or {}
    except (orjson.JSONDecodeError, AttributeError):
        return ""
    value = found.get(kind, "") if isinstance(found, dict) else ""
    return value if isinstance(value, str) else ""


def decode(rec: str | bytes, phones: str) -> Customer:
    """Rebuild a customer; raises ``ValueError``/``KeyError``/``TypeError`` on a bad record."""
    d = orjson.loads(rec)
    return Customer(
        customer_id=str(d["customer_id"]),
        name=str(d["name"]),
        tier=str(d["tier"]),
        list=CustomerList(d["list"]),
        lifecycle=Lifecycle(d["lifecycle"]),
        arpu=float(d["arpu"]),
        tenure_months=int(d["tenure_months"]),
        credit_score=int(d["credit_score"]),
        language=str(d["language"]),
        account_manager=str(d["account_manager"]),
        offers=tuple(str(o) for o in d["offers"]),
        phones=tuple(p for p in phones.split(SEP) if p),
        updated_at=str(d["updated_at"]),
    )
