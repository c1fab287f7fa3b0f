"""The engine against queueing theory (Erlang C, Erlang A, Cobham priorities, Little).

Sizing: each model runs R independent replications from a fixed seed; the
tests first assert that the 95% CI half-width is well inside the tolerance
(so a pass means something and the fixed seed is not hiding noise), then
compare the replication mean to the closed form with the tolerance the issue
states: P(wait) 3% relative, service level 1 point, P(abandon) 5% relative,
mean waits 6% relative. Time unit: aht = 1 s, so runs are scale-free.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import pytest

from simulator.distributions import Exponential, Never, Sampler
from simulator.model import QueueSpec, SimModel, Stream
from simulator.runner import Replications, replicate
from simulator.stats import Estimate
from simulator.theory import erlang_a, erlang_c, erlang_c_asa, erlang_c_sl, priority_waits
from tests.sim.conftest import TierPolicy

# Long statistical runs: ./test.sh -m "not slow" skips them; CI runs them. Their fixtures
# simulate hundreds of thousands of calls, so they get more than the suite's 120 s.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

SL_T = 0.2


def stationary(
    servers: int,
    rates: dict[str, float],
    calls: int,
    patience: Sampler | None = None,
) -> SimModel:
    """One queue, one interval long enough for ``calls`` arrivals, 5% warm-up."""
    total = sum(rates.values())
    length = calls / total
    streams = tuple(Stream(t, "100", t, (r,), patience or Never()) for t, r in rates.items())
    return SimModel(
        streams=streams,
        queues=(QueueSpec("default", Exponential(1.0), (servers,)),),
        policy=TierPolicy(),
        interval_s=length,
        warmup_s=0.05 * length,
        sl_seconds=dict.fromkeys(rates, SL_T),
    )


def check(est: Estimate, theory: float, *, rel: float = 0.0, abs_: float = 0.0) -> None:
    tol = rel * theory + abs_
    assert est.ci95 < 0.6 * tol, f"undersized: ci95 {est.ci95:.4g} vs tolerance {tol:.4g}"
    assert est.mean == pytest.approx(theory, rel=rel, abs=abs_)


def check_little(reps: Replications) -> None:
    for run in reps.little:
        for lc in run:
            assert lc.relative_error < 0.01, lc


@pytest.fixture(scope="module")
def mmc(pool: ProcessPoolExecutor) -> Replications:
    return replicate(stationary(10, {"normal": 8.0}, 50_000), 48, seed=11, executor=pool)


@pytest.fixture(scope="module")
def mmcm(pool: ProcessPoolExecutor) -> Replications:
    model = stationary(20, {"normal": 19.0}, 40_000, Exponential(2.0))
    return replicate(model, 32, seed=12, executor=pool)


@pytest.fixture(scope="module")
def prio(pool: ProcessPoolExecutor) -> Replications:
    model = stationary(10, {"vip": 2.4, "normal": 5.6}, 50_000)
    return replicate(model, 48, seed=13, executor=pool)


class TestErlangC:
    def test_p_wait(self, mmc: Replications) -> None:
        """M/M/10 at 8 Erlangs: P(wait) within 3% of Erlang C."""
        check(mmc.estimates["all"]["p_wait"], erlang_c(10, 8.0), rel=0.03)

    def test_asa(self, mmc: Replications) -> None:
        """Mean wait within 6% of the Erlang C mean wait."""
        check(mmc.estimates["all"]["asa"], erlang_c_asa(10, 8.0, 1.0), rel=0.06)

    def test_service_level(self, mmc: Replications) -> None:
        """Share answered within 0.2 aht within 1 point of Erlang C."""
        check(mmc.estimates["all"]["service_level"], erlang_c_sl(10, 8.0, 1.0, SL_T), abs_=0.01)

    def test_no_abandonment(self, mmc: Replications) -> None:
        """Infinitely patient callers are all answered."""
        assert mmc.estimates["all"]["abandon_rate"].mean == 0.0

    def test_littles_law(self, mmc: Replications) -> None:
        """L equals lambda x W within 1% in every replication."""
        check_little(mmc)


class TestErlangA:
    def test_p_wait(self, mmcm: Replications) -> None:
        """M/M/20+M at 19 Erlangs, patience 2 aht: P(wait) within 3% of Erlang A."""
        check(mmcm.estimates["all"]["p_wait"], erlang_a(20, 19.0, 1.0, 2.0, SL_T).p_wait, rel=0.03)

    def test_p_abandon(self, mmcm: Replications) -> None:
        """P(abandon) within 5% of Erlang A."""
        theory = erlang_a(20, 19.0, 1.0, 2.0, SL_T).p_abandon
        check(mmcm.estimates["all"]["abandon_rate"], theory, rel=0.05)

    def test_asa(self, mmcm: Replications) -> None:
        """Mean wait of answered callers within 6% of Erlang A."""
        check(mmcm.estimates["all"]["asa"], erlang_a(20, 19.0, 1.0, 2.0, SL_T).asa, rel=0.06)

    def test_service_level(self, mmcm: Replications) -> None:
        """Answered within 0.2 aht / offered within 1 point of Erlang A."""
        theory = erlang_a(20, 19.0, 1.0, 2.0, SL_T).service_level
        check(mmcm.estimates["all"]["service_level"], theory, abs_=0.01)

    def test_littles_law(self, mmcm: Replications) -> None:
        """L equals lambda x W within 1% in every replication, abandoners included."""
        check_little(mmcm)


class TestPriorities:
    def test_class_waits(self, prio: Replications) -> None:
        """Two non-preemptive classes: each mean wait within 6% of Cobham's formula."""
        vip, normal = priority_waits(10, [2.4, 5.6], 1.0)
        check(prio.estimates["tier/vip"]["asa"], vip, rel=0.06)
        check(prio.estimates["tier/normal"]["asa"], normal, rel=0.06)

    def test_littles_law(self, prio: Replications) -> None:
        """L equals lambda x W within 1% in every replication."""
        check_little(prio)
