"""Which keys a scenario file may use, so a misspelt one is an error, not a default.

``servce_level: 0.9`` silently meant "service level 0.8" before: every
mapping of the file is checked against this table once, before anything is
read, and an unknown key is reported at its own line with the nearest
valid name. ``*`` stands for any mapping key (a tier, a queue), ``#`` for a
list position; mappings not listed (customer fields, key probabilities,
prompt durations) are checked where they are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from difflib import get_close_matches
from typing import Any

from simulator.problems import Collector

__all__ = ["ALLOWED", "check_keys"]

_SAMPLER = frozenset({"dist", "mean", "sd", "values"})
# The dialer's own campaign keys (router/dialer/config.py), then what the simulator adds.
_CAMPAIGN = frozenset(
    {"kind", "lane", "hours", "retry", "max_attempts", "expires", "mode", "caller_id", "priority"}
)
_HOURS = frozenset({"timezone", "weekly", "holidays", "closed"})
_RETRY = frozenset({"count", "gap_minutes"})
_CUSTOMERS = frozenset(
    {"answer", "busy", "right_party", "ring", "talk", "wrong_party_s", "wrap_s", "no_answer_s",
     "busy_s"}
)  # fmt: skip

ALLOWED: Mapping[tuple[str, ...], frozenset[str]] = {
    (): frozenset(
        {
            "start",
            "interval_minutes",
            "intervals",
            "warmup_minutes",
            "tiers",
            "arrivals",
            "queues",
            "routing",
            "ivr",
            "callback",
            "outbound",
            "targets",
        }
    ),
    ("targets",): frozenset({"max_occupancy"}),
    ("tiers", "*"): frozenset({"patience", "target", "customer"}),
    ("tiers", "*", "patience"): _SAMPLER,
    ("tiers", "*", "target"): frozenset({"service_level", "within_s", "max_abandon"}),
    ("arrivals", "#"): frozenset({"dnis", "calls", "mix"}),
    ("queues", "*"): frozenset({"handle", "agents", "cost_per_hour", "shrinkage"}),
    ("queues", "*", "handle"): _SAMPLER,
    ("routing",): frozenset({"factory", "options"}),
    ("callback",): frozenset({"ewt_over_s", "accept", "delay_s", "priority"}),
    ("ivr",): frozenset(
        {
            "flows",
            "prompt_manifest",
            "prompts",
            "menus",
            "callers",
            "data",
            "think_s",
            "default_prompt_s",
            "unrouted_service",
        }
    ),
    ("ivr", "menus", "*"): frozenset({"play", "think_s", "choices"}),
    ("outbound",): frozenset({"campaigns", "callbacks", "pacing", "tick_s", "queue_timeout_s"}),
    ("outbound", "campaigns", "*"): _CAMPAIGN | {"list_size", "contacts", "customers"},
    ("outbound", "campaigns", "*", "hours"): _HOURS,
    ("outbound", "campaigns", "*", "retry", "*"): _RETRY,
    ("outbound", "campaigns", "*", "customers"): _CUSTOMERS,
    ("outbound", "campaigns", "*", "customers", "ring"): _SAMPLER,
    ("outbound", "campaigns", "*", "customers", "talk"): _SAMPLER,
    ("outbound", "callbacks"): frozenset(
        {"lane", "hours", "retry", "max_attempts", "priorities", "uptake", "delay_s", "customers"}
    ),
    ("outbound", "callbacks", "hours"): _HOURS,
    ("outbound", "callbacks", "retry", "*"): _RETRY,
    ("outbound", "callbacks", "customers"): _CUSTOMERS,
    ("outbound", "callbacks", "customers", "ring"): _SAMPLER,
    ("outbound", "callbacks", "customers", "talk"): _SAMPLER,
    ("outbound", "pacing", "*"): frozenset({"guards", "forecast"}),
    ("outbound", "pacing", "*", "guards", "#"): frozenset(
        {"queue", "max_waiting", "max_longest_wait_s", "max_ewt_s"}
    ),
    ("outbound", "pacing", "*", "forecast"): frozenset(
        {"calls_per_hour", "aht_s", "target_sl", "answer_within_s"}
    ),
    # menu / input: keys, verified; transfer: answered; offer: accept, next;
    # survey: participate, answers
    ("ivr", "callers", "*"): frozenset(
        {"keys", "think_s", "verified", "answered", "accept", "next", "participate", "answers"}
    ),
    ("ivr", "data", "*"): frozenset({"ok", "latency_s", "values"}),
}


def _matches(pattern: tuple[str, ...], path: tuple[str | int, ...]) -> bool:
    if len(pattern) != len(path):
        return False
    for want, part in zip(pattern, path, strict=True):
        if isinstance(part, int):
            if want != "#":
                return False
        elif want not in ("*", part):
            return False
    return True


def _allowed(path: tuple[str | int, ...]) -> frozenset[str] | None:
    for pattern, keys in ALLOWED.items():
        if _matches(pattern, path):
            return keys
    return None


def check_keys(ctx: Collector, data: Any, path: tuple[str | int, ...] = ()) -> None:
    """Report every key the table does not allow, at its line, with a suggestion."""
    if isinstance(data, list):
        for i, item in enumerate(data):
            check_keys(ctx, item, (*path, i))
        return
    if not isinstance(data, dict):
        return
    allowed = _allowed(path)
    for key, value in data.items():
        if allowed is not None and str(key) not in allowed:
            near = get_close_matches(str(key), sorted(allowed), n=1)
            hint = f"did you mean {near[0]!r}?" if near else "one of " + ", ".join(sorted(allowed))
            ctx.bad((*path, str(key)), f"unknown key {key!r}", hint)
        else:
            check_keys(ctx, value, (*path, str(key)))
