"""The SimPy model of a contact centre, routed by the live routing policy.

Every simulated call is routed by the same ``router.types.RoutingPolicy``
object the FastAGI router uses: the simulator has no routing of its own.

Speed is what makes sweeps practical, so the model avoids a process per
call: each lane (Asterisk queue) is a heap of waiting callers ordered like
app_queue (higher QUEUE_PRIO first, then arrival order), and each agent is
one process that pulls the next caller. Abandonment is lazy: a caller's
patience is drawn at arrival, and an agent that pops a caller whose
patience has run out records the abandonment at that moment (exact, since
nothing else happens to a waiting caller). Per-call outcomes are appended
to flat lists and aggregated with numpy afterwards.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import simpy

from router.customer import Customer
from router.types import CallInfo, QueueSnapshot, RoutingPolicy
from simulator.model import RunConfig, Stream

__all__ = ["RunResult", "simulate"]

_DRAW = 4096  # variates drawn per numpy call
_EPOCH = datetime(2026, 1, 5, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RunResult:
    """Outcome of every call that arrived in the measured window.

    Arrays are aligned per call: ``stream`` and ``queue`` index
    ``streams`` / ``queues``; ``wait`` is time to answer or to abandon.
    """

    streams: tuple[Stream, ...]
    queues: tuple[str, ...]
    stream: np.ndarray
    queue: np.ndarray
    priority: np.ndarray
    arrival: np.ndarray
    wait: np.ndarray
    answered: np.ndarray
    busy_s: np.ndarray  # per queue, agent-seconds of talk within the window
    config: RunConfig


class _Variates:
    """Exponential variates in blocks: one numpy call per ``_DRAW`` draws."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._block = rng.standard_exponential(_DRAW)
        self._i = 0

    def exp(self, mean: float) -> float:
        if self._i == _DRAW:
            self._block = self._rng.standard_exponential(_DRAW)
            self._i = 0
        value = float(self._block[self._i])
        self._i += 1
        return value * mean


class _Lane:
    __slots__ = ("agents", "aht", "busy", "heap", "idle", "index", "name")

    def __init__(self, index: int, name: str, agents: int, aht: float) -> None:
        self.index = index
        self.name = name
        self.agents = agents
        self.aht = aht
        self.heap: list[tuple[int, int, list[Any]]] = []
        self.idle: list[simpy.Event] = []
        self.busy = 0.0

    def snapshot(self) -> QueueSnapshot:
        waiting = len(self.heap)
        free = len(self.idle)
        ewt = 0.0 if free else (waiting + 1) * self.aht / self.agents if self.agents else math.inf
        return QueueSnapshot(self.name, waiting, 0.0, self.agents, free, 0, ewt, True)


class _LiveQueues(Mapping[str, QueueSnapshot]):
    """The policy's view of live state, built only for the queues it asks about."""

    def __init__(self, lanes: Mapping[str, _Lane]) -> None:
        self._lanes = lanes

    def __getitem__(self, name: str) -> QueueSnapshot:
        return self._lanes[name].snapshot()

    def __iter__(self) -> Iterator[str]:
        return iter(self._lanes)

    def __len__(self) -> int:
        return len(self._lanes)


class _Model:
    def __init__(self, config: RunConfig, policy: RoutingPolicy, rng: np.random.Generator) -> None:
        self.env = simpy.Environment()
        self.cfg = config
        self.policy = policy
        self.var = _Variates(rng)
        self.lanes = {
            name: _Lane(i, name, n, config.aht[name])
            for i, (name, n) in enumerate(sorted(config.agents.items()))
        }
        self.view = _LiveQueues(self.lanes)
        self.seq = 0
        # Per call: stream, queue, priority, arrival, wait, answered
        self.out: list[tuple[int, int, int, float, float, bool]] = []

    def run(self) -> RunResult:
        for i, stream in enumerate(self.cfg.streams):
            self.env.process(self._arrivals(i, stream))
        for lane in self.lanes.values():
            for _ in range(lane.agents):
                self.env.process(self._agent(lane))
        self.env.run()  # arrivals stop at the horizon; the queues then drain
        return self._result()

    def _arrivals(self, index: int, stream: Stream) -> Generator[simpy.Event, Any, None]:
        env, cfg = self.env, self.cfg
        customer = Customer(
            f"sim-{index}", tier=stream.tier, list=stream.list, lifecycle=stream.lifecycle
        )
        call = CallInfo(f"sim-{index}", "", stream.dnis, _EPOCH)
        patience = cfg.patience_of(stream.tier)
        while env.now < cfg.horizon_s:
            rate = stream.rate_at(env.now, cfg.interval_s)
            boundary = min(cfg.horizon_s, (env.now // cfg.interval_s + 1) * cfg.interval_s)
            gap = self.var.exp(1 / rate) if rate > 0 else math.inf
            if env.now + gap >= boundary:  # memoryless: restart at the boundary's rate
                yield env.timeout(boundary - env.now)
                continue
            yield env.timeout(gap)
            decision = self.policy.decide(stream.service, customer, call, self.view)
            deadline = env.now + self.var.exp(patience) if math.isfinite(patience) else math.inf
            self._join(self.lanes[decision.queue], [index, decision.priority, env.now, deadline])

    def _join(self, lane: _Lane, caller: list[Any]) -> None:
        if lane.idle:
            lane.idle.pop().succeed(caller)
            return
        self.seq += 1
        heapq.heappush(lane.heap, (-caller[1], self.seq, caller))

    def _next(self, lane: _Lane) -> list[Any] | None:
        now = self.env.now
        while lane.heap:
            caller = heapq.heappop(lane.heap)[2]
            if caller[3] >= now:
                return caller
            self._record(lane, caller, caller[3] - caller[2], answered=False)
        return None

    def _agent(self, lane: _Lane) -> Generator[simpy.Event, Any, None]:
        env, cfg = self.env, self.cfg
        while True:
            caller = self._next(lane)
            if caller is None:
                wake = env.event()
                lane.idle.append(wake)
                caller = yield wake
            assert caller is not None  # an idle agent is only woken with a caller
            self._record(lane, caller, env.now - caller[2], answered=True)
            talk = self.var.exp(lane.aht)
            start, end = max(env.now, cfg.warmup_s), min(env.now + talk, cfg.horizon_s)
            lane.busy += max(0.0, end - start)
            yield env.timeout(talk)

    def _record(self, lane: _Lane, caller: list[Any], wait: float, answered: bool) -> None:
        if caller[2] >= self.cfg.warmup_s:
            self.out.append((caller[0], lane.index, caller[1], caller[2], wait, answered))

    def _result(self) -> RunResult:
        for lane in self.lanes.values():  # only an unstaffed lane still holds callers
            for _, _, caller in lane.heap:
                end = caller[3] if math.isfinite(caller[3]) else self.env.now
                self._record(lane, caller, end - caller[2], answered=False)
            lane.heap.clear()
        rows = np.array(self.out, dtype=float).reshape(-1, 6)
        return RunResult(
            streams=self.cfg.streams,
            queues=tuple(self.lanes),
            stream=rows[:, 0].astype(int),
            queue=rows[:, 1].astype(int),
            priority=rows[:, 2].astype(int),
            arrival=rows[:, 3],
            wait=rows[:, 4],
            answered=rows[:, 5].astype(bool),
            busy_s=np.array([lane.busy for lane in self.lanes.values()]),
            config=self.cfg,
        )


def simulate(config: RunConfig, policy: RoutingPolicy, rng: np.random.Generator) -> RunResult:
    """One replication. The same ``rng`` state gives the same numbers."""
    return _Model(config, policy, rng).run()
