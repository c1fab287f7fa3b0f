"""An Asterisk 22 double: the AGI side of a call, on a virtual clock.

``AsteriskModel`` is pure (no sockets, no asyncio): bytes the server wrote
go in with their time (``feed``), Asterisk's lines come out with theirs
(``advance``). ``router.agi.caller`` drives it over real TCP for tests, the
benchmark and ``tierline call``; the replay tests drive it with the server
lines of every capture in ``../shared/asterisk-22/agi``.

What it reproduces, all from the captures:

* line reading as ``res_agi.c`` does it: a stdio buffer over the socket.
  A new command is taken only when the socket is readable; lines already
  in the buffer wait for the next bytes to arrive (agi/13 cases 1, 3, 4);
* bytes arriving during STREAM FILE / GET DATA abort it with no reply
  (agi/13 case 2);
* prompt lengths in samples (8 kHz, 20 ms frames: ``endpos`` is rounded up
  to a frame), escape digits, GET DATA's ``#`` / max digits / timeouts;
* a hangup at a chosen moment: the command in flight gets ``200 result=-1``
  (``endpos=`` for STREAM FILE), a lone ``HANGUP`` follows 40 ms later, and
  afterwards only dead-channel commands run; the rest get 511 (agi/08a-c);
* 510 for unknown commands and empty lines, 520 blocks for bad syntax.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from router.agi.double_commands import (
    HANDLERS,
    HANGUP_LINE_DELAY_MS,
    MIN_ARGS,
    Running,
    frames,
)
from router.agi.protocol import DEAD_CHANNEL_COMMANDS, command_verb, parse_args

__all__ = ["DEFAULT_PROMPTS", "AsteriskModel", "CallerScript", "environment"]

DEFAULT_PROMPTS: Mapping[str, int] = {"hello-world": 11234, "vm-intro": 45235, "beep": 3392}
"""Prompt lengths in samples at 8 kHz (hello-world 1.40 s, vm-intro 5.65 s)."""
DEAD = "511 Command Not Permitted on a dead channel or intercept routine"
INVALID = "510 Invalid or unknown command"
USAGE_HEAD = "520-Invalid command syntax.  Proper usage follows:"
USAGE_TAIL = "520 End of proper usage."
_VAR = re.compile(r"\$\{([^{}]*)\}")


@dataclass
class CallerScript:
    """What the far end does, in ms since the TCP connect (the captures' clock)."""

    digits: list[tuple[float, str]] = field(default_factory=list)
    hangup_at_ms: float | None = None
    answered: bool = True
    variables: dict[str, str] = field(default_factory=dict)
    prompts: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PROMPTS))
    reply_delay_ms: float = 0.0
    queue_ms: float = 3500.0


def environment(
    caller: str,
    *,
    dnis: str = "unknown",
    name: str = "",
    script: str = "inbound",
    uniqueid: str = "1795348509.9",
    args: tuple[str, ...] = (),
    host: str = "127.0.0.1:4573",
) -> list[str]:
    """The ``agi_*`` lines in the order Asterisk 22 sends them (agi/01, agi/02)."""
    base = script.partition("?")[0]
    lines = [
        "agi_network: yes",
        f"agi_network_script: {script}",
        f"agi_request: agi://{host}/{script}",
        f"agi_channel: PJSIP/trunk-{uniqueid.replace('.', '')[-8:]}",
        "agi_language: en",
        "agi_type: PJSIP",
        f"agi_uniqueid: {uniqueid}",
        "agi_version: 22.10.1",
        f"agi_callerid: {caller or 'unknown'}",
        f"agi_calleridname: {name or 'unknown'}",
        "agi_callingpres: 0",
        "agi_callingani2: 0",
        "agi_callington: 0",
        "agi_callingtns: 0",
        f"agi_dnid: {dnis}",
        "agi_rdnis: unknown",
        "agi_context: from-trunk",
        f"agi_extension: {dnis if dnis != 'unknown' else base}",
        "agi_priority: 2",
        "agi_enhanced: 0.0",
        "agi_accountcode: ",
        "agi_threadid: 140464619615936",
    ]
    lines += [f"agi_arg_{i}: {a}" for i, a in enumerate(args, 1)]
    return [*lines, ""]


