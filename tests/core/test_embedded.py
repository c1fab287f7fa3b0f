"""The embedded store is private: a password, and files only its user can read."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import redis

from router.storage.embedded import URL_FILE, embedded_store


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class TestPrivateStore:
    def test_password_and_private_files(self, tmp_path: Path) -> None:
        """A generated password guards the server; its dir is 0700 and its files 0600."""
        with embedded_store(tmp_path) as url:
            home = tmp_path / "valkey"
            password = url.split("://:", 1)[1].split("@", 1)[0]
            assert len(password) >= 20
            host_port = url.rsplit("@", 1)[1].split("/", 1)[0]
            with (
                redis.Redis.from_url(f"redis://{host_port}/0") as anonymous,
                pytest.raises(redis.AuthenticationError),
            ):
                anonymous.set("k", "v")
            with redis.Redis.from_url(url) as client:
                client.set("k", "v")
                client.execute_command("BGREWRITEAOF")
            assert (home / URL_FILE).read_text() == url
            paths = [home, *home.rglob("*")]
            dirs = [p for p in paths if p.is_dir()]
            files = [p for p in paths if p.is_file()]
            assert {home / URL_FILE, home / "valkey.conf"} <= set(files)
            assert {p.name: mode(p) for p in dirs} == {p.name: 0o700 for p in dirs}
            assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
            assert password not in (home / "valkey.log").read_text()
        assert not (home / URL_FILE).exists()

    def test_older_world_readable_files_are_tightened(self, tmp_path: Path) -> None:
        """Files an older version left 0644 in a 0755 dir become private on the next start."""
        home = tmp_path / "valkey"
        home.mkdir(mode=0o755)
        old = home / "dump.rdb"
        old.write_bytes(b"")
        old.chmod(0o644)
        home.chmod(0o755)
        with embedded_store(tmp_path):
            assert (mode(home), mode(old)) == (0o700, 0o600)

    def test_second_command_shares_the_running_store(self, tmp_path: Path) -> None:
        """Another command on the same data dir reuses the server, password and all."""
        with embedded_store(tmp_path) as first, embedded_store(tmp_path) as second:
            assert second == first
