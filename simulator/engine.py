"""One replication under SimPy: agents pull callers from per-queue priority heaps.

Why this shape: a SimPy process per caller waiting on ``request | timeout``
costs several events per call. Here only agents are processes; a caller is an
index into pre-drawn numpy arrays, pushed on a heap keyed by (-QUEUE_PRIO,
arrival order). Abandonment is lazy: a caller whose deadline passed is
recorded as abandoned when an agent reaches it, which yields the same sample
path as eager abandonment because an expired caller can never be served.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from router.policy.aging import StarvationGuard
from router.types import CallInfo, QueueSnapshot, RouteDecision
from simulator.aging import AgedOrder
from simulator.dialer import SimDialer
from simulator.model import IVR_ENDINGS, IvrExit, IvrPath, IvrWalk, QueueSpec, SimModel

__all__ = [
    "ABANDONED",
    "ANSWERED",
    "IVR_ENDED",
    "TIMED_OUT",
    "WAITING",
    "CallLog",
    "simulate",
]

WAITING, ANSWERED, ABANDONED, TIMED_OUT, IVR_ENDED = 0, 1, 2, 3, 4
_CHUNK = 4096


@dataclass(frozen=True, slots=True)
class CallLog:
    """Per-call outcome arrays of one replication (index = arrival order)."""

    arrive: NDArray[np.float64]
    stream: NDArray[np.int32]
    queue: NDArray[np.int32]  # -1 when never queued
    enqueue: NDArray[np.float64]
    wait: NDArray[np.float64]  # time in queue until answer / abandon; nan if still waiting
    service: NDArray[np.float64]
    outcome: NDArray[np.int8]
    callback: NDArray[np.bool_]  # took a virtual-hold callback; wait counts from the callback
    end_time: float
    ivr_ending: NDArray[np.int8]  # IVR_ENDED calls: index in model.IVR_ENDINGS; else -1
    ivr_time: NDArray[np.float64]  # seconds each caller spent in the IVR
    # Per outbound campaign ("outbound/<name>"), when the scenario has outbound work.
    outbound: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    paths: tuple[tuple[Any, ...], ...] = ()  # IVR visits per call, with ``keep_paths`` only


def _arrivals(model: SimModel, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Non-stationary Poisson arrivals: per interval a Poisson count, uniform times."""
    times: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    for si, stream in enumerate(model.streams):
        counts = rng.poisson(np.asarray(stream.rates) * model.interval_s)
        starts = np.repeat(np.arange(model.n_intervals) * model.interval_s, counts)
        t = starts + rng.random(int(counts.sum())) * model.interval_s
        times.append(t)
        owners.append(np.full(t.size, si, dtype=np.int32))
    t_all, s_all = np.concatenate(times), np.concatenate(owners)
    order = np.argsort(t_all, kind="stable")
    return t_all[order], s_all[order]


class _Lane:
    """Mutable state of one queue during a run."""

    __slots__ = ("buf", "heap", "idle", "pos", "shift", "spec", "staffed")

    def __init__(self, spec: QueueSpec, env: simpy.Environment) -> None:
        self.spec = spec
        self.heap: list[tuple[int, int]] = []
        self.idle: list[tuple[int, simpy.Event]] = []
        self.staffed = spec.agents[0]
        self.shift = env.event()
        self.buf: list[float] = []
        self.pos = 0


class _Snapshots(Mapping[str, QueueSnapshot]):
    """Queue state for the policy, built only for the queues it actually reads."""

    def __init__(self, run: _Run) -> None:
        self._run = run

    def __getitem__(self, name: str) -> QueueSnapshot:
        return self._run.snapshot(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._run.lanes)

    def __len__(self) -> int:
        return len(self._run.lanes)


class _Resume:
    """Goes on with a caller's IVR walk when its delay is over (a callback, not a process)."""

    __slots__ = ("call", "cid", "run", "walk")

    def __init__(self, run: _Run, cid: int, walk: IvrWalk, call: CallInfo) -> None:
        self.run, self.cid, self.walk, self.call = run, cid, walk, call

    def __call__(self, _event: simpy.Event) -> None:
        self.run.advance(self.cid, self.walk, self.call)


