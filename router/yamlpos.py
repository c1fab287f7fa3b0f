"""YAML to plain data, remembering where every value was written.

Operators fix files in an editor, so a rejected routing file must point at a
line and column. PyYAML's node marks carry them; we compose the node tree
ourselves (safe tags only) and record each value's mark by its path, the
same path pydantic reports in an error's ``loc``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import yaml

from router.errors import Problem

__all__ = ["MAX_DEPTH", "MAX_NODES", "Path", "Positioned", "compose"]

# Aliases let a few lines expand into an exponential (or recursive) tree; a
# routing file is a few hundred values, so anything this large is an attack
# or an accident.
MAX_NODES = 100_000
MAX_DEPTH = 64
# libyaml composes ~10x faster than pure Python (a 5,000-node flow: ~0.2 s, not ~2 s);
# both build the same node tree with the same marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path = tuple[str | int, ...]


@dataclass(slots=True)
class Positioned:
    """Parsed data plus a ``path -> (line, col)`` map (1-based) and problems.

    ``marks`` holds where each value starts; ``keys`` where each mapping
    entry's key was written (a complaint about a name points at the name);
    ``duplicates`` the path and key position of every repeated key, which is
    reported as a problem and dropped (the first one wins), so a caller can
    name what was repeated ("node 'x' is defined twice").
    """

    file: str
    data: object = None
    marks: dict[Path, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    duplicates: list[tuple[Path, tuple[int, int]]] = field(default_factory=list)

    def where(self, path: Sequence[str | int]) -> tuple[int, int]:
        """Position of the longest prefix of ``path`` that was written."""
        loc = tuple(path)
        while loc:
            if loc in self.marks:
                return self.marks[loc]
            loc = loc[:-1]
        return self.marks.get((), (1, 1))

    def problem(self, path: Sequence[str | int], message: str, hint: str = "") -> Problem:
        line, col = self.where(path)
        return Problem(self.file, line, col, message, hint)


def compose(text: str, file: str) -> Positioned:
    """Parse ``text``; syntax errors and duplicate keys become problems."""
    out = Positioned(file)
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        out.problems.append(Problem(file, line, col, f"YAML syntax: {exc.problem or exc}"))
        return out
    except yaml.YAMLError as exc:
        out.problems.append(Problem(file, 1, 1, f"YAML syntax: {exc}"))
        return out
    if root is None:
        out.problems.append(Problem(file, 1, 1, "the file is empty"))
        return out
    try:
        out.data = _Builder(out).build(root, ())
    except _TooLarge:
        out.problems.append(
            Problem(
                file, 1, 1, f"too large or too deep (over {MAX_NODES} values or {MAX_DEPTH} levels)"
            )
        )
    return out


class _TooLarge(Exception):  # noqa: N818 - internal unwinding signal
    pass


class _Builder:
    def __init__(self, out: Positioned) -> None:
        self.out = out
        self.ctor = yaml.SafeLoader("")
        self.nodes = 0

    def build(self, node: yaml.Node, path: Path) -> object:
        self.nodes += 1
        if self.nodes > MAX_NODES or len(path) > MAX_DEPTH:
            raise _TooLarge
        self.out.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        try:
            return self.ctor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.out.problems.append(self.out.problem(path, f"bad value: {exc}"))
            return None

    def _key(self, node: yaml.Node) -> str | int | None:
        if not isinstance(node, yaml.ScalarNode):
            return None
        try:
            key = self.ctor.construct_object(node)
        except yaml.YAMLError:
            return None
        return key if isinstance(key, str | int) and not isinstance(key, bool) else None

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Hashable, object]:
        result: dict[Hashable, object] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node)
            if key is None:
                mark = key_node.start_mark
                self.out.problems.append(
                    Problem(self.out.file, mark.line + 1, mark.column + 1, "keys must be text")
                )
                continue
            mark = key_node.start_mark
            where = (mark.line + 1, mark.column + 1)
            if key in result:
                self.out.problems.append(Problem(self.out.file, *where, f"duplicate key {key!r}"))
                self.out.duplicates.append(((*path, key), where))
                continue
            self.out.keys[(*path, key)] = where
            result[key] = self.build(value_node, (*path, key))
        return result
