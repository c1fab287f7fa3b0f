"""English readings as token prompts.

Choices, each tested:

* Numbers the Commonwealth way, with "and" before the last part under a
  hundred (one hundred and five, one thousand and five, two million and
  fifty); "twenty-one" is two tokens, twenty + one.
* Digits one by one, 0 read "zero" (clearer than "oh" over a phone line).
* Money as "105 yuan 50 fen" (one hundred and five yuan fifty fen): jiao are
  folded into fen, as English speakers of RMB amounts do; no plural forms.
* Dates "December second, twenty twenty-six": month, ordinal day, year in
  pairs (nineteen oh five, two thousand and nine, twenty ten).
* Times on the 12-hour clock with a.m./p.m. (two oh five p.m.), "twelve
  noon" and "twelve midnight" for the two ambiguous hours: English callers
  expect it and it is never misheard.
"""

from __future__ import annotations

from datetime import date, time

from router.speech.values import Money, WrittenNumber

__all__ = ["ENGLISH_VOCABULARY", "date_tokens", "money", "number", "time_tokens"]

SCALES: tuple[tuple[int, str], ...] = (
    (10**12, "say_trillion"),
    (10**9, "say_billion"),
    (10**6, "say_million"),
    (10**3, "say_thousand"),
)
AND, HUNDRED, MINUS, POINT, OH = "say_and", "say_hundred", "say_minus", "say_point", "say_oh"
YUAN, FEN, AM, PM = "say_yuan", "say_fen", "say_am", "say_pm"
NOON, MIDNIGHT = "say_noon", "say_midnight"
ORDINAL_SUFFIX = {1: "st", 2: "nd", 3: "rd"}

Tokens = list[str]


def _ordinal_name(n: int) -> str:
    suffix = "th" if 10 < n < 14 else ORDINAL_SUFFIX.get(n % 10, "th")
    return f"say_{n}{suffix}"


ORDINALS = tuple(_ordinal_name(n) for n in (*range(1, 20), 20, 30))
MONTHS = tuple(f"say_month_{m}" for m in range(1, 13))
CARDINALS = tuple(f"say_{n}" for n in (*range(20), *range(20, 100, 10)))
ENGLISH_VOCABULARY = frozenset(
    {*CARDINALS, *ORDINALS, *MONTHS, *(word for _, word in SCALES)}
    | {AND, HUNDRED, MINUS, POINT, OH, YUAN, FEN, AM, PM, NOON, MIDNIGHT}
)


def number(value: WrittenNumber) -> tuple[str, ...]:
    """minus, the whole part, then point and the fraction digit by digit (three point five zero)."""
    out = [MINUS] if value.negative else []
    out += integer(value.integer)
    if value.fraction:
        out += [POINT, *(f"say_{d}" for d in value.fraction)]
    return tuple(out)


def money(value: Money) -> tuple[str, ...]:
    """yuan, then fen (jiao folded in); "fifty fen" alone, "zero yuan" for nothing."""
    out = [MINUS] if value.negative else []
    if value.yuan or not value.fen:
        out += [*integer(value.yuan), YUAN]
    if value.fen:
        out += [*integer(value.fen), FEN]
    return tuple(out)


def date_tokens(day: date) -> tuple[str, ...]:
    """December second, twenty twenty-six."""
    return (MONTHS[day.month - 1], *ordinal(day.day), *year(day.year))


def time_tokens(when: time) -> tuple[str, ...]:
    """two oh five p.m., two p.m., twelve noon, twelve thirty a.m."""
    hour = when.hour % 12 or 12
    out = [f"say_{hour}"]
    if when.minute:
        out += [OH, f"say_{when.minute}"] if when.minute < 10 else under_hundred(when.minute)
    elif when.hour in (0, 12):
        return (*out, MIDNIGHT if when.hour == 0 else NOON)
    return (*out, AM if when.hour < 12 else PM)


def integer(n: int) -> Tokens:
    """Whole numbers up to the trillions, "and" before a last part under a hundred."""
    if n == 0:
        return ["say_0"]
    out: Tokens = []
    for scale, word in SCALES:
        if n >= scale:
            out += [*under_thousand(n // scale), word]
            n %= scale
    if n:
        if out and n < 100:
            out.append(AND)
        out += under_thousand(n)
    return out


def under_thousand(n: int) -> Tokens:
    """1-999: one hundred and five, twenty-one."""
    hundreds, rest = divmod(n, 100)
    out = [f"say_{hundreds}", HUNDRED] if hundreds else []
    if rest:
        if hundreds:
            out.append(AND)
        out += under_hundred(rest)
    return out


def under_hundred(n: int) -> Tokens:
    """1-99: seventeen, forty, forty-two."""
    if n < 20:
        return [f"say_{n}"]
    tens, units = divmod(n, 10)
    return [f"say_{tens * 10}", f"say_{units}"] if units else [f"say_{tens * 10}"]


def ordinal(n: int) -> Tokens:
    """1-31: first, twelfth, twenty-first (twenty + first), thirtieth."""
    if n < 20 or n % 10 == 0:
        return [_ordinal_name(n)]
    return [f"say_{n // 10 * 10}", _ordinal_name(n % 10)]


def year(y: int) -> Tokens:
    """In pairs (nineteen ninety-nine, nineteen oh five, twenty ten), but two thousand and five."""
    high, low = divmod(y, 100)
    if 2000 <= y < 2010 or y % 1000 == 0:
        return integer(y)
    if low == 0:
        return [*under_hundred(high), HUNDRED]
    return [*under_hundred(high), *([OH, f"say_{low}"] if low < 10 else under_hundred(low))]
