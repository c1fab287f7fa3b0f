"""M/M/n+G: Erlang A with the whole patience distribution, as the planner's start."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.distributions import Empirical, Exponential, LogNormal, Never, Scaled
from simulator.mmng import PatienceSteps, erlang_figures, mmn_g, patience_steps
from simulator.model import FixedIvr, QueueSpec, SimModel, Stream
from simulator.planner import min_agents
from simulator.runner import replicate
from simulator.scenario import Target
from simulator.theory import erlang_a
from tests.sim.conftest import TierPolicy

IMPATIENT = Empirical((30, 45, 60, 90, 120, 150, 240))  # the weekday's normal tier


def _exponential_steps(mean: float, points: int = 200_000) -> PatienceSteps:
    q = (np.arange(points) + 0.5) / points
    steps = patience_steps(Empirical(tuple((-mean * np.log1p(-q)).tolist())))
    assert steps is not None
    return steps


class TestMmnG:
    @pytest.mark.parametrize(
        ("n", "lam", "patience"), [(10, 10 / 180 * 0.95, 120), (50, 0.3, 60), (3, 0.02, 300)]
    )
    def test_exponential_patience_is_erlang_a(self, n: int, lam: float, patience: float) -> None:
        """Exponential patience cut into 200,000 steps gives Erlang A's figures to 1e-4."""
        got = mmn_g(n, lam, 180, _exponential_steps(patience), 20)
        want = erlang_a(n, lam, 180, patience, 20)
        assert got.service_level == pytest.approx(want.service_level, abs=1e-4)
        assert got.p_abandon == pytest.approx(want.p_abandon, abs=1e-4)
        assert got.p_wait == pytest.approx(want.p_wait, abs=1e-4)

    def test_empirical_patience_matches_simulation(self) -> None:
        """10 agents at 95 % load, impatient callers (~127,000 simulated calls): M/M/n+G within
        2 points of service level and 1 of abandonment; Erlang A on the mean misses both."""
        lam = 10 / 180 * 0.95
        stream = Stream("s", "1", "normal", (lam,), IMPATIENT)
        model = SimModel(
            (stream,),
            (QueueSpec("default", Exponential(180), (10,)),),
            TierPolicy(),
            FixedIvr(),
            interval_s=200_000,
            warmup_s=2_000,
            sl_seconds={"normal": 20},
        )
        sim = replicate(model, 12, 11).estimates["tier/normal"]
        sl, ab = sim["service_level"].mean, sim["abandon_rate"].mean
        got = erlang_figures(10, lam, 180, IMPATIENT, 20)
        assert got.service_level == pytest.approx(sl, abs=0.02)
        assert got.p_abandon == pytest.approx(ab, abs=0.01)
        by_mean = erlang_a(10, lam, 180, IMPATIENT.mean, 20)
        assert abs(by_mean.service_level - sl) > 0.02 or abs(by_mean.p_abandon - ab) > 0.01

    def test_large_centre_stays_finite(self) -> None:
        """2,000 agents near full load: log-space sums, no overflow."""
        got = mmn_g(2000, 2000 / 180 * 0.99, 180, _exponential_steps(120, 2000), 20)
        assert all(math.isfinite(x) for x in (got.service_level, got.p_abandon, got.p_wait))
        assert 0 < got.p_abandon < 0.05

    def test_no_traffic(self) -> None:
        """Nobody calls: everyone (nobody) answered at once."""
        assert mmn_g(3, 0.0, 180, _exponential_steps(60, 10), 20).service_level == 1.0


class TestPatienceSteps:
    def test_empirical_survival(self) -> None:
        """Observed patiences become P(patience > x) on each step, ending at 0."""
        steps = patience_steps(Empirical((0.0, 30.0, 30.0, 90.0)))
        assert steps == PatienceSteps((0.0, 30.0, 90.0), (0.75, 0.25, 0.0))

    def test_scaled_and_markovian(self) -> None:
        """A what-if scale stretches the steps; exponential and never use the exact chains."""
        steps = patience_steps(Scaled(Empirical((10.0, 20.0)), 2.0))
        assert steps is not None
        assert steps.at == (0.0, 20.0, 40.0)
        assert patience_steps(Exponential(60)) is None
        assert patience_steps(Never()) is None
        lognormal = patience_steps(LogNormal(120, 60))
        assert lognormal is not None
        assert len(lognormal.at) == 1001

    def test_never_overloaded_fails(self) -> None:
        """Infinite patience at a load above the agents: nobody is answered in time."""
        assert erlang_figures(2, 1.0, 180, Never(), 20).service_level == 0.0


class TestStart:
    def test_quick_hang_ups_get_more_agents_than_the_mean_suggests(self) -> None:
        """Half the callers hang up within 10 s, half wait 15 min (mean 455 s): Erlang A on
        the mean sees patient callers and under-staffs a 5 % abandonment cap; the start
        sized with the whole distribution meets it."""
        bimodal = Empirical((4, 6, 8, 10, 900, 900, 900, 900))
        target = Target(service_level=0.0, within_s=20, max_abandon=0.05)
        lam = 40 / 180
        by_mean = min_agents(lam, 180, bimodal.mean, target)
        whole = min_agents(lam, 180, bimodal, target)
        assert whole > by_mean
        assert erlang_figures(by_mean, lam, 180, bimodal, 20).p_abandon > 0.05
        assert erlang_figures(whole, lam, 180, bimodal, 20).p_abandon <= 0.05
