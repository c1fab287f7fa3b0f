"""FastAGI wire format, as Asterisk 22 speaks it: pure functions, no I/O.

Three jobs, all kept free of sockets so they can be replayed against the
captures in ``../shared/asterisk-22/agi``:

* the ``agi_key: value`` environment (size-capped: it is the first thing an
  unauthenticated peer sends us);
* every reply form Asterisk writes (``200 result=X (data) endpos=N``,
  ``100 ... Trying``, ``510``, ``511``, the multi-line ``520-`` usage block,
  and the unsolicited ``HANGUP`` line) into typed values;
* quoting arguments the way ``res_agi.c:parse_args`` splits them, so text a
  caller controls (caller-ID name, digits, customer fields) can never split
  an argument or start a second command.

How Asterisk parses a command line (``res_agi.c:parse_args``): words split on
space/tab; ``"`` toggles quoting and is dropped; ``\\`` makes the next byte
literal (so ``\\"`` and ``\\\\`` inside quotes). A newline always ends the
command, and the line buffer is ``AGI_BUF_LEN`` (2048) bytes: a longer line is
cut and its tail read as a *new command*. So: no CR/LF/NUL ever reaches the
wire, and commands over 2047 bytes are refused here.

``EXEC MSet`` data is parsed a second time by ``app.c:__ast_app_separate_args``
(split on ``,``; ``"`` toggles quoting and is dropped; ``\\`` escapes the
next byte; ``(``/``[`` nest even inside quotes). Each pair is then split on
the FIRST ``=`` and the value is taken raw. ``encode_mset`` escapes for that
layer before ``quote_arg`` escapes for the AGI layer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from router.errors import (
    AGIDeadChannelError,
    AGIInvalidCommandError,
    AGIProtocolError,
    AGIUsageError,
)

__all__ = [
    "DEAD_CHANNEL_COMMANDS",
    "ENV_ORDER",
    "MAX_COMMAND_BYTES",
    "MAX_ENV_BYTES",
    "MAX_LINE_BYTES",
    "Hangup",
    "Reply",
    "ReplyParser",
    "Trying",
    "check_reply",
    "command_verb",
    "encode_mset",
    "format_command",
    "parse_args",
    "parse_env_block",
    "parse_env_line",
    "parse_reply_line",
    "quote_arg",
    "sanitize",
    "separate_app_args",
]

MAX_LINE_BYTES = 4096
"""Longest line we accept from Asterisk (the usage text lines are the longest)."""
MAX_ENV_BYTES = 16384
"""Whole environment cap: ~25 lines of at most a few hundred bytes in practice."""
MAX_COMMAND_BYTES = 2047
"""res_agi.c reads commands into a 2048-byte buffer; longer lines split."""
MAX_USAGE_LINES = 200

DEAD_CHANNEL_COMMANDS = frozenset(
    {
        "GET VARIABLE",
        "GET FULL VARIABLE",
        "SET VARIABLE",
        "NOOP",
        "VERBOSE",
        "EXEC",
        "DATABASE GET",
        "DATABASE PUT",
        "DATABASE DEL",
        "DATABASE DELTREE",
        "ASYNCAGI BREAK",
    }
)
"""Commands Asterisk still runs after a hangup (agi/08a-08c); others get 511."""

_ENV_KEY = re.compile(r"agi_[a-z0-9_]{1,40}")
ENV_ORDER = tuple(
    "agi_" + k
    for k in [
        "network",
        "network_script",
        "request",
        "channel",
        "language",
        "type",
        "uniqueid",
        "version",
        "callerid",
        "calleridname",
        "callingpres",
        "callingani2",
        "callington",
        "callingtns",
        "dnid",
        "rdnis",
        "context",
        "extension",
        "priority",
        "enhanced",
        "accountcode",
        "threadid",
    ]
)
"""The keys ``res_agi.c`` writes, in its order (``launch_netscript``, ``setup_env``; agi/01).

