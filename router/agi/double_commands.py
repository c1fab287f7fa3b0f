"""What the Asterisk double answers to each AGI command (see ``router.agi.double``).

Durations and reply texts come from the Asterisk 22 captures: prompt lengths
in samples at 8 kHz, ``endpos`` counted in whole 20 ms frames, ANSWER of an
unanswered Local channel 500 ms, SAY DIGITS ~836 ms a digit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from router.agi.protocol import separate_app_args

if TYPE_CHECKING:
    from router.agi.double import AsteriskModel

__all__ = ["HANDLERS", "MIN_ARGS", "Running", "frames"]

SAY_DIGIT_MS = 836.0
ANSWER_MS = 500.0
HANGUP_LINE_DELAY_MS = 40.0
MIN_ARGS = {"GET DATA": 3, "WAIT FOR DIGIT": 4, "SAY DIGITS": 4, "STREAM FILE": 4}


@dataclass
class Running:
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


def frames(elapsed_ms: float) -> int:
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
    m._start(Running("exec", t, t + ANSWER_MS, interruptible=False, on_done=_ok0))


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

    m._start(Running("stream", t, end, escape=argv[3], offset=offset, on_done=done))


def _get_data(m: AsteriskModel, t: float, argv: list[str]) -> None:
    samples = m.script.prompts.get(argv[2], 0)
    timeout = float(argv[3]) if len(argv) > 3 and argv[3].isdigit() else 6000.0
    max_digits = int(argv[4]) if len(argv) > 4 and argv[4].isdigit() else 1024
    prompt_end = t + samples / 8
    run = Running("getdata", t, prompt_end + timeout, max_digits=max_digits, timeout_ms=timeout)

    def done(_t: float) -> list[str]:
        return [f"200 result={run.digits} (timeout)"]

    run.on_done = done
    m._start(run)


def _wait_digit(m: AsteriskModel, t: float, argv: list[str]) -> None:
    timeout = float(argv[3])
    end = None if timeout < 0 else t + timeout
    m._start(Running("wait", t, end, on_done=_ok0))


def _say_digits(m: AsteriskModel, t: float, argv: list[str]) -> None:
    end = t + SAY_DIGIT_MS * len(argv[2])
    m._start(Running("say", t, end, escape=argv[3], on_done=_ok0))


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
        m._start(Running("exec", t, t + _exec_ms(m, app, data), interruptible=False))
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


HANDLERS: dict[str, Callable[[AsteriskModel, float, list[str]], None]] = {
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
