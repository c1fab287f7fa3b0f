"""Exactly where one caller ends: every branch of the flow walked with its probability.

The planner sizes lanes by the share of each tier's calls that reaches them.
Sampling that share is noisy (34 / 30 / 33 agents for 392 / 400 / 392 calls),
so it is computed instead: the live flow engine takes every answer the
caller model allows at each step (key presses, timeouts, hang-ups, failed
verifications, unanswered transfers: the very distribution the sampled walk
draws from, :meth:`simulator.flow_ivr.FlowIvr.answers`), and ``percent()``
splits are taken for each range of the call's split bucket. No second
interpreter: the engine's own ``step`` decides every branch.

A menu that can be retried forever has an infinite tree, but the engine's
future depends only on where the call is (every field of the engine's
state but its path and step count, and what the call's facts learnt: the
customer, the flow variables a fetch or a typed ``variable:`` wrote, the
language the channel was switched to, which offer or survey question an
offer or survey node is at), not on the path that led there:
equal states are merged, which makes the walk a finite absorbing Markov
chain whose exit probabilities are one linear solve. The chain leaves out
the engine's step budget (a caller still looping after 200 engine steps is
routed by the loop guard): that differs only for callers who loop dozens of
times, and a loop that is never left (a singular chain) is sampled instead,
as is a call reaching more than ``MAX_STATES`` states.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from dataclasses import replace
from functools import lru_cache
from itertools import count, pairwise

import numpy as np

from router.customers.model import Customer
from router.flows import actions as a
from router.flows.engine import Outcome, State
from router.flows.expr import Condition, Facts, split_bucket
from router.flows.language import LANGUAGE_KEY
from router.flows.marketing import place
from router.flows.model import FlowSet
from router.types import CallInfo, QueueSnapshot
from simulator.flow_ivr import FlowIvr
from simulator.ivr import MenuIvr
from simulator.model import FixedIvr, IvrExit, IvrModel

__all__ = ["MAX_STATES", "Exits", "exits", "percent_buckets"]

MAX_STATES = 2_000  # engine states one call may reach before the split samples instead

Exits = dict[IvrExit, float]  # how the caller leaves -> probability
Buckets = tuple[tuple[int, float], ...]  # a percent() bucket -> the share of calls it stands for
_NOT_KEY = frozenset({"facts", "path", "steps"})  # State fields the rest of a call ignores
_BUCKETS: dict[int, tuple[FlowSet, Buckets]] = {}  # id(flow set) -> (it, its buckets)

_PERCENT = re.compile(r"\bpercent\s*\(")
_PERCENT_LITERAL = re.compile(r"\bpercent\s*\(\s*(\d+)\s*\)")


def exits(
    ivr: IvrModel, call: CallInfo, customer: Customer | None, queues: Mapping[str, QueueSnapshot]
) -> Exits | None:
    """How a caller on ``call`` leaves the IVR, with probabilities; None if not enumerable.

    ``call.uniqueid`` is ignored for flows: every range of the ``percent()``
    bucket is walked and weighted by its width.
    """
    if isinstance(ivr, FixedIvr):
        return {IvrExit(ivr.service): 1.0}
    if isinstance(ivr, MenuIvr):
        return _menu_exits(ivr, call)
    if isinstance(ivr, FlowIvr):
        return _flow_exits(ivr, call, customer, queues)
    return None


def _menu_exits(ivr: MenuIvr, call: CallInfo) -> Exits:
    menu = ivr.menus.get(call.dnis) or ivr.menus["default"]
    out: Exits = {}
    total = menu.cumulative[-1]
    for service, lo, hi in zip(
        menu.services, (0.0, *menu.cumulative), menu.cumulative, strict=False
    ):
        if hi > lo:
            done = IvrExit(service)
            out[done] = out.get(done, 0.0) + (hi - lo) / total
    return out


def _flow_exits(
    ivr: FlowIvr, call: CallInfo, customer: Customer | None, queues: Mapping[str, QueueSnapshot]
) -> Exits | None:
    out: Exits = {}
    for bucket, weight in percent_buckets(ivr):
        one = replace(call, uniqueid=_bucket_id(bucket))
        found = _walk(ivr, one, customer, queues)
        if found is None:
            return None
        for done, p in found.items():
            out[done] = out.get(done, 0.0) + weight * p
    return out


def _walk(
    ivr: FlowIvr, call: CallInfo, customer: Customer | None, queues: Mapping[str, QueueSnapshot]
) -> Exits | None:
    """Absorption probabilities of the call's Markov chain (fixed split bucket)."""
    first = ivr.begin(call, customer, queues)
    if isinstance(first, IvrExit):
        return {first: 1.0}
    states, moves, leaves = _explore(ivr, first, customer)
    if states is None:
        return None
    n = len(states)
    q = np.zeros((n, n))
    r = np.zeros((n, len(leaves)))
    for i, j, p, absorbed in moves:
        (r if absorbed else q)[i, j] += p
    try:
        visits = np.linalg.solve(np.eye(n) - q.T, np.eye(n)[0])
    except np.linalg.LinAlgError:
        return None  # a loop the caller never leaves: only the step budget ends it
    reach = visits @ r
    if not (np.all(np.isfinite(reach)) and abs(reach.sum() - 1.0) < 1e-9 and reach.min() > -1e-12):
        return None
    return {done: float(max(p, 0.0)) for done, p in zip(leaves, reach, strict=True) if p > 0}