Then ``agi_arg_1``.. ``agi_arg_N``. ``agi_network_script`` is left out for an
empty script; every other key is always sent, each once.
"""
_ENV_RANK = {key: rank for rank, key in enumerate(ENV_ORDER)}
_ARG_PREFIX = "agi_arg_"
_ARG_KEYS = tuple(f"{_ARG_PREFIX}{n}" for n in range(1, 100))
_STANDARD_ENV_KEYS = frozenset([*ENV_ORDER, "agi_arg_1", "agi_arg_2", "agi_arg_3"])
"""Keys Asterisk 22 sends (agi/01): a set lookup instead of a regex for each."""
_REPLY = re.compile(r"(\d{3}) result=(\S*)(?: \((.*)\))?(?: endpos=(-?\d+))?")
_SAFE_WORD = re.compile(r"[A-Za-z0-9_.:/+*#@-]+")
_FORBIDDEN = str.maketrans({"\r": " ", "\n": " ", "\x00": " "})
_APP_SPECIAL_RE = re.compile(r'[\\",()\[\]]')
_ESCAPE = r"\\\g<0>"
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,79}")
_WRITABLE_FUNCTIONS = frozenset({"CHANNEL(language)"})
"""Dialplan functions a flow may write (MSet writes ``NAME(args)=v`` through the function)."""
_PLAIN_NAMES: set[str] = set(_WRITABLE_FUNCTIONS)
"""Names already checked: they are the code's own constants, so the set stays small."""
MAX_CACHED_NAMES = 1024


# --------------------------------------------------------------------------- environment


def parse_env_line(line: str) -> tuple[str, str]:
    """``agi_key: value`` -> (key, value); the value is kept raw (hostile text).

    Raises:
        AGIProtocolError: not an ``agi_*`` line.
    """
    key, sep, value = line.partition(": ")
    if not sep:
        key, sep, value = line.partition(":")
    if not sep or (key not in _STANDARD_ENV_KEYS and not _ENV_KEY.fullmatch(key)):
        raise AGIProtocolError(f"not an AGI environment line: {line[:60]!r}")
    return key, value


def parse_env_block(text: str, *, ordered: bool = True) -> dict[str, str]:
    """All ``agi_*`` lines of an environment (without its blank line) at once.

    Caller-ID text reaches us raw, so a caller named ``x\\nagi_callerid:
    13800138000`` adds a line of its own choosing. Asterisk writes each key
    once, in ``ENV_ORDER``, so a line that repeats a key, comes out of that
    order, or is not a key Asterisk writes can only be such an injection:
    the whole environment is refused (``ordered=False`` only checks each
    line's form, for a partial environment checked as it arrives).

    Raises:
        AGIProtocolError: a line is not an ``agi_*`` line or is longer than
            ``MAX_LINE_BYTES``; or (``ordered``) the environment is forged.
    """
    env: dict[str, str] = {}
    lines = text.split("\n")
    for line in lines:
        if len(line) > MAX_LINE_BYTES:
            raise AGIProtocolError(f"line longer than {MAX_LINE_BYTES} bytes")
        key, sep, value = line.partition(": ")
        if not sep or key not in _STANDARD_ENV_KEYS or value.endswith("\r"):
            key, value = parse_env_line(line.rstrip("\r"))  # the exact, slower path
        env[key] = value
    if ordered and not _as_asterisk_sends(env, len(lines)):
        _check_order(lines)
    return env


def _as_asterisk_sends(env: dict[str, str], lines: int) -> bool:
    """The common case in two tuple compares: every key once, in order, arguments 1..N."""
    keys = tuple(env)
    size = len(ENV_ORDER)
    return (
        len(keys) == lines
        and keys[:size] == ENV_ORDER
        and keys[size:] == _ARG_KEYS[: len(keys) - size]
    )


def _check_order(lines: list[str]) -> None:
    """Key by key (an environment without a script, a short one, or a forged one)."""
    last = -1
    for line in lines:
        key = line.partition(":")[0]
        rank = _ENV_RANK.get(key)
        if rank is None:
            rank = _arg_rank(key, last)
        elif rank <= last:
            raise _forged(key)
        last = rank


def _forged(key: str) -> AGIProtocolError:
    return AGIProtocolError(f"forged environment: {key} out of Asterisk's order or repeated")


def _arg_rank(key: str, last: int) -> int:
    """``agi_arg_N`` must follow ``agi_threadid`` or ``agi_arg_N-1``; nothing else may come."""
    number = key[len(_ARG_PREFIX) :] if key.startswith(_ARG_PREFIX) else ""
    if not number.isdigit() or number.startswith("0"):
        raise AGIProtocolError(f"forged environment: {key} is not a key Asterisk sends")
    rank = len(ENV_ORDER) - 1 + int(number)
    if rank != max(last, len(ENV_ORDER) - 1) + 1:
        raise _forged(key)
    return rank


# --------------------------------------------------------------------------- replies


