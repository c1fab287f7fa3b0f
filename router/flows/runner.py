"""Adapter: run the pure engine against a live ``CallSession``.

The final decision is delivered as channel variables in ONE round trip
(``set_vars``) and we return: the dialplan runs Queue()/Dial()/VoiceMail()
itself, so a router restart never holds a caller hostage.

Every AGI round trip before the route is set-up time the caller waits in
silence, so nothing is sent before it is needed: the channel is answered
only before the first prompt, and the variables of ``set`` nodes ride on
the route's single ``MSet`` (a ``language:`` goes in one ``MSet`` just
before the next prompt, so that prompt plays in it). A caller routed at
once therefore costs exactly one AGI command. A caller who hangs up in the
IVR leaves without the pending variables: the dialplan does not go on.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from router.channel_vars import screen_pop
from router.customers.factor_check import FactorCheck
from router.customers.model import Customer
from router.errors import CallHungUp, NumberConflictError, StoreError
from router.flows import actions as a
from router.flows.backends import Backend
from router.flows.callbacks import CallbackRequest, CallbackStore, MemoryCallbackStore
from router.flows.engine import Engine, Stack, State
from router.flows.model import Flow, FlowSet
from router.flows.notes import FlowNotes
from router.flows.postcall import SURVEY_END, SURVEY_VAR, is_survey_start, survey_token
from router.flows.records import FlowRecords, MemoryFlowRecords
from router.flows.resume import RESUME_VAR, resume_token
from router.flows.walk import FlowWalk, PathStep
from router.logs import get_logger
from router.types import CallInfo, CallSession, CustomerStore, QueueSnapshot, RoutingPolicy

__all__ = ["AccountLookup", "DataClient", "decision_vars", "outcome_of", "run_flow"]

log = get_logger(__name__)


class AccountLookup(Protocol):
    async def customer_by_id(self, customer_id: str) -> Customer | None:
        """The customer owning this account number, or None."""
        ...


class DataClient(Protocol):
    """What runs fetch and notify steps (``router.backend_http.HttpBackends``)."""

    async def fetch(self, action: a.Fetch, backend: Backend, deadline_s: float) -> a.Fetched: ...

    async def notify(self, action: a.Notify, backend: Backend, deadline_s: float) -> a.Notified: ...


async def run_flow(  # noqa: PLR0917 - the signature the call service was promised
    flow: Flow,
    session: CallSession,
    call: CallInfo,
    customer: Customer | None,
    policy: RoutingPolicy,
    queues: Mapping[str, QueueSnapshot],
    store: CustomerStore,
    *,
    flows: FlowSet,
    callbacks: CallbackStore | None = None,
    records: FlowRecords | None = None,
    accounts: AccountLookup | None = None,
    factors: FactorCheck | None = None,
    start_at: str = "",
    hops: int = 0,
    stack: Stack = (),
    default_queue: str = "",
    data: DataClient | None = None,
) -> FlowWalk:
    """Walk ``flow`` for one call; never raises for a caller hangup.

    Args:
        flows: the flow set ``flow`` came from (sub-flows, prompts); keep the
            one the call started with, even if the registry reloads meanwhile.
        callbacks: where callback requests go (default: kept in memory only).
        records: where offer events and survey answers go (default: memory only).
        accounts: resolves typed account numbers; without it, verification
            fails closed and the input node takes its fallback.
        factors: checks second factors (PIN, ID digits); without it, every
            node asking one fails closed.
        start_at: enter ``flow`` at this node instead of its start (a call
            resumed after a queue timeout, see :mod:`router.flows.resume`).
        hops: how many times this call has been resumed already.
        stack: the sub-flow calls the resumed queue node sat inside.
        default_queue: where a flow cut by the step budget routes the caller.
        data: runs fetch and notify steps; without it they take ``failed``.
    """
    started = time.monotonic()
    engine = Engine(flows, policy, default_queue)
    callbacks = callbacks or MemoryCallbackStore()
    facts = engine.facts(call, customer, queues)
    if start_at:
        state, actions = engine.resume(flow.name, start_at, facts, stack)
    else:
        state, actions = engine.start(flow.name, facts)
    stamps: list[float] = [0.0] * len(state.path)
    c = _Call(session, call, store, callbacks, accounts, flows, hops, flow.name, factors, data)
    c.after_call = is_survey_start(flow, start_at)
    try:
        while True:
            event = await _execute(actions, state, c)
            if event is None:
                break
            state, actions = engine.step(state, event)
            stamps += [(time.monotonic() - started) * 1000] * (len(state.path) - len(stamps))
    except CallHungUp:
        state, _ = engine.step(state, a.HungUp())
    await c.notes.write(records or MemoryFlowRecords())
    walk = _record(
        flows, flow, call, state, stamps=stamps, total=(time.monotonic() - started) * 1000
    )
    if c.steps:
        walk.detail["data_steps"] = c.steps
    return walk


@dataclass(slots=True)
class _Call:
    session: CallSession
    info: CallInfo
    store: CustomerStore
    callbacks: CallbackStore
    accounts: AccountLookup | None
    flows: FlowSet
    hops: int
    main: str  # the flow the call runs (its post-call survey, if any, follows the agent)
    factors: FactorCheck | None = None
    data: DataClient | None = None
    pending: dict[str, str] = field(default_factory=dict)  # set nodes' values not yet sent
    notes: FlowNotes = field(default_factory=FlowNotes)  # offer events, survey answers
    answered: bool = False
    after_call: bool = False  # a post-call survey: the call's route is already on the channel
    spent_ms: float = 0.0  # time data steps took, against the call's budget
    steps: list[list[object]] = field(default_factory=list)  # [node, outcome, ms] per step

    async def data_step(self, action: a.Fetch | a.Notify) -> a.Fetched | a.Notified:
        """Run a fetch or notify within its deadline and what is left of the call's budget."""
        budget = self.flows.backends.call_budget_ms - self.spent_ms
        backend = self.flows.backends.backends.get(action.backend)
        deadline_ms = min(action.timeout_ms, budget)
        started = time.monotonic()
        result: a.Fetched | a.Notified
        if self.data is None or backend is None or deadline_ms <= 0:
            why = "budget" if deadline_ms <= 0 else "no_backend"
            result = a.Fetched(why) if isinstance(action, a.Fetch) else a.Notified(why)
        elif isinstance(action, a.Fetch):
            result = await self.data.fetch(action, backend, deadline_ms / 1000)
        else:
            result = await self.data.notify(action, backend, deadline_ms / 1000)
        took = (time.monotonic() - started) * 1000
        self.spent_ms += took
        self.steps.append([action.node, result.outcome, round(took, 1)])
        return result

    async def ready_for_media(self) -> None:
        """Answer; and if a set node wrote a function (a language), send it before the prompt.

        Plain variables keep waiting for the route: only the dialplan reads
        them, after the AGI returns.
        """
        if not self.answered:
            await self.session.answer()
            self.answered = True
        if any(name.endswith(")") for name in self.pending):
            values, self.pending = self.pending, {}
            await self.session.set_vars(values)

    async def leave(self, route: Mapping[str, str]) -> None:
        """The route and everything pending, in ONE ``MSet``.

        After a post-call survey only the hangup: the channel still carries
        the answered call's route (reason, queue, priority...), which the AMI
        listener records at the hangup, so nothing else may overwrite it.
        """
        values, self.pending = {**self.pending, **route}, {}
        await self.session.set_vars(dict(SURVEY_END) if self.after_call else values)


