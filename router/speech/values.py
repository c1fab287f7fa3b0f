"""Reading the value text a flow hands over (a backend's JSON field, a caller's digits).

Values arrive as strings because flow variables are strings. They are read
strictly, never guessed at: ``1e5``, ``12,5`` or a money amount in thousandths
is refused with a message naming the value, so the say step takes its
failed exit instead of reading a wrong balance to a customer. The limits
keep a prompt sequence short enough to play (a bad backend answer must not
become a five-minute recital).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from router.errors import SpeechError

__all__ = [
    "MAX_DIGITS",
    "MAX_FRACTION",
    "MAX_INTEGER",
    "Money",
    "WrittenNumber",
    "parse_date",
    "parse_decimal",
    "parse_digits",
    "parse_money",
    "parse_time",
]

MAX_INTEGER = 10**15 - 1  # 999 trillion / 九百九十九万九千九百九十九亿...
MAX_FRACTION = 6  # decimal places a number may carry
MAX_DIGITS = 32  # digits a digit string may carry (phone, account, order numbers)

_DECIMAL = re.compile(r"([+-]?)(\d+)(?:\.(\d+))?", re.ASCII)  # ASCII: no full-width digits
_DIGITS = re.compile(r"\d+", re.ASCII)
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_TIME_ONLY = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?", re.ASCII)


@dataclass(frozen=True, slots=True)
class WrittenNumber:
    """A number as written: sign, whole part, fraction digits exactly as given."""

    negative: bool
    integer: int
    fraction: str = ""


@dataclass(frozen=True, slots=True)
class Money:
    """A money amount in yuan and fen (0-99), the sign apart."""

    negative: bool
    yuan: int
    fen: int


def parse_decimal(value: str) -> WrittenNumber:
    """``-12``, ``3.50``, ``+7``: the sign is dropped from a zero (``-0`` reads as zero).

    Raises:
        SpeechError: not a plain decimal, or beyond the limits.
    """
    match = _DECIMAL.fullmatch(value.strip())
    if match is None:
        raise SpeechError(f"not a number: {value!r} (expected digits, e.g. -12 or 3.50)")
    sign, whole, fraction = match.group(1), int(match.group(2)), match.group(3) or ""
    if whole > MAX_INTEGER:
        raise SpeechError(f"number too large to speak: {value!r} (limit {MAX_INTEGER})")
    if len(fraction) > MAX_FRACTION:
        raise SpeechError(f"too many decimal places to speak: {value!r} (limit {MAX_FRACTION})")
    zero = whole == 0 and not fraction.strip("0")
    return WrittenNumber(sign == "-" and not zero, whole, fraction)


def parse_money(value: str) -> Money:
    """Yuan with at most two decimals (``105.5`` is 105 yuan 50 fen; ``1.005`` is refused).

    Trailing zeros beyond the fen are fine (``3.500``), but a third
    significant decimal is an error rather than a rounding nobody asked for.

    Raises:
        SpeechError: not a plain decimal, beyond the limits, or finer than a fen.
    """
    number = parse_decimal(value)
    fraction = number.fraction.rstrip("0")
    if len(fraction) > 2:
        raise SpeechError(f"money finer than a fen: {value!r} (at most two decimals)")
    fen = int(fraction.ljust(2, "0"))
    return Money(number.negative, number.integer, fen)


def parse_digits(value: str) -> str:
    """A digit string read one by one (spaces and dashes between groups are dropped).

    Raises:
        SpeechError: anything but digits, or too long.
    """
    text = re.sub(r"[\s-]", "", value)
    if not _DIGITS.fullmatch(text):
        raise SpeechError(f"not a digit string: {value!r} (only 0-9, spaces and dashes)")
    if len(text) > MAX_DIGITS:
        raise SpeechError(f"too many digits to speak: {len(text)} (limit {MAX_DIGITS})")
    return text


def parse_date(value: str) -> date:
    """``2026-12-02``, or the date part of an ISO timestamp (``2026-12-02T14:05:00+08:00``).

    The date is spoken as written: no time-zone conversion, which is the
    backend's business (it knows the customer's zone).

    Raises:
        SpeechError: not an ISO date, a date that does not exist, or a year outside 1000-9999.
    """
    text = value.strip()
    try:
        if _DATE_ONLY.fullmatch(text):
            day = date.fromisoformat(text)
        elif _DATE_ONLY.match(text):
            day = datetime.fromisoformat(text).date()
        else:
            raise ValueError("not ISO")
    except ValueError:
        raise SpeechError(f"not a date: {value!r} (expected YYYY-MM-DD)") from None
    if day.year < 1000:
        raise SpeechError(f"year out of range to speak: {value!r} (1000-9999)")
    return day


def parse_time(value: str) -> time:
    """``14:05``, ``14:05:30``, or the time part of an ISO timestamp; seconds are not spoken.

    Raises:
        SpeechError: not an ISO time of day.
    """
    text = value.strip()
    try:
        if _TIME_ONLY.fullmatch(text):
            when = time.fromisoformat(text)
        elif _DATE_ONLY.match(text) and len(text) > 10:
            when = datetime.fromisoformat(text).time()
        else:
            raise ValueError("not ISO")
    except ValueError:
        raise SpeechError(f"not a time of day: {value!r} (expected HH:MM)") from None
    return when