@dataclass(frozen=True, slots=True)
class Reply:
    """One ``2xx``/``5xx`` reply. ``result`` is the raw text after ``result=``."""

    code: int
    result: str = ""
    data: str | None = None
    endpos: int | None = None
    text: str = ""

    @property
    def value(self) -> int:
        """``result`` as an int (``0`` when empty, as in ``result= (timeout)``)."""
        try:
            return int(self.result) if self.result else 0
        except ValueError:
            return 0

    @property
    def timed_out(self) -> bool:
        return self.data == "timeout"


@dataclass(frozen=True, slots=True)
class Trying:
    """``100 result=0 Trying...``: an intermediate line; the real reply follows."""

    text: str


@dataclass(frozen=True, slots=True)
class Hangup:
    """The unsolicited ``HANGUP`` line: the channel is gone."""


Event = Reply | Trying | Hangup


def parse_reply_line(line: str) -> Event:
    """One complete single-line reply into its typed value.

    Raises:
        AGIProtocolError: the line is not an Asterisk reply.
    """
    common = _COMMON_REPLIES.get(line)
    if common is not None:
        return common
    if line == "HANGUP":
        return Hangup()
    if line.startswith("100 "):
        return Trying(line[4:])
    if line.startswith(("510 ", "511 ")):
        return Reply(code=int(line[:3]), text=line[4:])
    match = _REPLY.fullmatch(line)
    if match is None:
        raise AGIProtocolError(f"unparseable AGI reply: {line[:80]!r}")
    code, result, data, endpos = match.groups()
    return Reply(
        code=int(code),
        result=result,
        data=data,
        endpos=int(endpos) if endpos is not None else None,
        text=line[4:],
    )


_COMMON_REPLIES: dict[str, Reply] = {
    f"200 result={r}": Reply(code=200, result=r, text=f"result={r}") for r in ("-1", "0", "1")
}
"""Replies are frozen, so the most frequent lines are parsed once and shared."""


class ReplyParser:
    """Line-at-a-time parser; folds the multi-line ``520-`` block into one Reply.

    Stateful only for the 520 block: Asterisk writes ``520-Invalid command
    syntax.  Proper usage follows:``, the usage text (which may itself hold
    DocBook tags), then ``520 End of proper usage.``.
    """

    __slots__ = ("_usage",)

    def __init__(self) -> None:
        self._usage: list[str] | None = None

    def feed(self, line: str) -> Event | None:
        """The typed event this line completes, or ``None`` inside a 520 block."""
        if self._usage is not None:
            if line.startswith("520 "):
                usage, self._usage = "\n".join(self._usage), None
                return Reply(code=520, text=usage)
            if len(self._usage) >= MAX_USAGE_LINES:
                raise AGIProtocolError("520 usage block too long")
            self._usage.append(line)
            return None
        if line.startswith("520-"):
            self._usage = [line[4:]]
            return None
        if line.startswith("520 "):
            return Reply(code=520, text=line[4:])
        return parse_reply_line(line)


def check_reply(reply: Reply) -> Reply:
    """Map 510/511/520 to the errors in ``router.errors``; pass 200 through."""
    if reply.code == 200:
        return reply
    if reply.code == 510:
        raise AGIInvalidCommandError(reply.text or "invalid or unknown command")
    if reply.code == 511:
        raise AGIDeadChannelError(reply.text or "command not permitted on a dead channel")
    if reply.code == 520:
        raise AGIUsageError(reply.text)
    raise AGIProtocolError(f"unexpected reply code {reply.code}")


# --------------------------------------------------------------------------- commands


def sanitize(text: str) -> str:
    """Replace the bytes no quoting can protect (CR, LF, NUL) by spaces."""
    if "\n" in text or "\r" in text or "\x00" in text:  # rare: skip the slow translate
        return text.translate(_FORBIDDEN)
    return text


