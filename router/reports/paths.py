"""IVR paths as the router reports them, normalised into steps (pure).

The IVR side reports a call's path either as JSON or as a compact string;
both are accepted so neither side has to change for the other:

* JSON list of objects: ``[{"node": "main", "choice": "2"}, {"node": "billing"}]``
  (``digit`` or ``input`` are accepted for ``choice``);
* JSON list of strings: ``["main:2", "billing"]``;
* a string: ``main:2>billing`` (``>`` between steps, ``:`` before the choice).

Anything else yields no steps rather than an error: a report must not fail
on one odd record.

The router records a menu's choice by option name and typed input only as
a marker (:mod:`router.flows.walk`). A record that still holds typed digits
(written before that, or by another IVR) never shows them: an ``input``
field, or a choice of two or more keypad characters, reads as
:data:`~router.flows.walk.INPUT`. A single digit is an old menu choice and
is kept.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import orjson

from router.flows.walk import INPUT

__all__ = ["Step", "parse_path"]

_KEYPAD_RE = re.compile(r"[0-9*#\-]+")


class Step(NamedTuple):
    """One IVR node visited and the choice made there ("" if none)."""

    node: str
    choice: str = ""


def parse_path(raw: str) -> list[Step]:
    """Steps of one recorded path (empty for an empty or unreadable path)."""
    text = raw.strip()
    if not text:
        return []
    if text[0] in "[{":
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            return []
        if isinstance(data, dict):
            data = data.get("steps", [])
        return (
            [s for s in (_step(item) for item in data) if s is not None]
            if isinstance(data, list)
            else []
        )
    return [_from_text(part) for part in text.split(">") if part.strip()]


def _step(item: Any) -> Step | None:
    if isinstance(item, str):
        return _from_text(item) if item.strip() else None
    if isinstance(item, dict) and item.get("node"):
        if item.get("input"):
            return Step(str(item["node"]), INPUT)
        choice = item.get("choice", item.get("digit", ""))
        return Step(str(item["node"]), _shown("" if choice is None else str(choice)))
    return None


def _from_text(part: str) -> Step:
    node, _, choice = part.strip().partition(":")
    return Step(node.strip(), _shown(choice.strip()))


def _shown(choice: str) -> str:
    """The choice as a report may show it: typed digits become the marker."""
    return INPUT if len(choice) > 1 and _KEYPAD_RE.fullmatch(choice) else choice
