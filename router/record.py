"""How a customer is written to and read from a Redis hash.

Kept apart from the store so the importer, exporter and lookup agree on one
encoding: scalars as strings, ``phones`` and ``offers`` joined with ``;``
(neither may contain one).
"""

from __future__ import annotations

from collections.abc import Mapping

from router.customer import Customer, CustomerList, Lifecycle

__all__ = ["from_hash", "to_hash", "to_json_dict"]

SEP = ";"


def to_hash(c: Customer) -> dict[str, str]:
    return {
        "customer_id": c.customer_id,
        "name": c.name,
        "tier": c.tier,
        "list": c.list.value,
        "lifecycle": c.lifecycle.value,
        "arpu": repr(c.arpu),
        "tenure_months": str(c.tenure_months),
        "credit_score": str(c.credit_score),
        "language": c.language,
        "account_manager": c.account_manager,
        "offers": SEP.join(c.offers),
        "phones": SEP.join(c.phones),
        "updated_at": c.updated_at,
    }


def _split(value: str) -> tuple[str, ...]:
    return tuple(v for v in value.split(SEP) if v) if value else ()


def from_hash(h: Mapping[str, str]) -> Customer:
    """Decode a stored hash; raises ``ValueError``/``KeyError`` on a bad record."""
    return Customer(
        customer_id=h["customer_id"],
        name=h.get("name", ""),
        tier=h.get("tier", ""),
        list=CustomerList(h.get("list", "")),
        lifecycle=Lifecycle(h.get("lifecycle") or "stable"),
        arpu=float(h.get("arpu") or 0),
        tenure_months=int(h.get("tenure_months") or 0),
        credit_score=int(h.get("credit_score") or 0),
        language=h.get("language", ""),
        account_manager=h.get("account_manager", ""),
        offers=_split(h.get("offers", "")),
        phones=_split(h.get("phones", "")),
        updated_at=h.get("updated_at", ""),
    )


def to_json_dict(c: Customer) -> dict[str, object]:
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
