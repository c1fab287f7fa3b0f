"""Text with ``{call.caller}``, ``{customer.id}``, ``{vars.NAME}`` holes, filled per call.

What a ``fetch`` URL path and body and a ``notify`` message are made of.
Placeholders are field names, never expressions: nothing is evaluated, a
value is only looked up and inserted (URL-encoded in a URL path, so a
backend's or a caller's text can never add a path segment, a query or a
host). Parsed once at load, where unknown fields are located problems.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from router.flows.expr import closest
from router.flows.fields import CALL_FIELDS, CUSTOMER_FIELDS

if TYPE_CHECKING:
    from router.flows.expr import Facts

__all__ = ["Template", "as_text", "compile_template"]

_HOLE_RE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME_RE = re.compile(r"\s*(call|customer|vars)\.([A-Za-z_][A-Za-z0-9_]{0,63})\s*")
_ROOT_FIELDS = {"call": CALL_FIELDS, "customer": CUSTOMER_FIELDS}
Part = str | tuple[str, str]  # literal text, or (root, field)


def as_text(value: Any) -> str:
    """A value as the text a channel variable, URL or prompt choice gets ("" for none)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(as_text(v) for v in value)
    return str(value)


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template; ``vars`` lists the flow variables it reads."""

    source: str
    parts: tuple[Part, ...]
    vars: frozenset[str] = frozenset()

    def render(self, facts: Facts, flow: str, *, url: bool = False) -> str:
        """The text for one call; with ``url`` every value is percent-encoded (``/`` too)."""
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            text = as_text(_value(facts, flow, *part))
            out.append(quote(text, safe="") if url else text)
        return "".join(out)


def _value(facts: Facts, flow: str, root: str, field: str) -> Any:
    if root == "vars":
        return facts.vars.get(field)
    return facts.lookup(flow, f"{root}__{field}")


def compile_template(source: str) -> tuple[Template, list[str]]:
    """Parse ``source``; returns the template and the problems found (empty when fine)."""
    parts: list[Part] = []
    problems: list[str] = []
    read: set[str] = set()
    last = 0
    for hole in _HOLE_RE.finditer(source):
        parts.append(source[last : hole.start()])
        last = hole.end()
        token = hole.group(0)
        if token in ("{{", "}}"):
            parts.append(token[0])
        elif hole.group(1) is None:
            problems.append(f"unpaired {token!r} (write {token * 2} for the character itself)")
        else:
            problems += _hole(hole.group(1), parts, read)
    parts.append(source[last:])
    kept = tuple(p for p in parts if p != "")
    return Template(source, kept, frozenset(read)), problems


def _hole(inner: str, parts: list[Part], read: set[str]) -> list[str]:
    found = _NAME_RE.fullmatch(inner)
    if found is None:
        return [f"{{{inner}}}: write {{call.FIELD}}, {{customer.FIELD}} or {{vars.NAME}}"]
    root, field = found.groups()
    if root in _ROOT_FIELDS and field not in _ROOT_FIELDS[root]:
        hint = closest(field, _ROOT_FIELDS[root])
        return [f"unknown field {root}.{field}" + (f" ({hint})" if hint else "")]
    if root == "vars":
        read.add(field)
    parts.append((root, field))
    return []
