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

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from router.agi.protocol import (
    DEAD_CHANNEL_COMMANDS,
    command_verb,
    parse_args,
    separate_app_args,
)

__all__ = ["DEFAULT_PROMPTS", "AsteriskModel", "CallerScript", "environment"]

DEFAULT_PROMPTS: Mapping[str, int] = {"hello-world": 11234, "vm-intro": 45235, "beep": 3392}
"""Prompt lengths in samples at 8 kHz (hello-world 1.40 s, vm-intro 5.65 s)."""
SAY_DIGIT_MS = 836.0
ANSWER_MS = 500.0
HANGUP_LINE_DELAY_MS = 40.0
DEAD = "511 Command Not Permitted on a dead channel or intercept routine"
INVALID = "510 Invalid or unknown command"
USAGE_HEAD = "520-Invalid command syntax.  Proper usage follows:"
USAGE_TAIL = "520 End of proper usage."
_VAR = re.compile(r"\$\{([^{}]*)\}")
_MIN_ARGS = {"GET DATA": 3, "WAIT FOR DIGIT": 4, "SAY DIGITS": 4, "STREAM FILE": 4}


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


@dataclass
class _Running:
    """A blocking command in progress."""

    kind: str
    start: float
    end: float | None  # None: waiting for digits with no deadline
    escape: str = ""
    offset: int = 0
    samples: int = 0
    digits: str = ""
    max_digits: int = 0
    timeout_ms: float = 0.0
    prompt_end: float = 0.0
    interruptible: bool = True
    on_done: Callable[[float], list[str]] | None = None


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
        self._running: _Running | None = None
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
                reply += f" endpos={run.offset + _frames(t - run.start)}"
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
        handler = _HANDLERS.get(verb)
        if handler is None:
            self._finish(t, [INVALID])
        elif len(argv) < _MIN_ARGS.get(verb, 0):
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

    def _start(self, run: _Running) -> None:
        self._running = run

    def _digit(self, run: _Running, at: float) -> None:
        digit = next(d for t, d in self._digits if t == at)
        self._digits.remove((at, digit))
        if run.kind == "stream":
            if digit in run.escape:
                endpos = run.offset + _frames(at - run.start)
                self._finish(at, [f"200 result={ord(digit)} endpos={endpos}"])
        elif run.kind == "wait":
            self._finish(at, [f"200 result={ord(digit)}"])
        elif run.kind == "say":
            if digit in run.escape:
                self._finish(at, [f"200 result={ord(digit)}"])
        elif run.kind == "getdata":
            self._getdata_digit(run, at, digit)

    def _getdata_digit(self, run: _Running, at: float, digit: str) -> None:
        if digit == "#":
            self._finish(at, [f"200 result={run.digits}"])
            return
        run.digits += digit
        if len(run.digits) >= run.max_digits > 0:
            self._finish(at, [f"200 result={run.digits}"])
            return
        run.end = at + run.timeout_ms


def _frames(elapsed_ms: float) -> int:
    """Samples played, counted in whole 20 ms frames (rounded up, as Asterisk reports)."""
    return math.ceil(round(elapsed_ms, 3) / 20) * 160


# ---------------------------------------------------------------------- command handlers


def _reply(text: str) -> Callable[[AsteriskModel, float, list[str]], None]:
    def handle(m: AsteriskModel, t: float, argv: list[str]) -> None:
        m._finish(t, [text])

    return handle


def _answer(m: AsteriskModel, t: float, argv: list[str]) -> None:
    if m.answered:
        m._finish(t, ["200 result=0"])
        return
    m.answered = True
    m._start(_Running("exec", t, t + ANSWER_MS, interruptible=False, on_done=_ok0))


def _ok0(_t: float) -> list[str]:
    return ["200 result=0"]


def _status(m: AsteriskModel, t: float, argv: list[str]) -> None:
    m._finish(t, [f"200 result={6 if m.answered else 4}"])


def _get_var(m: AsteriskModel, t: float, argv: list[str]) -> None:
    value = m.lookup(argv[2]) if len(argv) > 2 else None
    m._finish(t, ["200 result=0" if value is None else f"200 result=1 ({value})"])


def _get_full(m: AsteriskModel, t: float, argv: list[str]) -> None:
    m._finish(t, [f"200 result=1 ({m.substitute(argv[3] if len(argv) > 3 else '')})"])


def _set_var(m: AsteriskModel, t: float, argv: list[str]) -> None:
    m.set_var(argv[2], argv[3] if len(argv) > 3 else "")
    m._finish(t, ["200 result=1"])


