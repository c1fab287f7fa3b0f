"""The router's own Prometheus metrics, defined once for every adapter.

Counters live in the process that does the work (the FastAGI router, the
AMI listener) and are exported by ``/metrics`` when ``tierline serve`` runs
the web service in the same process. Label values are bounded sets (queue,
tier, reason prefix): never a caller number or a uniqueid.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "AGI_BAD_SESSIONS",
    "AGI_SESSIONS_ACTIVE",
    "AMI_CONNECTED",
    "AMI_EVENT_LAG",
    "CALLS_ROUTED",
    "FALLBACK_ROUTES",
    "FLOW_VERSION",
    "LOOKUP_SECONDS",
    "LOOKUP_TIMEOUTS",
]

CALLS_ROUTED = Counter(
    "tierline_calls_routed", "Calls that left the router with a route", ["queue", "tier", "reason"]
)
FALLBACK_ROUTES = Counter("tierline_fallback_routes", "Calls routed by a last-resort path", ["why"])
LOOKUP_SECONDS = Histogram(
    "tierline_lookup_seconds",
    "Customer lookup latency on the call path",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1),
)
LOOKUP_TIMEOUTS = Counter("tierline_lookup_timeouts", "Lookups that missed their deadline")
FLOW_VERSION = Gauge("tierline_flow_version_info", "Flow set version served", ["version"])
AGI_SESSIONS_ACTIVE = Gauge("tierline_agi_sessions_active", "FastAGI sessions in progress")
AGI_BAD_SESSIONS = Counter("tierline_agi_bad_sessions", "FastAGI sessions refused or malformed")
AMI_CONNECTED = Gauge("tierline_ami_connected", "1 while the AMI listener is logged in")
AMI_EVENT_LAG = Gauge("tierline_ami_event_lag_seconds", "Age of the last AMI event applied")
