"""The pure flow engine: ``step(state, event) -> (state, actions)``.

No asyncio, Redis or sockets: the same engine drives live calls (through
:mod:`router.flows.runner`), the simulator and ``tierline flows trace``.
Nodes that need no caller input (branch, set, sub-flow, return) are walked
inside one step; a step ends on a blocking action (play, collect, verify)
or a terminal one. A hard step budget guarantees every call ends, even on
a flow whose loops only exit on conditions that never come true: the caller
is then routed (the default queue), never hung up on.

Speed: each node is read from a :class:`~router.flows.plan.Plan` built
once per flow set (a small ``kind`` int and prebuilt frozen actions), so a
typical call spends its time on conditions, not on rediscovering nodes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from router.customers.model import Customer
from router.flows import actions as a
from router.flows import data_steps as data
from router.flows import marketing, people
from router.flows import model as m
from router.flows import plan as p
from router.flows.expr import Condition, Facts
from router.flows.identify import factor_collect, noted
from router.flows.language import LANGUAGE_KEY, LANGUAGE_VAR, call_language, switch_language
from router.flows.plan import Visit
from router.flows.templates import as_text
from router.types import CallInfo, QueueSnapshot, RouteDecision, RoutingPolicy

__all__ = ["LOOP_GUARD_SERVICE", "MAX_STEPS", "Engine", "Stack", "State", "Visit"]

MAX_STEPS = 200
LOOP_GUARD_SERVICE = "general"
"""The service a call cut by the step budget asks for when no default queue is given."""
Stack = tuple[tuple[str, str], ...]


class State(NamedTuple):
    """Where one call is. Replaced, never mutated; cheap to keep for traces.

    A NamedTuple rather than a frozen dataclass: it is copied at every
    step, and a frozen dataclass pays an ``object.__setattr__`` per field.
    """

    flow: str
    node: str
    facts: Facts
    stack: Stack = ()
    attempt: int = 0
    steps: int = 0
    path: tuple[Visit, ...] = ()
    result: a.Action | None = None
    reason: str = ""
    held: str = ""  # the account number typed, while its second factor is asked

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
    """A compiled flow set plus the routing policy queue nodes ask.

    ``default_queue`` is where a call cut by the step budget goes; when
    empty (traces, the simulator) the policy's lane for ``LOOP_GUARD_SERVICE``.
    """

    flows: m.FlowSet
    policy: RoutingPolicy
    default_queue: str = ""
    _plan: p.Plan = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_plan", p.plan_for(self.flows))

    def facts(
        self, call: CallInfo, customer: Customer | None, queues: Mapping[str, QueueSnapshot]
    ) -> Facts:
        """The per-call condition context, wired to the flows' hours and time zones."""
        clock = self._plan.clock
        return Facts(
            call,
            customer,
            queues,
            hours=clock.is_open,
            timezone=clock.timezone,
            needs=self.flows.needs,
        )

    def start(self, flow: str, facts: Facts) -> Outcome:
        """Enter ``flow`` at its start node, in the customer's prompt language."""
        lang = switch_language(self.flows, flow, facts)
        return self._enter(State(flow, self.flows.flows[flow].start, facts), lang)

    def resume(self, flow: str, node: str, facts: Facts, stack: Stack = ()) -> Outcome:
        """Enter ``flow`` at ``node`` (the overflow of a queue the caller waited out),
        inside the sub-flow calls of ``stack`` so a later ``return`` finds its caller."""
        lang = switch_language(self.flows, flow, facts)
        return self._enter(State(flow, node, facts, stack), lang)

    def step(self, state: State, event: a.Event) -> Outcome:  # noqa: PLR0911 - one per kind
        """Feed the answer to the last blocking action; returns what to do next."""
        if state.result is not None:
            return state, ()
        if isinstance(event, a.HungUp):
            return _finish(state, a.HangUp("caller_hangup")), ()
        here = self._plan.steps[state.flow][state.node]
        kind = here.kind
        if kind == p.PLAY:
            return self._after_play(state, here.node.next, event)  # type: ignore[union-attr]
        if kind == p.MENU and isinstance(event, a.Digits):
            return self._menu_answer(state, here, event.digits)
        if kind == p.INPUT or kind in p.DATA:
            answer = self._input_answer if kind == p.INPUT else self._data_answer
            return answer(state, here, event)
        if kind < p.OFFER:
            return self._enter(state, ())  # unexpected event: re-issue the current node
        return marketing.answer(self, state, here, event)  # offer, survey

    def _after_play(self, state: State, target: str, event: a.Event) -> Outcome:
        """A digit that interrupted a prompt answers the menu that follows it."""
        state, out = self._enter(state, (), target)
        digit = event.digit if isinstance(event, a.PlayDone) else ""
        if digit and state.result is None and out:
            menu = self._plan.steps[state.flow][state.node]
            if menu.kind == p.MENU and isinstance(out[-1], a.Collect):
                state, more = self._menu_answer(state, menu, digit)
                return state, (*out[:-1], *more)
            if menu.kind == p.OFFER:  # the caller is choosing from the menu: no offers
                return marketing.typed_ahead(self, state, menu, digit, out)
        return state, out

    # ---- walking ---------------------------------------------------------
    def _enter(self, state: State, out: tuple[a.Action, ...], goto: str = "") -> Outcome:
        """Walk input-free nodes, building the next State once (copies are not free)."""
        steps_of, facts = self._plan.steps, state.facts
        flow, name, stack, reason = state.flow, goto or state.node, state.stack, state.reason
        path, steps, attempt = list(state.path), state.steps, 0 if goto else state.attempt
        acts = list(out)
        while True:
            if steps >= MAX_STEPS:
                guard = self._loop_guard(facts)
                done = _finish(state, guard)._replace(steps=steps, path=tuple(path))
                return done, (*acts, guard)
            here = steps_of[flow][name]
            steps += 1
            path.append(here.visit)
            kind, node = here.kind, here.node
            if kind == p.BRANCH:
                name = _branch(facts, flow, node)  # type: ignore[arg-type]
            elif kind == p.SET:
                acts.append(_set_vars(facts, flow, node))  # type: ignore[arg-type]
                name = node.next  # type: ignore[union-attr]
            elif kind == p.SUBFLOW:
                stack = (*stack, (flow, node.next))  # type: ignore[union-attr]
                flow = node.flow  # type: ignore[union-attr]
                name = self.flows.flows[flow].start
            elif kind == p.RETURN and stack:
                (flow, name), stack = stack[-1], stack[:-1]
            elif kind == p.QUEUE and (detour := self._queue_detour(facts, flow, node)):  # type: ignore[arg-type]
                name, reason = detour
            elif kind == p.PERSON and (away := people.detour(node, facts.customer, facts.queues)):  # type: ignore[arg-type]
                name, reason = away
            else:
                break
            attempt = 0
        now = State(flow, name, facts, stack, attempt, steps, tuple(path), None, reason)
        return self._blocking_or_terminal(now, here, acts)

    def _blocking_or_terminal(  # noqa: PLR0911 - one return per node kind
        self, state: State, here: p.Step, acts: list[a.Action]
    ) -> Outcome:
        kind = here.kind
        if kind == p.PLAY:
            return state, (*acts, *here.blocking)
        if kind == p.MENU:
            return state, (*acts, *_menu_prompt(state, here))
        if kind == p.INPUT:
            return state, (*acts, *(here.retry if state.attempt else here.blocking))
        if kind == p.QUEUE:
            return self._route(state, here.node, (*acts, *here.first))  # type: ignore[arg-type]
        if kind in p.DATA:
            return self._data_step(state, here.node, acts)
        if kind >= p.OFFER:
            return marketing.enter(self, state, here, tuple(acts))
        terminal = here.terminal or a.HangUp("return_without_caller")
        if kind == p.PERSON:
            terminal = people.transfer_action(here.node, state.customer)  # type: ignore[arg-type]
        return _finish(state, terminal), (*acts, *here.first, terminal)

    # ---- node logic ------------------------------------------------------
    def _menu_answer(self, state: State, here: p.Step, digits: str) -> Outcome:
        node: m.Menu = here.node  # type: ignore[assignment]
        path = _noted_path(state.path, digits)
        target = node.options.get(digits[:1]) if digits else None
        if target:
            return self._enter(_with(state, path, "", state.attempt), (), target)
        reason = "timeout" if not digits else "invalid"
        if state.attempt >= node.retries:
            again = _with(state, path, f"menu_{reason}", state.attempt)
            return self._enter(again, (), node.fallback)
        state = _with(state, path, reason, state.attempt + 1)
        return state, _menu_prompt(state, here)

    def _input_answer(self, state: State, here: p.Step, event: a.Event) -> Outcome:
        node: m.Input = here.node  # type: ignore[assignment]
        if isinstance(event, a.Verified):
            return self._verified(state, node, event.customer)
        if not isinstance(event, a.Digits):
            return self._enter(state, ())
        if state.held and node.factor is not None:
            return self._factor_answer(state, node, node.factor, event.digits)
        return self._typed(state, node, event.digits)

    def _typed(self, state: State, node: m.Input, digits: str) -> Outcome:
        """Digits typed at an input node: check, keep (unless sensitive), verify or go on."""
        path = _noted_path(state.path, noted(node, digits))
        state = _with(state, path, state.reason, state.attempt)
        if not node.pattern.fullmatch(digits):
            return self._input_retry(state, node)
        out: tuple[a.Action, ...] = ()
        if node.variable and not node.sensitive:  # the dialplan's variable and vars.NAME
            out = (a.SetVars({node.variable: digits}),)
            state = state._replace(facts=state.facts.with_vars({node.variable: digits}))
        if node.verify and node.factor is not None:  # sensitive: no variable (load check)
            held = state._replace(held=node.account_prefix + digits)
            return held, (factor_collect(node.factor, self.flows.prompts.sound_prefix),)
        if node.verify:
            return state, (*out, a.Verify(node.account_prefix + digits))
        return self._enter(state, out, node.next)

    def _factor_answer(
        self, state: State, node: m.Input, factor: m.SecondFactor, digits: str
    ) -> Outcome:
        """The second factor typed: one ``Verify`` of the held account with it."""
        account = state.held
        state = state._replace(path=_noted_path(state.path, noted(node, digits, True)), held="")
        if not factor.pattern.fullmatch(digits):
            return self._input_retry(state, node)
        return state, (a.Verify(account, digits, factor.kind),)

    def _verified(self, state: State, node: m.Input, customer: Customer | None) -> Outcome:
        if customer is None:
            return self._input_retry(state, node)
        facts = state.facts.with_customer(customer)
        facts.keep(LANGUAGE_KEY, state.facts.recall(LANGUAGE_KEY))  # the channel's, so far
        lang = switch_language(self.flows, state.flow, facts)
        return self._enter(replace(state, facts=facts, reason="verified"), lang, node.next)

    def _input_retry(self, state: State, node: m.Input) -> Outcome:
        if state.attempt >= node.retries:
            return self._enter(replace(state, reason="input_failed"), (), node.fallback)
        return self._enter(replace(state, attempt=state.attempt + 1), ())

    def _data_step(self, state: State, node: m.Node, acts: list[a.Action]) -> Outcome:
        """Fetch and notify wait for the adapter; say plays its prompts (or takes failed)."""
        facts, flow = state.facts, state.flow
        if isinstance(node, m.Fetch):
            return state, (*acts, data.fetch_action(node, facts, flow))
        if isinstance(node, m.Notify):
            return state, (*acts, data.notify_action(node, facts, flow))
        assert isinstance(node, m.Say)
        language = call_language(self.flows, flow, facts)
        names = data.say_prompts(node, facts, flow, language, _value)
        if names is None:
            return self._enter(replace(state, reason="say_failed"), tuple(acts), node.failed)
        if not names:
            return self._enter(state, tuple(acts), node.next)
        path = self.flows.prompts.path
        return state, (*acts, a.Play(tuple(path(n) for n in names)))

    def _data_answer(self, state: State, here: p.Step, event: a.Event) -> Outcome:
        """``next`` with the answer's variables, or ``failed``; a play done goes on."""
        node = here.node
        if isinstance(node, m.Say):
            return self._enter(state, (), node.next)
        if not isinstance(event, a.Fetched | a.Notified):
            return self._enter(state, ())
        target: str = node.next if event.ok else node.failed  # type: ignore[union-attr]
        state = replace(state, reason="" if event.ok else f"{type(node).__name__.lower()}_failed")
        if isinstance(event, a.Fetched) and event.ok:
            state = replace(state, facts=state.facts.with_vars(event.values))
        return self._enter(state, (), target)

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
        key = ("@route", f"{flow}.{node.name}")
        found: RouteDecision | None = facts.recall(key)
        if found is None:
            found = facts.keep(key, self._decide_now(facts, flow, node))
        return found

    def _decide_now(self, facts: Facts, flow: str, node: m.QueueNode) -> RouteDecision:
        decision = self.policy.decide(node.service, facts.customer, facts.call, facts.queues)
        priority = decision.priority
        if node.priority is not None:
            value, _err = _eval(facts, flow, node.priority)
            if isinstance(value, int) and not isinstance(value, bool):
                priority = value
        if priority == decision.priority and not node.max_wait_s:
            return decision
        wait = node.max_wait_s or decision.max_wait_s
        return RouteDecision(decision.queue, priority, decision.reason, wait)

    def _loop_guard(self, facts: Facts) -> a.Route:
        """A flow that would never end: route the caller rather than hang up on them."""
        queue = self.default_queue
        if not queue:
            queue = self.policy.decide(
                LOOP_GUARD_SERVICE, facts.customer, facts.call, facts.queues
            ).queue
        return a.Route(LOOP_GUARD_SERVICE, RouteDecision(queue, 0, "loop_guard"))

    def _route(self, state: State, node: m.QueueNode, out: tuple[a.Action, ...]) -> Outcome:
        decision = self._decide(state.facts, state.flow, node)
        route = a.Route(node.service, decision, node.announce_position)
        return _finish(state, route), (*out, route)


