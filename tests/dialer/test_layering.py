"""The dialer's pure core imports no I/O: rules, retry, pacing, tracking are testable alone."""

from __future__ import annotations

import pytest

from tests.core.test_shape import FORBIDDEN, imported_roots

PURE = [
    "router.dialer.agents",
    "router.dialer.config",
    "router.dialer.contact_hash",
    "router.dialer.model",
    "router.dialer.originate",
    "router.dialer.pacing",
    "router.dialer.report",
    "router.dialer.retry",
    "router.dialer.rows",
    "router.dialer.rules",
    "router.dialer.tracker",
]


@pytest.mark.parametrize("name", PURE)
def test_pure_core_imports_no_io(name: str) -> None:
    """No asyncio, socket, Redis, SimPy or panoramisk in the dialer's decisions."""
    assert not imported_roots(name) & FORBIDDEN


def test_pure_core_imports_no_adapter() -> None:
    """Pure modules never import the dialer's own adapters."""
    adapters = {
        "router.dialer.store",
        "router.dialer.link",
        "router.dialer.service",
        "router.dialer.callbacks",
        "router.dialer.claim",
    }
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for name in PURE:
        tree = ast.parse((root / (name.replace(".", "/") + ".py")).read_text())
        modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not modules & adapters, name