async def _execute(actions: tuple[a.Action, ...], state: State, c: _Call) -> a.Event | None:
    """Run actions in order; the answer to the last blocking one, or None when done."""
    session, call = c.session, c.info
    event: a.Event | None = None
    for action in actions:
        match action:
            case a.Play():
                await c.ready_for_media()
                digit = await session.play(action.prompts, action.escape_digits)
                event = a.PlayDone(digit)
            case a.Collect():
                await c.ready_for_media()
                got = await session.get_digits(action.prompt, action.timeout_ms, action.max_digits)
                event = a.Digits(got.digits, got.timed_out)
            case a.SetVars():
                c.pending.update(action.values)
            case a.Verify():
                event = a.Verified(await _verify(action, call, c))
            case a.RecordOffer() | a.RecordAnswer():
                c.notes.note(action, state, call, c.flows)
            case a.Fetch() | a.Notify():
                event = await c.data_step(action)
            case a.RequestCallback():
                await _store_callback(action, state, call, c.callbacks)
                await c.leave({**screen_pop(state.customer), **decision_vars(action)})
                return None
            case _:
                route = {**screen_pop(state.customer), **decision_vars(action)}
                if isinstance(action, a.Route | a.TransferTo):
                    token = resume_token(c.flows, state.flow, state.node, c.hops, state.stack)
                    route |= {RESUME_VAR: token} if token else {}
                survey = survey_token(c.flows, c.main) if isinstance(action, a.Route) else ""
                route |= {SURVEY_VAR: survey} if survey else {}  # Queue(c) only: a Dial has none
                await c.leave(route)
                return None
    return event