def _finish(s: State, action: a.Action) -> State:
    return State(s.flow, s.node, s.facts, s.stack, s.attempt, s.steps, s.path, action, s.reason)


def _with(s: State, path: tuple[Visit, ...], reason: str, attempt: int) -> State:
    """``state`` with a new path, reason and attempt (positional: ``_replace`` is slow)."""
    return State(s.flow, s.node, s.facts, s.stack, attempt, s.steps, path, s.result, reason)


def _menu_prompt(state: State, here: p.Step) -> tuple[a.Action, ...]:
    if not state.attempt:
        return here.blocking
    return here.retry_timeout if state.reason == "timeout" else here.retry


def _eval(facts: Facts, flow: str, cond: Condition) -> tuple[Any, str]:
    try:
        return cond.evaluate(facts, flow), ""
    except ValueError as exc:
        facts.errors.append(f"{flow}: {exc}")  # the call goes on; the record keeps it
        return None, str(exc)


def _branch(facts: Facts, flow: str, node: m.Branch) -> str:
    for case in node.cases:
        when = case.when
        # Most conditions have a fast form that never faults: call it directly.
        value = when.fast.test(facts, flow) if when.fast else _eval(facts, flow, when)[0]
        if value is True:
            return case.goto
    return node.default


def _set_vars(facts: Facts, flow: str, node: m.SetVars) -> a.SetVars:
    values: dict[str, str] = {}
    for name, value in node.values.items():
        if value.expr is None:
            values[name] = value.literal
            continue
        expr = value.expr
        result = expr.fast.test(facts, flow) if expr.fast else _eval(facts, flow, expr)[0]
        values[name] = result if isinstance(result, str) else as_text(result)
    if node.language:
        values[LANGUAGE_VAR] = node.language
        facts.keep(LANGUAGE_KEY, node.language)  # say nodes speak in it
    return a.SetVars(values)


def _value(facts: Facts, flow: str, cond: Condition) -> Any:
    return _eval(facts, flow, cond)[0]


def _noted_path(path: tuple[Visit, ...], digits: str) -> tuple[Visit, ...]:
    """The path with ``digits`` ("-" for a timeout) recorded on the current node."""
    last = path[-1]
    return (*path[:-1], Visit(last.flow, last.node, last.digits + (digits or "-")))