class AsteriskModel:
    """Asterisk's AGI loop for one call, deterministic on a virtual clock."""

    def __init__(self, env: list[str], script: CallerScript | None = None) -> None:
        self.script = script or CallerScript()
        self.env = dict(line.split(": ", 1) for line in env if ": " in line)
        self.vars: dict[str, str] = dict(self.script.variables)
        self.db: dict[tuple[str, str], str] = {}
        self.answered = self.script.answered
        self._digits = sorted(self.script.digits)
        self._stdio = bytearray()
        self._kernel = bytearray()
        self._kernel_at = 0.0
        self._idle_since = 0.0
        self._running: Running | None = None
        self._hangup_due: float | None = None
        self.hung_up = False
        self.eof = False
        self.received: list[tuple[float, str]] = []
        self._out: list[tuple[float, str]] = []

    # ------------------------------------------------------------------ driving

    def feed(self, data: bytes, at: float) -> None:
        """The server wrote ``data``; it reached the socket at ``at`` ms."""
        self.advance(at)
        if not self._kernel:
            self._kernel_at = at
        self._kernel += data

    def close(self, at: float) -> None:
        """The server closed the socket: Asterisk stops (a late reply is lost)."""
        self.advance(at)
        self.eof = True

    def next_time(self) -> float | None:
        """When something will happen without new input (None: nothing)."""
        times = [t for t in self._pending_times() if t is not None]
        return min(times) if times else None

    def advance(self, now: float) -> list[tuple[float, str]]:
        """Run the model up to ``now``; Asterisk's lines written meanwhile."""
        while not self.eof:
            t = self.next_time()
            if t is None or t > now:
                break
            self._step(t)
        out, self._out = self._out, []
        return out

    # ------------------------------------------------------------------ scheduler

    def _pending_times(self) -> list[float | None]:
        hangup = self.script.hangup_at_ms if not self.hung_up else None
        run = self._running
        if run is None:
            readable = max(self._kernel_at, self._idle_since) if self._kernel else None
            return [hangup, self._hangup_due, readable]
        digit = self._next_digit(run.start) if run.kind != "exec" else None
        abort = self._kernel_at if (self._kernel and run.interruptible) else None
        return [hangup, run.end, digit, abort]

    def _next_digit(self, after: float) -> float | None:
        return next((t for t, _ in self._digits if t >= after), None)

    def _step(self, t: float) -> None:
        due = self.script.hangup_at_ms
        if not self.hung_up and due is not None and t >= due:
            self._hang_up(due)
            return
        run = self._running
        if run is None:
            if self._hangup_due is not None and t >= self._hangup_due:
                self._emit_hangup(t)
            else:
                self._read_command(t)
            return
        if self._kernel and run.interruptible and t >= self._kernel_at:
            self._finish(t, [])  # agi/13 case 2: aborted, no reply at all
            return
        digit = self._next_digit(run.start)
        if digit is not None and digit <= t and (run.end is None or digit <= run.end):
            self._digit(run, digit)
            return
        self._finish(t, run.on_done(t) if run.on_done else [])

    def _emit_hangup(self, t: float) -> None:
        self._out.append((t, "HANGUP"))
        self._hangup_due = None

    def _hang_up(self, t: float) -> None:
        self.hung_up = True
        self._hangup_due = t + HANGUP_LINE_DELAY_MS
        run = self._running
        if run is not None:
            reply = "200 result=-1"
            if run.kind == "stream":
                reply += f" endpos={run.offset + frames(t - run.start)}"
            self._finish(t + 0.8, [reply])
            self._hangup_due = t + 0.8 + HANGUP_LINE_DELAY_MS

    def _finish(self, t: float, lines: list[str]) -> None:
        self._out += [(t, line) for line in lines]
        self._running = None
        self._idle_since = t

    # ------------------------------------------------------------------ reading

    def _read_command(self, t: float) -> None:
        """One readable event: take a buffered line, else drain the socket."""
        if b"\n" not in self._stdio:
            self._stdio += self._kernel
            self._kernel.clear()
            if b"\n" not in self._stdio:
                return
        elif not self._kernel:
            return
        end = self._stdio.index(b"\n")
        line = self._stdio[:end].decode("utf-8", "replace").rstrip("\r")
        del self._stdio[: end + 1]
        if not self._kernel:
            self._kernel_at = t
        self.received.append((t, line))
        if self._hangup_due is not None:
            self._emit_hangup(t)
        self._execute(t + self.script.reply_delay_ms, line)

    def _execute(self, t: float, line: str) -> None:
        argv = parse_args(line)
        if not argv:
            self._finish(t, [INVALID])
            return
        verb = command_verb(argv)
        handler = HANDLERS.get(verb)
        if handler is None:
            self._finish(t, [INVALID])
        elif len(argv) < MIN_ARGS.get(verb, 0):
            self._finish(t, [USAGE_HEAD, f"Usage: {verb}", USAGE_TAIL])
        elif self.hung_up and verb not in DEAD_CHANNEL_COMMANDS:
            self._finish(t, [DEAD])
        else:
            handler(self, t, argv)

    # ------------------------------------------------------------------ values

    def lookup(self, name: str) -> str | None:
        """A variable or one of the few functions the captures read."""
        cid_num = self.env.get("agi_callerid", "")
        cid_name = self.env.get("agi_calleridname", "")
        functions = {
            "CALLERID(num)": cid_num,
            "CALLERID(name)": cid_name,
            "CALLERID(all)": f'"{cid_name}" <{cid_num}>',
            "CHANNEL": self.env.get("agi_channel", ""),
            "UNIQUEID": self.env.get("agi_uniqueid", ""),
        }
        return functions.get(name, self.vars.get(name))

    def substitute(self, text: str) -> str:
        return _VAR.sub(lambda m: self.lookup(m.group(1)) or "", text)

    def set_var(self, name: str, value: str) -> None:
        self.vars[name] = value

    # ------------------------------------------------------------------ media

    def _start(self, run: Running) -> None:
        self._running = run

    def _digit(self, run: Running, at: float) -> None:
        digit = next(d for t, d in self._digits if t == at)
        self._digits.remove((at, digit))
        if run.kind == "stream":
            if digit in run.escape:
                endpos = run.offset + frames(at - run.start)
                self._finish(at, [f"200 result={ord(digit)} endpos={endpos}"])
        elif run.kind == "wait":
            self._finish(at, [f"200 result={ord(digit)}"])
        elif run.kind == "say":
            if digit in run.escape:
                self._finish(at, [f"200 result={ord(digit)}"])
        elif run.kind == "getdata":
            self._getdata_digit(run, at, digit)

    def _getdata_digit(self, run: Running, at: float, digit: str) -> None:
        if digit == "#":
            self._finish(at, [f"200 result={run.digits}"])
            return
        run.digits += digit
        if len(run.digits) >= run.max_digits > 0:
            self._finish(at, [f"200 result={run.digits}"])
            return
        run.end = at + run.timeout_ms
