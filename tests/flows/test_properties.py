"""Property tests: random digits and hangups never crash the engine."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from router.flows import actions as a
from router.flows.loader import load_flows
from router.flows.trace import trace_call
from router.types import QueueSnapshot
from tests.flows.helpers import QUEUES, call, customer

SHIPPED = load_flows(
    Path(__file__).resolve().parents[2] / "ivr_flows", QUEUES | {"restricted", "english"}
)
MAIN = sorted(n for n, f in SHIPPED.flows.items() if not f.subflow)
digit_seqs = st.lists(st.text(alphabet="0123456789*#", min_size=0, max_size=9), max_size=12)
customers = st.one_of(
    st.none(),
    st.builds(
        customer,
        tier=st.sampled_from(["vip", "high", "mid", "normal"]),
        lst=st.sampled_from(["", "red", "black"]),
        lifecycle=st.sampled_from(["new", "growth", "stable", "at_risk"]),
        offers=st.lists(st.sampled_from(["5g", "tv"]), max_size=2).map(tuple),
    ),
)


class TestShippedFlows:
    @settings(max_examples=300, deadline=None)
    @given(
        flow=st.sampled_from(MAIN),
        digits=digit_seqs,
        who=customers,
        hangup=st.one_of(st.none(), st.integers(0, 6)),
        hour=st.integers(0, 23),
        ewt=st.floats(0, 1000),
    )
    def test_always_terminal(self, flow, digits, who, hangup, hour, ewt) -> None:  # type: ignore[no-untyped-def]  # noqa: PLR0917
        """Any digits, caller, time and hangup point end in exactly one terminal action."""
        from datetime import datetime

        from tests.flows.helpers import SHANGHAI

        when = datetime(2026, 11, 23, hour, tzinfo=SHANGHAI)
        queues = {q: QueueSnapshot(q, ewt=ewt, agents_logged_in=2) for q in QUEUES}
        t = trace_call(
            SHIPPED, flow, call(at=when), who, digits, queues=queues, hangup_after=hangup
        )
        assert isinstance(t.state.result, a.TERMINAL)
        assert isinstance(t.actions[-1], a.TERMINAL) or t.state.result == a.HangUp("caller_hangup")
        assert sum(isinstance(x, a.TERMINAL) for x in t.actions) <= 1
        if isinstance(t.state.result, a.Route):
            assert t.state.result.decision.queue in QUEUES | {"english"}
