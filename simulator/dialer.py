"""The dialer inside one replication (SimPy adapter around the live pure rules).

Why it looks like the live loop: every ``tick_s`` and whenever a lane's
agent goes idle it asks the live :func:`router.dialer.pacing.decide` (or the
rule the scenario's ``Outbound`` carries) how many calls may start, fed the
simulated queue snapshots, the lane's idle agents and its calls still
ringing. Progressive calls ring the customer first and, once answered, join
the lane's queue at the campaign's priority as ``[tierline-outbound]`` does,
so an agent an inbound caller took meanwhile makes the customer wait (and,
after ``queue_timeout_s``, an abandoned outbound call). Preview calls hold
an idle agent from the start. Retries come from the live
:func:`router.dialer.retry.after_attempt`.

Draws come from the dialer's own generator, so an inbound-only run and a
blended run of one seed share every arrival and patience (common random
numbers) and differ only by what outbound did.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Generator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from router.dialer.model import Campaign, Contact, ContactState, DialMode, DialResult
from router.dialer.retry import after_attempt, next_open
from simulator.outbound import Customers, Outbound

if TYPE_CHECKING:
    from simulator.engine import _Run

__all__ = ["OUTBOUND_METRICS", "SimDialer"]

OUTBOUND_METRICS = (
    "contacts",
    "attempts",
    "answered",
    "right_party",
    "connected",
    "abandoned",
    "busy",
    "no_answer",
    "agent_hours",
    "done",
    "exhausted",
    "expired",
    "pending",
    "requests",
    "mean_wait_s",
)


@dataclass(slots=True)
class _Job:
    """One contact being worked: the dialer's Contact plus its results so far."""

    contact: Contact
    index: int  # which campaign (position in Outbound.names)
    requested: float  # sim seconds when it became due first (callback wait is from here)
    results: dict[DialResult, int] = field(default_factory=dict)


