"""One flow file's YAML mapping -> a frozen :class:`Flow`, collecting problems.

Node types are parsed in :mod:`router.flows.nodes`; shared helpers here read a field,
check its type and record its position. References between nodes are
checked once all node names are known, with the closest name suggested.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from router.errors import Problem
from router.flows import model as m
from router.flows.expr import Condition, closest, compile_expr
from router.flows.hours import BusinessHours, known_calendar, weekly_from
from router.flows.nodes import NODE_FIELDS, PARSERS
from router.flows.section import Pos, Section, empty

__all__ = ["TOP_FIELDS", "FlowBuilder"]

_COMMON = {"type", "note"}
TOP_FIELDS = {"flow", "description", "serves", "subflow", "timezone", "hours", "open_hours"}
TOP_FIELDS |= {"start", "nodes"}
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

    def build(self, raw: Section, version: str) -> m.Flow | None:
        self._unknown_keys(raw, TOP_FIELDS, "flow")
        name = self._text(raw, "flow", required=True)
        hours = self._hours(raw)
        self.hour_names = frozenset(hours)
        nodes = self._nodes(raw)
        if nodes is None:
            return None
        start = self._text(raw, "start", required=True)
        if start:
            self.refs.append((start, raw.at("start"), "start"))
        self._check_refs(set(raw["nodes"]))
        serves_raw = raw.get("serves")
        serves = serves_raw if isinstance(serves_raw, Section) else empty()
        self.positions["@dnis"] = serves.at("dnis") if serves_raw else (1, 1)
        default_hours = self._text(raw, "open_hours")
        if default_hours and default_hours not in hours:
            hint = closest(default_hours, hours)
            self.fail(raw.at("open_hours"), f"unknown hours {default_hours!r}", hint)
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

    def _nodes(self, raw: Section) -> dict[str, m.Node] | None:
        table = raw.get("nodes")
        if not isinstance(table, Section) or not table:
            self.fail(raw.at("nodes"), "nodes: must map node names to node definitions")
            return None
        nodes: dict[str, m.Node] = {}
        for node_name, body in table.items():
            self.positions[node_name] = table.key_pos[node_name]
            node = self._node(node_name, body, table.key_pos[node_name])
            if node is not None:
                nodes[node_name] = node
        return nodes

    # ---- field helpers -------------------------------------------------
    def _unknown_keys(self, body: Section, allowed: set[str], what: str) -> None:
        for key in body:
            if key not in allowed:
                self.fail(
                    body.key_pos[key], f"unknown field {key!r} in {what}", closest(key, allowed)
                )

    def _text(self, body: Section, key: str, required: bool = False) -> str:
        value = body.get(key)
        if value is None:
            if required:
                self.fail(body.pos, f"missing required field {key!r}")
            return ""
        if isinstance(value, dict | list):
            self.fail(body.at(key), f"{key}: expected text")
            return ""
        return str(value)

    def _number(self, body: Section, key: str, default: float, lo: float, hi: float) -> float:
        value = body.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            self.fail(body.at(key), f"{key}: expected a number between {lo:g} and {hi:g}")
            return default
        return float(value)

    def _ref(self, body: Section, key: str, required: bool) -> str:
        target = self._text(body, key)
        if target:
            self.refs.append((target, body.at(key), key))
        elif required:
            self.fail(body.pos, _DEAD_END, f"add {key}: <node>")
        return target

    def _prompt(self, body: Section, key: str, pos: Pos | None = None, value: Any = None) -> str:
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
    def _hours(self, raw: Section) -> dict[str, BusinessHours]:
        table = raw.get("hours")
        if table is None:
            return {}
        if not isinstance(table, Section):
            self.fail(raw.at("hours"), "hours: must map names to timetables")
            return {}
        return {
            name: h
            for name, body in table.items()
            if (h := self._one_hours(name, body, table.at(name)))
        }

    def _one_hours(self, name: str, body: Any, pos: Pos) -> BusinessHours | None:
        if not isinstance(body, Section):
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
        tz = str(body.get("timezone") or "UTC")
        return BusinessHours(
            name, tz, weekly, calendar, self._dates(body, "closed"), self._dates(body, "open")
        )

    def _dates(self, body: Section, key: str) -> frozenset[date]:
        out = set()
        for item in body.get(key) or ():
            if isinstance(item, date):
                out.add(item)
            else:
                self.fail(body.at(key), f"{key}: {item!r} is not a date (YYYY-MM-DD)")
        return frozenset(out)

    # ---- nodes ---------------------------------------------------------
    def _node(self, name: str, body: Any, pos: Pos) -> m.Node | None:
        if not isinstance(body, Section):
            self.fail(pos, f"node {name!r}: expected a mapping with type:")
            return None
        kind = str(body.get("type") or "")
        parse = PARSERS.get(kind)
        if parse is None:
            self.fail(
                body.at("type") if kind else pos,
                f"node {name!r}: unknown type {kind!r}",
                closest(kind, PARSERS),
            )
            return None
        self._unknown_keys(body, NODE_FIELDS[kind] | _COMMON, f"{kind} node")
        return parse(self, name, body)
