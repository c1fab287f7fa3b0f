"""How many outbound calls may start now without hurting inbound (pure).

Outbound only ever takes an agent that inbound can spare: no predictive
over-dialling, so one Originate per free agent at most, minus calls already
in flight. Two protections, both read from the AMI listener's live state:

* **Guards.** Each inbound tier lane that shares the agents has limits on
  waiting callers, longest wait and EWT; one breached limit stops outbound
  at once (the dialler re-reads the live state every tick, well under a
  second, and again before every Originate).
* **Reserve.** From the inbound forecast (calls/hour and AHT), Erlang C
  gives the agents inbound needs to meet its service level; that many
  agents, less those already talking to inbound callers (not those on the
  dialler's own calls), are kept idle.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from router.types import QueueSnapshot
from simulator.theory import erlang_c_sl

__all__ = ["Forecast", "InboundGuard", "LanePacing", "PacingDecision", "decide", "reserve_agents"]

_MAX_AGENTS = 2000


@dataclass(frozen=True, slots=True)
class InboundGuard:
    """The inbound queue whose service level outbound must not hurt."""

    queue: str
    max_waiting: int = 0
    max_longest_wait_s: float = 15.0
    max_ewt_s: float = 20.0


@dataclass(frozen=True, slots=True)
class Forecast:
    """Inbound load expected now, and the service level to keep."""

    calls_per_hour: float
    aht_s: float
    target_sl: float = 0.8
    answer_within_s: float = 20.0


@dataclass(frozen=True, slots=True)
class LanePacing:
    """Pacing for one outbound lane (an agent queue)."""

    lane: str
    guards: tuple[InboundGuard, ...] = ()
    forecast: Forecast | None = None


@dataclass(frozen=True, slots=True)
class PacingDecision:
    allowed: int
    reason: str
    reserve: int = 0


@lru_cache(maxsize=256)
def reserve_agents(forecast: Forecast) -> int:
    """Fewest agents meeting the forecast's service level under Erlang C."""
    load = forecast.calls_per_hour * forecast.aht_s / 3600.0
    if load <= 0:
        return 0
    n = max(1, math.floor(load) + 1)
    while n < _MAX_AGENTS:
        if erlang_c_sl(n, load, forecast.aht_s, forecast.answer_within_s) >= forecast.target_sl:
            return n
        n += 1
    return _MAX_AGENTS


def _breach(guard: InboundGuard, snap: QueueSnapshot | None) -> str:
    if snap is None:
        return f"inbound_unknown:{guard.queue}"
    if snap.waiting > guard.max_waiting:
        return f"inbound_waiting:{guard.queue}"
    if snap.longest_wait > guard.max_longest_wait_s:
        return f"inbound_longest_wait:{guard.queue}"
    if snap.ewt > guard.max_ewt_s:
        return f"inbound_ewt:{guard.queue}"
    return ""


def decide(
    pacing: LanePacing,
    live: Mapping[str, QueueSnapshot],
    free_agents: int,
    in_flight: int,
    on_outbound: int = 0,
) -> PacingDecision:
    """How many Originates may start on this lane now.

    Args:
        live: the listener's queue snapshots (one read per tick).
        free_agents: lane members neither paused nor in use, as the dialler
            tracks them (with ``ringinuse=yes`` Asterisk would still offer an
            agent who is on an outbound call, so the dialler counts its own).
        in_flight: this lane's Originates whose customer has not reached an
            agent yet (ringing, or answered and waiting in the queue). One an
            agent took is already missing from ``free_agents``.
        on_outbound: agents now on this dialler's calls (a progressive call
            an agent took, a preview-held agent). The snapshots count them as
            busy like any member; they are not inbound talkers, so they do
            not shrink the reserve.

    Until these two were split, a call at an agent stayed in ``in_flight``
    to its hang-up, so it was subtracted twice from what outbound may take
    (without a forecast outbound never used more than about half the idle
    agents: the simulator's no-inbound throughput test measures it), while
    the reserve counted it as an inbound talker; with a forecast and a
    positive reserve the two errors cancelled exactly.
    """
    for guard in pacing.guards:
        reason = _breach(guard, live.get(guard.queue))
        if reason:
            return PacingDecision(0, reason)
    reserve = 0
    if pacing.forecast is not None:
        busy = sum(
            max(0, s.agents_logged_in - s.agents_available - s.agents_paused)
            for g in pacing.guards
            if (s := live.get(g.queue)) is not None
        )
        busy_inbound = max(0, busy - on_outbound)
        reserve = max(0, reserve_agents(pacing.forecast) - busy_inbound)
    allowed = free_agents - reserve - in_flight
    if allowed <= 0:
        return PacingDecision(0, "reserve" if reserve else "no_free_agent", reserve)
    return PacingDecision(allowed, "ok", reserve)
