"""The dialling loop (adapter): pacing, rule checks, Originate, outcomes.

Every tick (``tick_s``, 0.2 s by default, so outbound stops taking agents
well within a second of inbound rising): read the live queue state once,
ask pacing how many calls each lane may start, take that many due contacts
(highest priority first), check the standing rules, claim each contact with
the one-round-trip Lua rule check, and send its Originate. Events from the
dialer's AMI link close attempts through the tracker; each closed attempt
is written to the attempts stream and its contact is rescheduled or ended.

Faults: with the AMI link down nothing is claimed or dialled; an Originate
in flight when the link dies is closed as ``unknown`` (or ``answered`` when
its success was already seen) and never re-sent; after a kill, contacts
left ``in_flight`` are closed the same way at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from router.ami.framing import Frame
from router.ami.listener import ListenerConfig
from router.channel_vars import screen_pop
from router.dialer.agents import MemberBook
from router.dialer.config import DialerConfig
from router.dialer.link import DialerLink
from router.dialer.model import (
    Attempt,
    AttemptResult,
    Campaign,
    CampaignState,
    ContactState,
    DialResult,
)
from router.dialer.originate import originate_fields
from router.dialer.pacing import decide
from router.dialer.retry import after_attempt
from router.dialer.screen import CustomerSource, Ready, Screen, who
from router.dialer.store import DialerStore, slot_of
from router.dialer.tracker import AttemptTracker
from router.errors import AMIActionError, AMIError, StoreError
from router.logs import get_logger, mask_number
from router.types import QueueSnapshot, QueueState

__all__ = ["Dialer", "Placed"]

_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Placed:
    """An attempt the loop is following: what it needs to close it."""

    attempt: Attempt
    campaign: Campaign
    slot: str
    who: str
    sent_at: float


class Dialer:
    """One dialer process; several may run against one Redis safely."""

    def __init__(
        self,
        config: DialerConfig,
        store: DialerStore,
        live: QueueState,
        link_config: ListenerConfig,
        customers: CustomerSource | None = None,
        *,
        tick_s: float = 0.2,
        clock: Callable[[], float] = time.time,
        name: str = "",
    ) -> None:
        self.config = config
        self.store = store
        self.live = live
        self.customers = customers
        self.tick_s = tick_s
        self.clock = clock
        self.screen = Screen(config, store, customers, name)
        self.name = self.screen.name
        self.book = MemberBook()
        self.tracker = AttemptTracker()
        self.placed: dict[str, Placed] = {}
        self.free_to_originate: list[float] = []  # agent seen free -> Originate sent (s)
        self._done: asyncio.Queue[AttemptResult] = asyncio.Queue()
        self._free_since: dict[str, float] = {}
        self._free_count: dict[str, int] = {}
        self._wake = asyncio.Event()
        self.link = DialerLink(link_config, self._on_frame, self._on_up, self._on_lost)
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle -------------------------------------------------------------
    async def start(self) -> None:
        await self.recover()
        await self.link.start()
        self._tasks = [
            asyncio.create_task(self._run(), name="dialer-loop"),
            asyncio.create_task(self._closer(), name="dialer-closer"),
        ]

    async def stop(self) -> None:
        """Cancel the loops and close the link; never hangs on a stuck task."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=5.0)
            if stuck:
                _log.error("dialer_stop_stuck", tasks=sorted(t.get_name() for t in stuck))
        self._tasks = []
        await self.link.stop()

    async def recover(self) -> int:
        """Close attempts a killed dialer left in flight (unknown, never re-dialled at once)."""
        left = await self.store.in_flight_contacts()
        for contact_id, attempt_id in left:
            rows = await self.store.contacts([contact_id])
            if not rows:
                continue
            contact, h = rows[0]
            campaign = self.config.campaigns.get(contact.campaign)
            if campaign is None:
                continue
            attempt = Attempt(attempt_id, contact, contact.attempts)
            placed = Placed(
                attempt,
                campaign,
                slot_of(contact.campaign, h.get("lane", ""), contact.priority),
                who(contact),
                self.clock(),
            )
            await self._close(
                placed, AttemptResult(attempt_id, DialResult.UNKNOWN, reason_code="restart")
            )
        return len(left)

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
                for result in self.tracker.expire(self.clock()):
                    self._done.put_nowait(result)
            except (StoreError, OSError, ConnectionError) as exc:
                _log.warning("dialer_tick_failed", error=str(exc))
            except Exception:
                _log.exception("dialer_tick_crashed")
            # An agent turning free or an attempt closing wakes the loop at once;
            # otherwise the live inbound state is re-read every tick.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.tick_s):
                    await self._wake.wait()
            self._wake.clear()

    async def _closer(self) -> None:
        while True:
            result = await self._done.get()
            placed = self.placed.get(result.attempt_id)
            if placed is None:
                continue
            delay = 0.1
            while True:  # Redis down: the outcome waits here until it can be written
                try:
                    await self._close(placed, result)
                    break
                except Exception as exc:
                    _log.warning("dialer_close_retry", error=str(exc) or type(exc).__name__)
                    await asyncio.sleep(delay)
                    delay = min(5.0, delay * 2)
            self.placed.pop(result.attempt_id, None)
            if placed.attempt.agent:
                self.book.release(_lane(placed.slot), placed.attempt.agent)
            self._wake.set()

    # -- AMI events ----------------------------------------------------------
    def _on_frame(self, frame: Frame) -> None:
        if self.book.apply(frame):
            queue = frame.get("Queue", "")
            free = len(self.book.free(queue))
            if free > self._free_count.get(queue, 0):
                self._free_since[queue] = time.perf_counter()
                self._wake.set()
            self._free_count[queue] = free
        result = self.tracker.feed(frame)
        if result is not None:
            self._done.put_nowait(result)

    async def _on_up(self) -> None:
        for lane in sorted(self.config.all_lanes()):
            self.book.reset(lane)
            try:
                await self.link.action({"Action": "QueueStatus", "Queue": lane}, as_list=True)
            except AMIError as exc:
                _log.warning("dialer_resync_failed", lane=lane, error=str(exc))

    def _on_lost(self) -> None:
        for result in self.tracker.lost():
            self._done.put_nowait(result)

    # -- one tick --------------------------------------------------------------
    async def tick(self) -> int:
        """One pacing and dialling round; returns the Originates sent."""
        if not self.link.connected:
            return 0
        states = await self.store.campaign_states()
        running = {
            n
            for n, c in self.config.campaigns.items()
            if states.get(n, _default_state(n)) is CampaignState.RUNNING
        }
        live = await self.live.snapshot()
        by_lane: dict[str, list[str]] = {}
        for slot in await self.store.slots():
            campaign, lane, _prio = slot.split("|")
            if campaign in running:
                by_lane.setdefault(lane, []).append(slot)
        sent = 0
        for lane, slots in by_lane.items():
            slots.sort(key=lambda s: -int(s.rsplit("|", 1)[1]))
            sent += await self._dial_lane(lane, slots, live)
        return sent

    def _in_flight(self, lane: str) -> tuple[int, int]:
        """This lane's attempts: (customer not at an agent yet, agents on our calls).

        Preview attempts hold their agent in the book already, and a
        progressive one an agent has taken shows as a busy member: neither
        is in flight; both are agents on outbound, not inbound talkers.
        """
        ours = [p for p in self.placed.values() if _lane(p.slot) == lane]
        at_agent = sum(
            1 for p in ours if p.attempt.agent or self.tracker.at_agent(p.attempt.attempt_id)
        )
        return len(ours) - at_agent, at_agent

    async def _dial_lane(
        self, lane: str, slots: list[str], live: Mapping[str, QueueSnapshot]
    ) -> int:
        free = self.book.free(lane)
        in_flight, on_outbound = self._in_flight(lane)
        decision = decide(self.config.pacing_for(lane), live, len(free), in_flight, on_outbound)
        if decision.allowed <= 0:
            return 0
        now = self.clock()
        due = (await self.store.due(slots, now, decision.allowed))[: decision.allowed]
        sent = 0
        for ready in await self.screen.screen(due, now, free):
            sent += await self._send(ready)
        if sent:
            self._free_since.pop(lane, None)
        return sent

    async def _send(self, ready: Ready) -> int:
        """Originate one claimed contact; 1 when it went out (or may have)."""
        attempt = ready.attempt
        if not self.link.connected:
            # Nothing was written (no await since the check): give the claim back.
            await self.store.unclaim(ready.claim)
            return 0
        await self.store.mark_in_flight(
            attempt.contact.contact_id, attempt.attempt_id, attempt.number
        )
        placed = Placed(attempt, ready.campaign, ready.slot, ready.who, self.clock())
        self.placed[attempt.attempt_id] = placed
        if attempt.agent:  # preview: this agent is ours until the attempt closes
            self.book.hold(_lane(ready.slot), attempt.agent)
        deadline = self.config.plan.timeout_ms / 1000 + 3600.0
        self.tracker.start(attempt.attempt_id, attempt.action_id, self.clock(), deadline)
        fields: dict[str, Any] = originate_fields(
            attempt, ready.campaign, self.config.plan, screen_pop(ready.customer)
        )
        fields["ActionID"] = attempt.action_id
        since = self._free_since.get(_lane(ready.slot))
        try:
            await self.link.action(fields)
        except AMIActionError as exc:
            result = self.tracker.rejected(attempt.attempt_id, str(exc))
            if result is not None:
                self._done.put_nowait(result)
        except AMIError as exc:
            # Maybe sent: the events, the link loss or the deadline resolve it; never re-sent.
            _log.warning("dialer_originate_unconfirmed", attempt=attempt.attempt_id, error=str(exc))
        if since is not None:
            self.free_to_originate.append(self.link.last_write - since)
        _log.info(
            "dialer_originate",
            attempt=attempt.attempt_id,
            campaign=ready.campaign.name,
            number=mask_number(attempt.contact.number),
        )
        return 1

    # -- closing an attempt ------------------------------------------------------
    async def _close(self, placed: Placed, result: AttemptResult) -> None:
        contact = placed.attempt.contact
        rows = await self.store.contacts([contact.contact_id])
        results = rows[0][1].get("results", "").split(",") if rows else []
        now = self.clock()
        step = after_attempt(
            placed.campaign,
            contact,
            result.result,
            results.count(result.result.value),
            now=datetime.fromtimestamp(now, UTC),
            timezone=contact.timezone,
        )
        record = _record(placed, result, step.state, now)
        due = step.due.timestamp() if step.due else None
        await self.store.finish(contact, placed.who, result, step.state, due, placed.slot, record)


def _lane(slot: str) -> str:
    return slot.split("|")[1]


def _default_state(name: str) -> CampaignState:
    return CampaignState.RUNNING if name == "callbacks" else CampaignState.PAUSED


def _record(placed: Placed, r: AttemptResult, state: ContactState, now: float) -> dict[str, str]:
    c = placed.attempt.contact
    waited = now - c.requested_at.timestamp() if c.requested_at else 0.0
    return {
        "campaign": placed.campaign.name,
        "kind": placed.campaign.kind.value,
        "contact": c.contact_id,
        "customer": c.customer_id,
        "attempt": str(placed.attempt.number),
        "attempt_id": r.attempt_id,
        "result": r.result.value,
        "reason": r.reason_code,
        "cause": r.hangup_cause,
        "talk_s": f"{r.talk_s:g}",
        "hold_s": f"{r.hold_s:g}",
        "disposition": r.disposition,
        "offer": c.offer,
        "offer_accepted": "" if r.offer_accepted is None else str(int(r.offer_accepted)),
        "instant_hangup": str(int(r.instant_hangup)),
        "state": state.value,
        "waited_s": f"{waited:.0f}" if state is ContactState.DONE and c.requested_at else "",
        "at": repr(now),
    }
