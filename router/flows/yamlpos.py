"""YAML loading that remembers where every key and value came from.

Operators fix flows in an editor, so each complaint must name a line and a
column. PyYAML's composer keeps a mark on every node; we turn the node tree
into plain dicts/lists that carry those marks alongside, instead of losing
them in ``safe_load``.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["Pos", "PosDict", "PosList", "YamlSyntaxError", "load_positioned"]

Pos = tuple[int, int]  # 1-based line, 1-based column


class PosDict(dict[str, Any]):
    """A mapping whose keys and values each know their (line, col)."""

    pos: Pos
    key_pos: dict[str, Pos]
    value_pos: dict[str, Pos]
    dupes: list[tuple[str, Pos]]

    def at(self, key: str) -> Pos:
        """Position of the value under ``key``, else of the key, else of the map."""
        return self.value_pos.get(key) or self.key_pos.get(key) or self.pos


class PosList(list[Any]):
    """A sequence whose items each know their (line, col)."""

    pos: Pos
    item_pos: list[Pos]


class YamlSyntaxError(ValueError):
    """The text is not YAML at all; carries the position PyYAML reported."""

    def __init__(self, message: str, pos: Pos) -> None:
        super().__init__(message)
        self.pos = pos


def _pos(node: yaml.Node) -> Pos:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _convert(node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = PosDict()
        out.pos, out.key_pos, out.value_pos, out.dupes = _pos(node), {}, {}, []
        for key_node, value_node in node.value:
            key = str(_scalar(key_node))
            if key in out:
                # YAML would silently keep the last one; operators must hear about it.
                out.dupes.append((key, _pos(key_node)))
            out[key] = _convert(value_node)
            out.key_pos[key] = _pos(key_node)
            out.value_pos[key] = _pos(value_node)
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = PosList(_convert(item) for item in node.value)
        seq.pos, seq.item_pos = _pos(node), [_pos(item) for item in node.value]
        return seq
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise YamlSyntaxError("a key must be a plain value", _pos(node))
    # Resolve the tag (int, bool, date...) the way safe_load would.
    return yaml.SafeLoader.construct_object(_CONSTRUCTOR, node, deep=True)


_CONSTRUCTOR = yaml.SafeLoader("")


def load_positioned(text: str) -> Any:
    """Parse one YAML document into PosDict / PosList / scalars.

    Raises:
        YamlSyntaxError: the text does not parse; ``pos`` points at the fault.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlSyntaxError(f"YAML syntax: {exc.problem or exc}", pos) from None
    return None if root is None else _convert(root)
