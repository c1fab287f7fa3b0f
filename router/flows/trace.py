"""Walk a flow without Asterisk: scripted digits in, path and decision out.

Used by ``tierline flows trace``, the property tests and the benchmark.
Digits are consumed in order by every prompt that accepts input; when
they run out, input times out (the menu's retry/fallback path). A ``-``
is no key: the prompt plays to its end, or the input times out (to hear an
offer after an interruptible welcome: ``-,2,*``). An input node's second
factor (PIN, ID digits) is answered from ``factors``, the values each
made-up account accepts; none given, it never matches.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from router.customers.model import DEFAULT_TIERS, Customer
from router.flows import actions as a
from router.flows.data_steps import extract
from router.flows.engine import Engine, State
from router.flows.model import FlowSet
from router.types import CallInfo, QueueSnapshot, RouteDecision, RoutingPolicy

__all__ = ["NO_KEY", "SimplePolicy", "Trace", "marketing_lines", "trace_call"]

NO_KEY = "-"


class SimplePolicy:
    """Service name = queue name, priority from tier: a stand-in for the real policy."""

    def decide(
        self,
        service: str,
        customer: Customer | None,
        call: CallInfo,
        queues: Mapping[str, QueueSnapshot],
    ) -> RouteDecision:
        tier = customer.tier if customer else DEFAULT_TIERS.lowest
        priority = 10 - 2 * DEFAULT_TIERS.rank(tier)
        return RouteDecision(service, max(priority, 0), "simple")


@dataclass(frozen=True, slots=True)
class Trace:
    state: State
    actions: tuple[a.Action, ...]
    answers: tuple[tuple[str, str], ...] = ()  # (fetch/notify node, outcome), in order


Answer = str | Mapping[str, Any]
"""A data step's scripted answer: "ok", a failure outcome, or (fetch) the backend's JSON."""


def trace_call(
    flows: FlowSet,
    flow: str,
    call: CallInfo,
    customer: Customer | None,
    digits: Sequence[str],
    *,
    policy: RoutingPolicy | None = None,
    queues: Mapping[str, QueueSnapshot] | None = None,
    accounts: Mapping[str, Customer] | None = None,
    factors: Mapping[str, Mapping[str, str]] | None = None,
    hangup_after: int | None = None,
    data: Mapping[str, Answer] | None = None,
    start_at: str = "",
) -> Trace:
    """Run to a terminal action; ``hangup_after`` hangs up after that many blocking actions.

    ``data`` answers fetch and notify nodes by node name (see :data:`Answer`);
    a node not listed answers "ok" (a fetch's variables then hold "0").
    ``start_at`` enters the flow at that node (a post-call survey) instead of its start.
    """
    engine = Engine(flows, policy or SimplePolicy())
    facts = engine.facts(call, customer, queues or {})
    if start_at:
        state, out = engine.resume(flow, start_at, facts)
    else:
        state, out = engine.start(flow, facts)
    remaining = list(digits)
    done: list[a.Action] = list(out)
    turns = 0
    answers: list[tuple[str, str]] = []
    while not state.done:
        if hangup_after is not None and turns >= hangup_after:
            state, out = engine.step(state, a.HungUp())
        else:
            asked = out[-1]
            event: a.Event
            if isinstance(asked, a.Fetch | a.Notify):
                said = _data_answer(asked, (data or {}).get(asked.node, "ok"))
                answers.append((asked.node, said.outcome))
                event = said
            else:
                event = _answer(asked, remaining, accounts or {}, factors or {})
            state, out = engine.step(state, event)
        done += out
        turns += 1
    return Trace(state, tuple(done), tuple(answers))


def _data_answer(action: a.Fetch | a.Notify, given: Answer) -> a.Fetched | a.Notified:
    if isinstance(action, a.Notify):
        return a.Notified("ok" if not isinstance(given, str) else given)
    if isinstance(given, str):
        values = dict.fromkeys(action.fields, "0") if given == "ok" else {}
        return a.Fetched(given, values)
    found = extract(dict(given), action.fields)
    return a.Fetched("ok", found) if found is not None else a.Fetched("missing")


def _answer(
    action: a.Action,
    digits: list[str],
    accounts: Mapping[str, Customer],
    factors: Mapping[str, Mapping[str, str]],
) -> a.Event:
    match action:
        case a.Play(escape_digits=escape) if escape and digits and digits[0] in (*escape, NO_KEY):
            return a.PlayDone(digits.pop(0).replace(NO_KEY, ""))
        case a.Play():
            return a.PlayDone("")
        case a.Collect():
            typed = digits.pop(0) if digits else NO_KEY
            return a.Digits("", True) if typed == NO_KEY else a.Digits(typed, False)
        case a.Verify(factor_kind=kind) if kind:
            wanted = factors.get(action.account, {}).get(kind, "")
            same = bool(wanted) and hmac.compare_digest(wanted, action.factor)
            return a.Verified(accounts.get(action.account) if same else None)
        case a.Verify():
            return a.Verified(accounts.get(action.account))
    return a.HungUp()


def marketing_lines(actions: Sequence[a.Action]) -> list[str]:
    """What offer and survey nodes recorded during a trace, one line each."""
    out = []
    for action in actions:
        match action:
            case a.RecordOffer(event="unknown"):
                out.append(f"offer {action.offer!r}: not in offers.yaml, skipped")
            case a.RecordOffer():
                out.append(f"offer #{action.position} {action.offer!r}: {action.event}")
            case a.RecordAnswer():
                out.append(f"survey {action.survey}.{action.question} = {action.answer}")
    return out
