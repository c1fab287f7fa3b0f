"""The AMI and report cores stay pure; every module exports a sorted, complete __all__."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE = [
    "router.ami.framing",
    "router.ami.state",
    "router.ami.calls",
    "router.ami.records",
    "router.reports.aggregate",
    "router.reports.paths",
]
ALL = [
    *PURE,
    "router.ami",
    "router.ami.protocol",
    "router.ami.listener",
    "router.ami.store",
    "router.ami.aging",
    "router.ami.service",
    "router.reports",
    "router.reports.render",
    "router.reports.source",
    "router.cli.report",
]
FORBIDDEN = {"asyncio", "socket", "redis", "simpy", "panoramisk", "subprocess"}


def _roots(module: str) -> set[str]:
    path = ROOT / (module.replace(".", "/") + ".py")
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
            if node.module.startswith("router."):
                roots |= {"<adapter>"} if node.module in _ADAPTERS else set()
    return roots


_ADAPTERS = {
    "router.ami.listener",
    "router.ami.protocol",
    "router.ami.store",
    "router.ami.aging",
    "router.reports.source",
    "router.storage.client",
}


class TestLayering:
    @pytest.mark.parametrize("name", PURE)
    def test_pure_core_imports_no_io(self, name: str) -> None:
        """Framing, reducer, records and aggregation import no I/O library or adapter."""
        assert not _roots(name) & (FORBIDDEN | {"<adapter>"})


class TestExports:
    @pytest.mark.parametrize("name", ALL)
    def test_all_sorted_and_complete(self, name: str) -> None:
        """__all__ is sorted CONSTANTS, Classes, functions and every name resolves."""
        mod = importlib.import_module(name)
        exported = list(mod.__all__)
        key = lambda n: (0 if n.isupper() else 1 if n[:1].isupper() else 2, n)  # noqa: E731
        assert exported == sorted(exported, key=key)
        assert all(hasattr(mod, n) for n in exported)
