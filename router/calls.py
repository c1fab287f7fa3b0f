"""The ``inbound`` route with everything wired: identify, walk the flow, route.

Per call: one customer lookup and one live-queue snapshot (each under its
own deadline, each degrading to "unknown" instead of failing), then the
operator's flow for the dialled number runs on the FastAGI session; a
number no flow serves goes straight to the routing policy. Whatever fails,
the call leaves with a route: the last resort is the default queue, set in
the same single ``MSet`` round trip as any other route.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from router.agi.inbound import route_variables
from router.agi.session import AGISession
from router.ami.store import record_ivr_path
from router.customers.model import Customer
from router.customers.store import RedisCustomerStore
from router.errors import AGIError, CallHungUp
from router.flows.callbacks import CallbackStore
from router.flows.engine import Stack
from router.flows.model import dialled_key
from router.flows.registry import FlowRegistry
from router.flows.runner import run_flow
from router.flows.walk import FlowWalk
from router.logs import get_logger
from router.storage import keys
from router.types import CallInfo, QueueSnapshot, QueueState, RouteDecision, RoutingPolicy

__all__ = ["NO_FLOW_SERVICE", "CallRouter", "dialled_number", "path_json"]

log = get_logger("tierline.calls")

NO_FLOW_SERVICE = "general"
"""The service asked of the policy for a dialled number no flow serves."""

QUEUES_DEADLINE_S = 0.03
RECORD_DEADLINE_S = 0.05


def path_json(record: FlowWalk) -> str:
    """The call's path in the shape the AMI listener merges into its record."""
    doc: dict[str, Any] = record.as_dict()
    doc["steps"] = [{"node": s.node, "choice": s.choice, "flow": s.flow} for s in record.path]
    del doc["path"]
    return orjson.dumps(doc, default=str).decode()


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
    """The FastAGI ``inbound`` handler of a running router."""

    store: RedisCustomerStore
    policy: RoutingPolicy
    flows: FlowRegistry
    callbacks: CallbackStore
    default_queue: str
    queues: QueueState | None = None
    redis: Redis | None = None  # where IVR paths are left for the AMI listener

    async def __call__(self, session: AGISession, call: CallInfo) -> None:
        call = replace(call, dnis=dialled_number(call))
        customer = await self._customer(call)
        live = await self._live_queues()
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
        try:
            if flow is None:
                decision = self.policy.decide(NO_FLOW_SERVICE, customer, call, live)
                await session.set_vars(route_variables(customer, decision))
                return
            await session.answer()
            record = await run_flow(
                flow, session, call, customer, self.policy, live, self.store,
                flows=flowset, callbacks=self.callbacks, accounts=self.store,
                start_at=start_at, hops=hops, stack=stack,
            )  # fmt: skip
        except CallHungUp:
            return
        except Exception as exc:  # a bug or a protocol fault must still route
            log.error("call.flow_failed", error=repr(exc)[:300])
            await self._last_resort(session, customer)
            return
        log.info(
            "call.done",
            flow=record.flow,
            version=record.flow_version,
            outcome=record.outcome,
            steps=len(record.path),
            elapsed_ms=round(record.duration_ms, 2),
        )
        await self._keep_path(call.uniqueid, record, resumed=bool(start_at))

    def _cut_route(
        self, customer: Customer | None, call: CallInfo, live: Mapping[str, QueueSnapshot]
    ) -> dict[str, str]:
        return route_variables(customer, self.policy.decide(NO_FLOW_SERVICE, customer, call, live))

    async def _customer(self, call: CallInfo) -> Customer | None:
        if not call.caller:
            return None
        result = await self.store.lookup(call.caller)  # has its own deadline; never raises
        if result.reason not in ("found", "unknown"):
            log.warning("call.lookup_degraded", reason=result.reason)
        return result.customer

    async def _live_queues(self) -> Mapping[str, QueueSnapshot]:
        if self.queues is None:
            return {}
        try:
            async with asyncio.timeout(QUEUES_DEADLINE_S):
                return await self.queues.snapshot()
        except (TimeoutError, RedisError, OSError, ValueError) as exc:
            log.warning("call.queues_unknown", error=repr(exc)[:200])
            return {}

    async def _last_resort(self, session: AGISession, customer: Customer | None) -> None:
        decision = RouteDecision(self.default_queue, 0, "default:error")
        try:
            await session.set_vars(route_variables(customer, decision))
        except (AGIError, CallHungUp, OSError) as exc:
            # The dialplan's own fallback (empty TIERLINE_QUEUE) takes over.
            log.warning("call.no_route_set", error=repr(exc)[:200])

    async def _keep_path(self, uniqueid: str, record: FlowWalk, *, resumed: bool) -> None:
        if self.redis is None:
            return
        try:
            async with asyncio.timeout(RECORD_DEADLINE_S):
                text = path_json(record)
                if resumed:  # keep the walk before the queue too
                    text = _joined(await self.redis.get(keys.ivr_path_key(uniqueid)), text)
                await record_ivr_path(self.redis, uniqueid, text)
        except (TimeoutError, RedisError, OSError) as exc:
            log.warning("call.path_not_kept", error=repr(exc)[:200])


def _joined(before: bytes | str | None, after: str) -> str:
    """A resumed call's path: the steps before the queue, then the ones after it."""
    if not before:
        return after
    doc = orjson.loads(after)
    doc["steps"] = [*orjson.loads(before).get("steps", []), *doc["steps"]]
    return orjson.dumps(doc).decode()
