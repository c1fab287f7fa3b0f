"""Code shape: complete sorted exports, and a pure core that imports no I/O."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import router
import simulator

ROOT = Path(__file__).resolve().parents[2]

# Modules that must stay pure: no event loop, sockets, Redis or SimPy.
PURE = [
    "router.ami.calls",
    "router.ami.framing",
    "router.ami.records",
    "router.ami.state",
    "router.customers.model",
    "router.errors",
    "router.customers.phone",
    "router.policy.aging",
    "router.policy.checks",
    "router.policy.config",
    "router.policy.policy",
    "router.policy.queues_conf",
    "router.yamlpos",
    "router.customers.codec",
    "router.reports.aggregate",
    "router.reports.paths",
    "router.customers.rows",
    "router.types",
    "simulator.theory",
]
FORBIDDEN = {"asyncio", "socket", "redis", "simpy", "panoramisk", "subprocess"}


def modules() -> list[str]:
    names = []
    for pkg in (router, simulator):
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            if not info.name.endswith("__main__"):
                names.append(info.name)
    return sorted(names)


def imported_roots(module: str) -> set[str]:
    path = ROOT / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = ROOT / module.replace(".", "/") / "__init__.py"
    tree = ast.parse(path.read_text())
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def isort_key(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name


class TestExports:
    @pytest.mark.parametrize("name", modules())
    def test_all_is_sorted_and_resolves(self, name: str) -> None:
        """Every module's __all__ is sorted and names things that exist."""
        mod = importlib.import_module(name)
        exported = getattr(mod, "__all__", None)
        assert exported is not None, f"{name} has no __all__"
        assert list(exported) == sorted(exported, key=isort_key)
        missing = [n for n in exported if not hasattr(mod, n)]
        assert not missing


class TestLayering:
    @pytest.mark.parametrize("name", PURE)
    def test_pure_core_imports_no_io(self, name: str) -> None:
        """The pure core never imports an adapter or I/O library."""
        assert not imported_roots(name) & FORBIDDEN
