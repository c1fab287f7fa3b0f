"""Campaign contact files: CSV (header row) or JSON Lines, all or nothing.

Columns: ``campaign``, ``customer_id`` and/or ``number``, ``offer``
(script/offer), ``due_from``/``due_until`` (ISO 8601; naive times are the
campaign's zone), optional ``timezone`` (the customer's own). Every row is
checked before anything is written, and each problem is reported as
``FILE:LINE: field: message`` like the customer import.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from router.customers.phone import normalise_or_none
from router.customers.row_files import read_records
from router.customers.rows import RowError
from router.dialer.model import CALLBACK_CAMPAIGN, Campaign, Contact
from router.errors import CampaignDataError, Problem

__all__ = ["COLUMNS", "read_contact_rows", "read_contacts"]

COLUMNS = ("campaign", "customer_id", "number", "offer", "due_from", "due_until", "timezone")
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_OFFER_RE = re.compile(r"[^\x00-\x1f\x7f]{0,80}")


class _Bad(Exception):  # noqa: N818 - private carrier of one field's complaint
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _when(fields: Mapping[str, object], name: str, zone: str) -> datetime | None:
    text = str(fields.get(name) or "").strip()
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise _Bad(name, f"{text!r} is not an ISO 8601 date-time") from None
    return at if at.tzinfo else at.replace(tzinfo=ZoneInfo(zone))


def _contact(fields: Mapping[str, object], campaigns: Mapping[str, Campaign]) -> Contact:
    unknown = sorted(set(fields) - set(COLUMNS))
    if unknown:
        raise _Bad(unknown[0], "unknown field")
    name = str(fields.get("campaign") or "").strip()
    campaign = campaigns.get(name)
    if campaign is None or name == CALLBACK_CAMPAIGN:
        raise _Bad("campaign", f"unknown campaign {name!r}")
    customer = str(fields.get("customer_id") or "").strip()
    if customer and not _ID_RE.fullmatch(customer):
        raise _Bad("customer_id", f"{customer!r} is not a valid customer id")
    raw_number = str(fields.get("number") or "").strip()
    number = normalise_or_none(raw_number) if raw_number else ""
    if number is None:
        raise _Bad("number", f"{raw_number!r} is not a valid phone number")
    if not customer and not number:
        raise _Bad("number", "give a customer_id or a number")
    offer = str(fields.get("offer") or "").strip()
    if not _OFFER_RE.fullmatch(offer):
        raise _Bad("offer", "at most 80 characters, no control characters")
    tz = str(fields.get("timezone") or "").strip()
    try:
        zone = tz or campaign.hours.timezone
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise _Bad("timezone", f"unknown time zone {tz!r}") from None
    due_from, due_until = _when(fields, "due_from", zone), _when(fields, "due_until", zone)
    if due_from and due_until and due_until <= due_from:
        raise _Bad("due_until", "ends before due_from")
    return Contact(
        contact_id=f"{name}:{customer or number}",
        campaign=name,
        number=number or "",
        customer_id=customer,
        offer=offer,
        due_from=due_from,
        due_until=due_until,
        priority=campaign.priority,
        timezone=tz,
    )


def read_contacts(path: Path, campaigns: Mapping[str, Campaign]) -> list[Contact]:
    """Every contact in ``path``; raises CampaignDataError listing every bad row."""
    return [contact for _, contact in read_contact_rows(path, campaigns)]


def read_contact_rows(path: Path, campaigns: Mapping[str, Campaign]) -> list[tuple[int, Contact]]:
    """Every contact with the line it starts on; all or nothing (CampaignDataError).

    Rows are read by the customer importer's reader (``read_records``), so
    both imports take the same encodings and report the same way.
    """
    problems: list[Problem] = []
    contacts: list[tuple[int, Contact]] = []
    seen: dict[str, int] = {}
    for line, fields, errors in read_records(path, ("campaign",), COLUMNS):
        complaint = _complaint(errors, fields, campaigns)
        if isinstance(complaint, str):
            problems.append(Problem(str(path), line, 0, complaint))
            continue
        first = seen.get(complaint.contact_id)
        if first is not None:
            problems.append(
                Problem(
                    str(path),
                    line,
                    0,
                    f"customer_id: {complaint.contact_id} is also on line {first}",
                )
            )
            continue
        seen[complaint.contact_id] = line
        contacts.append((line, complaint))
    if problems:
        raise CampaignDataError(problems)
    return contacts


def _complaint(
    errors: tuple[RowError, ...], fields: Mapping[str, object], campaigns: Mapping[str, Campaign]
) -> Contact | str:
    """The row's contact, or its first problem as ``field: message``."""
    if errors:
        return f"{errors[0].field}: {errors[0].message}"
    try:
        return _contact(fields, campaigns)
    except _Bad as bad:
        return f"{bad.field}: {bad}"
