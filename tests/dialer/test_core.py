"""The dialer's pure core: standing rules, retries, pacing, members, Originate fields."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from router.customers.model import Customer, CustomerList
from router.dialer.agents import MemberBook
from router.dialer.model import Attempt, CampaignKind, Contact, ContactState, DialMode, DialResult
from router.dialer.originate import DialPlan, originate_fields, safe_value
from router.dialer.pacing import Forecast, InboundGuard, LanePacing, decide, reserve_agents
from router.dialer.retry import after_attempt, next_open
from router.dialer.rules import ContactLimits, Refusal, standing_refusal
from router.flows.hours import BusinessHours, weekly_from
from router.types import QueueSnapshot
from simulator.theory import erlang_c_sl
from tests.dialer.helpers import config

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # a Wednesday


class TestStandingRules:
    def test_no_telemarketing_to_black_list(self) -> None:
        """A black-listed customer is never offered telemarketing, but gets a payment reminder."""
        cfg = config()
        black = Customer("C1", list=CustomerList.BLACK)
        limits = cfg.limits
        assert standing_refusal(cfg.campaigns["promo"], black, limits) is Refusal.BLACK_LIST
        assert standing_refusal(cfg.campaigns["remind"], black, limits) is None

    @pytest.mark.parametrize(
        "customer",
        [
            Customer("C2", list=CustomerList.RED, account_manager="alice"),
            Customer("C3", tier="vip", account_manager="alice"),
        ],
    )
    def test_protected_only_through_manager_lane(self, customer: Customer) -> None:
        """Red-list and VIP customers with a managed lane are only called from that lane."""
        cfg = config()
        promo = cfg.campaigns["promo"]
        assert standing_refusal(promo, customer, cfg.limits) is Refusal.MANAGER_LANE
        assert standing_refusal(replace(promo, lane="vip_desk"), customer, cfg.limits) is None
        assert standing_refusal(promo, customer, cfg.limits, lane="vip_desk") is None

    def test_manager_without_lane_is_no_restriction(self) -> None:
        """A protected customer whose manager has no lane is dialled normally."""
        cfg = config()
        vip = Customer("C4", tier="vip", account_manager="bob")
        assert standing_refusal(cfg.campaigns["remind"], vip, cfg.limits) is None

    def test_limits_validated(self) -> None:
        """A zero cap is a configuration error, not a silent 'never call'."""
        with pytest.raises(ValueError, match="per_day"):
            ContactLimits(per_day=0)


class TestRetry:
    def test_busy_retried_then_exhausted(self) -> None:
        """Busy earns its rule's retries, then the contact ends exhausted (reported)."""
        promo = config().campaigns["promo"]
        c = Contact("promo:1", "promo", "1", attempts=1)
        first = after_attempt(promo, c, DialResult.BUSY, 0, now=NOW)
        assert first == replace(first, state=ContactState.PENDING, due=NOW + timedelta(minutes=1))
        c3 = replace(c, attempts=2)
        assert after_attempt(promo, c3, DialResult.BUSY, 2, now=NOW).state is ContactState.EXHAUSTED

    def test_max_attempts(self) -> None:
        """The campaign's maximum attempts ends a contact whatever the rule allows."""
        promo = config().campaigns["promo"]
        c = Contact("promo:1", "promo", "1", attempts=3)
        assert after_attempt(promo, c, DialResult.BUSY, 0, now=NOW).state is ContactState.EXHAUSTED

    def test_answered_is_done(self) -> None:
        promo = config().campaigns["promo"]
        c = Contact("promo:1", "promo", "1", attempts=1)
        assert after_attempt(promo, c, DialResult.ANSWERED, 0, now=NOW).state is ContactState.DONE

    def test_retry_after_expiry_expires(self) -> None:
        """A retry that would fall after the due window ends the contact expired."""
        promo = config().campaigns["promo"]
        c = Contact("promo:1", "promo", "1", attempts=1, due_until=NOW + timedelta(seconds=30))
        assert after_attempt(promo, c, DialResult.BUSY, 0, now=NOW).state is ContactState.EXPIRED

    def test_next_open_respects_local_time_and_holidays(self) -> None:
        """Calling hours are the customer's local time; a CN holiday is skipped."""
        hours = BusinessHours("h", "Asia/Shanghai", weekly_from({"mon-sun": "09:00-20:00"}), "CN")
        late = datetime(2026, 9, 30, 13, 0, tzinfo=UTC)  # 21:00 in Shanghai, before National Day
        opens = next_open(hours, late)
        assert opens is not None
        local = opens.astimezone(ZoneInfo("Asia/Shanghai"))
        assert local.date() not in holidays.country_holidays("CN", years=2026)
        assert local.date() > date(2026, 10, 1)
        assert (local.hour, local.minute) == (9, 0)
        assert hours.is_open(opens)
        assert next_open(hours, late, "Europe/London") is not None


