"""The ``say:`` section of ``prompts.yaml``: the token prompts values are spoken with.

A say step plays the token prompts :func:`router.speech.spoken` returns
(``say_1 say_wan say_0 say_5 say_hundred`` for 一万零五百), so each one must
be recorded in every language a flow may speak. Tokens cannot live under
``prompts:``, where every prompt needs every language: ``say_wan`` (万)
means nothing in English and ``say_month_12`` nothing in Chinese. So the
section is per language, and it is checked against the speech rules
themselves, both ways:

* a token :func:`router.speech.vocabulary` lists for a configured language
  but the section lacks is an error at that language (a call would play a
  missing file mid-number);
* a token the rules never speak in that language is an error at the token
  (a typo, or a recording nobody will hear).

A language written here that ``languages:`` does not list yet is checked
the same way but not required, so a vocabulary can be recorded before the
language is switched on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from router.errors import Problem
from router.flows.expr import closest
from router.flows.model import PromptCatalog
from router.flows.section import Section
from router.speech import LANGUAGES, vocabulary

__all__ = ["SAY_KEY", "say_vocabulary", "unspoken"]

SAY_KEY = "say"
SHOWN = 6  # missing tokens named in one problem; the rest are counted


def say_vocabulary(
    raw: Section, file: str, languages: tuple[str, ...], prompts: Mapping[str, object]
) -> tuple[dict[str, frozenset[str]], list[Problem]]:
    """Tokens recorded per language, and the problems with them.

    Args:
        raw: the whole ``prompts.yaml`` mapping.
        file: its name, for problems.
        languages: the catalogue's ``languages:``; those the speech rules
            know must have a complete vocabulary when ``say:`` is present.
        prompts: the ordinary prompt names, which a token must not reuse.
    """
    if SAY_KEY not in raw:
        return {}, []
    table: Any = raw[SAY_KEY]
    if not isinstance(table, Section):
        line, col = raw.at(SAY_KEY)
        return {}, [Problem(file, line, col, "say: must map languages to {token: text}")]
    found: dict[str, frozenset[str]] = {}
    problems: list[Problem] = []
    for lang, tokens in table.items():
        where = table.key_pos[lang]
        if lang not in LANGUAGES:
            hint = closest(lang, LANGUAGES) or f"speech rules exist for {', '.join(LANGUAGES)}"
            problems.append(Problem(file, *where, f"no speech rules for language {lang!r}", hint))
        elif not isinstance(tokens, Section):
            problems.append(Problem(file, *where, f"say.{lang} must map tokens to their text"))
        else:
            found[lang] = frozenset(tokens)
            problems += _language(tokens, lang, where, file, prompts)
    line, col = raw.key_pos[SAY_KEY]
    for lang in languages:
        if lang in LANGUAGES and lang not in table:
            problems.append(
                Problem(file, line, col, f"no say vocabulary for language {lang!r}", _need(lang))
            )
    return found, problems


def unspoken(catalog: PromptCatalog) -> tuple[str, ...]:
    """Languages of ``catalog`` a say step cannot speak in (no rules, or no ``say:`` list).

    For the say node's static check: a flow that speaks values needs the
    vocabulary of every language a caller may hear (when ``say:`` exists,
    :func:`say_vocabulary` has already proved each list complete).
    """
    return tuple(lang for lang in catalog.languages if lang not in catalog.say)


def _language(
    tokens: Section, lang: str, where: tuple[int, int], file: str, prompts: Mapping[str, object]
) -> list[Problem]:
    """One language's tokens against what the rules speak in it."""
    wanted = vocabulary(lang)
    out = []
    for token, text in tokens.items():
        line, col = tokens.key_pos[token]
        if token not in wanted:
            hint = _owners(token) or closest(token, wanted)
            out.append(Problem(file, line, col, f"{token!r} is never spoken in {lang!r}", hint))
        elif token in prompts:
            out.append(Problem(file, line, col, f"{token!r} is also a prompt under prompts:"))
        elif not isinstance(text, str) or not text.strip():
            out.append(Problem(file, line, col, f"{token!r} needs its text (what to record)"))
    missing = sorted(wanted - set(tokens), key=_natural)
    if missing:
        more = f" and {len(missing) - SHOWN} more" if len(missing) > SHOWN else ""
        named = ", ".join(missing[:SHOWN]) + more
        out.append(Problem(file, *where, f"say vocabulary {lang!r} lacks {named}"))
    return out


def _owners(token: str) -> str:
    """``only zh, yue speak it`` for a token put under the wrong language."""
    owners = [lang for lang in LANGUAGES if token in vocabulary(lang)]
    return f"only {', '.join(owners)} speak it" if owners else ""


def _need(lang: str) -> str:
    return f"add say: {{{lang}: {{...}}}} with the {len(vocabulary(lang))} tokens of that language"


def _natural(token: str) -> tuple[str, int]:
    """say_2 before say_10 in messages."""
    stem = token.rstrip("0123456789")
    tail = token[len(stem) :]
    return stem, int(tail) if tail else -1
