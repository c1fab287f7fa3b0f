"""Located problems while a scenario file is read, so a planner sees all of them at once.

Every problem a scenario has is collected (not just the first) with the
``file:line`` of the key it concerns, then raised as one
``router.errors.ScenarioError``: a planner fixes them in one editor pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from router.errors import Problem
from router.yamlpos import Path

__all__ = ["Collector"]


class Collector:
    """Problems with their line numbers, found while the file is read."""

    def __init__(self, file: str, lines: dict[Path, int]) -> None:
        self.file, self.lines = file, lines
        self.problems: list[Problem] = []

    def bad(self, path: Path, message: str, hint: str = "") -> None:
        line = next(
            (self.lines[path[:i]] for i in range(len(path), -1, -1) if path[:i] in self.lines), 1
        )
        where = ".".join(str(p) for p in path) or "<top>"
        self.problems.append(Problem(self.file, line, 0, f"{where}: {message}", hint))

    def num(  # noqa: PLR0917 - mirrors dict.get(key, default) plus bounds
        self,
        data: Mapping[str, Any],
        key: str,
        path: Path,
        default: float | None = None,
        lo: float = 0.0,
        hi: float = float("inf"),
    ) -> float:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            self.bad((*path, key), f"must be a number in [{lo}, {hi}], got {value!r}")
            return default if default is not None else lo
        return float(value)
