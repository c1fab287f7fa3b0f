"""The simulator's pure core stays pure, and public names are exported."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "simulator"
FORBIDDEN = {"asyncio", "redis", "socket", "panoramisk", "simpy"}
PURE = [
    "theory",
    "distributions",
    "model",
    "scenario",
    "stats",
    "outbound",
    "outbound_scenario",
    "blended",
    "mmng",
    "occupancy",
    "ivr_calibration",
    "twin",
    "roster_table",
]
MODULES = [
    *PURE,
    "engine",
    "runner",
    "planner",
    "report",
    "dialer",
    "split",
    "routes",
    "report_labels",
    "report_page",
    "progress",
]


def imported(module: str) -> set[str]:
    tree = ast.parse((ROOT / f"{module}.py").read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


class TestLayering:
    @pytest.mark.parametrize("module", PURE)
    def test_pure_modules_import_no_adapters(self, module: str) -> None:
        """Theory, models and scenario parsing import no asyncio, Redis, sockets or SimPy."""
        assert not imported(module) & FORBIDDEN

    @pytest.mark.parametrize("module", MODULES)
    def test_all_names_exist(self, module: str) -> None:
        """__all__ names only things the module defines (ruff RUF022 keeps it sorted)."""
        mod = importlib.import_module(f"simulator.{module}")
        assert mod.__all__
        assert all(hasattr(mod, n) for n in mod.__all__)