class TestPacing:
    snap = QueueSnapshot("vip", waiting=0, agents_logged_in=10, agents_available=4)
    pacing = LanePacing("outbound_q", (InboundGuard("vip", max_waiting=0, max_ewt_s=20),))

    def test_one_call_per_free_agent(self) -> None:
        """Never more Originates than free agents, minus the calls already in flight."""
        d = decide(self.pacing, {"vip": self.snap}, free_agents=3, in_flight=1)
        assert d.allowed == 2

    @pytest.mark.parametrize("change", [{"waiting": 1}, {"longest_wait": 30.0}, {"ewt": 25.0}])
    def test_inbound_rise_stops_outbound(self, change: dict[str, float]) -> None:
        """A waiting caller, a long wait or a high EWT on a guarded lane stops outbound."""
        live = {"vip": replace(self.snap, **change)}
        assert decide(self.pacing, live, free_agents=5, in_flight=0).allowed == 0

    def test_unknown_inbound_state_stops_outbound(self) -> None:
        """No live state for a guarded queue: outbound takes nobody."""
        assert decide(self.pacing, {}, free_agents=5, in_flight=0).allowed == 0

    def test_reserve_from_erlang_c(self) -> None:
        """The reserve is the fewest agents meeting the forecast's service level."""
        f = Forecast(calls_per_hour=120, aht_s=180, target_sl=0.8, answer_within_s=20)
        n = reserve_agents(f)
        assert erlang_c_sl(n, 6.0, 180, 20) >= 0.8 > erlang_c_sl(n - 1, 6.0, 180, 20)
        paced = replace(self.pacing, forecast=f)
        busy = 10 - 4  # logged in minus available
        d = decide(paced, {"vip": self.snap}, free_agents=n - busy + 2, in_flight=0)
        assert (d.allowed, d.reserve) == (2, n - busy)

    def test_agents_on_outbound_do_not_shrink_the_reserve(self) -> None:
        """Busy members on the dialler's own calls are not inbound talkers: the reserve stays."""
        f = Forecast(calls_per_hour=120, aht_s=180, target_sl=0.8, answer_within_s=20)
        paced = replace(self.pacing, forecast=f)
        n = reserve_agents(f)
        snap = QueueSnapshot("vip", agents_logged_in=n + 4, agents_available=n - 2)
        # 6 busy members, all on outbound calls: inbound still needs all n idle agents.
        d = decide(paced, {"vip": snap}, free_agents=n - 2, in_flight=0, on_outbound=6)
        assert (d.allowed, d.reserve) == (0, n)
        # Counted as inbound talkers (the old arithmetic) they would free 4 agents:
        # reserve n - 6 (n >= 7: 6 Erlangs offered), so (n - 2) - (n - 6) = 4 allowed.
        old = decide(paced, {"vip": snap}, free_agents=n - 2, in_flight=0)
        assert (old.allowed, old.reserve) == (4, n - 6)


class TestMembers:
    def test_paused_and_busy_members_are_not_free(self) -> None:
        """ami/13: Paused 1 or Status 2 (ringing or talking) is not free; unpause frees."""
        book = MemberBook()
        book.apply(
            {"Event": "QueueMember", "Queue": "q", "Location": "L/a", "Status": "1", "Paused": "1"}
        )
        book.apply(
            {"Event": "QueueMember", "Queue": "q", "Location": "L/b", "Status": "1", "Paused": "0"}
        )
        assert book.free("q") == ["L/b"]
        book.apply({"Event": "QueueMemberStatus", "Queue": "q", "Interface": "L/b", "Status": "2"})
        assert book.free("q") == []
        book.apply({"Event": "QueueMemberPause", "Queue": "q", "Interface": "L/a", "Paused": "0"})
        assert book.free("q") == ["L/a"]
        book.hold("q", "L/a")
        assert book.free("q") == []
        book.apply({"Event": "QueueMemberRemoved", "Queue": "q", "Interface": "L/a"})
        book.release("q", "L/a")
        assert book.free("q") == []


class TestOriginate:
    def test_fields_progressive(self) -> None:
        """Customer first into the outbound context, ids we chose, variables as repeated headers."""
        promo = config().campaigns["promo"]
        contact = Contact("promo:C1", "promo", "13900000042", customer_id="C1", offer="5G plan")
        fields = originate_fields(
            Attempt("att-1", contact, 1), promo, DialPlan(), {"TIERLINE_TIER": "vip"}
        )
        assert fields["Channel"] == "Local/13900000042@tierline-dial"
        assert (fields["Context"], fields["Exten"], fields["Async"]) == (
            "tierline-outbound",
            "s",
            "true",
        )
        assert (fields["ChannelId"], fields["OtherChannelId"]) == ("att-1", "att-1-b")
        assert "TIERLINE_CAMPAIGN=promo" in fields["Variable"]
        assert "TIERLINE_TIER=vip" in fields["Variable"]

    def test_preview_dials_agent_first(self) -> None:
        promo = replace(config().campaigns["promo"], mode=DialMode.PREVIEW)
        contact = Contact("promo:C1", "promo", "13900000042")
        fields = originate_fields(
            Attempt("a", contact, 1, agent="Local/agent1@agents/n"), promo, DialPlan(), {}
        )
        assert (fields["Channel"], fields["Context"], fields["Exten"]) == (
            "Local/agent1@agents/n",
            "tierline-preview",
            "13900000042",
        )

    @pytest.mark.parametrize(
        "hostile", ["x,TIERLINE_PRIO=99", "x\r\nAction: Hangup", "a;b${SHELL}"]
    )
    def test_hostile_values_cannot_add_variables_or_headers(self, hostile: str) -> None:
        """Commas, CR/LF and dialplan syntax are removed from every variable value."""
        value = safe_value(hostile)
        assert not set(value) & set(",\r\n;${}=")

    def test_kind_marketing(self) -> None:
        assert CampaignKind.TELEMARKETING.marketing
        assert not CampaignKind.PAYMENT_REMINDER.marketing
