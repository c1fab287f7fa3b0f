"""The ``inbound`` route with everything wired: identify, walk the flow, route.

Per call: the customer lookup and the live-queue snapshot in ONE Redis round
trip under ONE deadline (:mod:`router.call_inputs`; each part degrades to
"unknown" instead of failing), then the operator's flow for the dialled
number runs on the FastAGI session; a number no flow serves goes straight
to the routing policy. Whatever fails, the call leaves with a route: the
last resort is the default queue, set in the same single ``MSet`` round
trip as any other route. The path record and the log line are written after
the socket is closed (:mod:`router.ivr_paths`), off the caller's set-up time.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from redis.asyncio import Redis

from router.agi.server import calling_number
from router.agi.session import AGISession
from router.call_inputs import RedisInputs, input_reader
from router.channel_vars import route_variables
from router.customers.factor_check import FactorCheck, RedisFactorCheck
from router.customers.model import Customer
from router.customers.store import RedisCustomerStore
from router.errors import AGIError, CallHungUp
from router.flows.callbacks import CallbackStore
from router.flows.engine import Stack
from router.flows.model import dialled_key
from router.flows.postcall import SURVEY_END, survey_start
from router.flows.records import FlowRecords
from router.flows.registry import FlowRegistry
from router.flows.runner import AccountLookup, DataClient, run_flow
from router.ivr_paths import IVR_ENDINGS, PathKeeper
from router.logs import get_logger
from router.metrics import CALLS_ROUTED, FALLBACK_ROUTES, LOOKUP_SECONDS, LOOKUP_TIMEOUTS
from router.storage.flow_records import RedisFlowRecords
from router.types import (
    CallInfo,
    CallInputs,
    CustomerStore,
    InputReader,
    QueueSnapshot,
    QueueState,
    RouteDecision,
    RoutingPolicy,
)

__all__ = ["DECISION_DEADLINE_MS", "NO_FLOW_SERVICE", "CallRouter", "dialled_number"]

log = get_logger("tierline.calls")

NO_FLOW_SERVICE = "general"
"""The service asked of the policy for a dialled number no flow serves."""
DECISION_DEADLINE_MS = 50.0
"""The one deadline for everything read before the decision, when the store has none."""
EARLY_LIMIT = 10_000
"""Reads started before their environment was complete, kept at most (memory bound)."""
EARLY_KEEP_S = 5.0
"""How long a finished early read waits for its call (an environment never completed)."""


def dialled_number(call: CallInfo) -> str:
    """The number the caller dialled, in normal form.

    The dialplan passes it as the AGI's first argument (``${EXTEN}`` of the
    DID context, asterisk_conf/extensions.conf): inside
    ``Gosub(tierline-route,s,1)`` the extension is ``s``, and Local channels
    and many trunks send no ``agi_dnid``. Without the argument, ``agi_dnid``.
    """
    return dialled_key(call.params.get("arg1") or call.dnis)


@dataclass
class CallRouter:
    """The FastAGI ``inbound`` handler of a running router.

    ``deadline_ms`` (default: the store's lookup deadline) bounds the
    lookup and the queue snapshot together; ``accounts`` (default: the
    store, when it can) verifies account numbers typed in a flow.
    """

    store: CustomerStore
    policy: RoutingPolicy
    flows: FlowRegistry
    callbacks: CallbackStore
    default_queue: str
    queues: QueueState | None = None
    redis: Redis | None = None  # where IVR paths are left for the AMI listener
    accounts: AccountLookup | None = None
    factors: FactorCheck | None = None  # second factors (PIN, ID digits) of typed accounts
    deadline_ms: float = 0.0
    records: FlowRecords | None = None  # offer events, survey answers (default: Redis, if any)
    data: DataClient | None = None  # the flows' fetch/notify client (router.backend_http)
    inputs: InputReader = field(init=False, repr=False)
    paths: PathKeeper = field(init=False, repr=False)
    _early: dict[str, tuple[str, asyncio.Task[CallInputs]]] = field(
        init=False, repr=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        if isinstance(self.store, RedisCustomerStore):
            self.accounts = self.accounts or self.store
            self.factors = self.factors or RedisFactorCheck(self.store.client, self.store)
            self.deadline_ms = self.deadline_ms or self.store.deadline_ms
        self.deadline_ms = self.deadline_ms or DECISION_DEADLINE_MS
        self.inputs = input_reader(self.store, self.queues, self.deadline_ms)
        self.paths = PathKeeper(self.redis)
        if self.records is None and self.redis is not None:
            self.records = RedisFlowRecords(self.redis)

    async def aclose(self) -> None:
        """Finish writing the paths of calls already routed; close the read connection."""
        await self.paths.aclose()
        if isinstance(self.inputs, RedisInputs):
            await self.inputs.aclose()

    def prefetch(self, env: Mapping[str, str]) -> None:
        """Start the decision's reads once ``agi_callerid`` is in (``server.EarlyStart``).

        Why: the round trip then overlaps the rest of the environment.
        """
        uniqueid = env.get("agi_uniqueid", "")
        if not uniqueid or uniqueid in self._early or len(self._early) >= EARLY_LIMIT:
            return
        caller = calling_number(env.get("agi_callerid", ""))
        task = asyncio.get_running_loop().create_task(self.inputs.read(caller))
        self._early[uniqueid] = (caller, task)
        task.add_done_callback(functools.partial(self._expire, uniqueid))

    def _expire(self, uniqueid: str, task: asyncio.Task[CallInputs]) -> None:
        """A read whose call never came (its environment never completed) is dropped later."""
        if uniqueid in self._early:
            asyncio.get_running_loop().call_later(EARLY_KEEP_S, self._forget, uniqueid, task)

    def _forget(self, uniqueid: str, task: asyncio.Task[CallInputs]) -> None:
        if uniqueid in self._early and self._early[uniqueid][1] is task:
            del self._early[uniqueid]

    async def _read(self, call: CallInfo) -> CallInputs:
        early = self._early.pop(call.uniqueid, None)
        if early is not None and early[0] == call.caller:
            return await early[1]
        return await self.inputs.read(call.caller)

    async def __call__(self, session: AGISession, call: CallInfo) -> None:
        if session.hung_up:  # gone before anything was read: nothing more to read or route
            self._early.pop(call.uniqueid, None)
            return
        call = replace(call, dnis=dialled_number(call))
        found = await self._read(call)
        _observe(found)
        customer, live = found.lookup.customer, found.queues
        # If a shutdown cuts the call mid-IVR, it leaves with the route the policy gives it.
        session.on_cut(lambda: self._cut_route(customer, call, live))
        flowset = self.flows.current  # the version this call keeps to the end
        flow = flowset.for_call(call.dnis, call.script)
        start_at, hops = "", 0
        stack: Stack = ()
        if "resume" in call.params:  # back from a Queue() that gave up (router.flows.resume)
            point = self.flows.resume_point(call.params["resume"])
            flow = None  # a token we cannot honour: the policy routes, no IVR replay
            if point is not None:
                flowset, flow, start_at, hops, stack = point
        elif "survey" in call.params:  # after the agent hung up (router.flows.postcall)
            survey = survey_start(flowset, call.params["survey"])
            if survey is None:
                log.warning("survey_token_rejected", token=call.params["survey"][:80])
                await session.set_vars(dict(SURVEY_END))
                return
            flow, start_at = survey
        try:
            if flow is None:
                decision = self.policy.decide(NO_FLOW_SERVICE, customer, call, live)
                await session.set_vars(route_variables(customer, decision))
                _count(decision.queue, customer, decision.reason)
                return
            record = await run_flow(
                flow, session, call, customer, self.policy, live, self.store,
                flows=flowset, callbacks=self.callbacks, accounts=self.accounts,
                records=self.records, factors=self.factors,
                start_at=start_at, hops=hops, stack=stack, default_queue=self.default_queue,
                data=self.data,
            )  # fmt: skip
        except CallHungUp:
            return
        except Exception as exc:  # a bug or a protocol fault must still route
            log.error("call.flow_failed", error=repr(exc)[:300])
            await self._last_resort(session, customer)
            return
        if record.outcome in IVR_ENDINGS:  # the dialplan hangs up as soon as we close
            await self.paths.keep_final(record, resumed=bool(start_at))
        else:
            self.paths.keep(record, resumed=bool(start_at))  # written once the socket is closed
        detail = record.detail
        _count(str(detail.get("queue", "")), customer, str(detail.get("reason", record.outcome)))

    def _cut_route(
        self, customer: Customer | None, call: CallInfo, live: Mapping[str, QueueSnapshot]
    ) -> dict[str, str]:
        return route_variables(customer, self.policy.decide(NO_FLOW_SERVICE, customer, call, live))

    async def _last_resort(self, session: AGISession, customer: Customer | None) -> None:
        decision = RouteDecision(self.default_queue, 0, "default:error")
        FALLBACK_ROUTES.inc()
        try:
            await session.set_vars(route_variables(customer, decision))
        except (AGIError, CallHungUp, OSError) as exc:
            # The dialplan's own fallback (empty TIERLINE_QUEUE) takes over.
            log.warning("call.no_route_set", error=repr(exc)[:200])


def _count(queue: str, customer: Customer | None, reason: str) -> None:
    """One routed call for ``/metrics``; the reason's family only (``overflow``, not its rule)."""
    tier = customer.tier if customer is not None else ""
    CALLS_ROUTED.labels(queue or "-", tier or "unknown", reason.partition(":")[0]).inc()


def _observe(found: CallInputs) -> None:
    """Lookup latency and timeouts for ``/metrics``; a degraded read is logged."""
    if found.lookup.elapsed_ms:
        LOOKUP_SECONDS.observe(found.lookup.elapsed_ms / 1000)
    if found.lookup.reason == "timeout":
        LOOKUP_TIMEOUTS.inc()
    _note_degraded(found)


def _note_degraded(found: CallInputs) -> None:
    if found.lookup.reason not in ("found", "unknown", "anonymous"):
        log.warning("call.lookup_degraded", reason=found.lookup.reason)
    if found.queues_reason not in ("ok", "none"):
        log.warning("call.queues_unknown", reason=found.queues_reason)
