"""Engine mechanics: reproducibility, shifts, queue timeouts, IVR time, policy hooks."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest

from router.customers.model import Customer
from router.types import CallInfo, QueueSnapshot, RouteDecision
from simulator.distributions import Constant, Exponential, Never
from simulator.engine import ABANDONED, ANSWERED, TIMED_OUT, WAITING, simulate
from simulator.model import FixedIvr, QueueSpec, SimModel, Stream
from simulator.runner import replicate
from simulator.stats import summarize
from tests.sim.conftest import TierPolicy


def day(agents: tuple[int, ...] = (5, 5, 5), max_wait_s: int = 0, ivr_s: float = 0.0) -> SimModel:
    return SimModel(
        streams=(
            Stream("vip", "100", "vip", (0.01, 0.02, 0.01), Exponential(120.0)),
            Stream("normal", "100", "normal", (0.02, 0.04, 0.02), Exponential(120.0)),
        ),
        queues=(QueueSpec("default", Exponential(180.0), agents, cost_per_hour=30.0),),
        policy=TierPolicy(max_wait_s),
        ivr=FixedIvr("default", ivr_s),
        interval_s=1800.0,
    )


class TestEngine:
    def test_same_seed_same_numbers(self) -> None:
        """Two runs from the same seed give identical call logs."""
        a = simulate(day(), np.random.default_rng(5))
        b = simulate(day(), np.random.default_rng(5))
        assert np.array_equal(a.wait, b.wait, equal_nan=True)
        assert np.array_equal(a.outcome, b.outcome)

    def test_different_seed_differs(self) -> None:
        """A different seed gives a different sample path."""
        a = simulate(day(), np.random.default_rng(5))
        b = simulate(day(), np.random.default_rng(6))
        assert a.arrive.size != b.arrive.size or not np.array_equal(a.arrive, b.arrive)

    def test_every_call_resolved(self) -> None:
        """With finite patience every caller ends answered or abandoned."""
        log = simulate(day(), np.random.default_rng(1))
        assert set(np.unique(log.outcome)) <= {ANSWERED, ABANDONED}
        assert not np.isnan(log.wait).any()

    def test_no_agents_means_no_answers(self) -> None:
        """An unstaffed middle interval answers nobody who arrived and gave up in it."""
        log = simulate(day(agents=(5, 0, 5)), np.random.default_rng(2))
        start = log.enqueue + log.wait
        answered_mid = (log.outcome == ANSWERED) & (start > 1800.0) & (start < 3600.0)
        assert not answered_mid.any()

    def test_patient_callers_left_waiting(self) -> None:
        """Infinitely patient callers with no agent stay WAITING instead of vanishing."""
        model = SimModel(
            streams=(Stream("n", "1", "normal", (0.01,), Never()),),
            queues=(QueueSpec("default", Constant(10.0), (0,)),),
            policy=TierPolicy(),
            interval_s=1000.0,
        )
        log = simulate(model, np.random.default_rng(3))
        assert log.arrive.size > 0
        assert (log.outcome == WAITING).all()

    def test_queue_timeout(self) -> None:
        """RouteDecision.max_wait_s ends waits at that limit, booked as timed out."""
        log = simulate(day(agents=(1, 1, 1), max_wait_s=30), np.random.default_rng(4))
        timed = log.outcome == TIMED_OUT
        assert timed.any()
        assert np.allclose(log.wait[timed], 30.0)
        assert (log.wait[log.outcome == ANSWERED] <= 30.0).all()

    def test_ivr_time_delays_queueing(self) -> None:
        """IVR seconds from the IvrModel pass before the caller reaches the queue."""
        log = simulate(day(ivr_s=45.0), np.random.default_rng(4))
        assert np.allclose(log.enqueue - log.arrive, 45.0)

    def test_vip_served_first(self) -> None:
        """Higher QUEUE_PRIO from the policy gives VIPs shorter waits (regression check)."""
        s = summarize(simulate(day(agents=(4, 4, 4)), np.random.default_rng(8)), day())
        assert s["tier/vip"]["asa"] < s["tier/normal"]["asa"]

    def test_cost_and_occupancy(self) -> None:
        """Cost is agents x hours x rate; occupancy is a share of staffed time."""
        model = day()
        s = summarize(simulate(model, np.random.default_rng(9)), model)
        assert s["queue/default/0"]["cost"] == pytest.approx(5 * 0.5 * 30.0)
        assert 0.0 < s["queue/default/1"]["occupancy"] <= 1.0


class SpyPolicy:
    """Records what the engine hands a RoutingPolicy."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, int]] = []

    def decide(
        self,
        service: str,
        customer: Customer | None,
        call: CallInfo,
        queues: Mapping[str, QueueSnapshot],
    ) -> RouteDecision:
        assert customer is not None
        snap = queues["b"]
        self.seen.append((service, customer.tier, call.dnis, snap.agents_logged_in))
        return RouteDecision("b" if customer.tier == "vip" else "a", 1, "spy")


class TestPolicyHook:
    def test_policy_sees_service_customer_call_and_queues(self) -> None:
        """The policy gets the IVR's service, the tier's customer, the DNIS and live queues."""
        policy = SpyPolicy()
        model = SimModel(
            streams=(
                Stream("v", "800", "vip", (0.05,), Exponential(60.0)),
                Stream("n", "900", "normal", (0.05,), Exponential(60.0)),
            ),
            queues=(
                QueueSpec("a", Exponential(60.0), (3,)),
                QueueSpec("b", Exponential(60.0), (2,)),
            ),
            policy=policy,
            ivr=FixedIvr("sales"),
            interval_s=600.0,
        )
        log = simulate(model, np.random.default_rng(1))
        assert {s[0] for s in policy.seen} == {"sales"}
        assert {(s[1], s[2]) for s in policy.seen} == {("vip", "800"), ("normal", "900")}
        assert {s[3] for s in policy.seen} == {2}
        vip = log.stream == 0
        assert (log.queue[vip] == 1).all()
        assert (log.queue[~vip] == 0).all()


class TestReplications:
    def test_reproducible_and_independent(self) -> None:
        """Same seed -> same estimates; replications differ from each other."""
        a = replicate(day(), 3, seed=7)
        b = replicate(day(), 3, seed=7)
        assert a.estimates["all"]["asa"] == b.estimates["all"]["asa"]
        assert len({r["all"]["offered"] for r in a.runs}) > 1
        assert a.estimates["all"]["asa"].ci95 > 0


class TestCallbacks:
    def test_virtual_hold(self) -> None:
        """Accepted callback offers never abandon and are answered later; accept=0 offers none."""
        from dataclasses import replace

        from simulator.model import CallbackOffer

        base = day(agents=(3, 3, 3))
        log = simulate(replace(base, callback=CallbackOffer(60.0, 0.5)), np.random.default_rng(3))
        assert log.callback.sum() > 10
        assert (log.outcome[log.callback] == ANSWERED).all()
        none = simulate(replace(base, callback=CallbackOffer(60.0, 0.0)), np.random.default_rng(3))
        assert not none.callback.any()
        s = summarize(log, base)
        assert s["all"]["callbacks"] == float(log.callback[log.arrive < base.horizon].sum())
