"""The pure flow engine: ``step(state, event) -> (state, actions)``.

No asyncio, Redis or sockets: the same engine drives live calls (through
:mod:`router.flows.runner`), the simulator and ``tierline flows trace``.
Nodes that need no caller input (branch, set, sub-flow, return) are walked
inside one step; a step ends on a blocking action (play, collect, verify)
or a terminal one. A hard step budget guarantees every call ends, even on
a flow whose loops only exit on conditions that never come true.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from router.customer import Customer
from router.flows import actions as a
from router.flows import model as m
from router.flows.expr import Condition, Facts
from router.types import CallInfo, QueueSnapshot, RouteDecision, RoutingPolicy

__all__ = ["MAX_STEPS", "Engine", "State", "Visit"]

MAX_STEPS = 200
_ALL_DIGITS = "0123456789*#"


class Visit(NamedTuple):
    flow: str
    node: str
    digits: str = ""


class State(NamedTuple):
    """Where one call is. Replaced, never mutated; cheap to keep for traces.

    A NamedTuple rather than a frozen dataclass: it is copied at every
    step, and a frozen dataclass pays an ``object.__setattr__`` per field.
    """

    flow: str
    node: str
    facts: Facts
    stack: tuple[tuple[str, str], ...] = ()
    attempt: int = 0
    steps: int = 0
    path: tuple[Visit, ...] = ()
    result: a.Action | None = None
    reason: str = ""

    @property
    def done(self) -> bool:
        return self.result is not None

    @property
    def customer(self) -> Customer | None:
        return self.facts.customer


Outcome = tuple[State, tuple[a.Action, ...]]


def replace(state: State, **changes: Any) -> State:
    """A copy of ``state`` with ``changes`` applied."""
    return state._replace(**changes)


@dataclass(frozen=True, slots=True)
class Engine:
    """A compiled flow set plus the routing policy queue nodes ask."""

    flows: m.FlowSet
    policy: RoutingPolicy

    def facts(
        self, call: CallInfo, customer: Customer | None, queues: Mapping[str, QueueSnapshot]
    ) -> Facts:
        """The per-call condition context, wired to the flows' hours and time zones."""
        flows = self.flows.flows

        def is_open(flow: str, name: str, at: datetime) -> bool:
            name = name or flows[flow].default_hours
            hours = flows[flow].hours.get(name)
            return True if hours is None else hours.is_open(at)

        return Facts(
            call,
            customer,
            queues,
            hours=is_open,
            timezone=lambda f: flows[f].timezone,
            needs=self.flows.needs,
        )

    def start(self, flow: str, facts: Facts) -> Outcome:
        """Enter ``flow`` at its start node."""
        state = State(flow=flow, node=self.flows.flows[flow].start, facts=facts)
        return self._enter(state, ())

    def step(self, state: State, event: a.Event) -> Outcome:
        """Feed the answer to the last blocking action; returns what to do next."""
        if state.done:
            return state, ()
        if isinstance(event, a.HungUp):
            return self._finish(state, a.HangUp("caller_hangup")), ()
        node = self._node(state)
        if isinstance(node, m.Play):
            return self._after_play(state, node, event)
        if isinstance(node, m.Menu) and isinstance(event, a.Digits):
            return self._menu_answer(state, node, event)
        if isinstance(node, m.Input):
            return self._input_answer(state, node, event)
        return self._enter(state, ())  # unexpected event: re-issue the current node

    def _after_play(self, state: State, node: m.Play, event: a.Event) -> Outcome:
        """A digit that interrupted a prompt answers the menu that follows it."""
        state, out = self._goto(state, node.next, ())
        digit = event.digit if isinstance(event, a.PlayDone) else ""
        menu = None if state.done else self._node(state)
        if digit and isinstance(menu, m.Menu) and out and isinstance(out[-1], a.Collect):
            state, more = self._menu_answer(state, menu, a.Digits(digit))
            return state, (*out[:-1], *more)
        return state, out

    # ---- walking ---------------------------------------------------------
    def _node(self, state: State) -> m.Node:
        return self.flows.flows[state.flow].nodes[state.node]

    def _goto(self, state: State, target: str, out: tuple[a.Action, ...]) -> Outcome:
        return self._enter(state, out, target)

    def _enter(self, state: State, out: tuple[a.Action, ...], goto: str = "") -> Outcome:
        """Walk input-free nodes, building the next State once (copies are not free)."""
        flow, name, stack, reason = state.flow, goto or state.node, state.stack, state.reason
        path, steps, attempt = list(state.path), state.steps, 0 if goto else state.attempt
        while True:
            if steps >= MAX_STEPS:
                done = replace(state, steps=steps, path=tuple(path), result=a.HangUp("loop_guard"))
                return done, (*out, a.HangUp("loop_guard"))
            node = self.flows.flows[flow].nodes[name]
            steps += 1
            path.append(Visit(flow, name))
            moved = self._walk(state.facts, flow, stack, node)
            if moved is None:
                break
            flow, name, stack, why, extra = moved
            reason, attempt = why or reason, 0
            out = (*out, *extra)
        here = State(flow, name, state.facts, stack, attempt, steps, tuple(path), None, reason)
        return self._blocking_or_terminal(here, node, out)

    def _walk(
        self, facts: Facts, flow: str, stack: tuple[tuple[str, str], ...], node: m.Node
    ) -> tuple[str, str, tuple[tuple[str, str], ...], str, tuple[a.Action, ...]] | None:
        """Where an input-free node leads: (flow, node, stack, reason, actions), else None."""
        match node:
            case m.Branch():
                return flow, self._branch(facts, flow, node), stack, "", ()
            case m.SetVars():
                return flow, node.next, stack, "", (self._set_vars(facts, flow, node),)
            case m.SubFlow():
                target = self.flows.flows[node.flow]
                return target.name, target.start, (*stack, (flow, node.next)), "", ()
            case m.Return() if stack:
                (caller_flow, back), rest = stack[-1], stack[:-1]
                return caller_flow, back, rest, "", ()
            case m.QueueNode():
                detour = self._queue_detour(facts, flow, node)
                if detour:
                    return flow, detour[0], stack, detour[1], ()
        return None

    def _blocking_or_terminal(
        self, state: State, node: m.Node, out: tuple[a.Action, ...]
    ) -> Outcome:
        first = self._prompt_first(node)
        match node:
            case m.Play():
                escape = _ALL_DIGITS if node.interruptible else ""
                return state, (*out, a.Play(tuple(self._path(p) for p in node.prompts), escape))
            case m.Menu():
                return state, (*out, *self._menu_prompt(state, node))
            case m.Input():
                prompt = node.invalid_prompt if state.attempt and node.invalid_prompt else ""
                pre = (a.Play((self._path(prompt),)),) if prompt else ()
                collect = a.Collect(
                    self._path(node.prompt), int(node.timeout_s * 1000), node.max_digits
                )
                return state, (*out, *pre, collect)
            case m.QueueNode():
                return self._route(state, node, (*out, *first))
        terminal = _terminal(node)
        return self._finish(state, terminal), (*out, *first, terminal)

    def _finish(self, state: State, action: a.Action) -> State:
        return replace(state, result=action)

    def _path(self, prompt: str) -> str:
        return self.flows.prompts.path(prompt)

    def _prompt_first(self, node: m.Node) -> tuple[a.Action, ...]:
        prompt = getattr(node, "prompt", "")
        if prompt and not isinstance(node, m.Menu | m.Input):
            return (a.Play((self._path(prompt),)),)
        return ()

    # ---- node logic ------------------------------------------------------
    def _eval(self, facts: Facts, flow: str, cond: Condition) -> tuple[Any, str]:
        try:
            return cond.evaluate(facts, flow), ""
        except ValueError as exc:
            facts.errors.append(f"{flow}: {exc}")  # the call goes on; the record keeps it
            return None, str(exc)

    def _branch(self, facts: Facts, flow: str, node: m.Branch) -> str:
        for case in node.cases:
            value, _err = self._eval(facts, flow, case.when)
            if value is True:
                return case.goto
        return node.default

    def _set_vars(self, facts: Facts, flow: str, node: m.SetVars) -> a.SetVars:
        values: dict[str, str] = {}
        for name, value in node.values.items():
            if value.expr is None:
                values[name] = value.literal
                continue
            result, _err = self._eval(facts, flow, value.expr)
            values[name] = _text(result)
        if node.language:
            values["CHANNEL(language)"] = node.language
        return a.SetVars(values)

    def _menu_prompt(self, state: State, node: m.Menu) -> tuple[a.Action, ...]:
        retry = ""
        if state.attempt:
            retry = node.timeout_prompt if state.reason == "timeout" else node.invalid_prompt
        pre = (a.Play((self._path(retry),)),) if retry else ()
        return (*pre, a.Collect(self._path(node.prompt), int(node.timeout_s * 1000), 1))

    def _menu_answer(self, state: State, node: m.Menu, event: a.Digits) -> Outcome:
        path = _noted_path(state, event.digits)
        target = node.options.get(event.digits[:1]) if event.digits else None
        if target:
            return self._goto(replace(state, reason="", path=path), target, ())
        reason = "timeout" if not event.digits else "invalid"
        if state.attempt >= node.retries:
            return self._goto(replace(state, reason=f"menu_{reason}", path=path), node.fallback, ())
        state = replace(state, attempt=state.attempt + 1, reason=reason, path=path)
        return state, self._menu_prompt(state, node)

    def _input_answer(self, state: State, node: m.Input, event: a.Event) -> Outcome:
        if isinstance(event, a.Verified):
            if event.customer is not None:
                facts = state.facts.with_customer(event.customer)
                return self._goto(replace(state, facts=facts, reason="verified"), node.next, ())
            return self._input_retry(state, node)
        if not isinstance(event, a.Digits):
            return self._enter(state, ())
        state = _note_digits(state, event.digits)
        if not node.pattern.fullmatch(event.digits):
            return self._input_retry(state, node)
        out: tuple[a.Action, ...] = ()
        if node.variable:
            out = (a.SetVars({node.variable: event.digits}),)
        if node.verify:
            return state, (*out, a.Verify(event.digits))
        return self._goto(state, node.next, out)

    def _input_retry(self, state: State, node: m.Input) -> Outcome:
        if state.attempt >= node.retries:
            return self._goto(replace(state, reason="input_failed"), node.fallback, ())
        return self._enter(replace(state, attempt=state.attempt + 1), ())

    def _queue_detour(self, facts: Facts, flow: str, node: m.QueueNode) -> tuple[str, str] | None:
        if node.hours and not self.flows.flows[flow].hours[node.hours].is_open(facts.call.at):
            return node.closed, "closed"
        if node.max_wait_s and node.overflow:
            decision = self._decide(facts, flow, node)
            snap = facts.queues.get(decision.queue)
            if snap is not None and (snap.ewt > node.max_wait_s or snap.agents_logged_in == 0):
                return node.overflow, f"overflow:{decision.queue}"
        return None

    def _decide(self, facts: Facts, flow: str, node: m.QueueNode) -> RouteDecision:
        """Once per call and node: the overflow check and the route share it."""
        decision: RouteDecision = facts.remember(
            ("@route", f"{flow}.{node.name}"), lambda: self._decide_now(facts, flow, node)
        )
        return decision

    def _decide_now(self, facts: Facts, flow: str, node: m.QueueNode) -> RouteDecision:
        decision = self.policy.decide(node.service, facts.customer, facts.call, facts.queues)
        priority = decision.priority
        if node.priority is not None:
            value, _err = self._eval(facts, flow, node.priority)
            if isinstance(value, int) and not isinstance(value, bool):
                priority = value
        if priority == decision.priority and not node.max_wait_s:
            return decision
        wait = node.max_wait_s or decision.max_wait_s
        return RouteDecision(decision.queue, priority, decision.reason, wait)

    def _route(self, state: State, node: m.QueueNode, out: tuple[a.Action, ...]) -> Outcome:
        decision = self._decide(state.facts, state.flow, node)
        route = a.Route(node.service, decision, node.announce_position)
        return self._finish(state, route), (*out, route)


def _terminal(node: m.Node) -> a.Action:
    match node:
        case m.Transfer():
            return a.TransferTo(node.destination)
        case m.Callback():
            return a.RequestCallback(node.service)
        case m.Voicemail():
            return a.VoicemailTo(node.mailbox)
        case m.Hangup():
            return a.HangUp(node.reason)
    return a.HangUp("return_without_caller")


def _noted_path(state: State, digits: str) -> tuple[Visit, ...]:
    """The path with ``digits`` ("-" for a timeout) recorded on the current node."""
    last = state.path[-1]
    return (*state.path[:-1], Visit(last.flow, last.node, last.digits + (digits or "-")))


def _note_digits(state: State, digits: str) -> State:
    return replace(state, path=_noted_path(state, digits))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_text(v) for v in value)
    return str(value)