Move = tuple[int, int, float, bool]  # from state, to state or exit, probability, is an exit


def _explore(
    ivr: FlowIvr, first: Outcome, customer: Customer | None
) -> tuple[list[Hashable] | None, list[Move], list[IvrExit]]:
    """Every engine state the call can reach (merged by :func:`_key`) and the moves between.

    Each answer is followed on its own copy of the call's facts: the engine
    notes some things in them in place (a ``set`` node's language, an offer
    node's place), which on a live call is that call's own history but here
    would leak into sibling branches (and change their keys after filing).
    """
    index: dict[Hashable, int] = {_key(*first): 0}
    leaves: dict[IvrExit, int] = {}
    moves: list[Move] = []
    todo = [(0, first)]
    while todo:
        here, (state, acts) = todo.pop()
        for p, _seconds, then in ivr.answers(state, acts, customer).each():
            if isinstance(then, IvrExit):
                moves.append((here, leaves.setdefault(then, len(leaves)), p, True))
                continue
            own = state._replace(facts=state.facts.fork())
            nxt = ivr.follow(own, then)
            key = _key(*nxt)
            if key not in index:
                if len(index) >= MAX_STATES:
                    return None, moves, list(leaves)
                index[key] = len(index)
                todo.append((index[key], nxt))
            moves.append((here, index[key], p, False))
    return list(index), moves, list(leaves)


def _key(state: State, acts: tuple[a.Action, ...]) -> Hashable:
    """What the rest of a call depends on: where it is, not the path that led there.

    Every field of the engine's state counts (so a field added later, like
    the account held while its second factor is asked, cannot merge two
    different states) except the path and step count, which only record
    the past; of the facts, what a call learns on the way (the customer,
    and any public per-call value), not the call and queues it started with.
    """
    where = tuple(v for k, v in zip(state._fields, state, strict=True) if k not in _NOT_KEY)
    at = place(state)  # which offer or survey question (noted in the facts, not the state)
    return where, at, _learnt(state.facts), _frozen(acts[-1] if acts else None)


def _learnt(facts: Facts) -> Hashable:
    """The facts' values that may change during a call: the customer once verified, the
    flow variables, and the language last switched to (a ``say`` node speaks in it)."""
    fixed = {"call", "queues", "needs", "errors"}
    found = sorted(k for k in vars(facts) if k not in fixed and k[:1] != "_")
    learnt = tuple((k, _frozen(getattr(facts, k))) for k in found)
    return learnt, _frozen(facts.recall(LANGUAGE_KEY))


def _frozen(value: object) -> Hashable:
    """``value`` as a dict key: mappings (a SetVars, flow variables) by their sorted items."""
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, set | frozenset):
        return frozenset(_frozen(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def percent_buckets(ivr: FlowIvr) -> Buckets:
    """One split bucket per range the flows' ``percent(n)`` tests tell apart, with its weight.

    Buckets are uniform on 0..99 (a hash of the call id). Literal thresholds
    cut that range into a few classes; an expression as the argument cannot
    be read statically, so then every bucket is walked. Read once per flow
    set (the planner asks for every stream and minute it splits).
    """
    flows = ivr.engine.flows
    known = _BUCKETS.get(id(flows))
    if known is None or known[0] is not flows:
        if len(_BUCKETS) > 16:
            _BUCKETS.clear()
        known = _BUCKETS[id(flows)] = (flows, _buckets(ivr))
    return known[1]


def _buckets(ivr: FlowIvr) -> Buckets:
    cuts: set[int] = set()
    for cond in _conditions(ivr):
        text = cond.source
        literal = _PERCENT_LITERAL.findall(text)
        if len(literal) != len(_PERCENT.findall(text)):
            return tuple((b, 0.01) for b in range(100))
        cuts.update(min(100, int(n)) for n in literal)
    edges = sorted({0, 100} | {c for c in cuts if 0 < c < 100})
    return tuple((lo, (hi - lo) / 100) for lo, hi in pairwise(edges))


def _conditions(ivr: FlowIvr) -> list[Condition]:
    found: list[Condition] = []
    for flow in ivr.engine.flows.flows.values():
        for node in flow.nodes.values():
            _collect(node, found, 0)
    return found


def _collect(obj: object, found: list[Condition], depth: int) -> None:
    """Conditions inside one node (cases, set values, priorities), found by shape."""
    if isinstance(obj, Condition):
        found.append(obj)
    elif depth > 4 or isinstance(obj, str | bytes | int | float):
        return
    elif isinstance(obj, Mapping):
        for v in obj.values():
            _collect(v, found, depth + 1)
    elif isinstance(obj, tuple | list):
        for v in obj:
            _collect(v, found, depth + 1)
    elif hasattr(obj, "__dataclass_fields__"):
        for name in obj.__dataclass_fields__:
            _collect(getattr(obj, name), found, depth + 1)


@lru_cache(maxsize=128)
def _bucket_id(bucket: int) -> str:
    """A call id whose ``percent()`` bucket is ``bucket`` (the engine hashes the id)."""
    for n in count():
        uid = f"split.{bucket}.{n}"
        if split_bucket(uid) == bucket:
            return uid
    raise AssertionError("unreachable")  # pragma: no cover
