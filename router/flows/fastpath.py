"""Fast forms of the commonest conditions, so most calls never enter CEL.

Each shape recognised here is answered by a Python closure compiled at
load; tests check every shape gives exactly CEL's answer. Anything not
recognised stays a CEL program (see :mod:`router.flows.expr`).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from router.flows.fields import CUSTOMER_GETTERS, NOBODY

if TYPE_CHECKING:
    from router.flows.expr import Facts

__all__ = ["FastAll", "FastPath", "Test", "fast_path", "shortcut"]

Test = Callable[["Facts", str], Any]


@dataclass(frozen=True, slots=True)
class FastPath:
    """The commonest conditions, answered without a trip into CEL.

    ``customer.tier``, ``customer.list == "red"``, ``call.dnis != "10086"``
    and ``in_hours()`` / ``!in_hours()`` make up most operator conditions; a
    CEL call costs 1-3 us, a dictionary read well under one. Only text fields
    take the comparison form, so the result is exactly what CEL would give
    (tests check both agree). ``test`` is the condition compiled into one
    closure at load, so evaluating it is a call or two, not a chain of ifs.
    """

    variable: str = ""  # flat name, e.g. customer__tier; "" for in_hours()
    op: str = ""  # "", a comparison, "in_hours", "!in_hours", "percent"; "#<" etc. for size()
    literal: str | float = ""
    test: Test = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "test", _compile(self.variable, self.op, self.literal))

    def evaluate(self, facts: Facts, flow_key: str) -> Any:
        return self.test(facts, flow_key)


@dataclass(frozen=True, slots=True)
class FastAll:
    """``a && b && ...`` where every part is a fast comparison: all must hold.

    Every part yields a bool and never faults, so stopping at the first
    false part gives exactly CEL's answer for ``&&``.
    """

    parts: tuple[FastPath, ...]
    test: Test = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tests = tuple(part.test for part in self.parts)

        def all_hold(facts: Facts, flow_key: str) -> bool:
            for test in tests:  # noqa: SIM110 - all() with a generator costs more here
                if not test(facts, flow_key):
                    return False
            return True

        object.__setattr__(self, "test", all_hold)

    def evaluate(self, facts: Facts, flow_key: str) -> bool:
        return bool(self.test(facts, flow_key))


def _compile(variable: str, op: str, literal: str | float) -> Test:
    """One closure answering the condition for a call's facts."""
    if op in _HOURS_OPS:
        want = op == "in_hours"
        return lambda facts, flow_key: facts.is_open(flow_key, "") is want
    if op == "percent":
        return lambda facts, _flow_key: facts.percent(literal)
    read = _reader(variable)
    if op == "==":
        return lambda facts, flow_key: read(facts, flow_key) == literal
    if op == "!=":
        return lambda facts, flow_key: read(facts, flow_key) != literal
    if op.startswith("#"):  # size(field) compared
        sized = _COMPARE[op[1:]]
        return lambda facts, flow_key: sized(len(read(facts, flow_key)), literal)
    return (lambda facts, flow_key: _COMPARE[op](read(facts, flow_key), literal)) if op else read


def _reader(variable: str) -> Test:
    """Customer fields straight from the customer (no memo needed); the rest via the memo."""
    root, _, name = variable.partition("__")
    if root == "customer" and name in CUSTOMER_GETTERS:
        get = CUSTOMER_GETTERS[name]
        return lambda facts, _flow_key: get(facts.customer or NOBODY)
    return lambda facts, flow_key: facts.lookup(flow_key, variable)


