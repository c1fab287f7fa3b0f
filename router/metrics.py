"""The router's Prometheus metrics: counters on the call path, gauges read at scrape time.

Counters that must be counted where the work happens (calls routed, lookup
latency) are module-level prometheus-client objects. Everything the router
already keeps (AGI session counts, the AMI link, the flow version) is read
by :class:`RouterCollector` only when Prometheus scrapes, so it costs the
call path nothing. Label values are bounded sets: never a number or a uniqueid.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Protocol

from prometheus_client import Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

__all__ = [
    "BACKEND_CALLS",
    "BACKEND_SECONDS",
    "CALLS_ROUTED",
    "FALLBACK_ROUTES",
    "LOOKUP_SECONDS",
    "LOOKUP_TIMEOUTS",
    "RouterCollector",
]

CALLS_ROUTED = Counter(
    "tierline_calls_routed", "Calls that left the router with a route", ["queue", "tier", "reason"]
)
FALLBACK_ROUTES = Counter("tierline_fallback_routes", "Calls given the route of last resort")
LOOKUP_SECONDS = Histogram(
    "tierline_lookup_seconds",
    "Customer lookup (and queue snapshot) latency on the call path",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1),
)
LOOKUP_TIMEOUTS = Counter("tierline_lookup_timeouts", "Lookups that missed their deadline")
BACKEND_CALLS = Counter(
    "tierline_backend_calls",
    "IVR fetch/notify requests to operator backends, by outcome (ok, timeout, error, status...)",
    ["kind", "backend", "outcome"],
)
BACKEND_SECONDS = Histogram(
    "tierline_backend_seconds",
    "IVR fetch/notify latency, deadline included",
    ["kind"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0),
)


class _Agi(Protocol):
    stats: dict[str, int]

    @property
    def active_calls(self) -> int: ...


class _Ami(Protocol):
    @property
    def connected(self) -> bool: ...

    @property
    def last_event_at(self) -> float: ...

    @property
    def backlog(self) -> int: ...


_AGI_COUNTERS = (
    ("calls", "FastAGI calls handled"),
    ("bad_sessions", "FastAGI sessions refused as malformed or forged"),
    ("refused_peers", "Connections refused by the allow-list"),
    ("cut_calls", "Calls cut by the drain with their best route"),
)


class RouterCollector(Collector):
    """AGI sessions, the AMI link and the flow version, read from the live objects."""

    def __init__(
        self,
        agi: _Agi,
        ami: _Ami | None,
        flow_version: Callable[[], str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._agi, self._ami, self._version, self._clock = agi, ami, flow_version, clock

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily | InfoMetricFamily]:
        active = GaugeMetricFamily("tierline_agi_sessions_active", "FastAGI calls in progress")
        active.add_metric([], float(self._agi.active_calls))
        yield active
        for key, doc in _AGI_COUNTERS:
            family = CounterMetricFamily(f"tierline_agi_{key}", doc)
            family.add_metric([], float(self._agi.stats.get(key, 0)))
            yield family
        version = InfoMetricFamily("tierline_flows", "The flow set version served")
        version.add_metric([], {"version": self._version()})
        yield version
        if self._ami is not None:
            yield from self._ami_families(self._ami)

    def _ami_families(self, ami: _Ami) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("tierline_ami_connected", "1 while the AMI listener is logged in")
        up.add_metric([], 1.0 if ami.connected else 0.0)
        yield up
        age = GaugeMetricFamily(
            "tierline_ami_event_age_seconds", "Seconds since the last AMI event was applied"
        )
        age.add_metric(
            [], max(0.0, self._clock() - ami.last_event_at) if ami.last_event_at else 0.0
        )
        yield age
        backlog = GaugeMetricFamily("tierline_ami_backlog_frames", "AMI frames read, not applied")
        backlog.add_metric([], float(ami.backlog))
        yield backlog
