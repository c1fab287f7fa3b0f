"""The ``inbound`` route: look the caller up, set the route variables, return.

Until the flow engine lands this is the whole call: one store round trip,
one ``EXEC MSet`` round trip, then the dialplan goes on to
``Queue(${TIERLINE_QUEUE})`` with ``QUEUE_PRIO=${TIERLINE_PRIO}``.

A call is never left without a route: an unknown caller, a store that is
down or slow, a malformed record or any bug in choosing the route all end in
the default route (``settings.default_queue``, priority 0).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from router.agi.session import AGISession
from router.channel_vars import MAX_VALUE_CHARS, screen_pop
from router.customers.model import Customer, LookupResult
from router.logs import get_logger
from router.settings import Settings
from router.types import CallInfo, CustomerStore, RouteDecision

__all__ = [
    "MAX_VALUE_CHARS",
    "ROUTE_VARIABLES",
    "InboundRoute",
    "RouteChooser",
    "route_variables",
    "tier_route",
]

log = get_logger("tierline.agi.inbound")

ROUTE_VARIABLES = (
    "TIERLINE_CUSTOMER",
    "TIERLINE_TIER",
    "TIERLINE_LIST",
    "TIERLINE_LIFECYCLE",
    "TIERLINE_QUEUE",
    "TIERLINE_PRIO",
    "TIERLINE_OFFERS",
)

TIER_PRIORITY = {"vip": 10, "high": 5, "mid": 2}

RouteChooser = Callable[[Customer | None, CallInfo], RouteDecision]
"""Pure: where a call goes. The routing policy / flow engine replaces it."""


def tier_route(default_queue: str) -> RouteChooser:
    """Interim policy: everyone to ``default_queue``, priority by tier."""

    def choose(customer: Customer | None, call: CallInfo) -> RouteDecision:
        if customer is None:
            return RouteDecision(default_queue, 0, "unknown")
        return RouteDecision(default_queue, TIER_PRIORITY.get(customer.tier, 0), "tier")

    return choose


def route_variables(customer: Customer | None, decision: RouteDecision) -> dict[str, str]:
    """Pure: the channel variables for the agent's screen pop and the dialplan."""
    return {
        **screen_pop(customer),
        "TIERLINE_QUEUE": decision.queue[:MAX_VALUE_CHARS],
        "TIERLINE_PRIO": str(int(decision.priority)),
    }


@dataclass
class InboundRoute:
    """The handler registered as ``inbound``. ``last_decision_ms`` feeds the benchmark."""

    store: CustomerStore
    settings: Settings
    choose: RouteChooser | None = None
    decisions: list[float] | None = None  # when a list: env complete -> MSet written, ms

    async def __call__(self, session: AGISession, call: CallInfo) -> None:
        started = time.perf_counter()
        customer, variables = None, self._default()
        try:
            customer = await self._lookup(call)
            decision = (self.choose or tier_route(self.settings.default_queue))(customer, call)
            variables = route_variables(customer, decision)
        except Exception as exc:  # any failure still routes (module docstring)
            log.warning("inbound.default_route", error=repr(exc)[:200])
        if self.decisions is not None:  # nothing yields between here and the write
            self.decisions.append((time.perf_counter() - session.env_done_at) * 1000)
        await session.set_vars(variables)
        log.info(
            "inbound.routed",
            queue=variables["TIERLINE_QUEUE"],
            prio=variables["TIERLINE_PRIO"],
            known=customer is not None,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 3),
        )

    async def _lookup(self, call: CallInfo) -> Customer | None:
        if not call.caller:
            return None
        # The store keeps its own deadline; this one is the backstop for a store
        # that does not (a bug must not hold the caller in silence).
        deadline = self.settings.lookup_deadline_ms * 1.2 / 1000 + 0.005
        async with asyncio.timeout(deadline):  # no extra task, unlike wait_for
            result: LookupResult = await self.store.lookup(call.caller)
        if result.customer is None and result.reason not in ("unknown", "anonymous"):
            log.warning("inbound.lookup_failed", reason=result.reason)
        return result.customer

    def _default(self) -> dict[str, str]:
        decision = RouteDecision(self.settings.default_queue, 0, "default")
        return route_variables(None, decision)
