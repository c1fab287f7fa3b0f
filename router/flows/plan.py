"""Flows compiled for walking: one :class:`Step` per node, built once per flow set.

Why: a call visits ~6 nodes and the engine used to rediscover each one on
every visit (two dictionary hops, an ``isinstance`` chain, prompt paths,
a fresh ``Play``/``Collect``/terminal action and ``Visit``). None of that
depends on the call, so it is done here once, when the flow set is first
walked, and a call only reads a small integer ``kind`` and prebuilt,
frozen actions. The plan lives in ``FlowSet.compiled`` so every call on
the same flow version shares it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from router.flows import actions as a
from router.flows import model as m

__all__ = [
    "ALL_DIGITS",
    "BRANCH",
    "DATA",
    "FETCH",
    "INPUT",
    "MENU",
    "NOTIFY",
    "OFFER",
    "PERSON",
    "PLAY",
    "QUEUE",
    "RETURN",
    "SAY",
    "SET",
    "SUBFLOW",
    "SURVEY",
    "TERMINAL",
    "Clock",
    "Plan",
    "Step",
    "Visit",
    "plan_for",
]

ALL_DIGITS = "0123456789*#"
PLAY, MENU, INPUT, BRANCH, SET, QUEUE, SUBFLOW, RETURN, TERMINAL, PERSON = range(10)
FETCH, NOTIFY, SAY = range(10, 13)
DATA = frozenset({FETCH, NOTIFY, SAY})
"""Data steps: their actions depend on the call, so they are built per visit."""
OFFER, SURVEY = 20, 21  # answered by router.flows.marketing (kind >= OFFER)
_KINDS: dict[type, int] = {
    m.Fetch: FETCH,
    m.Notify: NOTIFY,
    m.Say: SAY,
    m.Play: PLAY,
    m.Menu: MENU,
    m.Input: INPUT,
    m.Branch: BRANCH,
    m.SetVars: SET,
    m.QueueNode: QUEUE,
    m.SubFlow: SUBFLOW,
    m.Return: RETURN,
    m.OfferNode: OFFER,
    m.Survey: SURVEY,
}


class Visit(NamedTuple):
    flow: str
    node: str
    digits: str = ""


@dataclass(frozen=True, slots=True)
class Step:
    """One node, ready to walk.

    ``blocking`` is what a play/menu/input node emits on first entry,
    ``retry`` after an invalid answer and ``retry_timeout`` after silence
    (menus only); ``first`` is the prompt a queue or terminal node plays
    before it ends the call; ``terminal`` is the prebuilt ending action.
    """

    kind: int
    node: m.Node
    visit: Visit
    blocking: tuple[a.Action, ...] = ()
    retry: tuple[a.Action, ...] = ()
    retry_timeout: tuple[a.Action, ...] = ()
    first: tuple[a.Action, ...] = ()
    terminal: a.Action | None = None


@dataclass(frozen=True, slots=True)
class Clock:
    """Business hours and time zones per flow, as bound methods for ``Facts``.

    Bound once per flow set, so building a call's facts allocates no closures.
    """

    flows: Mapping[str, m.Flow]

    def is_open(self, flow: str, name: str, at: datetime) -> bool:
        f = self.flows[flow]
        hours = f.hours.get(name or f.default_hours)
        return True if hours is None else hours.is_open(at)

    def timezone(self, flow: str) -> str:
        return self.flows[flow].timezone


@dataclass(frozen=True, slots=True)
class Plan:
    """``steps[flow][node]`` plus the flow set's clock."""

    steps: Mapping[str, Mapping[str, Step]]
    clock: Clock


def plan_for(flows: m.FlowSet) -> Plan:
    """The flow set's plan, compiled on first use and kept in ``flows.compiled``."""
    found = flows.compiled.get("plan")
    if isinstance(found, Plan):
        return found
    plan = Plan(
        {name: _steps(flows, flow) for name, flow in flows.flows.items()}, Clock(flows.flows)
    )
    flows.compiled["plan"] = plan
    return plan


def _steps(flows: m.FlowSet, flow: m.Flow) -> dict[str, Step]:
    path = flows.prompts.path
    return {name: _step(flow.name, node, path) for name, node in flow.nodes.items()}


def _step(flow: str, node: m.Node, path: Callable[[str], str]) -> Step:
    visit = Visit(flow, node.name)
    kind = _KINDS.get(type(node), TERMINAL)
    if isinstance(node, m.Transfer) and node.field:
        kind = PERSON  # the target is read from the customer when the call gets there
    match node:
        case m.Play():
            escape = ALL_DIGITS if node.interruptible else ""
            return Step(kind, node, visit, (a.Play(tuple(path(p) for p in node.prompts), escape),))
        case m.Menu():
            collect = a.Collect(path(node.prompt), int(node.timeout_s * 1000), 1)
            invalid = (*_pre(node.invalid_prompt, path), collect)
            timeout = (*_pre(node.timeout_prompt, path), collect)
            return Step(kind, node, visit, (collect,), invalid, timeout)
        case m.Input():
            collect = a.Collect(path(node.prompt), int(node.timeout_s * 1000), node.max_digits)
            return Step(kind, node, visit, (collect,), (*_pre(node.invalid_prompt, path), collect))
    first = _pre(getattr(node, "prompt", ""), path) if kind in (QUEUE, TERMINAL, PERSON) else ()
    return Step(kind, node, visit, first=first, terminal=_terminal(node))


def _pre(prompt: str, path: Callable[[str], str]) -> tuple[a.Action, ...]:
    return (a.Play((path(prompt),)),) if prompt else ()


def _terminal(node: m.Node) -> a.Action | None:
    """The action a node ends the call with; a ``return`` reached outside a sub-flow hangs up."""
    match node:
        case m.Transfer() if not node.field:
            return a.TransferTo(node.destination, node.ring_s)
        case m.Callback():
            return a.RequestCallback(node.service)
        case m.Voicemail():
            return a.VoicemailTo(node.mailbox)
        case m.Hangup():
            return a.HangUp(node.reason)
        case m.Return():
            return a.HangUp("return_without_caller")
    return None
