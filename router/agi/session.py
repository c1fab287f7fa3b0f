"""``AGISession``: the ``router.types.CallSession`` of a live FastAGI call.

Rules taken from the Asterisk 22 captures:

* exactly one command in flight (agi/13: a second command aborts a running
  STREAM FILE / GET DATA with no reply at all, so pipelining loses replies);
* after the unsolicited ``HANGUP`` line only dead-channel commands are sent
  (agi/08a-c); anything else raises ``CallHungUp`` without touching the wire;
* every command has our own deadline (agi/10: Asterisk never gives up on us);
  after a missed deadline the reply stream can no longer be trusted, so the
  session refuses further commands and the server closes the socket;
* EOF anywhere is a hangup, never an error;
* a call cut by a shutdown (``AGIServer.stop`` after its drain) still leaves
  with the route its handler registered with ``on_cut``: the MSet is written
  over whatever command was running; Asterisk interrupts a STREAM FILE or
  GET DATA with no reply (agi/13) or answers a WAIT FOR DIGIT first, then
  runs the MSet, so the route lands within a round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from router.agi.connection import AGIConnection, ConnectionClosed
from router.agi.protocol import (
    DEAD_CHANNEL_COMMANDS,
    Reply,
    check_reply,
    encode_mset,
    format_command,
)
from router.errors import (
    AGIDeadChannelError,
    AGIProtocolError,
    AGITimeoutError,
    CallHungUp,
)
from router.types import CallSession, DigitsResult

__all__ = ["AGISession", "AGITimeouts", "CutRoute"]

CutRoute = Callable[[], Mapping[str, str]]
"""Builds the route variables of the best decision known so far (lazily: only a cut call pays)."""


@dataclass(frozen=True, slots=True)
class AGITimeouts:
    """Our deadlines, in seconds. Asterisk has none of its own for FastAGI."""

    env_s: float = 2.0
    command_s: float = 5.0
    media_s: float = 300.0
    exec_s: float = 4 * 3600.0


class AGISession:
    """High-level call control over one ``AGIConnection``."""

    def __init__(
        self,
        conn: AGIConnection,
        env: Mapping[str, str],
        timeouts: AGITimeouts | None = None,
    ) -> None:
        self._conn = conn
        self.env: Mapping[str, str] = env
        self._timeouts = timeouts or AGITimeouts()
        self._lock = asyncio.Lock()
        self._broken = ""
        self._cut_route: CutRoute | None = None
        self.commands = 0

    @property
    def uniqueid(self) -> str:
        return self.env.get("agi_uniqueid", "")

    @property
    def env_done_at(self) -> float:
        """``time.perf_counter()`` when the environment was complete."""
        return self._conn.env_done_at

    @property
    def hung_up(self) -> bool:
        return self._conn.hung_up or self._conn.closed

    # ------------------------------------------------------------------ shutdown

    def on_cut(self, route: CutRoute) -> None:
        """Register (or replace) the route this call leaves with if a shutdown cuts it."""
        self._cut_route = route

    async def leave(self, timeout_s: float) -> tuple[str, str]:
        """Set the registered route after the handler was cancelled; (outcome, queue).

        Outcomes: ``route_set``, ``no_route`` (nothing registered: the
        dialplan's fallback applies), ``hung_up``, ``unusable`` (a missed
        deadline left the reply stream untrustworthy) or ``failed``.
        """
        if self.hung_up:
            return "hung_up", ""
        if self._broken or self._cut_route is None:
            return ("unusable" if self._broken else "no_route"), ""
        try:
            values = self._cut_route()
            line = format_command("EXEC", "MSet", encode_mset(values))
            await self._conn.send(line, timeout_s)  # the lock's holder was cancelled
        except ConnectionClosed:
            return "hung_up", ""
        except Exception as exc:  # a bug in the route builder must not stop the shutdown
            return f"failed: {type(exc).__name__}", ""
        return "route_set", values.get("TIERLINE_QUEUE", "")

    # ------------------------------------------------------------------ core

    async def command(self, verb: str, *args: str, timeout_s: float | None = None) -> Reply:
        """Send one command and return its 200 reply.

        Raises:
            CallHungUp: the channel is gone (HANGUP seen, 511, or EOF).
            AGITimeoutError: no reply within the deadline.
            AGIInvalidCommandError, AGIUsageError: 510 / 520.
        """
        line = format_command(verb, *args)
        async with self._lock:
            if self._broken:
                raise AGIProtocolError(f"session unusable: {self._broken}")
            if self._conn.closed:
                raise CallHungUp()
            if self._conn.hung_up and verb not in DEAD_CHANNEL_COMMANDS:
                raise CallHungUp()
            reply = await self._round_trip(line, verb, timeout_s or self._timeouts.command_s)
        try:
            return check_reply(reply)
        except AGIDeadChannelError:
            self._conn.hung_up = True
            raise CallHungUp() from None

    async def _round_trip(self, line: bytes, verb: str, timeout_s: float) -> Reply:
        self.commands += 1
        try:
            return await self._conn.send(line, timeout_s)
        except ConnectionClosed:
            raise CallHungUp() from None
        except AGITimeoutError:
            self._broken = f"{verb} timed out after {timeout_s:g} s"
            raise AGITimeoutError(self._broken) from None
        except AGIProtocolError as exc:
            self._broken = str(exc)
            raise

    # ------------------------------------------------------------------ CallSession

    async def answer(self) -> None:
        reply = await self.command("ANSWER")
        if reply.value < 0:
            raise CallHungUp()

    async def play(self, prompts: Sequence[str], escape_digits: str = "") -> str:
        """STREAM FILE each prompt; the digit that interrupted, or "".

        ``result=-1`` with ``endpos=0`` is a missing file (agi/03: playing goes
        on); ``-1`` after some audio played is the caller hanging up (agi/08b).
        """
        for prompt in prompts:
            reply = await self.command(
                "STREAM FILE", prompt, escape_digits, timeout_s=self._timeouts.media_s
            )
            if reply.value > 0:
                return chr(reply.value)
            if reply.value < 0 and (reply.endpos or 0) > 0:
                raise CallHungUp()
        return ""

    async def get_digits(self, prompt: str, timeout_ms: int, max_digits: int) -> DigitsResult:
        reply = await self.command(
            "GET DATA",
            prompt,
            str(int(timeout_ms)),
            str(int(max_digits)),
            timeout_s=self._timeouts.media_s + timeout_ms / 1000 * (max_digits + 1),
        )
        if reply.result.startswith("-"):
            raise CallHungUp()
        return DigitsResult(digits=reply.result, timed_out=reply.timed_out)

    async def wait_digit(self, timeout_ms: int) -> str:
        reply = await self.command(
            "WAIT FOR DIGIT",
            str(int(timeout_ms)),
            timeout_s=self._timeouts.command_s + max(timeout_ms, 0) / 1000,
        )
        if reply.value < 0:
            raise CallHungUp()
        return chr(reply.value) if reply.value else ""

    async def set_var(self, name: str, value: str) -> None:
        await self.command("SET VARIABLE", name, value)

    async def set_vars(self, values: Mapping[str, str]) -> None:
        """All variables in ONE round trip: ``EXEC MSet`` (see protocol.encode_mset)."""
        if values:
            await self.command("EXEC", "MSet", encode_mset(values))

    async def get_var(self, name: str) -> str | None:
        reply = await self.command("GET VARIABLE", name)
        return reply.data if reply.value == 1 else None

    async def get_full_var(self, expression: str) -> str | None:
        reply = await self.command("GET FULL VARIABLE", expression)
        return reply.data if reply.value == 1 else None

    async def exec(self, app: str, args: Sequence[str] = ()) -> int:
        """Run a dialplan application; ``args`` are joined with ``,`` as given.

        The caller must have escaped each arg for the application's own parser
        (``protocol.encode_mset`` shows how for MSet); the AGI layer is quoted here.
        """
        params = (",".join(args),) if args else ()
        reply = await self.command("EXEC", app, *params, timeout_s=self._timeouts.exec_s)
        return reply.value

    async def hangup(self) -> None:
        """Hang the channel up (if still up), then raise ``CallHungUp`` to unwind."""
        if not self.hung_up:
            with contextlib.suppress(CallHungUp, AGIProtocolError, AGITimeoutError):
                await self.command("HANGUP")
            self._conn.hung_up = True
        raise CallHungUp()


if TYPE_CHECKING:  # mypy proves AGISession is a CallSession, signature for signature

    def _is_call_session(session: AGISession) -> CallSession:
        return session
