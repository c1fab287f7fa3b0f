"""One validated flow file -> a frozen :class:`Flow`, collecting problems.

Shapes and types were checked by :mod:`router.flows.validate` against the
models of :mod:`router.flows.spec`; what is left needs the whole file or
the folder: references between nodes (checked once all names are known,
with the closest name suggested), service, prompt and hours names, and
conditions, compiled here once. Node types are compiled in
:mod:`router.flows.nodes`; the positioned YAML view says where each value
was written.
"""

from __future__ import annotations

from router.errors import Problem
from router.flows import model as m
from router.flows import spec
from router.flows.expr import Condition, closest, compile_expr, vars_read
from router.flows.hours import DAYS, BusinessHours, weekly_from
from router.flows.nodes import PARSERS
from router.flows.offers import OfferCatalog
from router.flows.section import Pos, Section

__all__ = ["FlowBuilder"]


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
        self.offers = OfferCatalog()  # offers.yaml, for offer nodes' ids (set by the loader)
        self.backends: frozenset[str] | None = None  # backends.yaml names; None: not checked
        self.node = ""  # the node being compiled (flow variables read are noted against it)
        self.reads: list[m.VarRead] = []

    def fail(self, pos: Pos, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.file, pos[0], pos[1], message, hint))

    def build(self, raw: Section, flow: spec.FlowFile, version: str) -> m.Flow:
        """Compile ``flow``; ``raw`` is the same file as positioned YAML."""
        hours = self._hours(flow)
        self.hour_names = frozenset(hours)
        table: Section = raw["nodes"]
        nodes: dict[str, m.Node] = {}
        for name, node in flow.nodes.items():
            self.positions[name] = table.key_pos[name]
            self.node = name
            nodes[name] = PARSERS[node.type](self, name, node, table[name])
        self.refs.append((flow.start, raw.at("start"), "start"))
        self._check_refs(set(flow.nodes))
        serves = raw.get("serves")
        self.positions["@dnis"] = serves.at("dnis") if isinstance(serves, Section) else (1, 1)
        langs = self.catalog.languages
        if flow.language and self.catalog.file and flow.language not in langs:
            hint = closest(flow.language, langs) or f"prompts.yaml has {', '.join(langs)}"
            self.fail(raw.at("language"), f"unknown prompt language {flow.language!r}", hint)
        if flow.open_hours and flow.open_hours not in hours:
            hint = closest(flow.open_hours, hours)
            self.fail(raw.at("open_hours"), f"unknown hours {flow.open_hours!r}", hint)
        return m.Flow(
            name=flow.flow,
            file=self.file,
            version=version,
            start=flow.start,
            nodes=nodes,
            dnis=flow.serves.dnis,
            script=flow.serves.script,
            subflow=flow.subflow,
            timezone=flow.timezone,
            hours=hours,
            default_hours=flow.open_hours,
            positions=self.positions,
            needs=frozenset(self.needs),
            reads=tuple(self.reads),
            language=flow.language,
        )

    # ---- helpers the node compilers share --------------------------------
    def ref(self, target: str, body: Section, key: str) -> str:
        """A reference to another node of this flow, checked once all names are known."""
        if target:
            self.refs.append((target, body.at(key), key))
        return target

    def prompt(self, name: str, pos: Pos) -> str:
        if name and self.catalog.file and name not in self.catalog.prompts:
            self.fail(pos, f"unknown prompt {name!r}", closest(name, self.catalog.prompts))
        return name

    def service(self, name: str, pos: Pos) -> str:
        if self.known_queues and name not in self.known_queues:
            self.fail(pos, f"unknown queue {name!r}", closest(name, self.known_queues))
        return name

    def expr(self, source: str, pos: Pos) -> Condition | None:
        cond, problems = compile_expr(source, self.known_queues, self.hour_names)
        for p in problems:
            self.fail(pos, p.message, p.hint)
        if cond is not None:
            self.needs |= cond.needs
        self.read_vars(vars_read(source), pos)
        return cond

    def read_vars(self, names: frozenset[str] | set[str], pos: Pos) -> None:
        """Note flow variables read at ``pos``: checked against the writes before it."""
        self.reads += [m.VarRead(self.node, name, pos[0], pos[1]) for name in sorted(names)]

    def _check_refs(self, names: set[str]) -> None:
        for target, pos, key in self.refs:
            if target not in names:
                self.fail(pos, f"{key}: unknown node {target!r}", closest(target, names))

    # ---- business hours ------------------------------------------------
    @staticmethod
    def _hours(flow: spec.FlowFile) -> dict[str, BusinessHours]:
        """Timetables; every field was validated, so this only reshapes them."""
        return {
            name: BusinessHours(
                name,
                h.timezone,
                weekly_from(h.weekly),
                h.holidays,
                frozenset(h.closed),
                frozenset(h.open),
                h.subdivision,
                DAYS.index(h.workday_hours),
            )
            for name, h in flow.hours.items()
        }
