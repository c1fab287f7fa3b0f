"""Hypothesis strategies: random valid routing configs, customers and live state."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from router.customers.model import Customer, CustomerList, Lifecycle
from router.policy import RoutingConfig
from router.policy.config import parse_routing_data
from router.types import QueueSnapshot
from router.yamlpos import Positioned


@st.composite
def routing_data(draw: st.DrawFn) -> dict[str, Any]:
    """A random but valid routing file, as the data YAML would give."""
    n_tiers = draw(st.integers(1, 4))
    tiers = [f"t{i}" for i in range(n_tiers)]
    prios = sorted(
        draw(st.lists(st.integers(0, 100), min_size=n_tiers, max_size=n_tiers, unique=True)),
        reverse=True,
    )
    queues = [f"q{i}" for i in range(draw(st.integers(2, 6)))]
    queue = st.sampled_from(queues)
    services = [f"s{i}" for i in range(draw(st.integers(1, 5)))]
    lanes = {
        s: {"default": draw(queue), **draw(st.dictionaries(st.sampled_from(tiers), queue))}
        for s in services
    }
    return {
        "tiers": tiers,
        "default_queue": draw(queue),
        "priorities": dict(zip(tiers, prios, strict=True)),
        "red_list": {"queue": draw(queue), "priority": draw(st.integers(0, 200))},
        "black_list": {"service": draw(st.sampled_from(services)), "priority": 0},
        "at_risk": {
            "service": draw(st.sampled_from(services)),
            "applies_to": draw(st.lists(st.sampled_from(services), unique=True)),
        },
        "aging": {
            "top_priority": prios[0] + draw(st.integers(1, 20)),
            "min_step": draw(st.integers(1, 5)),
            "wait_cap_s": {t: draw(st.floats(1, 900)) for t in tiers},
        },
        "queues": {q: {"max_wait_s": draw(st.integers(0, 900))} for q in queues},
        "services": {s: {"lanes": v} for s, v in lanes.items()},
        "overflow": draw(st.lists(overflow_rule(queues), max_size=6)),
    }


@st.composite
def overflow_rule(draw: st.DrawFn, queues: list[str]) -> dict[str, Any]:
    source = draw(st.sampled_from(queues))
    others = [q for q in queues if q != source]
    return {
        "from": source,
        "to": draw(st.lists(st.sampled_from(others), min_size=1, max_size=3, unique=True)),
        "ewt_over_s": draw(st.none() | st.floats(0, 600)),
        "waiting_over": draw(st.none() | st.integers(0, 20)),
        "when_closed": True,
        "priority_boost": draw(st.integers(0, 30)),
    }


def build(data: dict[str, Any]) -> RoutingConfig:
    return parse_routing_data(Positioned("<hypothesis>", data))


configs = routing_data().map(build)


def snapshots(names: list[str]) -> st.SearchStrategy[dict[str, QueueSnapshot]]:
    """Live state for each of ``names``, sometimes missing (no state known yet)."""

    def one(name: str) -> st.SearchStrategy[QueueSnapshot | None]:
        snap = st.builds(
            QueueSnapshot,
            name=st.just(name),
            waiting=st.integers(0, 25),
            ewt=st.floats(0, 700),
            open=st.booleans(),
        )
        # Mostly known, sometimes missing: hypothesis favours the simplest branch.
        return st.integers(0, 4).flatmap(lambda i: st.none() if i == 0 else snap)

    return st.tuples(*(one(n) for n in names)).map(
        lambda snaps: {s.name: s for s in snaps if s is not None}
    )


def customers(tiers: tuple[str, ...]) -> st.SearchStrategy[Customer]:
    return st.builds(
        Customer,
        customer_id=st.just("c"),
        tier=st.sampled_from([*tiers, "unknown-tier"]),
        list=st.sampled_from(list(CustomerList)),
        lifecycle=st.sampled_from(list(Lifecycle)),
    )
