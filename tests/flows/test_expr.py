"""Conditions: the fast path agrees with CEL; flattening keeps string literals."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from router.customers.model import Customer, CustomerList, Lifecycle
from router.flows.expr import Facts, compile_expr, fast_path, flatten, shortcut
from router.types import QueueSnapshot
from tests.flows.helpers import QUEUES, call, customer

FAST = [
    "customer.tier",
    'customer.tier == "vip"',
    'customer.list != "red"',
    'call.dnis == "4008202021"',
    "in_hours()",
    "!in_hours()",
]


class TestFastPath:
    def test_shapes_recognised(self) -> None:
        """Simple shapes get a fast path; numbers and compound ones do not."""
        assert all(fast_path(s) is not None for s in FAST)
        assert fast_path("customer.arpu == 1.0") is None
        assert fast_path('customer.tier == "vip" && percent(5)') is None

    @settings(max_examples=150, deadline=None)
    @given(
        tier=st.sampled_from(["vip", "high", "normal", ""]),
        lst=st.sampled_from(["", "red", "black"]),
        dnis=st.sampled_from(["4008202021", "10086"]),
        open_now=st.booleans(),
        known=st.booleans(),
    )
    def test_fast_equals_cel(
        self, tier: str, lst: str, dnis: str, open_now: bool, known: bool
    ) -> None:
        """For every fast shape, the fast answer equals CEL's answer."""
        who = customer(tier or "normal", lst) if known else None
        facts = Facts(call(dnis=dnis), who, {}, hours=lambda _f, _n, _at: open_now)
        for source in FAST:
            cond, problems = compile_expr(source, QUEUES, frozenset())
            assert cond is not None, problems
            assert cond.fast is not None
            slow = dataclasses.replace(cond, fast=None)
            assert cond.evaluate(facts, "main") == slow.evaluate(facts, "main"), source


SHORT = [
    'customer.lifecycle == "at_risk" && customer.tenure_months >= 12',
    "size(customer.offers) > 0 && percent(50)",
    "queues.vip.ewt < 60 && queues.vip.agents_available > 0",
    'customer.arpu >= 99.5 && !in_hours() && call.dnis != "10086"',
    "customer.credit_score < 600",
    "call.hour >= 20 && call.weekday == 1",
    'size(customer.tier) == 3 && customer.list == "black"',
    "queues.nowhere.waiting == 0",
]
NOT_SHORT = [
    'customer.tier == "vip" || percent(5)',
    "(customer.tenure_months >= 12) && percent(5)",
    "customer.tier",
    'customer.tier == "vip" && customer.tier',
    "customer.arpu > 1e3",
    "customer.offers.size() > 0",
    'customer.known ? percent(5) : customer.tier == "vip"',
]


class TestShortcut:
    def test_shapes_recognised(self) -> None:
        """&& chains of bool-valued simple tests get a shortcut; anything else stays CEL."""
        assert all(shortcut(s) is not None for s in SHORT)
        assert [s for s in NOT_SHORT if shortcut(s) is not None] == []

    @settings(max_examples=200, deadline=None)
    @given(
        st.fixed_dictionaries(
            {
                "lifecycle": st.sampled_from(list(Lifecycle)),
                "tenure_months": st.integers(0, 40),
                "arpu": st.sampled_from([0.0, 99.4, 99.5, 150.0]),
                "credit_score": st.integers(300, 900),
                "offers": st.sampled_from([(), ("5g",), ("5g", "tv")]),
                "list": st.sampled_from(list(CustomerList)),
            }
        ),
        st.sampled_from([0.0, 59.9, 60.0, 61.0]),
        st.integers(0, 2),
        st.booleans(),
        st.integers(0, 23),
        st.integers(0, 10**6),
    )
    def test_shortcut_equals_cel(  # noqa: PLR0917 - one argument per drawn value
        self,
        fields: dict[str, object],
        ewt: float,
        agents: int,
        open_now: bool,
        hour: int,
        uid: int,
    ) -> None:
        """For every shortcut shape, the shortcut's answer equals CEL's answer."""
        who = Customer("C1", tier="vip", **fields) if uid % 2 else None  # type: ignore[arg-type]
        at = call().at.replace(hour=hour)
        snap = {"vip": QueueSnapshot("vip", agents_available=agents, ewt=ewt)}
        facts = Facts(call(at=at, uniqueid=f"1.{uid}"), who, snap, hours=lambda *_: open_now)
        for source in SHORT:
            cond, problems = compile_expr(source, QUEUES | {"nowhere"}, frozenset())
            assert cond is not None, problems
            assert cond.fast is not None, source
            slow = dataclasses.replace(cond, fast=None)
            assert cond.evaluate(facts, "main") == slow.evaluate(facts, "main"), source


class TestFlatten:
    def test_literals_untouched(self) -> None:
        """Field paths inside string literals are not rewritten."""
        assert flatten('customer.tier == "customer.tier"') == 'customer__tier == "customer.tier"'

    def test_queue_fields(self) -> None:
        """queues.<name>.<field> becomes one flat variable."""
        assert flatten("queues.vip.ewt < 60") == "queues__vip__ewt < 60"
