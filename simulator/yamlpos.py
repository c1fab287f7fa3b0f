"""YAML loaded together with the line of every value, for ``file:line`` errors.

PyYAML's composed nodes carry start marks; we keep them in a side table keyed
by the path to each value so validation can point an operator at the exact
line without dragging nodes through the rest of the code.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["Path", "load_with_lines"]

Path = tuple[str | int, ...]


def _walk(node: yaml.Node, path: Path, lines: dict[Path, int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            out[key] = _walk(value_node, (*path, key), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(v, (*path, i), lines) for i, v in enumerate(node.value)]
    return yaml.SafeLoader(" ").construct_object(node)


def load_with_lines(text: str) -> tuple[Any, dict[Path, int]]:
    """Parse one YAML document; raises yaml.YAMLError with its own mark on bad syntax."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    lines: dict[Path, int] = {}
    if node is None:
        return None, {(): 1}
    return _walk(node, (), lines), lines
