"""Hypothesis properties of the policy on random valid configs and live state.

Each example draws a config and a live state, then checks EVERY service
(plus an unknown one) for EVERY customer kind, so one example covers a few
hundred decisions and rare combinations (an overflowing lower-tier lane, a
closed first target) are reached.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from router.customers.model import Customer, CustomerList, Lifecycle
from router.policy import RoutingConfig, TieredPolicy
from router.types import CallInfo, QueueSnapshot, RouteDecision
from tests.policy.strategies import configs, snapshots

SETTINGS = settings(max_examples=120, deadline=None, derandomize=True)
Live = dict[str, QueueSnapshot]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[RoutingConfig, Live]:
    config = draw(configs)
    return config, draw(snapshots([*config.queues, "stranger"]))


def by_tier(config: RoutingConfig, live: Live, call: CallInfo) -> Iterator[list[RouteDecision]]:
    """For each (service, list, lifecycle): the decisions from the top tier down."""
    policy = TieredPolicy(config)
    tiers = (*config.tiers, "unknown-tier")
    for service, listed, life in product(
        (*config.services, "no_such_service"), CustomerList, Lifecycle
    ):
        yield [
            policy.decide(service, Customer("c", tier=t, list=listed, lifecycle=life), call, live)
            for t in tiers
        ]
    yield [policy.decide(s, None, call, live) for s in config.services]


class TestPolicyProperties:
    @SETTINGS
    @given(scenario=scenarios())
    def test_decision_names_existing_queue(self, scenario: tuple, call: CallInfo) -> None:
        """Every decision names a queue the config defines, with a priority >= 0."""
        config, live = scenario
        for row in by_tier(config, live, call):
            for d in row:
                assert d.queue in config.queues
                assert d.priority >= 0

    @SETTINGS
    @given(scenario=scenarios())
    def test_priority_never_falls_as_tier_rises(self, scenario: tuple, call: CallInfo) -> None:
        """With everything else equal, a higher tier never gets a lower priority."""
        config, live = scenario
        rows = list(by_tier(config, live, call))[:-1]
        for row in rows:
            prios = [d.priority for d in row]
            assert prios == sorted(prios, reverse=True), row

    @SETTINGS
    @given(scenario=scenarios())
    def test_overflow_never_targets_closed(self, scenario: tuple, call: CallInfo) -> None:
        """An overflow lands on an open queue; a closed queue is kept only as a last resort."""
        config, live = scenario
        for row in by_tier(config, live, call):
            for d in row:
                snap = live.get(d.queue)
                if "overflow:" in d.reason or "closed:default" in d.reason:
                    assert snap is None or snap.open, d
                if snap is not None and not snap.open:
                    assert d.reason.endswith("closed:stay"), d
