"""One parse function per node type, registered by its ``type:`` name.

Each takes the shared :class:`~router.flows.build.FlowBuilder` (field
helpers, problem list) and the node's positioned mapping.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from router.flows import model as m
from router.flows.expr import ValueExpr, closest
from router.flows.section import Section, empty

if TYPE_CHECKING:
    from router.flows.build import FlowBuilder

__all__ = ["NODE_FIELDS", "PARSERS"]

NODE_FIELDS: dict[str, set[str]] = {
    "play": {"prompts", "next", "interruptible"},
    "menu": {"prompt", "options", "fallback", "timeout_s", "retries"}
    | {"invalid_prompt", "timeout_prompt"},
    "input": {"prompt", "pattern", "next", "fallback", "max_digits", "timeout_s", "retries"}
    | {"invalid_prompt", "variable", "verify", "account_prefix"},
    "branch": {"cases", "default"},
    "set": {"vars", "language", "next"},
    "queue": {"service", "priority", "max_wait_s", "overflow", "hours", "closed"}
    | {"announce_position", "prompt"},
    "transfer": {"to", "prompt"},
    "callback": {"service", "prompt"},
    "voicemail": {"mailbox", "prompt"},
    "hangup": {"prompt", "reason"},
    "subflow": {"flow", "next"},
    "return": set(),
}
VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_DIGIT_RE = re.compile(r"^[0-9*#]$")
# What the dialplan lets through (asterisk_conf/extensions.conf FILTERs the same sets and
# refuses a value that loses a character): a number or extension@context; a mailbox.
_DEST_RE = re.compile(r"[0-9*#+A-Za-z_-]{1,64}(@[0-9A-Za-z_-]{1,64})?")
_MAILBOX_RE = re.compile(r"[0-9A-Za-z_-]{1,64}(@[0-9A-Za-z_-]{1,64})?")

Parser = Callable[["FlowBuilder", str, Section], "m.Node | None"]
PARSERS: dict[str, Parser] = {}


def _parser(kind: str) -> Callable[[Parser], Parser]:
    def register(fn: Parser) -> Parser:
        PARSERS[kind] = fn
        return fn

    return register


@_parser("play")
def _play(b: FlowBuilder, name: str, body: Section) -> m.Node:
    raw = body.get("prompts")
    items = [raw] if isinstance(raw, str) else list(raw or [])
    if not items:
        b.fail(body.pos, "play: needs prompts: [name, ...]")
    positions = getattr(raw, "item_pos", None) or [body.at("prompts")] * len(items)
    prompts = tuple(b._prompt(body, "prompts", p, v) for v, p in zip(items, positions, strict=True))
    interruptible = bool(body.get("interruptible", False))
    return m.Play(name, body.pos[0], prompts, b._ref(body, "next", True), interruptible)


@_parser("menu")
def _menu(b: FlowBuilder, name: str, body: Section) -> m.Node:
    options = body.get("options")
    table: dict[str, str] = {}
    if not isinstance(options, Section) or not options:
        b.fail(body.at("options"), "menu: options must map digits to nodes")
    else:
        for digit, target in options.items():
            if not _DIGIT_RE.match(digit):
                b.fail(options.key_pos[digit], f"menu key {digit!r} is not a single digit, * or #")
            table[digit] = str(target)
            b.refs.append((str(target), options.at(digit), f"option {digit}"))
    return m.Menu(
        name,
        body.pos[0],
        b._prompt(body, "prompt"),
        table,
        b._ref(body, "fallback", True),
        b._number(body, "timeout_s", 5, 1, 60),
        int(b._number(body, "retries", 2, 0, 9)),
        b._prompt(body, "invalid_prompt"),
        b._prompt(body, "timeout_prompt"),
    )


@_parser("input")
def _input(b: FlowBuilder, name: str, body: Section) -> m.Node:
    source = str(body.get("pattern") or r"\d{4,12}")
    try:
        pattern = re.compile(source)
    except re.error as exc:
        b.fail(body.at("pattern"), f"pattern does not compile: {exc}")
        pattern = re.compile(r"\d+")
    variable = b._text(body, "variable")
    if variable and not VAR_RE.match(variable):
        b.fail(body.at("variable"), f"bad variable name {variable!r}")
    return m.Input(
        name,
        body.pos[0],
        b._prompt(body, "prompt"),
        pattern,
        b._ref(body, "next", True),
        b._ref(body, "fallback", True),
        int(b._number(body, "max_digits", 12, 1, 32)),
        b._number(body, "timeout_s", 8, 1, 60),
        int(b._number(body, "retries", 2, 0, 9)),
        b._prompt(body, "invalid_prompt"),
        variable,
        bool(body.get("verify", False)),
        b._text(body, "account_prefix"),
    )


@_parser("branch")
def _branch(b: FlowBuilder, name: str, body: Section) -> m.Node:
    cases = []
    raw = body.get("cases")
    for item, pos in zip(raw or [], getattr(raw, "item_pos", []), strict=False):
        if not isinstance(item, Section) or "when" not in item or "goto" not in item:
            b.fail(pos, "each case needs when: <expression> and goto: <node>")
            continue
        cond = b._expr(item["when"], item.at("when"))
        goto = b._ref(item, "goto", True)
        if cond is not None:
            cases.append(m.Case(cond, goto))
    return m.Branch(name, body.pos[0], tuple(cases), b._ref(body, "default", True))


@_parser("set")
def _set(b: FlowBuilder, name: str, body: Section) -> m.Node:
    values: dict[str, ValueExpr] = {}
    raw = body.get("vars") or empty()
    for var, value in raw.items():
        if not VAR_RE.match(var):
            b.fail(raw.key_pos[var], f"bad variable name {var!r}")
        if isinstance(value, Section) and "expr" in value:
            values[var] = ValueExpr(expr=b._expr(value["expr"], value.at("expr")))
        else:
            values[var] = ValueExpr(literal="" if value is None else str(value))
    return m.SetVars(
        name, body.pos[0], values, b._ref(body, "next", True), b._text(body, "language")
    )


@_parser("queue")
def _queue(b: FlowBuilder, name: str, body: Section) -> m.Node:
    service = b._text(body, "service", required=True)
    if service and b.known_queues and service not in b.known_queues:
        b.fail(body.at("service"), f"unknown queue {service!r}", closest(service, b.known_queues))
    hours = b._text(body, "hours")
    if hours and hours not in b.hour_names:
        b.fail(body.at("hours"), f"unknown hours {hours!r}", closest(hours, b.hour_names))
    priority = b._expr(body["priority"], body.at("priority")) if "priority" in body else None
    max_wait = int(b._number(body, "max_wait_s", 0, 0, 86400))
    overflow = b._ref(body, "overflow", max_wait > 0)
    closed = b._ref(body, "closed", bool(hours))
    return m.QueueNode(
        name,
        body.pos[0],
        service,
        priority,
        max_wait,
        overflow,
        hours,
        closed,
        bool(body.get("announce_position", False)),
        b._prompt(body, "prompt"),
    )


@_parser("transfer")
def _transfer(b: FlowBuilder, name: str, body: Section) -> m.Node:
    dest = b._text(body, "to", required=True)
    if dest and not _DEST_RE.fullmatch(dest):
        b.fail(
            body.at("to"),
            f"transfer destination {dest!r} must be a number or EXTEN@CONTEXT"
            " (A-Z a-z 0-9 - _, and * # + in the number)",
        )
    return m.Transfer(name, body.pos[0], dest, b._prompt(body, "prompt"))


@_parser("callback")
def _callback(b: FlowBuilder, name: str, body: Section) -> m.Node:
    service = b._text(body, "service", required=True)
    if service and b.known_queues and service not in b.known_queues:
        b.fail(body.at("service"), f"unknown queue {service!r}", closest(service, b.known_queues))
    return m.Callback(name, body.pos[0], service, b._prompt(body, "prompt"))


@_parser("voicemail")
def _voicemail(b: FlowBuilder, name: str, body: Section) -> m.Node:
    box = b._text(body, "mailbox", required=True)
    if box and not _MAILBOX_RE.fullmatch(box):
        b.fail(body.at("mailbox"), f"mailbox {box!r} must be BOX or BOX@CONTEXT (A-Z a-z 0-9 - _)")
    return m.Voicemail(name, body.pos[0], box, b._prompt(body, "prompt"))


@_parser("hangup")
def _hangup(b: FlowBuilder, name: str, body: Section) -> m.Node:
    return m.Hangup(name, body.pos[0], b._prompt(body, "prompt"), b._text(body, "reason") or "flow")


@_parser("subflow")
def _subflow(b: FlowBuilder, name: str, body: Section) -> m.Node:
    flow = b._text(body, "flow", required=True)
    b.positions[f"{name}.flow"] = body.at("flow")
    return m.SubFlow(name, body.pos[0], flow, b._ref(body, "next", True))


@_parser("return")
def _return(b: FlowBuilder, name: str, body: Section) -> m.Node:
    return m.Return(name, body.pos[0])
