"""The pure core of the flow package imports no I/O machinery."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "router" / "flows"
PURE = ["actions", "build", "checks", "engine", "expr", "graph", "hours", "loader", "model"]
PURE += ["fastpath", "fields", "plan", "walk", "resume", "section", "trace"]
PURE += ["bounds", "spec", "validate"]
FORBIDDEN = {"asyncio", "redis", "socket", "watchfiles", "panoramisk", "router.flows.runner"}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


class TestLayering:
    @pytest.mark.parametrize("module", PURE)
    def test_pure_module_has_no_io_imports(self, module: str) -> None:
        """Pure modules never import asyncio, Redis, sockets or the runner."""
        bad = {
            name
            for name in imports(PACKAGE / f"{module}.py")
            if name.split(".")[0] in FORBIDDEN or name in FORBIDDEN
        }
        assert not bad, f"{module} imports {bad}"


class TestExports:
    def test_all_sorted_and_complete(self) -> None:
        """router.flows.__all__ is sorted and every name resolves."""
        import router.flows as pkg

        assert list(pkg.__all__) == sorted(pkg.__all__)
        for name in pkg.__all__:
            assert hasattr(pkg, name), name
