"""Speaking values: a value and a language in, prompt names to play out.

Pure rules, no I/O: the say step of a flow asks :func:`spoken` for the
names of recorded token prompts (``say_1``, ``say_wan``, ``say_yuan``...)
and plays them in order, so Chinese number reading (一万零五百) is decided
here, tested here, and never depends on what a given Asterisk build's
``SayNumber`` knows. :func:`vocabulary` lists every token a language may
need, so ``flows check`` can prove the recordings exist before a call asks.
"""

from __future__ import annotations

from typing import Literal

from router.errors import SpeechError

__all__ = ["KINDS", "LANGUAGES", "SpeechKind", "spoken", "vocabulary"]

SpeechKind = Literal["number", "digits", "money", "date", "time"]
KINDS: tuple[SpeechKind, ...] = ("number", "digits", "money", "date", "time")
LANGUAGES = ("zh", "en", "yue")


def spoken(kind: SpeechKind, value: str, language: str) -> tuple[str, ...]:
    """The token prompts that read ``value`` as a ``kind`` in ``language``, in order.

    Raises:
        SpeechError: the value is malformed or out of range for its kind, or
            the language has no speech rules.
    """
    raise SpeechError(f"cannot speak {kind} {value!r} in {language!r}: not implemented yet")


def vocabulary(language: str) -> frozenset[str]:
    """Every prompt name :func:`spoken` may return for ``language``.

    Raises:
        SpeechError: the language has no speech rules.
    """
    raise SpeechError(f"no speech rules for language {language!r}")
