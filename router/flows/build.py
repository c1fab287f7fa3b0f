"""One flow file's YAML mapping -> a frozen :class:`Flow`, collecting problems.

Each node type has a small parse function; shared helpers read a field,
check its type and record its position. References between nodes are
checked once all node names are known, with the closest name suggested.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from router.errors import Problem
from router.flows import model as m
from router.flows.expr import Condition, ValueExpr, closest, compile_expr
from router.flows.hours import BusinessHours, known_calendar, weekly_from
from router.flows.yamlpos import Pos, PosDict

__all__ = ["NODE_FIELDS", "TOP_FIELDS", "FlowBuilder"]

_COMMON = {"type", "note"}
NODE_FIELDS: dict[str, set[str]] = {
    "play": {"prompts", "next", "interruptible"},
    "menu": {"prompt", "options", "fallback", "timeout_s", "retries"}
    | {"invalid_prompt", "timeout_prompt"},
    "input": {"prompt", "pattern", "next", "fallback", "max_digits", "timeout_s", "retries"}
    | {"invalid_prompt", "variable", "verify"},
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
TOP_FIELDS = {"flow", "description", "serves", "subflow", "timezone", "hours", "open_hours"}
TOP_FIELDS |= {"start", "nodes"}
_VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_DIGIT_RE = re.compile(r"^[0-9*#]$")
_DEAD_END = "path ends here without queue, transfer, callback, voicemail or hangup"


class FlowBuilder:
    """Builds one flow; problems go to the shared list instead of raising."""

    def __init__(
        self,
        file: str,
        known_queues: frozenset[str],
        catalog: m.PromptCatalog,
        problems: list[Problem],
    ) -> None:
        self.file, self.known_queues, self.catalog = file, known_queues, catalog
        self.problems = problems
        self.refs: list[tuple[str, Pos, str]] = []  # (target node, where, field)
        self.positions: dict[str, Pos] = {}
        self.hour_names: frozenset[str] = frozenset()
        self.needs: set[str] = set()

    def fail(self, pos: Pos, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.file, pos[0], pos[1], message, hint))

    def build(self, raw: PosDict, version: str) -> m.Flow | None:
        self._unknown_keys(raw, TOP_FIELDS, "flow")
        name = self._text(raw, "flow", required=True)
        hours = self._hours(raw)
        self.hour_names = frozenset(hours)
        nodes_raw = raw.get("nodes")
        if not isinstance(nodes_raw, PosDict) or not nodes_raw:
            self.fail(raw.at("nodes"), "nodes: must map node names to node definitions")
            return None
        for key, pos in nodes_raw.dupes:
            self.fail(pos, f"node {key!r} is defined twice")
        nodes: dict[str, m.Node] = {}
        for node_name, body in nodes_raw.items():
            self.positions[node_name] = nodes_raw.key_pos[node_name]
            node = self._node(node_name, body, nodes_raw.key_pos[node_name])
            if node is not None:
                nodes[node_name] = node
        start = self._text(raw, "start", required=True)
        if start:
            self.refs.append((start, raw.at("start"), "start"))
        self._check_refs(set(nodes_raw))
        serves_raw = raw.get("serves")
        serves = serves_raw if isinstance(serves_raw, PosDict) else PosDict()
        if isinstance(serves_raw, PosDict):
            self.positions["@dnis"] = serves_raw.at("dnis")
        default_hours = self._text(raw, "open_hours")
        if default_hours and default_hours not in hours:
            self.fail(
                raw.at("open_hours"),
                f"unknown hours {default_hours!r}",
                closest(default_hours, hours),
            )
        return m.Flow(
            name=name,
            file=self.file,
            version=version,
            start=start,
            nodes=nodes,
            dnis=tuple(str(d) for d in (serves.get("dnis") or ())),
            script=str(serves.get("script") or ""),
            subflow=bool(raw.get("subflow", False)),
            timezone=str(raw.get("timezone") or "UTC"),
            hours=hours,
            default_hours=default_hours,
            positions=self.positions,
            needs=frozenset(self.needs),
        )

    # ---- field helpers -------------------------------------------------
    def _unknown_keys(self, body: PosDict, allowed: set[str], what: str) -> None:
        for key in body:
            if key not in allowed:
                self.fail(
                    body.key_pos[key], f"unknown field {key!r} in {what}", closest(key, allowed)
                )

    def _text(self, body: PosDict, key: str, required: bool = False) -> str:
        value = body.get(key)
        if value is None:
            if required:
                self.fail(body.pos, f"missing required field {key!r}")
            return ""
        if isinstance(value, dict | list):
            self.fail(body.at(key), f"{key}: expected text")
            return ""
        return str(value)

    def _number(self, body: PosDict, key: str, default: float, lo: float, hi: float) -> float:
        value = body.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            self.fail(body.at(key), f"{key}: expected a number between {lo:g} and {hi:g}")
            return default
        return float(value)

    def _ref(self, body: PosDict, key: str, required: bool) -> str:
        target = self._text(body, key)
        if target:
            self.refs.append((target, body.at(key), key))
        elif required:
            self.fail(body.pos, _DEAD_END, f"add {key}: <node>")
        return target

    def _prompt(self, body: PosDict, key: str, pos: Pos | None = None, value: Any = None) -> str:
        name = str(value if value is not None else body.get(key) or "")
        if name and self.catalog.file and name not in self.catalog.prompts:
            where = pos or body.at(key)
            self.fail(where, f"unknown prompt {name!r}", closest(name, self.catalog.prompts))
        return name

    def _expr(self, source: Any, pos: Pos) -> Condition | None:
        if not isinstance(source, str | bool | int):
            self.fail(pos, "expected an expression (text)")
            return None
        cond, problems = compile_expr(
            str(source).lower() if isinstance(source, bool) else str(source),
            self.known_queues,
            self.hour_names,
        )
        for p in problems:
            self.fail(pos, p.message, p.hint)
        if cond is not None:
            self.needs |= cond.needs
        return cond

    def _check_refs(self, names: set[str]) -> None:
        for target, pos, key in self.refs:
            if target not in names:
                self.fail(pos, f"{key}: unknown node {target!r}", closest(target, names))

    # ---- business hours ------------------------------------------------
    def _hours(self, raw: PosDict) -> dict[str, BusinessHours]:
        table = raw.get("hours")
        if table is None:
            return {}
        if not isinstance(table, PosDict):
            self.fail(raw.at("hours"), "hours: must map names to timetables")
            return {}
        return {
            name: h
            for name, body in table.items()
            if (h := self._one_hours(name, body, table.at(name)))
        }

    def _one_hours(self, name: str, body: Any, pos: Pos) -> BusinessHours | None:
        if not isinstance(body, PosDict):
            self.fail(pos, f"hours {name!r}: expected a mapping")
            return None
        self._unknown_keys(body, {"timezone", "weekly", "holidays", "closed", "open"}, "hours")
        try:
            weekly = weekly_from(body.get("weekly") or {})
        except ValueError as exc:
            self.fail(body.at("weekly"), f"hours {name!r}: {exc}")
            return None
        calendar = str(body.get("holidays") or "")
        if calendar and not known_calendar(calendar):
            self.fail(
                body.at("holidays"),
                f"unknown holiday calendar {calendar!r}",
                "use a country code such as CN",
            )
        tz = str(body.get("timezone") or raw_tz_default())
        return BusinessHours(
            name, tz, weekly, calendar, self._dates(body, "closed"), self._dates(body, "open")
        )

    def _dates(self, body: PosDict, key: str) -> frozenset[date]:
        out = set()
        for item in body.get(key) or ():
            if isinstance(item, date):
                out.add(item)
            else:
                self.fail(body.at(key), f"{key}: {item!r} is not a date (YYYY-MM-DD)")
        return frozenset(out)

    # ---- nodes ---------------------------------------------------------
    def _node(self, name: str, body: Any, pos: Pos) -> m.Node | None:
        if not isinstance(body, PosDict):
            self.fail(pos, f"node {name!r}: expected a mapping with type:")
            return None
        kind = str(body.get("type") or "")
        parse = _PARSERS.get(kind)
        if parse is None:
            self.fail(
                body.at("type") if kind else pos,
                f"node {name!r}: unknown type {kind!r}",
                closest(kind, _PARSERS),
            )
            return None
        self._unknown_keys(body, NODE_FIELDS[kind] | _COMMON, f"{kind} node")
        return parse(self, name, body)


def raw_tz_default() -> str:
    return "UTC"


Parser = Callable[[FlowBuilder, str, PosDict], "m.Node | None"]
_PARSERS: dict[str, Parser] = {}


def _parser(kind: str) -> Callable[[Parser], Parser]:
    def register(fn: Parser) -> Parser:
        _PARSERS[kind] = fn
        return fn

    return register


@_parser("play")
def _play(b: FlowBuilder, name: str, body: PosDict) -> m.Node:
    raw = body.get("prompts")
    items = [raw] if isinstance(raw, str) else list(raw or [])
    if not items:
        b.fail(body.pos, "play: needs prompts: [name, ...]")
    positions = getattr(raw, "item_pos", None) or [body.at("prompts")] * len(items)
    prompts = tuple(b._prompt(body, "prompts", p, v) for v, p in zip(items, positions, strict=True))
    interruptible = bool(body.get("interruptible", False))
    return m.Play(name, body.pos[0], prompts, b._ref(body, "next", True), interruptible)


@_parser("menu")
def _menu(b: FlowBuilder, name: str, body: PosDict) -> m.Node:
    options = body.get("options")
    table: dict[str, str] = {}
    if not isinstance(options, PosDict) or not options:
        b.fail(body.at("options"), "menu: options must map digits to nodes")
    else:
        for digit, pos in options.dupes:
            b.fail(pos, f"menu digit {digit!r} is used twice")
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
def _input(b: FlowBuilder, name: str, body: PosDict) -> m.Node:
    source = str(body.get("pattern") or r"\d{4,12}")
    try:
        pattern = re.compile(source)
    except re.error as exc:
        b.fail(body.at("pattern"), f"pattern does not compile: {exc}")
        pattern = re.compile(r"\d+")
    variable = b._text(body, "variable")
    if variable and not _VAR_RE.match(variable):
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
    )


@_parser("branch")
def _branch(b: FlowBuilder, name: str, body: PosDict) -> m.Node:
    cases = []
    raw = body.get("cases")
    for item, pos in zip(raw or [], getattr(raw, "item_pos", []), strict=False):
        if not isinstance(item, PosDict) or "when" not in item or "goto" not in item:
            b.fail(pos, "each case needs when: <expression> and goto: <node>")
            continue
        cond = b._expr(item["when"], item.at("when"))
        goto = b._ref(item, "goto", True)
        if cond is not None:
            cases.append(m.Case(cond, goto))
    return m.Branch(name, body.pos[0], tuple(cases), b._ref(body, "default", True))


@_parser("set")
def _set(b: FlowBuilder, name: str, body: PosDict) -> m.Node:
    values: dict[str, ValueExpr] = {}
    raw = body.get("vars") or PosDict()
    for var, value in raw.items():
        if not _VAR_RE.match(var):
            b.fail(raw.key_pos[var], f"bad variable name {var!r}")
        if isinstance(value, PosDict) and "expr" in value:
            values[var] = ValueExpr(expr=b._expr(value["expr"], value.at("expr")))
        else:
            values[var] = ValueExpr(literal="" if value is None else str(value))
    return m.SetVars(
        name, body.pos[0], values, b._ref(body, "next", True), b._text(body, "language")
    )


@_parser("queue")
def _queue(b: FlowBuilder, name: str, body: PosDict) -> m.Node:
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
def _transfer(b: FlowBuilder, name: str, body: PosDict) -> m.Node:
    dest = b._text(body, "to", required=True)
    if dest and not re.fullmatch(r"[0-9*#+A-Za-z_@/-]{1,64}", dest):
        b.fail(
            body.at("to"), f"transfer destination {dest!r} has characters a dial string cannot take"
        )
    return m.Transfer(name, body.pos[0], dest, b._prompt(body, "prompt"))


@_parser("callback")
def _callback(b: FlowBuilder, name: str, body: PosDict) -> m.Node:
    service = b._text(body, "service", required=True)
    if service and b.known_queues and service not in b.known_queues:
        b.fail(body.at("service"), f"unknown queue {service!r}", closest(service, b.known_queues))
    return m.Callback(name, body.pos[0], service, b._prompt(body, "prompt"))


@_parser("voicemail")
def _voicemail(b: FlowBuilder, name: str, body: PosDict) -> m.Node:
    return m.Voicemail(
        name, body.pos[0], b._text(body, "mailbox", required=True), b._prompt(body, "prompt")
    )


@_parser("hangup")
def _hangup(b: FlowBuilder, name: str, body: PosDict) -> m.Node:
    return m.Hangup(name, body.pos[0], b._prompt(body, "prompt"), b._text(body, "reason") or "flow")


@_parser("subflow")
def _subflow(b: FlowBuilder, name: str, body: PosDict) -> m.Node:
    flow = b._text(body, "flow", required=True)
    b.positions[f"{name}.flow"] = body.at("flow")
    return m.SubFlow(name, body.pos[0], flow, b._ref(body, "next", True))


@_parser("return")
def _return(b: FlowBuilder, name: str, body: PosDict) -> m.Node:
    return m.Return(name, body.pos[0])