_TEXT_FIELDS = frozenset(
    {"call.dnis", "call.caller", "call.caller_name", "call.language", "call.script"}
    | {"call.date", "call.time", "customer.id", "customer.name", "customer.tier"}
    | {"customer.list", "customer.lifecycle", "customer.language", "customer.account_manager"}
)
_FAST_PATH_RE = re.compile(r"\s*(call|customer)\.(\w+)\s*")
_FAST_CMP_RE = re.compile(r'\s*(call|customer)\.(\w+)\s*(==|!=)\s*"([\w .:@+-]*)"\s*')
_FAST_HOURS_RE = re.compile(r"\s*(!?)\s*in_hours\(\s*\)\s*")


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_HOURS_OPS = frozenset({"in_hours", "!in_hours"})
_NUMBER_FIELDS = frozenset(
    {"call.hour", "call.minute", "call.weekday", "customer.arpu", "customer.tenure_months"}
    | {"customer.credit_score"}
)
_QUEUE_NUMBERS = frozenset({"waiting", "ewt", "agents_available", "agents_logged_in"})
_QUEUE_NUMBERS |= {"longest_wait"}
_NUM = r"(-?\d+(?:\.\d+)?)"
_OP = r"(==|!=|<=|>=|<|>)"
_NUM_CMP_RE = re.compile(rf"\s*(call|customer)\.(\w+)\s*{_OP}\s*{_NUM}\s*")
_QUEUE_CMP_RE = re.compile(rf"\s*queues\.(\w+)\.(\w+)\s*{_OP}\s*{_NUM}\s*")
_SIZE_CMP_RE = re.compile(rf"\s*size\(\s*(call|customer)\.(\w+)\s*\)\s*{_OP}\s*(\d+)\s*")
_PERCENT_RE = re.compile(r"\s*percent\(\s*(\d+)\s*\)\s*")


def shortcut(source: str) -> FastPath | FastAll | None:
    """A fast form for ``&&`` chains of bool-valued simple tests, else None.

    Parts: the text comparisons and ``in_hours()`` of :func:`fast_path`,
    numeric fields compared with a number (``customer.tenure_months >= 12``,
    ``queues.vip.ewt < 60``), ``size(customer.offers) > 0`` and
    ``percent(n)``. Anything else (``||``, parentheses, ternaries) stays CEL.
    """
    if "||" in source or "?" in source:
        return None
    parts = [_fast_test(part) for part in source.split("&&")]
    if not all(parts):
        return None
    tests = tuple(part for part in parts if part is not None)
    return tests[0] if len(tests) == 1 else FastAll(tests)


def _fast_test(part: str) -> FastPath | None:
    """One bool-valued simple test, else None."""
    if m := _FAST_HOURS_RE.fullmatch(part):
        return FastPath(op=f"{m.group(1)}in_hours")
    if m := _PERCENT_RE.fullmatch(part):
        return FastPath(op="percent", literal=int(m.group(1)))
    if (m := _FAST_CMP_RE.fullmatch(part)) and f"{m.group(1)}.{m.group(2)}" in _TEXT_FIELDS:
        return FastPath(f"{m.group(1)}__{m.group(2)}", m.group(3), m.group(4))
    return _number_test(part)


def _number_test(part: str) -> FastPath | None:
    """A numeric field, or a size(), compared with a number."""
    if (m := _NUM_CMP_RE.fullmatch(part)) and f"{m.group(1)}.{m.group(2)}" in _NUMBER_FIELDS:
        return FastPath(f"{m.group(1)}__{m.group(2)}", m.group(3), _number(m.group(4)))
    if (m := _QUEUE_CMP_RE.fullmatch(part)) and m.group(2) in _QUEUE_NUMBERS:
        name = f"queues__{m.group(1)}__{m.group(2)}"
        return FastPath(name, m.group(3), _number(m.group(4)))
    m = _SIZE_CMP_RE.fullmatch(part)
    sized = _TEXT_FIELDS | {"customer.offers"}
    if m and f"{m.group(1)}.{m.group(2)}" in sized:
        return FastPath(f"{m.group(1)}__{m.group(2)}", f"#{m.group(3)}", int(m.group(4)))
    return None


def _number(text: str) -> float:
    """``12`` -> 12 (an int, as CEL reads it), ``0.5`` -> 0.5."""
    return float(text) if "." in text else int(text)


def fast_path(source: str) -> FastPath | None:
    """A FastPath when ``source`` has one of the simple shapes, else None."""
    if m := _FAST_HOURS_RE.fullmatch(source):
        return FastPath(op=f"{m.group(1)}in_hours")
    if m := _FAST_PATH_RE.fullmatch(source):
        return FastPath(f"{m.group(1)}__{m.group(2)}")
    m = _FAST_CMP_RE.fullmatch(source)
    if m and f"{m.group(1)}.{m.group(2)}" in _TEXT_FIELDS:
        return FastPath(f"{m.group(1)}__{m.group(2)}", m.group(3), m.group(4))
    return None
