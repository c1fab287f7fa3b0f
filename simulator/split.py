"""Exactly where one caller ends: every branch of the flow walked with its probability.

The planner sizes lanes by the share of each tier's calls that reaches them.
Sampling that share is noisy (34 / 30 / 33 agents for 392 / 400 / 392 calls),
so it is computed instead: the live flow engine takes every answer the
caller model allows at each step (key presses, timeouts, hang-ups, failed
verifications, each from :meth:`simulator.flow_ivr.FlowIvr.outcomes`), and
``percent()`` splits are taken for each range of the call's split bucket.
No second interpreter: the engine's own ``step`` decides every branch.

A menu that can be retried forever has an infinite tree, but the engine's
future depends only on where the call is (flow, node, sub-flow stack,
attempt, reason, customer, whether a second factor is being asked, the flow
variables), not on the path that led there: equal states
are merged, which makes the walk a finite absorbing Markov chain whose exit
probabilities are one linear solve. The chain leaves out the engine's step
budget (a caller still looping after 200 engine steps is routed by the loop
guard): that differs only for callers who loop dozens of times, and a loop
that is never left (a singular chain) is sampled instead, as is a call
reaching more than ``MAX_STATES`` states.
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
from router.flows.engine import State
from router.flows.expr import Condition, split_bucket
from router.flows.marketing import place
from router.types import CallInfo, QueueSnapshot
from simulator.flow_ivr import FlowIvr
from simulator.ivr import MenuIvr
from simulator.model import FixedIvr, IvrExit, IvrModel

__all__ = ["MAX_STATES", "Exits", "exits", "percent_buckets"]

MAX_STATES = 2_000  # engine states one call may reach before the split samples instead

Exits = dict[IvrExit, float]  # how the caller leaves -> probability

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
    try:
        states, moves, leaves = _explore(ivr, first, customer)
    except ValueError:  # a caller step that draws twice: sample it instead
        return None
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
    ivr: FlowIvr, first: tuple[State, tuple[a.Action, ...]], customer: Customer | None
) -> tuple[list[Hashable] | None, list[Move], list[IvrExit]]:
    """Every engine state the call can reach (merged by :func:`_key`) and the moves between."""
    index: dict[Hashable, int] = {}
    leaves: dict[IvrExit, int] = {}
    moves: list[Move] = []
    todo = [first]
    index[_key(*first)] = 0
    while todo:
        state, acts = todo.pop()
        here = index[_key(state, acts)]
        for p, nxt in _answers(ivr, state, acts, customer):
            if isinstance(nxt, IvrExit):
                moves.append((here, leaves.setdefault(nxt, len(leaves)), p, True))
                continue
            key = _key(*nxt)
            if key not in index:
                if len(index) >= MAX_STATES:
                    return None, moves, list(leaves)
                index[key] = len(index)
                todo.append(nxt)
            moves.append((here, index[key], p, False))
    return list(index), moves, list(leaves)


def _answers(
    ivr: FlowIvr, state: State, acts: tuple[a.Action, ...], customer: Customer | None
) -> list[tuple[float, IvrExit | tuple[State, tuple[a.Action, ...]]]]:
    """Where each answer of the caller leads: an exit, or the engine's next step.

    A transfer whose person may not answer is an exit only when they do;
    otherwise the flow goes on at the transfer's fallback, as on a live call.
    """
    out: list[tuple[float, IvrExit | tuple[State, tuple[a.Action, ...]]]] = []
    for p, event, done in ivr.outcomes(state, acts, customer):
        if done is None:  # each branch its own facts: offer/survey nodes keep their place there
            out.append((p, ivr.engine.step(state._replace(facts=state.facts.fork()), event)))
            continue
        ring = ivr.ringing(state, done)
        if ring is None:
            out.append((p, done))
            continue
        answered, node = ring
        resumed = ivr.engine.resume(state.flow, node.fallback, state.facts, state.stack)
        out += [(p * answered, done), (p * (1.0 - answered), resumed)]
    return out


def _key(state: State, acts: tuple[a.Action, ...]) -> Hashable:
    """What the rest of a call depends on: where it is (and what its variables hold), not the
    path that led there. A fetch's or a typed ``variable:``'s value can steer a later branch."""
    asks = tuple(type(x).__name__ for x in acts if isinstance(x, a.Collect | a.Verify))
    where = (state.flow, state.node, state.stack, state.attempt, state.reason, state.customer)
    factor = bool(state.held)  # asking the second factor, not the account number again
    at = place(state)  # which offer or survey question (kept in the facts' memo)
    return (*where, factor, at, asks, tuple(sorted(state.facts.vars.items())))


def percent_buckets(ivr: FlowIvr) -> tuple[tuple[int, float], ...]:
    """One split bucket per range the flows' ``percent(n)`` tests tell apart, with its weight.

    Buckets are uniform on 0..99 (a hash of the call id). Literal thresholds
    cut that range into a few classes; an expression as the argument cannot
    be read statically, so then every bucket is walked.
    """
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
