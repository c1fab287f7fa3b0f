"""One rule for turning any written phone number into the store's key.

Customers give their numbers in every shape (``+86 138-0013-8000``,
``008613800138000``, ``(010) 6552 9988``) and Asterisk presents caller ids in
yet others, so a number is only ever stored or looked up in normal form:

1. Keep digits and a leading ``+``; drop spaces, dashes, dots, parentheses
   and slashes. Anything else (letters, ``;``, control characters) makes the
   number invalid: caller ids are attacker-controlled text.
2. A leading ``00`` is the international prefix: it becomes ``+``.
3. ``+<home country code>`` is dropped, giving the national number.
4. A national number's trunk prefix ``0`` is dropped (``010 6552 9988`` ->
   ``1065529988``), so domestic and international spellings agree.
5. Other countries keep ``+`` and their code (``+1 415 555 0100`` ->
   ``+14155550100``).

Numbers with fewer than 3 or more than 17 digits are rejected.
"""

from __future__ import annotations

import re

__all__ = ["HOME_COUNTRY_CODE", "normalise", "normalise_or_none"]

HOME_COUNTRY_CODE = "86"
_ALLOWED_RE = re.compile(r"[0-9 \-.()/\t]*")
_NOT_DIGIT_RE = re.compile(r"[^0-9]")
_MIN_DIGITS = 3
_MAX_DIGITS = 17


def normalise_or_none(raw: str, country_code: str = HOME_COUNTRY_CODE) -> str | None:
    """The normal form, or ``None`` when ``raw`` is not a usable number."""
    text = raw.strip()
    plus = text.startswith("+")
    body = text[1:] if plus else text
    if not _ALLOWED_RE.fullmatch(body):
        return None
    digits = _NOT_DIGIT_RE.sub("", body)
    if not plus and digits.startswith("00"):
        plus, digits = True, digits[2:]
    if plus and digits.startswith(country_code):
        plus, digits = False, digits[len(country_code) :]
    if not plus:
        digits = digits.lstrip("0") if digits.startswith("0") else digits
    if not _MIN_DIGITS <= len(digits) <= _MAX_DIGITS:
        return None
    return ("+" if plus else "") + digits


def normalise(raw: str, country_code: str = HOME_COUNTRY_CODE) -> str:
    """The normal form; raises ``ValueError`` with the reason otherwise."""
    value = normalise_or_none(raw, country_code)
    if value is None:
        raise ValueError(f"not a phone number: {raw!r}")
    return value
