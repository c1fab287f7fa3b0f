"""One FastAGI TCP connection: bytes in, environment and typed replies out.

An ``asyncio.Protocol`` rather than streams: replies and the unsolicited
``HANGUP`` line are dispatched the moment they arrive (so a hangup is known
before we write the next command), and there is no per-call reader task.
Every failure mode ends in exactly one ``bad_session`` reason for the
server to log once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import cast

from router.agi.protocol import (
    MAX_ENV_BYTES,
    MAX_LINE_BYTES,
    Hangup,
    Reply,
    ReplyParser,
    Trying,
    parse_env_line,
)
from router.errors import AGIError, AGIProtocolError, AGITimeoutError

__all__ = ["AGIConnection", "ConnectionClosed"]


class ConnectionClosed(AGIError):  # noqa: N818 - EOF is an ending, not a fault
    """Asterisk closed the socket (EOF); the call is over."""


EnvReady = Callable[["AGIConnection", dict[str, str]], None]
Closed = Callable[["AGIConnection"], None]


class AGIConnection(asyncio.Protocol):
    """Reads the environment, then at most one reply waiter at a time."""

    def __init__(self, on_env: EnvReady, on_closed: Closed, env_timeout_s: float) -> None:
        self._on_env = on_env
        self._on_closed = on_closed
        self._env_timeout_s = env_timeout_s
        self._env: dict[str, str] | None = {}
        self._env_bytes = 0
        self._buf = bytearray()
        self._parser = ReplyParser()
        self._waiter: asyncio.Future[Reply] | None = None
        self._env_deadline = float("inf")  # set in connection_made
        self._reply_deadline = 0.0
        self._reply_timeout_s = 0.0
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.hung_up = False
        self.closed = False
        self.failure = ""  # why this session went bad, for one log line
        self.reported = False  # the server logged it already
        self.started = False  # the environment was complete and a call task runs
        self.env_done_at = 0.0  # perf_counter() when the blank line ending the env arrived

    # ------------------------------------------------------------------ asyncio hooks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self._env_deadline = asyncio.get_running_loop().time() + self._env_timeout_s

    def data_received(self, data: bytes) -> None:
        self._buf += data
        while not self.closed:
            end = self._buf.find(b"\n")
            if end < 0:
                if len(self._buf) > MAX_LINE_BYTES:
                    self.fail(f"line longer than {MAX_LINE_BYTES} bytes")
                return
            raw = bytes(self._buf[:end])
            del self._buf[: end + 1]
            try:
                self._line(raw.rstrip(b"\r").decode("utf-8", "replace"), end + 1)
            except AGIProtocolError as exc:
                self.fail(str(exc))

    def eof_received(self) -> bool | None:
        if self._env is not None:
            self.fail("EOF before the environment was complete")
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake(ConnectionClosed("Asterisk closed the connection"))
        self._on_closed(self)

    # ------------------------------------------------------------------ lines

    def _line(self, line: str, size: int) -> None:
        if self._env is not None:
            self._env_line(line, size)
            return
        event = self._parser.feed(line)
        if event is None or isinstance(event, Trying):
            return
        if isinstance(event, Hangup):
            self.hung_up = True
            return
        waiter, self._waiter = self._waiter, None
        if waiter is None or waiter.done():
            raise AGIProtocolError(f"reply with no command in flight: {line[:60]!r}")
        waiter.set_result(event)

    def _env_line(self, line: str, size: int) -> None:
        env = cast(dict[str, str], self._env)
        self._env_bytes += size
        if self._env_bytes > MAX_ENV_BYTES:
            raise AGIProtocolError(f"environment larger than {MAX_ENV_BYTES} bytes")
        if line:
            key, value = parse_env_line(line)
            env[key] = value
            return
        if not env:
            raise AGIProtocolError("empty environment")
        self._env = None
        self.env_done_at = time.perf_counter()
        self._on_env(self, env)

    def check_deadlines(self, now: float) -> None:
        """Called by the server's sweeper (every 0.1 s) with ``loop.time()``.

        One sweep over all connections is far cheaper than a timer per
        command; deadlines are seconds, so 0.1 s resolution is plenty.
        """
        if self.closed or self.transport is None:
            return
        if self._env is not None:
            if now > self._env_deadline:
                self.fail(f"environment not complete within {self._env_timeout_s:g} s")
            return
        waiter = self._waiter
        if waiter is not None and not waiter.done() and now > self._reply_deadline:
            self._waiter = None
            waiter.set_exception(AGITimeoutError(f"no reply within {self._reply_timeout_s:g} s"))

    # ------------------------------------------------------------------ commands

    def send(self, line: bytes, timeout_s: float) -> asyncio.Future[Reply]:
        """Write one command; the future gets its reply, or fails.

        It fails with ``ConnectionClosed`` on EOF and ``AGITimeoutError`` once
        ``timeout_s`` has passed (see ``check_deadlines``).
        """
        if self.closed or self.transport is None:
            raise ConnectionClosed("connection already closed")
        if self._waiter is not None and not self._waiter.done():
            raise AGIProtocolError("a command is already in flight")
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Reply] = loop.create_future()
        self._reply_deadline = loop.time() + timeout_s
        self._reply_timeout_s = timeout_s
        self._waiter = waiter
        self.transport.write(line)
        return waiter

    def fail(self, reason: str) -> None:
        """Mark the session bad (first reason wins) and drop the socket."""
        if not self.failure:
            self.failure = reason
        self._wake(AGIProtocolError(reason))
        self.close()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
        self.closed = True

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()
        self.closed = True

    def _wake(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
