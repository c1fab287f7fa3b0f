"""systemd's notify protocol: READY, STOPPING, and a watchdog fed by the event loop.

Asterisk has no FastAGI read timeout: with the router frozen (SIGSTOP, a
deadlock, a CPU-bound bug), ``AGI()`` never returns and the dialplan's
fallback never runs (issue 10.7). Under ``Type=notify`` with ``WatchdogSec=``
(``deploy/tierline.service``), systemd kills a router that stops sending
``WATCHDOG=1``, which closes its sockets: every waiting ``AGI()`` returns and
the fallback routes the call. The pings are sent by a task on the event loop
itself, never a thread, so a loop that stops turning stops them.

The protocol (sd_notify(3)) is one datagram per message to the unix socket
named by ``NOTIFY_SOCKET`` (a leading ``@`` is the abstract namespace); the
watchdog period is ``WATCHDOG_USEC``, meant for the process ``WATCHDOG_PID``.
Small enough to write here instead of depending on an unmaintained package.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Mapping

from router.logs import get_logger

__all__ = ["Notifier", "feed_watchdog", "watchdog_interval"]

log = get_logger("tierline.watchdog")


class Notifier:
    """One datagram socket to systemd, opened once; sends never block nor raise."""

    def __init__(self, address: str) -> None:
        self.address = "\0" + address[1:] if address.startswith("@") else address
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.setblocking(False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Notifier | None:
        """The notifier for ``NOTIFY_SOCKET``, or ``None`` when not run by systemd."""
        address = (os.environ if env is None else env).get("NOTIFY_SOCKET", "")
        if not address.startswith(("/", "@")):  # unset, or a vsock address we do not speak
            return None
        return cls(address)

    def send(self, state: str) -> bool:
        """``READY=1``, ``WATCHDOG=1``, ``STOPPING=1``, ``STATUS=...``; False if it failed."""
        try:
            self._sock.sendto(state.encode(), self.address)
        except OSError as exc:  # systemd gone, or its queue full: never a reason to stop
            log.warning("watchdog.notify_failed", state=state.partition("=")[0], error=str(exc))
            return False
        return True

    def close(self) -> None:
        self._sock.close()


def watchdog_interval(env: Mapping[str, str] | None = None) -> float | None:
    """Seconds between ``WATCHDOG=1`` pings (half of ``WATCHDOG_USEC``), or ``None``."""
    e = os.environ if env is None else env
    pid = e.get("WATCHDOG_PID", "")
    if pid and pid != str(os.getpid()):  # meant for another process of the unit
        return None
    try:
        usec = int(e.get("WATCHDOG_USEC", "0"))
    except ValueError:
        return None
    return usec / 2e6 if usec > 0 else None


async def feed_watchdog(notifier: Notifier, interval_s: float) -> None:
    """Ping systemd every ``interval_s`` from this loop until cancelled."""
    while True:
        notifier.send("WATCHDOG=1")
        await asyncio.sleep(interval_s)
