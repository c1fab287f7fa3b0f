"""Which service names flows may ask for: the routing policy's, or a list.

The routing file is loaded with the policy's own loader, so ``flows check``
and the running router agree on the names; a broken routing file is
reported like a broken flow.
"""

from __future__ import annotations

from pathlib import Path

from router.policy import load_routing

__all__ = ["known_services"]


def known_services(directory: Path, override: str = "") -> frozenset[str]:
    """``--queues a,b`` wins; else the services of ``routing.yaml``; else empty (unchecked)."""
    if override:
        return frozenset(s.strip() for s in override.split(",") if s.strip())
    path = directory / "routing.yaml"
    if not path.exists():
        return frozenset()
    return load_routing(path).service_names
