"""The wallboard's figures, per queue and per tier, computed from live inputs.

Pure: :mod:`router.web.source` reads the inputs from Redis and this module
turns them into rows with colours, so the same rows feed the page, the JSON
API, ``/metrics`` and the alert rules. A figure with no calls behind it is
``None`` (shown as a dash), never a misleading 0 % or 100 %.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from router.types import QueueSnapshot
from router.web.alerts import Alert
from router.web.config import WallboardConfig
from router.web.tally import WINDOWS_MIN, Counts, Key, Tally

__all__ = ["Board", "Inputs", "Row", "Waiter", "build_board"]


@dataclass(frozen=True, slots=True)
class Waiter:
    """One caller waiting now, as the listener mirrors it (tier and join time)."""

    queue: str
    tier: str
    joined_at: float


@dataclass(frozen=True, slots=True)
class Inputs:
    """What one read of Redis gives the board."""

    queues: Mapping[str, QueueSnapshot]
    waiters: tuple[Waiter, ...]
    callbacks_pending: int | None
    read_at: float
    campaigns: Mapping[str, str] = field(default_factory=dict)  # outbound: name -> state


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the wallboard: a queue or a tier."""

    kind: str
    name: str
    figures: Mapping[str, float | None]
    colours: Mapping[str, str]

    def get(self, metric: str) -> float | None:
        return self.figures.get(metric)


@dataclass(frozen=True, slots=True)
class Board:
    """Everything one push shows."""

    at: float
    queues: tuple[Row, ...]
    tiers: tuple[Row, ...]
    callbacks_pending: int | None
    campaigns: Mapping[str, str] = field(default_factory=dict)
    alerts: tuple[Alert, ...] = ()
    source_ok: bool = True
    state_age_s: float = 0.0
    notes: tuple[str, ...] = field(default=())

    def lookup(self, kind: str, name: str, metric: str) -> float | None:
        rows = self.queues if kind == "queue" else self.tiers
        for row in rows:
            if row.name == name:
                return row.get(metric)
        return None

    def as_json(self) -> dict[str, Any]:
        def row(r: Row) -> dict[str, Any]:
            return {"name": r.name, "figures": dict(r.figures), "colours": dict(r.colours)}

        return {
            "at": self.at,
            "queues": [row(r) for r in self.queues],
            "tiers": [row(r) for r in self.tiers],
            "callbacks_pending": self.callbacks_pending,
            "campaigns": dict(self.campaigns),
            "alerts": [
                {
                    "name": a.name,
                    "scope": a.scope,
                    "metric": a.metric,
                    "value": a.value,
                    "threshold": a.threshold,
                    "since": a.since,
                }
                for a in self.alerts
            ],
            "source_ok": self.source_ok,
            "state_age_s": self.state_age_s,
            "notes": list(self.notes),
        }


def _call_figures(
    key: Key, windows: Mapping[int, Mapping[Key, Counts]], today: Counts
) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for minutes, counts in windows.items():
        c = counts.get(key, Counts())
        out[f"service_level_{minutes}m"] = c.service_level
        out[f"abandon_rate_{minutes}m"] = c.abandon_rate
    out["service_level_today"] = today.service_level
    out["abandon_rate_today"] = today.abandon_rate
    out["offered_today"] = float(today.offered)
    out["asa_today_s"] = today.asa_s
    return out


def _queue_row(snap: QueueSnapshot, calls: dict[str, float | None]) -> dict[str, float | None]:
    on_call = max(0, snap.agents_logged_in - snap.agents_available - snap.agents_paused)
    return {
        "waiting": float(snap.waiting),
        "longest_wait_s": snap.longest_wait,
        "ewt_s": snap.ewt,
        "agents_logged_in": float(snap.agents_logged_in),
        "agents_free": float(snap.agents_available),
        "agents_paused": float(snap.agents_paused),
        "agents_on_call": float(on_call),
        **calls,
    }


def _tier_row(
    waiters: Iterable[Waiter], now: float, calls: dict[str, float | None]
) -> dict[str, float | None]:
    joined = [w.joined_at for w in waiters]
    return {
        "waiting": float(len(joined)),
        "longest_wait_s": max((max(0.0, now - j) for j in joined), default=0.0),
        **calls,
    }


def _colours(figures: Mapping[str, float | None], config: WallboardConfig) -> dict[str, str]:
    return {
        metric: band.colour(value)
        for metric, band in config.bands.items()
        if (value := figures.get(metric)) is not None
    }


def build_board(
    inputs: Inputs, tally: Tally, config: WallboardConfig, tier_order: Iterable[str], now: float
) -> Board:
    """Rows for every known queue and tier (tiers in the routing file's order)."""
    windows = {m: tally.window(m, now) for m in WINDOWS_MIN}
    today = tally.today(now)
    seen_tiers = {w.tier for w in inputs.waiters} | {n for k, n in today if k == "tier"}
    order = list(tier_order)
    tiers = order + sorted(seen_tiers - set(order))
    queue_rows = []
    for name in sorted(inputs.queues):
        calls = _call_figures(("queue", name), windows, today.get(("queue", name), Counts()))
        figures = _queue_row(inputs.queues[name], calls)
        queue_rows.append(Row("queue", name, figures, _colours(figures, config)))
    tier_rows = []
    for tier in tiers:
        calls = _call_figures(("tier", tier), windows, today.get(("tier", tier), Counts()))
        figures = _tier_row((w for w in inputs.waiters if w.tier == tier), now, calls)
        tier_rows.append(Row("tier", tier, figures, _colours(figures, config)))
    return Board(
        at=now,
        queues=tuple(queue_rows),
        tiers=tuple(tier_rows),
        callbacks_pending=inputs.callbacks_pending,
        campaigns=inputs.campaigns,
        state_age_s=max(0.0, now - inputs.read_at),
    )
