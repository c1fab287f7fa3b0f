"""The shipped samples agree with each other, with the dialplan and with the docs."""

from __future__ import annotations

import csv
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from router.channel_vars import screen_pop
from router.customers.model import Customer, CustomerList
from router.flows import actions as a
from router.flows.loader import load_flows
from router.flows.model import FlowSet, Input, QueueNode
from router.flows.runner import decision_vars
from router.flows.trace import trace_call
from router.policy import RoutingConfig, TieredPolicy
from router.types import CallInfo, QueueSnapshot, RouteDecision
from tests.policy.conftest import CONF_DIR, ROOT

IVR = ROOT / "ivr_flows"
OPEN = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Tuesday, in hours


@pytest.fixture(scope="module")
def flows(shipped: RoutingConfig) -> FlowSet:
    return load_flows(IVR, frozenset(shipped.services))


def sample_call() -> CallInfo:
    return CallInfo("1795348509.3", "13912345678", "10086", OPEN)


class TestAnnouncePosition:
    def test_every_queue_route_variable_reaches_the_dialplan(self) -> None:
        """Each variable a flow's queue route sets is read by extensions.conf (REASON: records)."""
        route = a.Route("tech", RouteDecision("tech", 20, "tier_lane", 1200), True)
        text = (CONF_DIR / "extensions.conf").read_text()
        read = set(re.findall(r"\$\{(TIERLINE_[A-Z_]+)\}", text))
        assert set(decision_vars(route)) - {"TIERLINE_REASON"} <= read

    def test_place_in_line_is_said_only_when_asked(self) -> None:
        """TIERLINE_ANNOUNCE=1 plays the position before Queue(); anything else skips to it."""
        text = (CONF_DIR / "extensions.conf").read_text()
        queue = text[text.index("exten => queue,1,") : text.index("exten => fallback,1,")]
        assert '$["${TIERLINE_ANNOUNCE}" != "1"]?join)' in queue
        assert "${QUEUE_WAITING_COUNT(${TL_QUEUE})}" in queue
        assert queue.index("SayNumber(${TL_POS})") < queue.index("n(join),Queue(${TL_QUEUE},")
        route = text[text.index("[tierline-route]") : text.index("exten => queue,1,")]
        assert route.index("Set(TIERLINE_ANNOUNCE=)") < route.index("AGI(${TIERLINE_AGI},")


class TestUnknownCaller:
    def test_screen_pop_of_an_unknown_caller_is_as_documented(self) -> None:
        """docs/routing.md says what the router really sets for an unknown caller: empty tier."""
        docs = (ROOT / "docs" / "routing.md").read_text()
        row = next(line for line in docs.splitlines() if line.startswith("| `TIERLINE_TIER` |"))
        assert screen_pop(None)["TIERLINE_TIER"] == ""
        assert "empty for an unknown caller" in row
        assert "lowest tier for an unknown caller" not in row


class TestDemoAccounts:
    def test_every_sample_id_can_be_typed_at_identify(self, flows: FlowSet) -> None:
        """Each sample customer id is the identify node's prefix plus digits its pattern accepts."""
        node = flows.flows["telecom"].nodes["identify"]
        assert isinstance(node, Input)
        assert node.verify
        with (ROOT / "samples" / "customers.csv").open(encoding="utf-8") as f:
            ids = [row["customer_id"] for row in csv.DictReader(f)]
        assert len(ids) >= 300
        for cid in ids:
            assert cid.startswith(node.account_prefix), cid
            typed = cid.removeprefix(node.account_prefix)
            assert node.pattern.fullmatch(typed), cid
            assert len(typed) <= node.max_digits, cid

    def test_demo_vip_verifies_and_reaches_the_red_desk(
        self, flows: FlowSet, policy: TieredPolicy
    ) -> None:
        """An unknown number presses 0, types 00001 and its PIN and is served as C00001 (red)."""
        demo = Customer("C00001", tier="vip", list=CustomerList.RED, phones=("13800138000",))
        t = trace_call(flows, "telecom", sample_call(), None, ["0", "00001", "1234"],
                       policy=policy, accounts={"C00001": demo},
                       factors={"C00001": {"pin": "1234"}})  # fmt: skip
        assert t.state.customer == demo
        assert isinstance(t.state.result, a.Route)
        assert t.state.result.decision.queue == "red_desk"


class TestOverflowSamples:
    def test_a_flow_overflow_never_sends_a_caller_back_to_its_lane(
        self, flows: FlowSet, policy: TieredPolicy, shipped: RoutingConfig
    ) -> None:
        """For every tier, a queue node's overflow does not land in the queue it overflows from."""
        for flow in flows.flows.values():
            for node in flow.nodes.values():
                if not (isinstance(node, QueueNode) and node.overflow):
                    continue
                target = flow.nodes[node.overflow]
                if not isinstance(target, QueueNode):
                    continue
                for tier in shipped.tiers:
                    who = Customer("C1", tier=tier)
                    lane = policy.decide(node.service, who, sample_call(), {}).queue
                    again = policy.decide(target.service, who, sample_call(), {}).queue
                    assert again != lane, (flow.name, node.name, tier)

    def test_policy_overflow_acts_before_the_flow_overflow(
        self, flows: FlowSet, policy: TieredPolicy
    ) -> None:
        """VIP lane: vip_desk slow -> routing.yaml's rule moves the VIP to support at join;
        only when support is slow too does vip_lane's own overflow (a callback) take over."""
        vip = Customer("C9", tier="vip")
        busy_vip = {"vip_desk": QueueSnapshot("vip_desk", waiting=3, ewt=90, agents_logged_in=2)}
        support_ok = QueueSnapshot("support", ewt=30, agents_logged_in=5)
        t = trace_call(flows, "telecom", sample_call(), vip, [], policy=policy,
                       queues={**busy_vip, "support": support_ok})  # fmt: skip
        assert isinstance(t.state.result, a.Route)
        assert (t.state.result.decision.queue, t.state.result.decision.priority) == ("support", 45)
        support_slow = QueueSnapshot("support", ewt=200, agents_logged_in=5)
        t = trace_call(flows, "telecom", sample_call(), vip, [], policy=policy,
                       queues={**busy_vip, "support": support_slow})  # fmt: skip
        assert isinstance(t.state.result, a.RequestCallback)
        assert t.state.node == "vip_overflow"

    def test_policy_thresholds_sit_below_the_flow_max_wait(
        self, flows: FlowSet, shipped: RoutingConfig, policy: TieredPolicy
    ) -> None:
        """The samples keep the documented order: a lane's ewt rule fires before the node's wait."""
        for flow in flows.flows.values():
            for node in flow.nodes.values():
                if not (isinstance(node, QueueNode) and node.max_wait_s and node.overflow):
                    continue
                lanes = {
                    policy.decide(node.service, Customer("C1", tier=t), sample_call(), {}).queue
                    for t in shipped.tiers
                }
                for rule in shipped.overflow:
                    if rule.from_queue in lanes and rule.ewt_over_s is not None:
                        assert rule.ewt_over_s < node.max_wait_s, (flow.name, node.name)
