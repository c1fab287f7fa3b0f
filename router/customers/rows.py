"""Validation of one customer row (CSV or JSON), field by field.

Hand-written rather than a schema library: it runs a million times per
bulk import, and each complaint must name the field and say exactly what is
wrong so the operator can fix the row from the message alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from router.customers.model import MAX_OFFERS, Customer, CustomerList, Lifecycle, TierOrder
from router.customers.phone_check import checked_number
from router.logs import mask_numbers

__all__ = ["RowError", "validate_fields"]

_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_LANG_RE = re.compile(r"[a-z]{2,3}(?:[-_][A-Za-z]{2,4})?")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_MAX_TEXT = 200
MAX_PHONES = 10


@dataclass(frozen=True, slots=True)
class RowError:
    field: str
    message: str


class _Bad(Exception):  # noqa: N818 - private carrier, never escapes this module
    pass


def _text(value: object, limit: int = _MAX_TEXT) -> str:
    """Strip and bound a field; control characters are checked per row (cheaper)."""
    s = value.strip() if type(value) is str else "" if value is None else str(value).strip()
    if len(s) > limit:
        raise _Bad(f"longer than {limit} characters")
    return s


def _choice(options: Mapping[str, object], empty: str = "") -> Callable[[object], object]:
    def check(value: object) -> object:
        s = _text(value).lower() or empty
        if s not in options:
            raise _Bad(f"{s!r} is not one of {', '.join(repr(o) for o in options)}")
        return options[s]

    return check


def _number(kind: type[int] | type[float], low: float, high: float) -> Callable[[object], object]:
    def check(value: object) -> object:
        s = _text(value)
        try:
            n = kind(s) if s else kind(0)
        except ValueError:
            raise _Bad(f"{s!r} is not a valid {kind.__name__}") from None
        if isinstance(n, float) and not math.isfinite(n):
            raise _Bad("must be a finite number")
        if not low <= n <= high:
            raise _Bad(f"{n} is outside {low:g}..{high:g}")
        return n

    return check


def _items(value: object) -> list[str]:
    if isinstance(value, list | tuple):
        items = [_text(v) for v in value]
        if any(_CONTROL_RE.search(i) for i in items):
            raise _Bad("contains control characters")
        return items
    return [p.strip() for p in _text(value, 2000).split(";") if p.strip()]


def _offers(value: object) -> tuple[str, ...]:
    items = [o for o in _items(value) if o]
    if len(items) > MAX_OFFERS:
        raise _Bad(f"at most {MAX_OFFERS} ranked offers, found {len(items)}")
    if any(";" in o for o in items):
        raise _Bad("an offer may not contain ';'")
    return tuple(items)


def _phones(value: object) -> tuple[str, ...]:
    items = _items(value)
    if not items:
        raise _Bad("at least one phone number is required")
    if len(items) > MAX_PHONES:
        raise _Bad(f"at most {MAX_PHONES} numbers per customer")
    out: list[str] = []
    for raw in items:
        try:
            norm = checked_number(raw)
        except ValueError as exc:
            raise _Bad(f"{mask_numbers(repr(raw))} {exc}") from None
        if norm not in out:
            out.append(norm)
    return tuple(out)


def _customer_id(value: object) -> str:
    s = _text(value)
    if not _ID_RE.fullmatch(s):
        raise _Bad(f"{s!r} must be 1-64 letters, digits, '_', '.' or '-'")
    return s


def _language(value: object) -> str:
    s = _text(value)
    if s and not _LANG_RE.fullmatch(s):
        raise _Bad(f"{s!r} is not a language code such as 'zh' or 'en-US'")
    return s


def _checks(tiers: TierOrder) -> dict[str, Callable[[object], object]]:
    return {
        "customer_id": _customer_id,
        "name": _text,
        "tier": _choice({t: t for t in tiers.names}),
        "list": _choice({m.value: m for m in CustomerList}),
        "lifecycle": _choice({m.value: m for m in Lifecycle}, empty=Lifecycle.STABLE.value),
        "arpu": _number(float, 0, 1e9),
        "tenure_months": _number(int, 0, 1200),
        "credit_score": _number(int, 0, 1000),
        "language": _language,
        "account_manager": _text,
        "offers": _offers,
        "phones": _phones,
        "updated_at": _text,
    }


def _control_characters(fields: Mapping[str, object]) -> frozenset[str]:
    """Fields holding control characters: one regex over the whole row first."""
    texts = [(k, v) for k, v in fields.items() if isinstance(v, str)]
    if not _CONTROL_RE.search("".join(v for _, v in texts)):
        return frozenset()
    return frozenset(k for k, v in texts if _CONTROL_RE.search(v))


_CHECKS_CACHE: dict[tuple[str, ...], dict[str, Callable[[object], object]]] = {}


def validate_fields(
    fields: Mapping[str, object], tiers: TierOrder, now: str
) -> Customer | tuple[RowError, ...]:
    """A ``Customer``, or every problem found in the row (not just the first)."""
    checks = _CHECKS_CACHE.get(tiers.names) or _CHECKS_CACHE.setdefault(tiers.names, _checks(tiers))
    values: dict[str, object] = {}
    errors: list[RowError] = []
    dirty = _control_characters(fields)
    for name, check in checks.items():
        raw = fields.get(name)
        if raw is None and name in ("customer_id", "tier", "phones"):
            errors.append(RowError(name, "required"))
            continue
        if name in dirty:
            errors.append(RowError(name, "contains control characters"))
            continue
        try:
            values[name] = check(raw)
        except _Bad as exc:
            errors.append(RowError(name, str(exc)))
    if errors:
        return tuple(errors)
    values["updated_at"] = values["updated_at"] or now
    return Customer(**values)  # type: ignore[arg-type]