def quote_arg(text: str) -> str:
    """One argument as ``parse_args`` will give it back, whatever ``text`` holds.

    Plain words go bare (as in the captures: ``GET DATA beep 3000 10``);
    anything else is double-quoted with ``\\`` and ``"`` backslash-escaped.
    """
    text = sanitize(text)
    if _SAFE_WORD.fullmatch(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_command(verb: str, *args: str) -> bytes:
    """``verb`` (a trusted constant such as ``GET DATA``) plus quoted args, LF-ended.

    Raises:
        AGIProtocolError: the line would exceed Asterisk's 2047-byte buffer,
            whose overflow Asterisk would run as a second command.
    """
    line = " ".join([verb, *(quote_arg(a) for a in args)]).encode() + b"\n"
    if len(line) > MAX_COMMAND_BYTES:
        raise AGIProtocolError(f"{verb} command is {len(line)} bytes; Asterisk reads 2047")
    return line


def command_verb(argv: Sequence[str]) -> str:
    """The command name (``GET FULL VARIABLE``) at the head of a parsed line."""
    words = [w.upper() for w in argv[:3]]
    for size in (3, 2, 1):
        name = " ".join(words[:size])
        if name in _KNOWN_VERBS:
            return name
    return " ".join(words[:1])


_KNOWN_VERBS = frozenset(
    {
        "ANSWER",
        "ASYNCAGI BREAK",
        "CHANNEL STATUS",
        "CONTROL STREAM FILE",
        "DATABASE DEL",
        "DATABASE DELTREE",
        "DATABASE GET",
        "DATABASE PUT",
        "EXEC",
        "GET DATA",
        "GET FULL VARIABLE",
        "GET OPTION",
        "GET VARIABLE",
        "GOSUB",
        "HANGUP",
        "NOOP",
        "RECORD FILE",
        "SAY ALPHA",
        "SAY DIGITS",
        "SAY NUMBER",
        "SET CALLERID",
        "SET CONTEXT",
        "SET EXTENSION",
        "SET MUSIC",
        "SET PRIORITY",
        "SET VARIABLE",
        "STREAM FILE",
        "VERBOSE",
        "WAIT FOR DIGIT",
    }
)


def parse_args(line: str) -> list[str]:
    """Split a command line exactly as ``res_agi.c:parse_args`` does.

    Used by the Asterisk double and by the tests that prove ``quote_arg``
    round-trips hostile text.
    """
    argv: list[str] = []
    cur: list[str] | None = None
    quoted = escaped = False
    for ch in line:
        if ch == '"' and not escaped:
            quoted = not quoted
            if quoted and cur is None:
                cur = []
                argv.append("")
            continue
        if ch in " \t" and not quoted and not escaped:
            if cur is not None:
                argv[-1] = "".join(cur)
            cur = None
            continue
        if ch == "\\" and not escaped:
            escaped = True
            continue
        if cur is None:
            cur = []
            argv.append("")
        cur.append(ch)
        escaped = False
    if cur is not None:
        argv[-1] = "".join(cur)
    return argv


def separate_app_args(buf: str, delim: str = ",", limit: int = 99) -> list[str]:
    """``__ast_app_separate_args(buf, delim, remove_chars=1, ..., limit)``.

    The last of ``limit`` fields takes the unparsed remainder, as in C.
    """
    out: list[str] = []
    i, n = 0, len(buf)
    paren = bracket = 0
    quote = False
    ended_on_delim = False
    while i < n and len(out) < limit - 1:
        field: list[str] = []
        ended_on_delim = False
        while i < n:
            ch = buf[i]
            i += 1
            if ch == "(":
                paren += 1
            elif ch == ")":
                paren = max(paren - 1, 0)
            elif ch == "[":
                bracket += 1
            elif ch == "]":
                bracket = max(bracket - 1, 0)
            elif ch == '"' and delim != '"':
                quote = not quote
                continue
            elif ch == "\\":
                if i < n:
                    field.append(buf[i])
                    i += 1
                continue
            elif ch == delim and not paren and not quote and not bracket:
                ended_on_delim = True
                break
            field.append(ch)
        out.append("".join(field))
    if i < n or ended_on_delim:
        out.append(buf[i:])
    return out


def encode_mset(values: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    """``EXEC MSet`` data setting every pair exactly, whatever the values hold.

    Names must be plain dialplan variable names (our own constants) or one
    of the few functions flows may write (``CHANNEL(language)``: Asterisk's
    ``pbx_builtin_setvar_helper`` writes a name ending in ``)`` through the
    function); values are escaped for ``__ast_app_separate_args``.

    Raises:
        AGIProtocolError: a name is neither.
    """
    pairs = values.items() if isinstance(values, Mapping) else values
    parts = []
    for name, value in pairs:
        if name not in _PLAIN_NAMES:
            if not _VAR_NAME.fullmatch(name):
                raise AGIProtocolError(f"not a plain variable name: {name!r}")
            if len(_PLAIN_NAMES) < MAX_CACHED_NAMES:
                _PLAIN_NAMES.add(name)
        clean = sanitize(value)
        parts.append(f"{name}={_APP_SPECIAL_RE.sub(_ESCAPE, clean) if clean else ''}")
    return ",".join(parts)
