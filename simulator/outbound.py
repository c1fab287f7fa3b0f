"""Outbound work in a scenario: campaigns and callbacks sharing the inbound agents.

What is simulated and what is reused: the campaign itself (kind, lane,
calling hours with holidays, retry rules, maximum attempts, priority) is the
dialer's own :class:`router.dialer.model.Campaign`, read with the dialer's
schema; the next attempt after a busy or unanswered call is the dialer's
:func:`router.dialer.retry.after_attempt`; and how many calls may start now is
the live :func:`router.dialer.pacing.decide`, fed the simulated queue state.
Only the customers are simulated: how many there are, whether they answer
and how long they talk (:class:`Customers`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from router.dialer.model import Campaign
from router.dialer.pacing import LanePacing, PacingDecision, decide
from router.types import QueueSnapshot
from simulator.distributions import Exponential, Sampler

__all__ = ["Customers", "Outbound", "PacingRule", "SimCallbacks", "SimCampaign"]

# The live rule's signature: (lane pacing, queue snapshots, free agents, in flight,
# agents on outbound calls).
PacingRule = Callable[[LanePacing, Mapping[str, QueueSnapshot], int, int, int], PacingDecision]


@dataclass(frozen=True, slots=True)
class Customers:
    """How the called customers behave (per attempt, independently).

    ``answer`` and ``busy`` are shares of attempts; the rest ring out after
    ``no_answer_s`` (the Originate timeout). An answered call reaches the
    right party with probability ``right_party``; a wrong party talks
    ``wrong_party_s``. Every connected call costs ``wrap_s`` after it.
    """

    answer: float = 0.6
    busy: float = 0.05
    right_party: float = 0.9
    ring: Sampler = field(default_factory=lambda: Exponential(12.0))
    talk: Sampler = field(default_factory=lambda: Exponential(180.0))
    wrong_party_s: float = 30.0
    wrap_s: float = 30.0
    no_answer_s: float = 30.0
    busy_s: float = 5.0


@dataclass(frozen=True, slots=True)
class SimCampaign:
    """A dialer campaign and its simulated list: ``new_contacts`` due per interval."""

    campaign: Campaign
    customers: Customers
    new_contacts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SimCallbacks:
    """Callback requests left in the IVR (callback nodes, after hours), dialled back.

    ``uptake`` is the share of callers reaching a callback ending who leave a
    request (the rest hang up); ``priority`` by tier as the dialer's
    ``callbacks.priorities`` (a red-list callback before a normal one);
    ``delay_s`` is the earliest redial after the request.
    """

    campaign: Campaign
    customers: Customers
    uptake: float = 1.0
    priority: Mapping[str, int] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Outbound:
    """Everything outbound in one scenario.

    ``pacing`` holds one :class:`LanePacing` per lane and interval (a live
    forecast is one figure; a scenario may give one per interval). ``rule``
    is the live pacing function; tests swap it for a greedy one to show the
    guards are what protect inbound. ``queue_timeout_s`` is the dialplan's
    ``Queue(...,30)``: an answered customer no agent takes by then is an
    abandoned outbound call.
    """

    campaigns: tuple[SimCampaign, ...] = ()
    callbacks: SimCallbacks | None = None
    pacing: Mapping[str, tuple[LanePacing, ...]] = field(default_factory=dict)
    rule: PacingRule = decide
    tick_s: float = 5.0
    queue_timeout_s: float = 30.0

    @property
    def lanes(self) -> tuple[str, ...]:
        """Every lane outbound may place calls on, in a fixed order."""
        names = [c.campaign.lane for c in self.campaigns]
        if self.callbacks is not None:
            names.append(self.callbacks.campaign.lane)
        return tuple(dict.fromkeys(names))

    @property
    def names(self) -> tuple[str, ...]:
        """Campaign names as reported (the callbacks under the dialer's own name)."""
        names = [c.campaign.name for c in self.campaigns]
        if self.callbacks is not None:
            names.append(self.callbacks.campaign.name)
        return tuple(names)

    def pacing_at(self, lane: str, interval: int) -> LanePacing:
        """The lane's pacing in an interval; none configured = the live default (no guard)."""
        per = self.pacing.get(lane)
        if not per:
            return LanePacing(lane)
        return per[min(interval, len(per) - 1)]
