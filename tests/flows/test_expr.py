"""Conditions: the fast path agrees with CEL; flattening keeps string literals."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from router.flows.expr import Facts, compile_expr, fast_path, flatten
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


class TestFlatten:
    def test_literals_untouched(self) -> None:
        """Field paths inside string literals are not rewritten."""
        assert flatten('customer.tier == "customer.tier"') == 'customer__tier == "customer.tier"'

    def test_queue_fields(self) -> None:
        """queues.<name>.<field> becomes one flat variable."""
        assert flatten("queues.vip.ewt < 60") == "queues__vip__ewt < 60"
