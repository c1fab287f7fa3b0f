"""The caller's own time zone, from the number: calling hours are the caller's local time.

A callback request names no zone, and the centre's zone is wrong for a
caller abroad (a Hong Kong number is fine at 21:00 Shanghai time, a London
one is not). The number's country comes from ``phonenumbers``; the
country's zones from the system time zone database's ``zone.tab``. The
installed ``phonenumberslite`` has no per-area-code zones, so for a country
with several zones the centre's own zone is kept when it is one of them
(a caller in the centre's country), else the country's principal zone
(the first ``zone.tab`` lists, e.g. America/New_York). Unknown country or
no ``zone.tab``: "" (the configured hours' zone applies).
"""

from __future__ import annotations

import zoneinfo
from functools import cache
from pathlib import Path

import phonenumbers

from router.customers.phone import HOME_COUNTRY_CODE

__all__ = ["caller_zone", "country_zones"]


@cache
def country_zones() -> dict[str, tuple[str, ...]]:
    """ISO country -> its zones in ``zone.tab`` order (empty when no database is found)."""
    for base in zoneinfo.TZPATH:
        path = Path(base) / "zone.tab"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        zones: dict[str, list[str]] = {}
        for line in text.splitlines():
            cols = line.split("\t")
            if len(cols) >= 3 and not line.startswith("#"):
                zones.setdefault(cols[0], []).append(cols[2])
        return {country: tuple(names) for country, names in zones.items()}
    return {}


def _region(number: str) -> str:
    if not number.startswith("+"):  # the store keeps home numbers national (router.customers.phone)
        return phonenumbers.region_code_for_country_code(int(HOME_COUNTRY_CODE))
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number)) or ""
    except phonenumbers.NumberParseException:
        return ""


def caller_zone(number: str, centre_zone: str) -> str:
    """The zone to read calling hours in for ``number`` ("" when it cannot be told)."""
    return _region_zone(_region(number), centre_zone)


@cache  # keyed by country, not number: a long-running dialer meets unboundedly many numbers
def _region_zone(region: str, centre_zone: str) -> str:
    zones = country_zones().get(region, ())
    if not zones:
        return ""
    if len(zones) > 1 and centre_zone in zones:
        return centre_zone
    return zones[0]