class _Book:
    """Per-campaign counters, turned into the report's figures at the end."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.counts = {n: dict.fromkeys(OUTBOUND_METRICS, 0.0) for n in names}
        self.waits: dict[str, list[float]] = {n: [] for n in names}

    def add(self, name: str, metric: str, value: float = 1.0) -> None:
        self.counts[name][metric] += value


class SimDialer:
    """Places the scenario's outbound calls on the shared agents of one run."""

    def __init__(self, run: _Run, outbound: Outbound, rng: np.random.Generator) -> None:
        self.run, self.out, self.rng = run, outbound, rng
        self.env = run.env
        self.specs: list[tuple[Campaign, Customers]] = [
            (c.campaign, c.customers) for c in outbound.campaigns
        ]
        if outbound.callbacks is not None:
            self.specs.append((outbound.callbacks.campaign, outbound.callbacks.customers))
        self.names = outbound.names
        keys = list(self.names)
        if outbound.callbacks is not None:  # callbacks also per tier: a red one waits less
            keys += [f"{outbound.callbacks.campaign.name}/{t}" for t in run.model.tiers]
        self.ready: dict[str, list[tuple[int, float, int, _Job]]] = {
            lane: [] for lane in outbound.lanes
        }
        # Originates whose customer has no agent yet, as the live dialer counts them.
        self.in_flight = dict.fromkeys(outbound.lanes, 0)
        # Agents on our calls until the customer hangs up (the live tracker's view).
        self.on_outbound = dict.fromkeys(outbound.lanes, 0)
        self.connected: dict[int, tuple[_Job, bool]] = {}  # engine call id -> job, right party
        self.queued: set[int] = set()  # answered customers no agent has taken yet
        self.book = _Book(tuple(keys))
        self.seq = 0
        self.horizon = run.model.horizon

    # -- time ---------------------------------------------------------------
    def at(self, seconds: float) -> datetime:
        return self.run.t0 + timedelta(seconds=seconds)

    def seconds(self, when: datetime) -> float:
        return (when - self.run.t0).total_seconds()

    # -- contacts -----------------------------------------------------------
    def start(self) -> None:
        """Schedule every campaign's contacts and the pacing tick."""
        interval = self.run.model.interval_s
        for index, sc in enumerate(self.out.campaigns):
            name = sc.campaign.name
            for i, count in enumerate(sc.new_contacts):
                jobs = [_Job(Contact(f"{name}.{i}.{k}", name, ""), index, i * interval)
                        for k in range(count)]  # fmt: skip
                self.book.add(name, "contacts", float(count))
                if jobs:
                    self.due(jobs, i * interval)
        self.env.process(self.ticker())

    def request_callback(self, tier: str) -> None:
        """A caller left a callback request in the IVR (uptake drawn here)."""
        cb = self.out.callbacks
        if cb is None or self.rng.random() >= cb.uptake:
            return
        now = self.env.now
        name = cb.campaign.name
        contact = Contact(f"cb.{self.seq}", name, "", priority=cb.priority.get(tier, 0), tier=tier)
        self.seq += 1
        job = _Job(contact, len(self.specs) - 1, now)
        self.count(job, "requests")
        self.count(job, "contacts")
        self.due([job], now + cb.delay_s)

    def due(self, jobs: list[_Job], seconds: float) -> None:
        """Make ``jobs`` (of one campaign) ready at the next open moment from ``seconds``."""
        campaign = self.specs[jobs[0].index][0]
        when = next_open(campaign.hours, self.at(seconds))
        due_s = self.seconds(when) if when is not None else math.inf
        if due_s >= self.horizon:
            return  # still pending when the day ends: reported as such
        self.env.timeout(max(0.0, due_s - self.env.now)).callbacks.append(
            lambda _e: self.make_ready(jobs, due_s)
        )

    def make_ready(self, jobs: list[_Job], due_s: float, *, tick: bool = True) -> None:
        campaign = self.specs[jobs[0].index][0]
        heap = self.ready[campaign.lane]
        for job in jobs:
            prio = max(job.contact.priority, campaign.priority)
            heapq.heappush(heap, (-prio, due_s, self.seq, job))
            self.seq += 1
        if tick:
            self.tick(campaign.lane)

    def keys(self, job: _Job) -> tuple[str, ...]:
        """Where a job is counted: its campaign, and a callback also under its tier."""
        name = self.names[job.index]
        if job.contact.tier:
            return name, f"{name}/{job.contact.tier}"
        return (name,)

    def count(self, job: _Job, metric: str, value: float = 1.0) -> None:
        for key in self.keys(job):
            self.book.add(key, metric, value)

    def waited(self, job: _Job, seconds: float) -> None:
        """From the request (or the contact's first due time) to an agent."""
        for key in self.keys(job):
            self.book.waits[key].append(seconds)

    # -- pacing -------------------------------------------------------------
    def ticker(self) -> Generator[simpy.Event, Any, None]:
        """The live loop's periodic re-read, where events alone could miss a change.

        A lane whose guards watch only itself can only be allowed more calls
        after an event this class already re-decides on (an agent idle, a
        ring or a call over, a contact due): with an idle agent nobody waits
        in that queue. So the tick only matters for guards on other queues
        and for a new interval's forecast; elsewhere it waits an interval.
        """
        lanes = tuple(self.ready)
        cross = any(
            g.queue != lane for lane, per in self.out.pacing.items() for p in per for g in p.guards
        )
        step = self.out.tick_s if cross else self.run.model.interval_s
        while self.env.now < self.horizon:
            for lane in lanes:
                self.tick(lane)
            yield self.env.timeout(step)

    def on_idle(self, lane: str) -> None:
        """An agent of ``lane`` went idle: the live dialer re-decides at once, so do we."""
        if lane in self.ready:
            self.tick(lane)

    def tick(self, lane: str) -> None:
        heap = self.ready[lane]
        now = self.env.now
        if not heap or now >= self.horizon:
            return
        state = self.run.lanes[lane]
        if not state.idle:
            return  # one call per free agent: with none free no rule may dial
        interval = min(int(now // self.run.model.interval_s), self.run.model.n_intervals - 1)
        pacing = self.out.pacing_at(lane, interval)
        # One read of the guarded queues per decision, as the live loop reads the listener.
        live = {g.queue: self.run.snapshot(g.queue) for g in pacing.guards}
        decision = self.out.rule(
            pacing,
            live,
            len(state.idle),
            self.in_flight[lane],
            self.on_outbound[lane],
        )
        allowed = decision.allowed
        preview = DialMode.PREVIEW
        while allowed > 0 and heap:
            job = heapq.heappop(heap)[3]
            if self.specs[job.index][0].mode is preview and not state.idle:
                self.make_ready([job], now, tick=False)  # no agent to hold: wait for one
                return
            if self.dial(job, lane):
                allowed -= 1

    # -- one attempt ----------------------------------------------------------
    def dial(self, job: _Job, lane: str) -> bool:
        """Start an attempt; False when the contact cannot be called now."""
        campaign, customers = self.specs[job.index]
        now_dt = self.at(self.env.now)
        if campaign.expires_at is not None and now_dt >= campaign.expires_at:
            self.settle(job, ContactState.EXPIRED)
            return False
        if not campaign.hours.is_open(now_dt):
            self.due([job], self.env.now)
            return False
        job.contact = replace(job.contact, attempts=job.contact.attempts + 1)
        self.count(job, "attempts")
        result, ring = self.draw_result(customers)
        if campaign.mode is DialMode.PREVIEW:
            self.preview(job, lane, result, ring)
        else:
            self.in_flight[lane] += 1
            self.env.timeout(ring).callbacks.append(lambda _e: self.rang(job, lane, result))
        return True

    def draw_result(self, c: Customers) -> tuple[DialResult, float]:
        u = self.rng.random()
        if u < c.answer:
            return DialResult.ANSWERED, float(c.ring.draw(self.rng, 1)[0])
        if u < c.answer + c.busy:
            return DialResult.BUSY, c.busy_s
        return DialResult.NO_ANSWER, c.no_answer_s

    def talk_s(self, c: Customers) -> tuple[float, bool]:
        """Seconds an agent spends on an answered call (talk and wrap-up); right party?"""
        if self.rng.random() < c.right_party:
            return float(c.talk.draw(self.rng, 1)[0]) + c.wrap_s, True
        return c.wrong_party_s + c.wrap_s, False

    def rang(self, job: _Job, lane: str, result: DialResult) -> None:
        """Progressive: the ring is over; an answered customer joins the lane's queue."""
        campaign, customers = self.specs[job.index]
        if result is DialResult.ANSWERED:
            busy_s, right = self.talk_s(customers)
            prio = max(job.contact.priority, campaign.priority)
            cid = self.run.add_outbound(lane, prio, self.out.queue_timeout_s, busy_s)
            self.connected[cid] = (job, right)
            self.queued.add(cid)
            # In flight until an agent takes the customer, or the dialplan's queue timeout.
            self.env.timeout(self.out.queue_timeout_s).callbacks.append(
                lambda _e: self.gave_up(cid, lane)
            )
        else:
            self.in_flight[lane] -= 1
        self.after(job, result)
        self.tick(lane)

    def on_connect(self, cid: int, lane: str) -> None:
        """An agent took outbound customer ``cid`` (live: ``AgentConnect``)."""
        self.queued.discard(cid)
        self.in_flight[lane] -= 1
        job = self.connected[cid][0]
        self.engaged(lane, self.run.service[cid] - self.specs[job.index][1].wrap_s)

    def engaged(self, lane: str, seconds: float) -> None:
        """An agent is on one of our calls for ``seconds`` (wrap-up after it is not)."""
        self.on_outbound[lane] += 1
        self.env.timeout(max(0.0, seconds)).callbacks.append(lambda _e: self.released(lane))

    def released(self, lane: str) -> None:
        self.on_outbound[lane] -= 1
        self.tick(lane)  # one talker fewer on our calls: the reserve may have room

    def gave_up(self, cid: int, lane: str) -> None:
        if cid in self.queued:
            self.queued.discard(cid)
            self.hung_up(lane)

    def hung_up(self, lane: str) -> None:
        self.in_flight[lane] -= 1
        self.tick(lane)

    def preview(self, job: _Job, lane: str, result: DialResult, ring: float) -> None:
        """Preview: the agent is held from the dial to the end of the call and wrap-up."""
        customers = self.specs[job.index][1]
        agent = self.run.lanes[lane].idle.pop()[1]
        hold = ring
        talk = ring
        if result is DialResult.ANSWERED:
            busy_s, right = self.talk_s(customers)
            hold += busy_s
            talk += busy_s - customers.wrap_s
            self.count(job, "right_party", float(right))
            self.count(job, "connected")
            self.waited(job, self.env.now + ring - job.requested)
        self.count(job, "agent_hours", hold / 3600)
        self.engaged(lane, talk)
        self.env.timeout(hold).callbacks.append(lambda _e: _wake(agent))
        self.after(job, result)

    def after(self, job: _Job, result: DialResult) -> None:
        """Count the result and ask the live retry rule what happens to the contact next."""
        campaign = self.specs[job.index][0]
        metric = {DialResult.ANSWERED: "answered", DialResult.BUSY: "busy"}.get(result, "no_answer")
        self.count(job, metric)
        before = job.results.get(result, 0)
        job.results[result] = before + 1
        step = after_attempt(campaign, job.contact, result, before, now=self.at(self.env.now))
        if step.state is ContactState.PENDING and step.due is not None:
            self.due([job], self.seconds(step.due))
        else:
            self.settle(job, step.state)

    def settle(self, job: _Job, state: ContactState) -> None:
        metric = {ContactState.DONE: "done", ContactState.EXPIRED: "expired"}.get(
            state, "exhausted"
        )
        self.count(job, metric)

    # -- the end ----------------------------------------------------------------
    def figures(self, answered: int) -> dict[str, dict[str, float]]:
        """Per campaign: ``outbound/<name>`` -> counts, agent-hours and callback waits.

        Args:
            answered: the engine's outcome code for a call an agent took.
        """
        run = self.run
        for cid, (job, right) in self.connected.items():
            if run.outcome[cid] == answered:
                self.count(job, "connected")
                self.count(job, "right_party", float(right))
                self.count(job, "agent_hours", run.service[cid] / 3600)
                self.waited(job, run.enq[cid] + run.wait[cid] - job.requested)
            else:
                self.count(job, "abandoned")
        out: dict[str, dict[str, float]] = {}
        for name, counts in self.book.counts.items():
            waits = self.book.waits[name]
            settled = counts["done"] + counts["exhausted"] + counts["expired"]
            counts["pending"] = counts["contacts"] - settled
            counts["mean_wait_s"] = float(np.mean(waits)) if waits else math.nan
            out[f"outbound/{name}"] = counts
        return out


def _wake(agent: simpy.Event) -> None:
    """Give a held agent back: its process goes on to the next caller or idles."""
    agent.succeed()
