"""Flow YAML as the builder reads it: mappings and lists that know their positions.

The text is parsed once by the shared :func:`router.yamlpos.compose` (safe
tags, duplicate keys and alias bombs rejected, every value and key marked);
this module only re-shapes its plain data so each mapping answers "where
was this written?" by key, which is how the flow builder asks. Keys become
text (``1:`` in a menu is the digit "1").
"""

from __future__ import annotations

from typing import Any

from router.errors import Problem
from router.yamlpos import Path, Positioned

__all__ = ["Items", "Pos", "Section", "duplicate_problems", "empty", "sections"]

Pos = tuple[int, int]  # 1-based line, 1-based column


class Section(dict[str, Any]):
    """A mapping whose keys and values each know their (line, col)."""

    pos: Pos
    key_pos: dict[str, Pos]
    value_pos: dict[str, Pos]

    def at(self, key: str) -> Pos:
        """Position of the value under ``key``, else of the key, else of the map."""
        return self.value_pos.get(key) or self.key_pos.get(key) or self.pos


class Items(list[Any]):
    """A sequence whose items each know their (line, col)."""

    pos: Pos
    item_pos: list[Pos]


def empty(pos: Pos = (1, 1)) -> Section:
    """A Section with no keys (stands in for a missing or mistyped mapping)."""
    out = Section()
    out.pos, out.key_pos, out.value_pos = pos, {}, {}
    return out


def sections(doc: Positioned) -> Any:
    """``doc.data`` with every dict a :class:`Section` and every list :class:`Items`."""
    return _view(doc, doc.data, ())


def _view(doc: Positioned, value: Any, path: Path) -> Any:
    if isinstance(value, dict):
        out = empty(doc.where(path))
        for key, item in value.items():
            name, here = str(key), (*path, key)
            if name in out:  # 1: and "1": are the same digit to an operator
                line, col = doc.keys[here]
                doc.problems.append(Problem(doc.file, line, col, f"duplicate key {name!r}"))
                doc.duplicates.append((here, (line, col)))
                continue
            out[name] = _view(doc, item, here)
            out.key_pos[name] = doc.keys[here]
            out.value_pos[name] = doc.where(here)
        return out
    if isinstance(value, list):
        seq = Items(_view(doc, item, (*path, i)) for i, item in enumerate(value))
        seq.pos, seq.item_pos = doc.where(path), [doc.where((*path, i)) for i in range(len(value))]
        return seq
    return value


def duplicate_problems(doc: Positioned) -> list[Problem]:
    """``doc.problems`` with repeated node names and menu digits named as such."""
    named: dict[Pos, str] = {}
    for path, where in doc.duplicates:
        match path:
            case ("nodes", name):
                named[where] = f"node {str(name)!r} is defined twice"
            case ("nodes", _, "options", digit):
                named[where] = f"menu digit {str(digit)!r} is used twice"
    return [
        Problem(p.file, p.line, p.col, named[(p.line, p.col)], p.hint)
        if p.message.startswith("duplicate key") and (p.line, p.col) in named
        else p
        for p in doc.problems
    ]
