"""``/metrics``: the router's counters plus the wallboard's live gauges.

The wallboard figures are exported by a collector that reads the latest
board when Prometheus scrapes, so a scrape costs no Redis read of its own
and shows exactly what the wall screen shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from router.web.board import Board

__all__ = ["BoardCollector", "exposition"]

_QUEUE_GAUGES = {
    "waiting": "Calls waiting in the queue",
    "longest_wait_s": "Longest current wait in seconds",
    "agents_logged_in": "Agents logged in",
    "agents_free": "Agents free",
    "agents_paused": "Agents paused",
    "agents_on_call": "Agents on a call",
    "service_level_15m": "Service level over the last 15 minutes",
    "abandon_rate_15m": "Abandonment over the last 15 minutes",
}


class BoardCollector(Collector):
    """Gauges per queue and tier from the most recent board."""

    def __init__(self, latest: Callable[[], Board | None]) -> None:
        self._latest = latest

    def collect(self) -> Iterator[GaugeMetricFamily]:
        board = self._latest()
        if board is None:
            return
        for metric, doc in _QUEUE_GAUGES.items():
            family = GaugeMetricFamily(f"tierline_queue_{metric}", doc, labels=["queue"])
            for row in board.queues:
                value = row.get(metric)
                if value is not None:
                    family.add_metric([row.name], value)
            yield family
        tiers = GaugeMetricFamily(
            "tierline_tier_waiting", "Calls waiting per tier", labels=["tier"]
        )
        for row in board.tiers:
            tiers.add_metric([row.name], row.get("waiting") or 0.0)
        yield tiers
        alerts = GaugeMetricFamily("tierline_alerts_active", "Alerts raised now", labels=["alert"])
        for alert in board.alerts:
            alerts.add_metric([alert.name], 1.0)
        yield alerts
        stale = GaugeMetricFamily("tierline_state_age_seconds", "Age of the live state shown")
        stale.add_metric([], board.state_age_s)
        yield stale


def exposition(registry: CollectorRegistry = REGISTRY) -> bytes:
    """The text exposition format Prometheus scrapes."""
    return generate_latest(registry)
