"""Operator conditions: CEL compiled once at load, evaluated per call.

CEL (through the Rust ``common-expression-language`` package) is
side-effect free and cannot reach Python objects, so operator text is never
``eval``-ed. The package only reports top-level variable names, so the field
names (``customer.tire`` typos) are checked here by scanning the expression
with string literals blanked out: cheap, and precise enough for operators.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import cel

from router.customer import Customer
from router.types import CallInfo, QueueSnapshot

__all__ = [
    "CALL_FIELDS",
    "CUSTOMER_FIELDS",
    "FUNCTIONS",
    "QUEUE_FIELDS",
    "Condition",
    "ExprProblem",
    "Facts",
    "ValueExpr",
    "closest",
    "compile_expr",
    "needs_of",
]

CALL_FIELDS = frozenset(
    {"dnis", "caller", "anonymous", "caller_name", "language", "script", "params"}
    | {"hour", "minute", "weekday", "date", "time"}
)
CUSTOMER_FIELDS = frozenset(
    {"known", "id", "name", "tier", "list", "lifecycle", "arpu", "tenure_months"}
    | {"credit_score", "offers", "language", "account_manager"}
)
QUEUE_FIELDS = frozenset(
    {"waiting", "ewt", "agents_available", "agents_logged_in", "longest_wait", "open"}
)
FUNCTIONS = frozenset({"percent", "is_open", "in_hours"})
_ROOTS = {"call": CALL_FIELDS, "customer": CUSTOMER_FIELDS}
_STRING_RE = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")
_FIELD_RE = re.compile(r"(?<![\w.])(call|customer|queues)\s*\.\s*(\w+)(?:\s*\.\s*(\w+))?")
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

    def evaluate(self, facts: Facts, flow_key: str) -> Any:
        """Run against one call; raises ``ValueError`` on a run-time CEL fault."""
        try:
            return self.program.execute(facts.context(flow_key))
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
    return Condition(source, program, frozenset(queues), needs_of(bare)), []


_BARE_ROOT_RE = re.compile(r"(?<![\w.])(call|customer|queues)\b(?!\s*\.)")
_BARE_QUEUE_RE = re.compile(r"(?<![\w.])queues\s*\.\s*(\w+)\b(?!\s*\.)")


def needs_of(bare: str) -> frozenset[str]:
    """Which fields an expression reads, as ``root.field`` / ``queues.q.field`` / ``root.*``.

    Converting values into a CEL context costs ~1 us per field, far more
    than evaluating, so a call's context holds only what its flows read.
    """
    needs = {f"{root}.*" for root in _BARE_ROOT_RE.findall(bare)}
    needs |= {f"queues.{q}.*" for q in _BARE_QUEUE_RE.findall(bare)}
    for root, first, second in _FIELD_RE.findall(bare):
        if root != "queues":
            needs.add(f"{root}.{first}")
        elif second:
            needs.add(f"queues.{first}.{second}")
    return frozenset(needs)


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
    allowed = {"call", "customer", "queues", *_MACRO_VAR_RE.findall(bare)}
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
    """Everything conditions may read about one call, as CEL values.

    Not frozen on purpose: it memoises one ``cel.Context`` per (flow,
    customer) because building a context costs ~10x more than evaluating
    an expression in it. It is owned by one call and never shared.
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
    ) -> None:
        self.call, self.customer, self.queues = call, customer, queues
        self.needs = needs
        self._hours = hours or (lambda _flow, _name, _at: True)
        self._timezone = timezone or (lambda _flow: "UTC")
        self._bucket = split_bucket(call.uniqueid)
        self._contexts: dict[tuple[str, int], cel.Context] = {}

    def with_customer(self, customer: Customer | None) -> Facts:
        """Same call, now knowing the customer (after account verification)."""
        return Facts(
            self.call,
            customer,
            self.queues,
            hours=self._hours,
            timezone=self._timezone,
            needs=self.needs,
        )

    def context(self, flow_key: str) -> cel.Context:
        key = (flow_key, id(self.customer))
        ctx = self._contexts.get(key)
        if ctx is None:
            ctx = self._contexts[key] = self._build(flow_key)
        return ctx

    def _build(self, flow_key: str) -> cel.Context:
        at = self.call.at
        if at.tzinfo:
            at = at.astimezone(ZoneInfo(self._timezone(flow_key)))
        bucket, call_at, hours = self._bucket, self.call.at, self._hours
        queues = {name: queue_vars(q) for name, q in self.queues.items()}
        for need in self.needs or ():
            parts = need.split(".")
            if parts[0] == "queues" and len(parts) == 3 and parts[1] not in queues:
                queues[parts[1]] = queue_vars(QueueSnapshot(parts[1], open=False))
        return cel.Context(
            variables={
                "call": _trim(call_vars(self.call, at), "call", self.needs),
                "customer": _trim(customer_vars(self.customer), "customer", self.needs),
                "queues": _trim_queues(queues, self.needs),
            },
            functions={
                "percent": lambda n: bucket < int(n),
                "is_open": lambda name: hours(flow_key, str(name), call_at),
                "in_hours": lambda: hours(flow_key, "", call_at),
            },
        )


def _trim(values: dict[str, Any], root: str, needs: frozenset[str] | None) -> dict[str, Any]:
    if needs is None or f"{root}.*" in needs:
        return values
    return {k: v for k, v in values.items() if f"{root}.{k}" in needs}


def _trim_queues(
    queues: dict[str, dict[str, Any]], needs: frozenset[str] | None
) -> dict[str, dict[str, Any]]:
    if needs is None or "queues.*" in needs:
        return queues
    out: dict[str, dict[str, Any]] = {}
    for name, values in queues.items():
        kept = _trim(values, f"queues.{name}", needs)
        if kept:
            out[name] = kept
    return out


def call_vars(call: CallInfo, at: datetime) -> dict[str, Any]:
    return {
        "dnis": call.dnis,
        "caller": call.caller,
        "anonymous": not call.caller,
        "caller_name": call.caller_name,
        "language": call.language,
        "script": call.script,
        "params": dict(call.params),
        "hour": at.hour,
        "minute": at.minute,
        "weekday": at.isoweekday(),
        "date": at.date().isoformat(),
        "time": at.strftime("%H:%M"),
    }


def customer_vars(customer: Customer | None) -> dict[str, Any]:
    if customer is None:
        customer = Customer(customer_id="")
    return {
        "known": bool(customer.customer_id),
        "id": customer.customer_id,
        "name": customer.name,
        "tier": customer.tier,
        "list": str(customer.list.value),
        "lifecycle": str(customer.lifecycle.value),
        "arpu": float(customer.arpu),
        "tenure_months": int(customer.tenure_months),
        "credit_score": int(customer.credit_score),
        "offers": list(customer.offers),
        "language": customer.language,
        "account_manager": customer.account_manager,
    }


def queue_vars(q: QueueSnapshot) -> dict[str, Any]:
    return {
        "waiting": q.waiting,
        "ewt": float(q.ewt),
        "agents_available": q.agents_available,
        "agents_logged_in": q.agents_logged_in,
        "longest_wait": float(q.longest_wait),
        "open": q.open,
    }
