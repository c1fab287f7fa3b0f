"""Speaking values: a value and a language in, prompt names to play out.

Pure rules, no I/O: the say step of a flow asks :func:`spoken` for the
names of recorded token prompts (``say_1``, ``say_wan``, ``say_yuan``...)
and plays them in order, so Chinese number reading (一万零五百) is decided
here, tested here, and never depends on what a given Asterisk build's
``SayNumber`` knows. :func:`vocabulary` lists every token a language may
need, so ``flows check`` can prove the recordings exist before a call asks.

A token is a prompt name shared by the languages where it means the same
(``say_hundred`` is 百 in zh and "hundred" in en; Asterisk picks the
recording by the channel's language); a token only one language needs
(``say_wan``, ``say_month_12``) is simply absent from the others'
vocabularies. The rules per language are in :mod:`router.speech.chinese`
and :mod:`router.speech.english`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from router.errors import SpeechError
from router.speech import english
from router.speech.chinese import CANTONESE, MANDARIN, Dialect
from router.speech.values import parse_date, parse_decimal, parse_digits, parse_money, parse_time

__all__ = ["KINDS", "LANGUAGES", "SpeechKind", "spoken", "vocabulary"]

SpeechKind = Literal["number", "digits", "money", "date", "time"]
KINDS: tuple[SpeechKind, ...] = ("number", "digits", "money", "date", "time")
LANGUAGES = ("zh", "en", "yue")

Reader = Callable[[str], tuple[str, ...]]


def _chinese(dialect: Dialect) -> dict[str, Reader]:
    return {
        "number": lambda v: dialect.number(parse_decimal(v)),
        "digits": lambda v: dialect.digits(parse_digits(v)),
        "money": lambda v: dialect.money(parse_money(v)),
        "date": lambda v: dialect.date(parse_date(v)),
        "time": lambda v: dialect.time(parse_time(v)),
    }


_ENGLISH: dict[str, Reader] = {
    "number": lambda v: english.number(parse_decimal(v)),
    "digits": lambda v: tuple(f"say_{d}" for d in parse_digits(v)),
    "money": lambda v: english.money(parse_money(v)),
    "date": lambda v: english.date_tokens(parse_date(v)),
    "time": lambda v: english.time_tokens(parse_time(v)),
}
_READERS = {"zh": _chinese(MANDARIN), "en": _ENGLISH, "yue": _chinese(CANTONESE)}
_VOCABULARY = {
    "zh": MANDARIN.vocabulary(),
    "en": english.ENGLISH_VOCABULARY,
    "yue": CANTONESE.vocabulary(),
}


def spoken(kind: SpeechKind, value: str, language: str) -> tuple[str, ...]:
    """The token prompts that read ``value`` as a ``kind`` in ``language``, in order.

    Values are strings (flow variables are): ``number`` ``-12.50``,
    ``digits`` ``13800138000``, ``money`` in yuan ``105.5``, ``date``
    ``2026-12-02``, ``time`` ``14:05`` (ISO timestamps give their date or
    time part). See :mod:`router.speech.values` for the exact forms and limits.

    Raises:
        SpeechError: the value is malformed or out of range for its kind, or
            the kind or language is unknown.
    """
    readers = _READERS.get(language)
    if readers is None:
        raise SpeechError(f"no speech rules for language {language!r} (have {LANGUAGES})")
    reader = readers.get(kind)
    if reader is None:
        raise SpeechError(f"unknown kind of value {kind!r} (have {KINDS})")
    return reader(value)


def vocabulary(language: str) -> frozenset[str]:
    """Every prompt name :func:`spoken` may return for ``language``.

    Raises:
        SpeechError: the language has no speech rules.
    """
    try:
        return _VOCABULARY[language]
    except KeyError:
        raise SpeechError(f"no speech rules for language {language!r} (have {LANGUAGES})") from None
