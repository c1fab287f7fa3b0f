"""TieredPolicy on the shipped routing file: lanes, lists, lifecycle, overflow."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from router.customers.model import Customer, CustomerList, Lifecycle
from router.policy import TieredPolicy
from router.types import CallInfo, QueueSnapshot, RoutingPolicy

ROOT = Path(__file__).resolve().parents[2]


def cust(tier: str = "normal", **kw: object) -> Customer:
    return Customer("c1", tier=tier, **kw)  # type: ignore[arg-type]


def snaps(*items: QueueSnapshot) -> dict[str, QueueSnapshot]:
    return {s.name: s for s in items}


class TestTieredPolicy:
    def test_implements_protocol(self, policy: TieredPolicy) -> None:
        """The policy satisfies router.types.RoutingPolicy."""
        as_protocol: RoutingPolicy = policy
        assert callable(as_protocol.decide)

    def test_vip_gets_vip_lane(self, policy: TieredPolicy, call: CallInfo) -> None:
        """A VIP asking for general support goes to the VIP desk at the VIP priority."""
        d = policy.decide("general", cust("vip"), call, {})
        assert (d.queue, d.priority, d.reason, d.max_wait_s) == ("vip_desk", 40, "tier_lane", 600)

    def test_lower_tiers_share_default_lane(self, policy: TieredPolicy, call: CallInfo) -> None:
        """Tiers without their own lane use the default lane at their own priority."""
        got = [policy.decide("billing", cust(t), call, {}) for t in ("high", "mid", "normal")]
        assert [(d.queue, d.priority) for d in got] == [
            ("billing", 30),
            ("billing", 20),
            ("billing", 10),
        ]

    def test_unknown_caller_is_lowest_tier(self, policy: TieredPolicy, call: CallInfo) -> None:
        """No customer record routes like the lowest tier."""
        assert policy.decide("tech", None, call, {}) == policy.decide("tech", cust(), call, {})

    def test_unknown_tier_is_lowest_tier(self, policy: TieredPolicy, call: CallInfo) -> None:
        """A tier name the config does not know ranks as the lowest tier."""
        assert policy.decide("tech", cust("platinum"), call, {}).priority == 10

    def test_unknown_service_goes_to_default(self, policy: TieredPolicy, call: CallInfo) -> None:
        """An unknown service goes to the default queue, saying why, at the tier priority."""
        d = policy.decide("astrology", cust("high"), call, {})
        assert (d.queue, d.priority, d.reason) == ("support", 30, "unknown_service")

    def test_black_list_wins(self, policy: TieredPolicy, call: CallInfo) -> None:
        """A black-listed VIP goes to the restricted service whatever it asked for."""
        d = policy.decide("general", cust("vip", list=CustomerList.BLACK), call, {})
        assert (d.queue, d.priority, d.reason) == ("restricted", 0, "black_list")

    def test_red_list_dedicated_lane(self, policy: TieredPolicy, call: CallInfo) -> None:
        """A red-listed customer goes to the red desk at the red priority."""
        d = policy.decide("tech", cust("mid", list=CustomerList.RED), call, {})
        assert (d.queue, d.priority, d.reason) == ("red_desk", 60, "red_list")

    def test_at_risk_to_retention(self, policy: TieredPolicy, call: CallInfo) -> None:
        """An at-risk customer asking for billing goes to retention, keeping tier priority."""
        d = policy.decide("billing", cust("high", lifecycle=Lifecycle.AT_RISK), call, {})
        assert (d.queue, d.priority, d.reason) == ("retention", 30, "at_risk")

    def test_at_risk_only_for_listed_services(self, policy: TieredPolicy, call: CallInfo) -> None:
        """An at-risk customer with a tech problem still reaches tech."""
        d = policy.decide("tech", cust("mid", lifecycle=Lifecycle.AT_RISK), call, {})
        assert d.queue == "tech"

    def test_overflow_on_ewt(self, policy: TieredPolicy, call: CallInfo) -> None:
        """A lane past its expected-wait threshold overflows, boosted within the band."""
        live = snaps(QueueSnapshot("vip_desk", ewt=61))
        d = policy.decide("general", cust("vip"), call, live)
        assert (d.queue, d.priority, d.reason) == ("support", 45, "tier_lane+overflow:ewt")
        assert d.max_wait_s == 900

    def test_overflow_on_waiting(self, policy: TieredPolicy, call: CallInfo) -> None:
        """A lane with more waiting callers than its threshold overflows."""
        live = snaps(QueueSnapshot("sales", waiting=11))
        assert policy.decide("sales", cust(), call, live).reason == "tier_lane+overflow:waiting"

    def test_threshold_is_strict(self, policy: TieredPolicy, call: CallInfo) -> None:
        """Exactly at the threshold the call stays in its lane."""
        live = snaps(QueueSnapshot("sales", waiting=10), QueueSnapshot("billing", ewt=180))
        assert policy.decide("sales", cust(), call, live).queue == "sales"
        assert policy.decide("billing", cust(), call, live).queue == "billing"

    def test_boost_clipped_to_band(self, shipped: object, call: CallInfo) -> None:
        """An overflow boost never lifts a tier into the band of the tier above."""
        from router.policy import parse_routing
        from tests.policy.conftest import ROUTING

        text = ROUTING.read_text().replace("priority_boost: 5", "priority_boost: 30")
        pol = TieredPolicy(parse_routing(text))
        live = snaps(QueueSnapshot("vip_desk", ewt=61))
        assert pol.decide("general", cust("vip"), call, live).priority == 49

    def test_never_overflows_to_closed(self, policy: TieredPolicy, call: CallInfo) -> None:
        """A closed target is skipped; with no open target the call stays in its lane."""
        live = snaps(QueueSnapshot("billing", ewt=999), QueueSnapshot("support", open=False))
        d = policy.decide("billing", cust(), call, live)
        assert (d.queue, d.reason) == ("billing", "tier_lane")

    def test_closed_lane_overflows(self, policy: TieredPolicy, call: CallInfo) -> None:
        """A closed lane with an overflow rule sends the call to the open target."""
        live = snaps(QueueSnapshot("tech", open=False))
        d = policy.decide("tech", cust(), call, live)
        assert (d.queue, d.reason) == ("tech_vip", "tier_lane+overflow:closed")

    def test_closed_lane_without_rule_goes_default(
        self, policy: TieredPolicy, call: CallInfo
    ) -> None:
        """A closed lane with no rule falls back to the open default queue."""
        live = snaps(QueueSnapshot("retention", open=False))
        d = policy.decide("retention", cust("mid"), call, live)
        assert (d.queue, d.priority, d.reason) == ("support", 20, "tier_lane+closed:default")

    def test_everything_closed_stays(self, policy: TieredPolicy, call: CallInfo) -> None:
        """With nowhere open, the decision keeps its lane and says so."""
        live = snaps(QueueSnapshot("retention", open=False), QueueSnapshot("support", open=False))
        d = policy.decide("retention", cust(), call, live)
        assert (d.queue, d.reason) == ("retention", "tier_lane+closed:stay")

    def test_missing_snapshot_means_no_overflow(self, policy: TieredPolicy, call: CallInfo) -> None:
        """Without live state for a queue the policy does not guess: no overflow."""
        live = snaps(QueueSnapshot("support", ewt=999))
        assert policy.decide("billing", cust(), call, live).queue == "billing"

    def test_name_sets(self, policy: TieredPolicy) -> None:
        """The policy exposes its service and queue names for the flows' static checks."""
        assert {"general", "billing", "tech", "sales", "retention"} <= policy.services
        assert "vip_desk" in policy.queues
        assert "general" not in policy.queues

    def test_aged_priority_delegates(self, policy: TieredPolicy) -> None:
        """The policy's aged_priority is its guard's."""
        assert policy.aged_priority(10, "normal", 360) == 50


class TestPurity:
    @pytest.mark.parametrize("module", sorted((ROOT / "router" / "policy").glob("*.py")))
    def test_policy_imports_no_io(self, module: Path) -> None:
        """No policy module imports asyncio, sockets, Redis or the AMI client."""
        forbidden = {"asyncio", "socket", "redis", "panoramisk", "simpy", "subprocess"}
        roots = set()
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                roots.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                roots.add(node.module.split(".")[0])
        assert not roots & forbidden
