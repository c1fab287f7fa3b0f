"""systemd notify + watchdog (issue 10.7): a frozen router stops feeding the watchdog."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from router import service
from router.settings import Settings
from router.watchdog import Notifier, watchdog_interval
from tests.redis_server import free_port

IVR = Path(__file__).resolve().parents[2] / "ivr_flows"


@pytest.fixture
def notify_socket() -> Iterator[socket.socket]:
    """A datagram socket standing in for systemd's (short path: sun_path is 108 bytes)."""
    folder = tempfile.mkdtemp(prefix="tl-", dir="/tmp")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(f"{folder}/notify")
    sock.setblocking(False)
    yield sock
    sock.close()
    shutil.rmtree(folder)


def pending(sock: socket.socket) -> list[str]:
    """Every datagram already queued, without waiting."""
    out = []
    while True:
        try:
            out.append(sock.recv(4096).decode())
        except BlockingIOError:
            return out


async def next_message(sock: socket.socket) -> str:
    loop = asyncio.get_running_loop()
    return (await asyncio.wait_for(loop.sock_recv(sock, 4096), 10)).decode()


class TestEnvironment:
    def test_not_under_systemd(self) -> None:
        """No NOTIFY_SOCKET (or one we cannot speak to): no notifier, no watchdog."""
        assert Notifier.from_env({}) is None
        assert Notifier.from_env({"NOTIFY_SOCKET": "vsock:2:1234"}) is None
        assert watchdog_interval({}) is None

    def test_abstract_socket_name(self) -> None:
        """``@name`` is the abstract namespace: a leading NUL byte."""
        notifier = Notifier.from_env({"NOTIFY_SOCKET": "@tierline/notify"})
        assert notifier is not None
        assert notifier.address == "\0tierline/notify"
        notifier.close()

    def test_interval_is_half_the_watchdog_period(self) -> None:
        """WATCHDOG_USEC=5s pings every 2.5 s, unless WATCHDOG_PID names another process."""
        assert watchdog_interval({"WATCHDOG_USEC": "5000000"}) == 2.5
        mine = {"WATCHDOG_USEC": "5000000", "WATCHDOG_PID": str(os.getpid())}
        assert watchdog_interval(mine) == 2.5
        assert watchdog_interval({"WATCHDOG_USEC": "5000000", "WATCHDOG_PID": "1"}) is None
        assert watchdog_interval({"WATCHDOG_USEC": "x"}) is None

    def test_send_never_raises(self, notify_socket: socket.socket) -> None:
        """systemd gone: the send fails quietly (and is logged), the router carries on."""
        notifier = Notifier(notify_socket.getsockname())
        assert notifier.send("READY=1")
        assert pending(notify_socket) == ["READY=1"]
        notifier.close()
        gone = Notifier("/nonexistent/notify")
        assert not gone.send("WATCHDOG=1")
        gone.close()


class TestServiceInProcess:
    async def test_ready_then_watchdog_from_the_loop_then_stopping(
        self,
        notify_socket: socket.socket,
        tmp_path: Path,
        redis_url: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """READY=1 when serving, WATCHDOG=1 while the loop turns (none if blocked), STOPPING=1."""
        monkeypatch.setenv("NOTIFY_SOCKET", notify_socket.getsockname())
        monkeypatch.setenv("WATCHDOG_USEC", "100000")  # a ping every 50 ms
        monkeypatch.delenv("WATCHDOG_PID", raising=False)
        shutil.copy(IVR / "routing.yaml", tmp_path / "routing.yaml")
        settings = Settings(
            agi_port=free_port(), flows_dir=tmp_path, routing_config=tmp_path / "routing.yaml"
        )
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(settings, redis_url, stop))
        try:
            assert await next_message(notify_socket) == "READY=1"
            for _ in range(3):
                assert await next_message(notify_socket) == "WATCHDOG=1"
            pending(notify_socket)
            time.sleep(0.3)  # noqa: ASYNC251 - on purpose: the loop is stuck for six periods...
            assert pending(notify_socket) == []  # ...so systemd hears nothing
            assert await next_message(notify_socket) == "WATCHDOG=1"  # and it resumes
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
        assert "STOPPING=1" in pending(notify_socket)


class TestServeUnderSIGSTOP:
    def test_a_stopped_router_stops_pinging(
        self, notify_socket: socket.socket, tmp_path: Path, redis_url: str
    ) -> None:
        """``tierline serve`` frozen with SIGSTOP sends no WATCHDOG=1; SIGTERM drains and exits."""
        shutil.copy(IVR / "routing.yaml", tmp_path / "routing.yaml")
        env = {
            **os.environ,
            "REDIS_URL": redis_url,
            "TIERLINE_AGI_PORT": "0",
            "TIERLINE_FLOWS_DIR": str(tmp_path),
            "TIERLINE_ROUTING_CONFIG": str(tmp_path / "routing.yaml"),
            "NOTIFY_SOCKET": notify_socket.getsockname(),
            "WATCHDOG_USEC": "100000",
        }
        notify_socket.setblocking(True)
        notify_socket.settimeout(30)
        proc = subprocess.Popen(
            [sys.executable, "-m", "router", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert notify_socket.recv(64) == b"READY=1"
            assert notify_socket.recv(64) == b"WATCHDOG=1"
            proc.send_signal(signal.SIGSTOP)
            time.sleep(0.1)  # a ping sent just before the stop may still be queued
            notify_socket.setblocking(False)
            pending(notify_socket)
            time.sleep(0.5)  # ten ping periods while frozen
            assert pending(notify_socket) == []
            proc.send_signal(signal.SIGCONT)
            notify_socket.settimeout(30)
            assert notify_socket.recv(64) == b"WATCHDOG=1"
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        notify_socket.setblocking(False)
        assert "STOPPING=1" in pending(notify_socket)
