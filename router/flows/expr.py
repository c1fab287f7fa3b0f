"""Operator conditions: CEL compiled once at load, evaluated per call.

CEL (through the Rust ``common-expression-language`` package) is
side-effect free and cannot reach Python objects, so operator text is never
``eval``-ed. The package only reports top-level variable names, so the field
names (``customer.tire`` typos) are checked here by scanning the expression
with string literals blanked out: cheap, and precise enough for operators.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import cel

from router.customers.model import Customer
from router.flows.fastpath import FastAll, FastPath, fast_path, shortcut
from router.flows.fields import (
    CALL_FIELDS,
    CALL_GETTERS,
    CUSTOMER_FIELDS,
    CUSTOMER_GETTERS,
    NOBODY,
    QUEUE_FIELDS,
    QUEUE_GETTERS,
    call_vars,
    customer_vars,
    queue_vars,
)
from router.types import CallInfo, QueueSnapshot

__all__ = [
    "CALL_FIELDS",
    "CUSTOMER_FIELDS",
    "FUNCTIONS",
    "QUEUE_FIELDS",
    "Condition",
    "ExprProblem",
    "Facts",
    "FastAll",
    "FastPath",
    "ValueExpr",
    "closest",
    "compile_expr",
    "fast_path",
    "flatten",
    "needs_of",
    "shortcut",
    "vars_read",
]

FUNCTIONS = frozenset({"percent", "is_open", "in_hours"})
_STRING_RE = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")
_FIELD_RE = re.compile(r"(?<![\w.])(call|customer|queues|vars)\s*\.\s*(\w+)(?:\s*\.\s*(\w+))?")
_VAR_READ_RE = re.compile(r"(?<![\w.])vars\s*\.\s*(\w+)")
_MACRO_VAR_RE = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*(\w+)\s*,")
_IS_OPEN_RE = re.compile(r"is_open\s*\(\s*[\"'](\w+)[\"']\s*\)")


@dataclass(frozen=True, slots=True)
class ExprProblem:
    message: str
    hint: str = ""


@dataclass(frozen=True, slots=True)
class Condition:
    """A compiled expression plus the source an operator wrote."""

    source: str
    program: Any = field(repr=False, compare=False)
    queues: frozenset[str] = frozenset()
    needs: frozenset[str] = frozenset()
    fast: FastPath | FastAll | None = None

    def evaluate(self, facts: Facts, flow_key: str) -> Any:
        """Run against one call; raises ``ValueError`` on a run-time CEL fault."""
        if self.fast is not None:
            return self.fast.test(facts, flow_key)
        try:
            return _evaluator().run(self.program, facts, flow_key)
        except (KeyError, TypeError, RuntimeError, ValueError) as exc:
            raise ValueError(f"{self.source!r}: {exc}") from None


@dataclass(frozen=True, slots=True)
class ValueExpr:
    """A ``set`` value: a literal string, or an expression rendered to text."""

    literal: str = ""
    expr: Condition | None = None


def closest(name: str, choices: Any) -> str:
    """``did you mean 'x'?`` for the nearest choice, or "" when nothing is near."""
    found = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.6)
    return f"did you mean {found[0]!r}?" if found else ""


def compile_expr(
    source: str, known_queues: frozenset[str], hours: frozenset[str]
) -> tuple[Condition | None, list[ExprProblem]]:
    """Compile and check one expression; returns problems instead of raising."""
    try:
        program = cel.compile(source)
    except ValueError as exc:
        detail = str(exc).split("ERROR: <input>:", 1)[-1].split("\n", 1)[0]
        return None, [ExprProblem(f"expression does not compile: {detail.strip()}")]
    bare = _STRING_RE.sub('""', source)
    problems, queues = _check_fields(bare, known_queues)
    problems += _check_names(program, bare)
    for name in _IS_OPEN_RE.findall(source):
        if name not in hours:
            hint = closest(name, hours)
            problems.append(ExprProblem(f"unknown business hours {name!r}", hint))
    if problems:
        return None, problems
    return _flat_condition(source, bare, program, frozenset(queues)), []


def _flat_condition(source: str, bare: str, program: Any, queues: frozenset[str]) -> Condition:
    """Compile ``customer.tier`` as the flat variable ``customer__tier``.

    Flat names let the shared context's resolver answer each field read
    straight from the call's memo (see ``_Evaluator``). Falls back to the
    nested form (and the whole root) if the rewrite does not compile.
    """
    try:
        flat = cel.compile(flatten(source))
    except ValueError:
        roots = {root for root, _f, _s in _FIELD_RE.findall(bare)}
        return Condition(source, program, queues, frozenset(f"{r}.*" for r in roots))
    fast = fast_path(source) or shortcut(source)
    return Condition(source, flat, queues, needs_of(bare), fast)


def flatten(source: str) -> str:
    """Rewrite field paths outside string literals: ``queues.vip.ewt`` -> ``queues__vip__ewt``."""
    out, last = [], 0
    for lit in _STRING_RE.finditer(source):
        out.append(_FIELD_RE.sub(_flat_name, source[last : lit.start()]))
        out.append(lit.group(0))
        last = lit.end()
    out.append(_FIELD_RE.sub(_flat_name, source[last:]))
    return "".join(out)


def _flat_name(match: re.Match[str]) -> str:
    root, first, second = match.groups()
    if root == "queues":
        return f"queues__{first}__{second}" if second else match.group(0)
    tail = f".{second}" if second else ""  # e.g. customer.offers.size() keeps its call
    return f"{root}__{first}{tail}"


_BARE_ROOT_RE = re.compile(r"(?<![\w.])(call|customer|queues|vars)\b(?!\s*\.)")
_BARE_QUEUE_RE = re.compile(r"(?<![\w.])queues\s*\.\s*(\w+)\b(?!\s*\.)")


def needs_of(bare: str) -> frozenset[str]:
    """Which fields an expression reads, as ``root.field`` / ``queues.q.field`` / ``root.*``.

    Converting values into a CEL context costs ~1 us per field, far more
    than evaluating, so a call's context holds only what its flows read.
    """
    needs = {f"{root}.*" for root in _BARE_ROOT_RE.findall(bare)}
    if _BARE_QUEUE_RE.search(bare):
        needs.add("queues.*")
    for root, first, second in _FIELD_RE.findall(bare):
        if root != "queues":
            needs.add(f"{root}.{first}")
        elif second:
            needs.add(f"queues.{first}.{second}")
    return frozenset(needs)


def vars_read(source: str) -> frozenset[str]:
    """Flow variables an expression reads (``vars.balance`` -> ``balance``), for the check."""
    return frozenset(_VAR_READ_RE.findall(_STRING_RE.sub('""', source)))


def _check_fields(bare: str, known_queues: frozenset[str]) -> tuple[list[ExprProblem], set[str]]:
    problems: list[ExprProblem] = []
    queues: set[str] = set()
    for root, first, second in _FIELD_RE.findall(bare):
        if root in _ROOTS and first not in _ROOTS[root]:
            problems.append(
                ExprProblem(f"unknown field {root}.{first}", closest(first, _ROOTS[root]))
            )
        elif root == "queues":
            queues.add(first)
            if known_queues and first not in known_queues:
                problems.append(
                    ExprProblem(f"unknown queue {first!r}", closest(first, known_queues))
                )
            if second and second not in QUEUE_FIELDS:
                hint = closest(second, QUEUE_FIELDS)
                problems.append(ExprProblem(f"unknown queue field {second!r}", hint))
    return problems, queues


def _check_names(program: Any, bare: str) -> list[ExprProblem]:
    refs = program.references()
    allowed = {"call", "customer", "queues", "vars", *_MACRO_VAR_RE.findall(bare)}
    problems = [
        ExprProblem(f"unknown name {name!r}", closest(name, allowed))
        for name in refs["variables"]
        if name not in allowed
    ]
    builtin = ("_", "@", "!")
    problems += [
        ExprProblem(f"unknown function {name}()", closest(name, FUNCTIONS))
        for name in refs["functions"]
        if not name.startswith(builtin) and name not in FUNCTIONS and name not in _CEL_BUILTINS
    ]
    return problems


_CEL_BUILTINS = frozenset(
    {"size", "has", "int", "uint", "double", "string", "bool", "bytes", "type", "duration"}
    | {"timestamp", "matches", "contains", "startsWith", "endsWith", "exists", "all"}
    | {"exists_one", "map", "filter", "max", "min", "dyn", "lowerAscii", "upperAscii"}
)


def split_bucket(uniqueid: str) -> int:
    """0..99, fixed per call, so ``percent(n)`` is reproducible in traces."""
    return int(hashlib.sha256(uniqueid.encode()).hexdigest()[:8], 16) % 100


class Facts:
    """Everything conditions may read about one call, computed on first read.

    Not frozen on purpose: it memoises each value an expression asks for.
    A call's facts are owned by that call and never shared.
    """

    def __init__(
        self,
        call: CallInfo,
        customer: Customer | None,
        queues: Mapping[str, QueueSnapshot],
        *,
        hours: Callable[[str, str, datetime], bool] | None = None,
        timezone: Callable[[str], str] | None = None,
        needs: frozenset[str] | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> None:
        self.call, self.customer, self.queues = call, customer, queues
        self.needs = needs
        self.vars: Mapping[str, str] = variables or {}  # flow variables (``vars.NAME``)
        self._hours = hours or (lambda _flow, _name, _at: True)
        self._timezone = timezone or (lambda _flow: "UTC")
        self._bucket = -1  # percent()'s split bucket, hashed on first use
        self._cache: dict[tuple[str, str], Any] = {}
        self.errors: list[str] = []  # run-time condition faults, for the call record

    def with_customer(self, customer: Customer | None) -> Facts:
        """Same call, now knowing the customer (after account verification)."""
        return Facts(
            self.call,
            customer,
            self.queues,
            hours=self._hours,
            timezone=self._timezone,
            needs=self.needs,
            variables=self.vars,
        )

    def with_vars(self, values: Mapping[str, str]) -> Facts:
        """Same call with flow variables written (a fetch's answer): a new value, never a mutation.

        Why a copy: a State (and so its Facts) is kept whole in traces; the
        memo is carried over except the variables, and run-time faults keep
        going to the same list so the call record sees all of them.
        """
        out = Facts(
            self.call,
            self.customer,
            self.queues,
            hours=self._hours,
            timezone=self._timezone,
            needs=self.needs,
            variables={**self.vars, **values},
        )
        out._bucket, out.errors = self._bucket, self.errors
        out._cache = {k: v for k, v in self._cache.items() if not k[1].startswith("vars")}
        return out

    def fork(self) -> Facts:
        """A copy for one branch of an enumeration (simulator.split): the memo is
        copied, so a branch's keeps (an offer node's place) never reach another."""
        out = copy.copy(self)
        out._cache, out.errors = dict(self._cache), list(self.errors)
        return out

    def percent(self, n: Any) -> bool:
        if self._bucket < 0:
            self._bucket = split_bucket(self.call.uniqueid)
        return self._bucket < int(n)

    def is_open(self, flow_key: str, name: str) -> bool:
        return self._hours(flow_key, name, self.call.at)

    def lookup(self, flow_key: str, name: str) -> Any:
        """The value of flat variable ``name`` (``customer__tier``) or root ``customer``."""
        key = (flow_key, name)
        value = self._cache.get(key, _MISSING)  # not try/except: most reads are first reads
        if value is _MISSING:
            value = self._cache[key] = self._compute(flow_key, name)
        return value

    def remember(self, key: tuple[str, str], compute: Callable[[], Any]) -> Any:
        """Memoise a per-call value (the engine keeps routing decisions here)."""
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = compute()
            return value

    def recall(self, key: tuple[str, str]) -> Any:
        """A value kept with :meth:`keep`, or None (cheaper than a closure per call)."""
        return self._cache.get(key)

    def keep(self, key: tuple[str, str], value: Any) -> Any:
        self._cache[key] = value
        return value

    def _local_time(self, flow_key: str) -> datetime:
        at = self.call.at
        return at.astimezone(ZoneInfo(self._timezone(flow_key))) if at.tzinfo else at

    def _compute(self, flow_key: str, name: str) -> Any:
        root, _, rest = name.partition("__")
        if root == "call":
            at = self._local_time(flow_key)
            return CALL_GETTERS[rest](self.call, at) if rest else call_vars(self.call, at)
        if root == "customer":
            who = self.customer or NOBODY
            return CUSTOMER_GETTERS[rest](who) if rest else customer_vars(self.customer)
        if root == "queues" and not rest:
            return {q: queue_vars(snap) for q, snap in self.queues.items()}
        if root == "queues":
            queue, _, field = rest.partition("__")
            snap = self.queues.get(queue) or QueueSnapshot(queue, open=False)
            return QUEUE_GETTERS[field](snap)
        if root == "vars":  # a variable not written yet: the condition's fault path
            return self.vars.get(rest) if rest else dict(self.vars)
        return None  # unknown: CEL reports an undefined variable


class _Evaluator:
    """One CEL context per thread, reading the current call through a resolver.

    Building a ``cel.Context`` with variables costs ~20-40 us per call (the
    values are converted into the Rust environment, which is then built on
    first use); a shared context whose resolver reads the call being
    evaluated costs ~1 us per variable read instead. Evaluation is
    synchronous, so "current" cannot change during one ``execute``.
    """

    def __init__(self) -> None:
        self.facts: Facts | None = None
        self.flow = ""
        ctx = cel.Context()
        ctx.set_variable_resolver(self._resolve)
        ctx.add_function("percent", lambda n: self._facts().percent(n))
        ctx.add_function("is_open", lambda name: self._facts().is_open(self.flow, str(name)))
        ctx.add_function("in_hours", lambda: self._facts().is_open(self.flow, ""))
        self.context = ctx

    def _facts(self) -> Facts:
        if self.facts is None:
            raise RuntimeError("no call is being evaluated")
        return self.facts

    def _resolve(self, name: str) -> Any:
        return None if self.facts is None else self.facts.lookup(self.flow, name)

    def run(self, program: Any, facts: Facts, flow_key: str) -> Any:
        self.facts, self.flow = facts, flow_key
        try:
            return program.execute(self.context)
        finally:
            self.facts = None


_LOCAL = threading.local()


def _evaluator() -> _Evaluator:
    found: _Evaluator | None = getattr(_LOCAL, "evaluator", None)
    if found is None:
        found = _LOCAL.evaluator = _Evaluator()
    return found


_MISSING = object()
_ROOTS = {"call": CALL_FIELDS, "customer": CUSTOMER_FIELDS}
