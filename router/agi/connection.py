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
    parse_env_block,
)
from router.errors import AGIError, AGIProtocolError, AGITimeoutError

__all__ = ["FORGED_END", "AGIConnection", "ConnectionClosed"]


class ConnectionClosed(AGIError):  # noqa: N818 - EOF is an ending, not a fault
    """Asterisk closed the socket (EOF); the call is over."""


def _blank_line(buf: bytearray) -> tuple[int, int]:
    """Where the blank line ending the environment starts, and its size with the LF before.

    Asterisk ends lines with LF; a CRLF peer is accepted too, as line by line.
    """
    end = buf.find(b"\n\n")
    crlf = buf.find(b"\n\r\n", 0, end if end >= 0 else len(buf))
    if crlf >= 0:
        return crlf, 3
    return end, 2


_ENV_PREFIX = b"agi_"
FORGED_END = "forged environment: agi_* lines after the blank line ending it"
"""A blank line inside caller text ended the environment early; Asterisk's own
lines follow. If they arrive before our first command we never route the call;
if later, they end it (docs/agi.md, "Caller text in the environment")."""

EnvReady = Callable[["AGIConnection", dict[str, str]], None]
Closed = Callable[["AGIConnection"], None]
CallerKnown = Callable[["AGIConnection", dict[str, str]], None]
"""Called once with the environment so far, when ``agi_callerid`` is in but the rest is not."""


class AGIConnection(asyncio.Protocol):
    """Reads the environment, then at most one reply waiter at a time."""

    def __init__(
        self,
        on_env: EnvReady,
        on_closed: Closed,
        env_timeout_s: float,
        admit: Callable[[str], bool] | None = None,
        on_caller: CallerKnown | None = None,
    ) -> None:
        self._on_env = on_env
        self._admit = admit
        self._on_caller = on_caller
        self._partial: dict[str, str] = {}  # the lines of a split environment seen so far
        self._on_closed = on_closed
        self._env_timeout_s = env_timeout_s
        self._in_env = True  # until the blank line ending the environment
        self._env_checked = 0  # bytes of a partial environment already validated
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
        self.refused = False  # the peer's address is not allowed: aborted at accept
        self.env_done_at = 0.0  # perf_counter() when the blank line ending the env arrived

    # ------------------------------------------------------------------ asyncio hooks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        if self._admit is not None and not self._admit(peer[0] if isinstance(peer, tuple) else ""):
            self.refused = True
            self.abort()  # RST at once: not one byte read from, or written to, this peer
            return
        self._env_deadline = asyncio.get_running_loop().time() + self._env_timeout_s

    def data_received(self, data: bytes) -> None:
        if not self._in_env and not self._buf and data.count(b"\n") == 1 and data[-1:] == b"\n":
            self._checked(data[:-1])  # the hot path: one whole reply line, no copy
            return
        self._buf += data
        if self._in_env and not self._env_block():
            return
        while not self.closed:
            end = self._buf.find(b"\n")
            if end < 0:
                if len(self._buf) > MAX_LINE_BYTES:
                    self.fail(f"line longer than {MAX_LINE_BYTES} bytes")
                return
            raw = bytes(self._buf[:end])
            del self._buf[: end + 1]
            self._checked(raw)

    def _checked(self, raw: bytes) -> None:
        if len(raw) > MAX_LINE_BYTES:
            self.fail(f"line longer than {MAX_LINE_BYTES} bytes")
            return
        try:
            self._line(raw.rstrip(b"\r").decode("utf-8", "replace"))
        except AGIProtocolError as exc:
            self.fail(str(exc))

    def _env_block(self) -> bool:
        """Take the environment once its blank line is in; True when replies may follow.

        Asterisk writes the whole environment at once, so it usually arrives
        in one segment: one find, one decode, one split, instead of a copy
        and a decode per line. Until it is complete, only the lines not yet
        seen are checked, so garbage is still refused the moment it arrives.
        """
        buf = self._buf
        end, size = _blank_line(buf)
        try:
            if buf.startswith((b"\n", b"\r\n")):
                raise AGIProtocolError("empty environment")
            if end < 0:
                self._check_partial_env()
                return False
            if end + size > MAX_ENV_BYTES:
                raise AGIProtocolError(f"environment larger than {MAX_ENV_BYTES} bytes")
            env = parse_env_block(buf[:end].decode("utf-8", "replace"))
        except AGIProtocolError as exc:
            self.fail(str(exc))
            return False
        del buf[: end + size]
        if buf.startswith(_ENV_PREFIX):
            self.fail(FORGED_END)
            return False
        self._in_env = False
        self.env_done_at = time.perf_counter()
        self._on_env(self, env)
        return not self.closed

    def _check_partial_env(self) -> None:
        """Raise for a partial environment that is already too big or not AGI."""
        buf = self._buf
        last = buf.rfind(b"\n") + 1
        if len(buf) - last > MAX_LINE_BYTES:
            raise AGIProtocolError(f"line longer than {MAX_LINE_BYTES} bytes")
        if len(buf) > MAX_ENV_BYTES:
            raise AGIProtocolError(f"environment larger than {MAX_ENV_BYTES} bytes")
        if last > self._env_checked:
            chunk = buf[self._env_checked : last - 1].decode("utf-8", "replace")
            lines = parse_env_block(chunk, ordered=False)  # the order is checked once it is whole
            self._env_checked = last
            if self._on_caller is not None and not self.closed:  # start the lookup early
                self._partial.update(lines)
                if "agi_callerid" in lines:
                    self._on_caller(self, self._partial)

    def eof_received(self) -> bool | None:
        if self._in_env:
            self.fail("EOF before the environment was complete")
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake(ConnectionClosed("Asterisk closed the connection"))
        self._on_closed(self)

    # ------------------------------------------------------------------ lines

    def _line(self, line: str) -> None:
        if line.startswith("agi_"):
            raise AGIProtocolError(FORGED_END)
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

    def check_deadlines(self, now: float) -> None:
        """Called by the server's sweeper (every 0.1 s) with ``loop.time()``.

        One sweep over all connections is far cheaper than a timer per
        command; deadlines are seconds, so 0.1 s resolution is plenty.
        """
        if self.closed or self.transport is None:
            return
        if self._in_env:
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