def _stream(m: AsteriskModel, t: float, argv: list[str]) -> None:
    samples = m.script.prompts.get(argv[2])
    if samples is None:
        m._finish(t, ["200 result=-1 endpos=0"])
        return
    offset = int(argv[4]) if len(argv) > 4 and argv[4].isdigit() else 0
    end = t + (samples - offset) / 8

    def done(_t: float) -> list[str]:
        return [f"200 result=0 endpos={samples}"]

    m._start(_Running("stream", t, end, escape=argv[3], offset=offset, on_done=done))


def _get_data(m: AsteriskModel, t: float, argv: list[str]) -> None:
    samples = m.script.prompts.get(argv[2], 0)
    timeout = float(argv[3]) if len(argv) > 3 and argv[3].isdigit() else 6000.0
    max_digits = int(argv[4]) if len(argv) > 4 and argv[4].isdigit() else 1024
    prompt_end = t + samples / 8
    run = _Running("getdata", t, prompt_end + timeout, max_digits=max_digits, timeout_ms=timeout)

    def done(_t: float) -> list[str]:
        return [f"200 result={run.digits} (timeout)"]

    run.on_done = done
    m._start(run)


def _wait_digit(m: AsteriskModel, t: float, argv: list[str]) -> None:
    timeout = float(argv[3])
    end = None if timeout < 0 else t + timeout
    m._start(_Running("wait", t, end, on_done=_ok0))


def _say_digits(m: AsteriskModel, t: float, argv: list[str]) -> None:
    end = t + SAY_DIGIT_MS * len(argv[2])
    m._start(_Running("say", t, end, escape=argv[3], on_done=_ok0))


def _database(m: AsteriskModel, t: float, argv: list[str]) -> None:
    op, key = argv[1].upper(), (argv[2], argv[3]) if len(argv) > 3 else ("", "")
    if op == "PUT":
        m.db[key] = argv[4] if len(argv) > 4 else ""
        m._finish(t, ["200 result=1"])
    elif op == "GET":
        value = m.db.get(key)
        m._finish(t, ["200 result=0" if value is None else f"200 result=1 ({value})"])
    else:
        m._finish(t, [f"200 result={int(m.db.pop(key, None) is not None)}"])


def _hangup_cmd(m: AsteriskModel, t: float, argv: list[str]) -> None:
    m._finish(t, ["200 result=1"])
    m.hung_up = True
    m._hangup_due = t + HANGUP_LINE_DELAY_MS


def _exec(m: AsteriskModel, t: float, argv: list[str]) -> None:
    app, data = argv[1].lower(), argv[2] if len(argv) > 2 else ""
    if app == "set":
        name, _, value = data.partition("=")
        m.set_var(name, value)
    elif app == "mset":
        for pair in separate_app_args(data):
            parts = separate_app_args(pair, "=", 2)
            if len(parts) == 2:
                m.set_var(parts[0], parts[1])
    elif app in ("wait", "playback", "queue"):
        m._start(_Running("exec", t, t + _exec_ms(m, app, data), interruptible=False))
        m._running.on_done = _exec_done(m, app, data)  # type: ignore[union-attr]
        return
    elif app not in ("noop", "verbose", "answer"):
        m._finish(t, ["200 result=-2"])
        return
    m._finish(t, ["200 result=0"])


def _exec_ms(m: AsteriskModel, app: str, data: str) -> float:
    if app == "wait":
        try:
            return float(data or 0) * 1000
        except ValueError:
            return 0.0
    if app == "playback":
        return sum(m.script.prompts.get(p, 0) for p in data.split(",", 1)[0].split("&")) / 8
    return m.script.queue_ms


def _exec_done(m: AsteriskModel, app: str, data: str) -> Callable[[float], list[str]]:
    def done(_t: float) -> list[str]:
        if app == "queue":
            m.set_var("QUEUESTATUS", "CONTINUE")
        return ["200 result=0"]

    return done


_HANDLERS: dict[str, Callable[[AsteriskModel, float, list[str]], None]] = {
    "ANSWER": _answer,
    "CHANNEL STATUS": _status,
    "GET VARIABLE": _get_var,
    "GET FULL VARIABLE": _get_full,
    "SET VARIABLE": _set_var,
    "STREAM FILE": _stream,
    "GET DATA": _get_data,
    "WAIT FOR DIGIT": _wait_digit,
    "SAY DIGITS": _say_digits,
    "DATABASE PUT": _database,
    "DATABASE GET": _database,
    "DATABASE DEL": _database,
    "EXEC": _exec,
    "HANGUP": _hangup_cmd,
    "NOOP": _reply("200 result=0"),
    "VERBOSE": _reply("200 result=1"),
    "SET MUSIC": _reply("200 result=0"),
}