async def _verify(action: a.Verify, call: CallInfo, c: _Call) -> Customer | None:
    """The account's customer when it (and its second factor, if asked) checks out; then link."""
    if c.accounts is None:
        return None  # fail closed: nothing to verify against
    try:
        customer = await c.accounts.customer_by_id(action.account)
    except StoreError:
        return None
    if action.factor_kind:
        checked = c.factors is not None and await c.factors.check(
            action.account, action.factor_kind, action.factor
        )
        customer = customer if checked else None
    if customer is not None and call.caller:
        try:
            await c.store.link(call.caller, customer.customer_id)
        except (NumberConflictError, StoreError) as exc:
            log.warning("link_failed", error=type(exc).__name__)
    return customer


async def _store_callback(
    action: a.RequestCallback, state: State, call: CallInfo, callbacks: CallbackStore
) -> None:
    customer = state.customer
    request = CallbackRequest(
        number=call.caller,
        customer_id=customer.customer_id if customer else "",
        tier=customer.tier if customer else "",
        service=action.service,
        requested_at=call.at,
        uniqueid=call.uniqueid,
        flow=state.flow,
    )
    try:
        await callbacks.add(request)
    except StoreError as exc:
        # The caller already heard the confirmation; the log line keeps the request.
        log.error("callback_not_stored", error=str(exc), **request.fields())


def decision_vars(action: a.Action) -> dict[str, str]:
    """The channel variables the dialplan acts on after the AGI returns."""
    match action:
        case a.Route():
            d = action.decision
            return {
                "TIERLINE_ACTION": "queue",
                "TIERLINE_QUEUE": d.queue,
                "TIERLINE_PRIO": str(d.priority),
                "TIERLINE_MAXWAIT": str(d.max_wait_s),
                "TIERLINE_REASON": d.reason,
                "TIERLINE_ANNOUNCE": "1" if action.announce_position else "0",
            }
        case a.TransferTo():
            ring = {"TIERLINE_DIALTIME": str(action.ring_s)} if action.ring_s else {}
            return {"TIERLINE_ACTION": "transfer", "TIERLINE_TARGET": action.destination, **ring}
        case a.VoicemailTo():
            return {"TIERLINE_ACTION": "voicemail", "TIERLINE_TARGET": action.mailbox}
        case a.RequestCallback():
            return {"TIERLINE_ACTION": "callback", "TIERLINE_SERVICE": action.service}
        case a.HangUp():
            return {"TIERLINE_ACTION": "hangup", "TIERLINE_REASON": action.reason}
    return {"TIERLINE_ACTION": "hangup", "TIERLINE_REASON": "unknown"}


def outcome_of(result: a.Action | None) -> tuple[str, dict[str, object]]:
    match result:
        case a.Route():
            d = result.decision
            return "queue", {
                "service": result.service,
                "queue": d.queue,
                "priority": d.priority,
                "reason": d.reason,
            }
        case a.TransferTo():
            return "transfer", {"destination": result.destination}
        case a.RequestCallback():
            return "callback", {"service": result.service}
        case a.VoicemailTo():
            return "voicemail", {"mailbox": result.mailbox}
        case a.HangUp():
            return ("caller_hangup" if result.reason == "caller_hangup" else "hangup"), {
                "reason": result.reason
            }
    return "error", {}


def _record(
    flows: FlowSet, flow: Flow, call: CallInfo, state: State, *, stamps: list[float], total: float
) -> FlowWalk:
    outcome, detail = outcome_of(state.result)
    if state.facts.errors:
        detail = {**detail, "condition_errors": list(state.facts.errors)}
    path = tuple(
        PathStep.of(flows, v.flow, v.node, v.digits, stamps[i] if i < len(stamps) else total)
        for i, v in enumerate(state.path)
    )
    # No log line here: the call's one line is written after the socket is closed
    # (router.calls), off the caller's set-up time.
    return FlowWalk(
        call.uniqueid, flow.name, flow.version, path, outcome, detail, total, flows.version
    )