class _Run:
    def __init__(self, model: SimModel, rng: np.random.Generator, keep_paths: bool) -> None:
        self.model, self.rng = model, rng
        self.env = simpy.Environment()
        self.arrive, self.stream = _arrivals(model, rng)
        n = self.arrive.size
        self.patience = np.empty(n)
        for si, s in enumerate(model.streams):
            mask = self.stream == si
            self.patience[mask] = s.patience.draw(rng, int(mask.sum()))
        self.stream_of: list[int] = self.stream.tolist()
        self.patience_of: list[float] = self.patience.tolist()
        self.queue_of = [-1] * n
        self.enq = [math.nan] * n
        self.wait = [math.nan] * n
        self.service = [0.0] * n
        self.outcome = [WAITING] * n
        self.deadline = [math.inf] * n
        self.timeout_flag = [False] * n
        self.callback_of = [False] * n
        self.ivr_ending = [-1] * n
        self.ivr_time = [0.0] * n
        self.paths: list[tuple[Any, ...]] | None = [()] * n if keep_paths else None
        self.lanes = {q.name: _Lane(q, self.env) for q in model.queues}
        self.lane_index = {q.name: i for i, q in enumerate(model.queues)}
        self.customers = [s.customer() for s in model.streams]
        self.t0 = datetime.fromisoformat(model.start)
        self.snapshots = _Snapshots(self)
        guard = getattr(model.policy, "guard", None)
        self.aging = AgedOrder(guard) if isinstance(guard, StarvationGuard) else None
        self.base_prio = [0] * n
        self.tier_of = [c.tier if c else "" for c in self.customers]
        self.n_in = n
        self.dialer: SimDialer | None = None
        if model.outbound is not None:
            # Its own stream (spawning leaves rng's state alone): inbound draws stay common.
            self.dialer = SimDialer(self, model.outbound, rng.spawn(1)[0])
            self.tier_of.append("")  # the stream index outbound customers queue under

    def snapshot(self, name: str) -> QueueSnapshot:
        lane = self.lanes[name]
        now = self.env.now
        live = [c for _, c in lane.heap if self.deadline[c] >= now]
        longest = now - min((self.enq[c] for c in live), default=now)
        busy = lane.staffed - len(lane.idle)
        aht = lane.spec.handle.mean
        full = lane.staffed > 0 and busy >= lane.staffed
        return QueueSnapshot(
            name=name,
            waiting=len(live),
            longest_wait=float(longest),
            agents_logged_in=lane.staffed,
            agents_available=len(lane.idle),
            ewt=(len(live) + 1) * aht / lane.staffed if full else 0.0,
        )

    def handle_time(self, lane: _Lane) -> float:
        if lane.pos >= len(lane.buf):
            lane.buf = lane.spec.handle.draw(self.rng, _CHUNK).tolist()
            lane.pos = 0
        lane.pos += 1
        return lane.buf[lane.pos - 1]

    def route(self, cid: int, service: str, call: CallInfo) -> None:
        """Ask the policy where the caller goes, then queue (or hand to an idle agent)."""
        decision = self.model.policy.decide(
            service, self.customers[self.stream_of[cid]], call, self.snapshots
        )
        if self.offer_callback(cid, decision.queue, service, call):
            return
        self.enqueue_call(cid, decision)

    def offer_callback(self, cid: int, queue: str, service: str, call: CallInfo) -> bool:
        """Virtual hold: an accepted offer re-queues the call later as a patient callback."""
        cb = self.model.callback
        if cb is None or self.callback_of[cid] or self.snapshot(queue).ewt <= cb.ewt_over_s:
            return False
        if self.rng.random() >= cb.accept:
            return False
        self.callback_of[cid] = True
        self.patience_of[cid] = math.inf
        decision = RouteDecision(queue, cb.priority, "callback")
        later = self.env.timeout(cb.delay_s)
        later.callbacks.append(lambda _e: self.enqueue_call(cid, decision))
        return True

    def enqueue_call(self, cid: int, decision: RouteDecision) -> None:
        lane = self.lanes[decision.queue]
        now = self.env.now
        self.queue_of[cid] = self.lane_index[decision.queue]
        self.enq[cid] = now
        limit = self.patience_of[cid]
        if 0 < decision.max_wait_s < limit:
            limit = decision.max_wait_s
            self.timeout_flag[cid] = True
        self.deadline[cid] = now + limit
        self.base_prio[cid] = decision.priority
        heapq.heappush(lane.heap, (-decision.priority, cid))
        if lane.idle:
            lane.idle.pop()[1].succeed()

    def add_outbound(self, queue: str, priority: int, max_wait_s: float, busy_s: float) -> int:
        """Queue an answered outbound customer (ids after the inbound callers')."""
        cid = len(self.queue_of)
        self.stream_of.append(len(self.tier_of) - 1)
        self.patience_of.append(math.inf)
        self.queue_of.append(-1)
        self.ivr_ending.append(-1)
        self.outcome.append(WAITING)
        self.base_prio.append(0)
        for floats, value in ((self.enq, math.nan), (self.wait, math.nan), (self.service, busy_s),
                              (self.deadline, math.inf), (self.ivr_time, 0.0)):  # fmt: skip
            floats.append(value)
        self.timeout_flag.append(False)
        self.callback_of.append(False)
        self.enqueue_call(cid, RouteDecision(queue, priority, "outbound", math.ceil(max_wait_s)))
        return cid

    def arrivals(self) -> Generator[simpy.Event, Any, None]:
        env, ivr, rng, t0 = self.env, self.model.ivr, self.rng, self.t0
        dnis = [s.dnis for s in self.model.streams]
        # Call ids differ per replication, so flows' percent() splits differ too.
        tag = f"{int(rng.integers(1 << 62)):x}."
        last = 0.0
        for cid, t in enumerate(self.arrive.tolist()):
            yield env.timeout(t - last)
            last = t
            si = self.stream_of[cid]
            call = CallInfo(tag + str(cid), "", dnis[si], t0 + timedelta(seconds=t))
            self.advance(cid, ivr.walk(call, self.customers[si], rng, self.snapshots), call)

    def advance(self, cid: int, walk: IvrPath, call: CallInfo) -> None:
        """Run the caller's IVR walk to its next delay, or route them when it ends."""
        if isinstance(walk, IvrExit):
            self.leave_ivr(cid, walk, call)
            return
        try:
            delay = next(walk)
        except StopIteration as stop:
            self.leave_ivr(cid, stop.value, call)
            return
        self.ivr_time[cid] += delay
        self.env.timeout(delay).callbacks.append(_Resume(self, cid, walk, call))

    def leave_ivr(self, cid: int, done: IvrExit, call: CallInfo) -> None:
        if self.paths is not None:
            self.paths[cid] = done.path
        if done.ending:
            self.outcome[cid] = IVR_ENDED
            self.ivr_ending[cid] = IVR_ENDINGS.index(done.ending)
            if done.ending == "callback" and self.dialer is not None:
                self.dialer.request_callback(self.model.streams[self.stream_of[cid]].tier)
        elif done.decision is not None:
            if not self.offer_callback(cid, done.decision.queue, done.service, call):
                self.enqueue_call(cid, done.decision)
        else:
            self.route(cid, done.service, call)

    def pop_live(self, lane: _Lane, now: float) -> int:
        if self.aging is not None:
            return self.pop_aged(lane, now, self.aging)
        heap, deadline = lane.heap, self.deadline
        while heap:
            cid = heapq.heappop(heap)[1]
            if deadline[cid] >= now:
                return cid
            self.wait[cid] = deadline[cid] - self.enq[cid]
            self.outcome[cid] = TIMED_OUT if self.timeout_flag[cid] else ABANDONED
        return -1

    def pop_aged(self, lane: _Lane, now: float, aging: AgedOrder) -> int:
        """The caller app_queue would connect now, priorities aged by the guard.

        Keys change with time, so the heap is only a list here: expired
        callers are settled and the best live one is taken in one scan.
        """
        best, best_key, keep = -1, (0, 0.0, 0), []
        for item in lane.heap:
            cid = item[1]
            if self.deadline[cid] < now:
                self.wait[cid] = self.deadline[cid] - self.enq[cid]
                self.outcome[cid] = TIMED_OUT if self.timeout_flag[cid] else ABANDONED
                continue
            tier = self.tier_of[self.stream_of[cid]]
            prio, reached = aging.key(self.base_prio[cid], tier, self.enq[cid], now)
            key = (prio, reached, cid)
            if best < 0 or key < best_key:
                if best >= 0:
                    keep.append((0, best))
                best, best_key = cid, key
            else:
                keep.append(item)
        lane.heap[:] = keep
        return best

    def drain(self, lane: _Lane) -> None:
        """Callers left when no agent will ever come: patient ones are still waiting."""
        for _, cid in lane.heap:
            if math.isfinite(self.deadline[cid]):
                self.wait[cid] = self.deadline[cid] - self.enq[cid]
                self.outcome[cid] = TIMED_OUT if self.timeout_flag[cid] else ABANDONED
        lane.heap.clear()

    def agent(self, lane: _Lane, k: int) -> Generator[simpy.Event, Any, None]:
        env = self.env
        while True:
            if k >= lane.staffed:
                yield lane.shift
                continue
            now = env.now
            cid = self.pop_live(lane, now)
            if cid < 0:
                ev = env.event()
                lane.idle.append((k, ev))
                if self.dialer is not None:
                    self.dialer.on_idle(lane.spec.name)
                yield ev
                continue
            self.wait[cid] = now - self.enq[cid]
            self.outcome[cid] = ANSWERED
            if cid < self.n_in:
                dur = self.handle_time(lane)
            else:
                dur = self.service[cid]
                if self.dialer is not None:
                    self.dialer.on_connect(cid, lane.spec.name)
            self.service[cid] = dur
            yield env.timeout(dur)

    def shifts(self, lane: _Lane) -> Generator[simpy.Event, Any, None]:
        for i in range(1, self.model.n_intervals):
            yield self.env.timeout(self.model.interval_s)
            lane.staffed = lane.spec.agents[i]
            keep = [(k, ev) for k, ev in lane.idle if k < lane.staffed]
            for k, ev in lane.idle:
                if k >= lane.staffed:
                    ev.succeed()
            lane.idle = keep
            old, lane.shift = lane.shift, self.env.event()
            old.succeed()

    def run(self) -> CallLog:
        env = self.env
        env.process(self.arrivals())
        for lane in self.lanes.values():
            for k in range(max(lane.spec.agents)):
                env.process(self.agent(lane, k))
            env.process(self.shifts(lane))
        if self.dialer is not None:
            self.dialer.start()
        env.run()
        for lane in self.lanes.values():
            self.drain(lane)
        n = self.n_in  # outbound customers queued after the callers are not in the log
        return CallLog(
            arrive=self.arrive,
            stream=self.stream,
            queue=np.array(self.queue_of[:n], dtype=np.int32),
            enqueue=np.array(self.enq[:n], dtype=float),
            wait=np.array(self.wait[:n], dtype=float),
            service=np.array(self.service[:n], dtype=float),
            outcome=np.array(self.outcome[:n], dtype=np.int8),
            callback=np.array(self.callback_of[:n], dtype=bool),
            end_time=float(env.now),
            ivr_ending=np.array(self.ivr_ending[:n], dtype=np.int8),
            ivr_time=np.array(self.ivr_time[:n], dtype=float),
            outbound=self.dialer.figures(ANSWERED) if self.dialer is not None else {},
            paths=tuple(self.paths[:n]) if self.paths is not None else (),
        )


def simulate(model: SimModel, rng: np.random.Generator, *, keep_paths: bool = False) -> CallLog:
    """Run one replication; the same generator state gives the same log.

    ``keep_paths`` keeps each caller's IVR visits (for call records with
    paths, as calibration from recorded paths needs); off, a long run holds
    no per-call walk in memory.
    """
    return _Run(model, rng, keep_paths).run()
