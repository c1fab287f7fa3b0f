"""Known queue/service names, for reference checks.

Kept tiny and isolated on purpose: the routing-policy engineer owns
``routing.yaml`` and may swap this for the real policy loader.
"""

from __future__ import annotations

from pathlib import Path

import yaml

__all__ = ["known_services"]


def known_services(directory: Path, override: str = "") -> frozenset[str]:
    """``--queues a,b`` wins; else ``services:`` (list or mapping) of routing.yaml; else empty."""
    if override:
        return frozenset(s.strip() for s in override.split(",") if s.strip())
    path = directory / "routing.yaml"
    if not path.exists():
        return frozenset()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    services = data.get("services") if isinstance(data, dict) else None
    return frozenset(str(s) for s in services or ())
