"""What one simulation run is made of: traffic streams, queues, and the hooks.

The hooks are the point of the design: routing goes through a
``router.types.RoutingPolicy`` (the very object live calls use) and the IVR
walk through an ``IvrModel`` (``simulator.flow_ivr.FlowIvr`` steps the live
flow engine), so the simulator never carries a second routing or IVR
implementation.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from router.customers.model import Customer
from router.types import CallInfo, QueueSnapshot, RouteDecision, RoutingPolicy
from simulator.distributions import Sampler
from simulator.outbound import Outbound

__all__ = [
    "IVR_ENDINGS",
    "CallbackOffer",
    "FixedIvr",
    "IvrExit",
    "IvrModel",
    "IvrPath",
    "IvrWalk",
    "QueueSpec",
    "SimModel",
    "Stream",
    "after",
]


IVR_ENDINGS = ("callback", "transfer", "voicemail", "hangup", "caller_hangup")


@dataclass(frozen=True, slots=True)
class IvrExit:
    """How a caller leaves the IVR.

    ``ending`` is empty for a caller who goes on to a queue; otherwise one of
    ``IVR_ENDINGS`` (self-service, a callback request, a transfer out...), so
    contained calls are counted instead of silently vanishing. ``decision`` is
    set when the flow engine already asked the policy (a ``queue`` node);
    otherwise the simulator asks it for ``service`` when the walk ends.
    ``path`` is the flow engine's visits (flow, node, digits noted), kept
    only when records are made from the run (:mod:`simulator.records`).
    """

    service: str = ""
    decision: RouteDecision | None = None
    ending: str = ""
    # Not part of the exit's identity: the planner's split counts callers per exit.
    path: tuple[Any, ...] = field(default=(), compare=False)


# Yields the seconds until the walk goes on, returns how the caller leaves. A
# generator, because the flow engine must read the queues (branch conditions,
# the policy) at the simulated moment the caller reaches them, not at arrival.
IvrWalk = Generator[float, None, IvrExit]
# What ``IvrModel.walk`` gives: the exit itself when no IVR time passes (no
# generator to run: the Erlang models and benchmarks pay nothing), else a walk.
IvrPath = IvrExit | IvrWalk


class IvrModel(Protocol):
    def walk(
        self,
        call: CallInfo,
        customer: Customer | None,
        rng: np.random.Generator,
        queues: Mapping[str, QueueSnapshot],
    ) -> IvrPath:
        """The caller's path through the IVR, resumed by the simulator after each delay."""
        ...


@dataclass(frozen=True, slots=True)
class FixedIvr:
    """Every caller asks for one service after a fixed time (tests, Erlang checks)."""

    service: str = "default"
    seconds: float = 0.0

    def walk(
        self,
        call: CallInfo,
        customer: Customer | None,
        rng: np.random.Generator,
        queues: Mapping[str, QueueSnapshot],
    ) -> IvrPath:
        if self.seconds > 0:
            return after(self.seconds, IvrExit(self.service))
        return IvrExit(self.service)


def after(seconds: float, done: IvrExit) -> IvrWalk:
    """A walk that only waits: ``seconds`` in the IVR, then ``done``."""
    yield seconds
    return done


@dataclass(frozen=True, slots=True)
class Stream:
    """Poisson traffic of one tier on one dialled number; rates per interval (calls/s)."""

    name: str
    dnis: str
    tier: str
    rates: tuple[float, ...]
    patience: Sampler
    # Customer fields of these callers (list, lifecycle, offers...); None = unknown caller.
    profile: Mapping[str, Any] | None = field(default_factory=dict)

    def customer(self) -> Customer | None:
        if self.profile is None:
            return None
        fields = {"tier": self.tier, **self.profile}
        return Customer(customer_id=f"sim-{self.name}", **fields)


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """One Asterisk queue (lane); ``agents`` per interval, the last holds while draining."""

    name: str
    handle: Sampler
    agents: tuple[int, ...]
    cost_per_hour: float = 0.0
    shrinkage: float = 0.0  # share of paid time not on the phones
    max_occupancy: float = 1.0  # planning cap on talk time per agent (targets.max_occupancy)


@dataclass(frozen=True, slots=True)
class CallbackOffer:
    """Virtual hold: when the lane's EWT exceeds ``ewt_over_s`` a caller is offered a
    callback and accepts with probability ``accept``; they hang up at no abandonment
    risk and are queued again ``delay_s`` later with ``priority`` and no patience limit.
    """

    ewt_over_s: float
    accept: float
    delay_s: float = 0.0
    priority: int = 0


@dataclass(frozen=True, slots=True)
class SimModel:
    """A whole run. Statistics cover callers arriving in [warmup_s, horizon)."""

    streams: tuple[Stream, ...]
    queues: tuple[QueueSpec, ...]
    policy: RoutingPolicy
    ivr: IvrModel = field(default_factory=FixedIvr)
    interval_s: float = 1800.0
    warmup_s: float = 0.0
    sl_seconds: Mapping[str, float] = field(default_factory=dict)  # per tier, default 20
    start: str = "2026-01-05T00:00:00"
    callback: CallbackOffer | None = None
    outbound: Outbound | None = None  # campaigns and callbacks on the same agents

    def __post_init__(self) -> None:
        counts = {len(s.rates) for s in self.streams} | {len(q.agents) for q in self.queues}
        if len(counts) != 1:
            raise ValueError("every stream and queue needs the same number of intervals")
        if not self.interval_s > 0 or not 0 <= self.warmup_s < self.horizon:
            raise ValueError("interval_s must be > 0 and warmup_s inside the horizon")

    @property
    def n_intervals(self) -> int:
        return len(self.streams[0].rates)

    @property
    def horizon(self) -> float:
        return self.n_intervals * self.interval_s

    @property
    def tiers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.tier for s in self.streams))
