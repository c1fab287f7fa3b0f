"""Import-time number validation against the real numbering plans.

The call path keeps its fast rule (``router.customers.phone``): a caller id
only has to be turned into a key, and anything wrong simply misses. A stored
number is different: ``1380013800`` (a digit short) or
``000000013800138000`` would be accepted by the fast rule and then never
match a call. So imports check each number with ``phonenumbers`` (Google's
libphonenumber metadata), here on the cold path only; a property test shows
that on valid numbers of many regions and spellings the fast rule gives
exactly the numbering plan's reading (``plan_normalise``).
"""

from __future__ import annotations

import phonenumbers

from router.customers.phone import HOME_COUNTRY_CODE, normalise_or_none

__all__ = ["checked_number", "plan_normalise"]


def plan_normalise(raw: str, country_code: str = HOME_COUNTRY_CODE) -> str | None:
    """The store's form of ``raw`` per the numbering plans, ``None`` if not a valid number."""
    region = phonenumbers.region_code_for_country_code(int(country_code))
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    national = phonenumbers.national_significant_number(parsed)
    if str(parsed.country_code) == country_code:
        return national
    return f"+{parsed.country_code}{national}"


def checked_number(raw: str, country_code: str = HOME_COUNTRY_CODE) -> str:
    """The stored form of a valid number; ``ValueError`` saying why otherwise.

    What is checked is the fast rule's reading, the key calls will look up:
    a home number is checked as national digits (no re-parse of the raw
    text, the costly part of ``phonenumbers``), a foreign one as E.164. The
    messages quote no number: callers add a masked one, because import
    problems are printed and logged.
    """
    fast = normalise_or_none(raw, country_code)
    if fast is None:
        raise ValueError("is not a phone number")
    if fast.startswith("+"):
        valid = plan_normalise(fast, country_code) == fast
    else:
        home = phonenumbers.PhoneNumber(country_code=int(country_code), national_number=int(fast))
        valid = phonenumbers.is_valid_number(home)
    if not valid:
        raise ValueError("is not a valid phone number")
    return fast
