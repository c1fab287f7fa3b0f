"""The speech rules are pure: they import nothing but the standard library and themselves."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "router" / "speech"
ALLOWED = {"__future__", "collections", "dataclasses", "datetime", "re", "typing", "router"}
ALLOWED_ROUTER = {"router.errors", "router.speech"}


def imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


class TestLayering:
    @pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.stem)
    def test_imports_nothing_with_io(self, path: Path) -> None:
        """No I/O library, no adapter: only the standard library's pure parts and router.errors."""
        for name in imported(path):
            root = name.split(".")[0]
            assert root in ALLOWED, f"{path.name} imports {name}"
            if root == "router":
                assert any(name.startswith(a) for a in ALLOWED_ROUTER), f"{path.name}: {name}"


class TestCatalogCheckLayering:
    def test_vocabulary_check_is_pure(self) -> None:
        """The say: catalogue check imports no I/O (it runs inside flow loading)."""
        path = PACKAGE.parent / "flows" / "vocabulary.py"
        roots = {name.split(".")[0] for name in imported(path)}
        assert roots <= {"__future__", "collections", "typing", "router"}
