"""Queueing formulas, each checked against an independent computation.

The independent checks use a different method (exact rational sums, a
generator matrix solved with linear algebra, a matrix exponential), so an
error in the closed forms cannot hide behind itself.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy.linalg import expm

from simulator.theory import (
    erlang_a,
    erlang_b,
    erlang_c,
    erlang_c_asa,
    erlang_c_sl,
    priority_waits,
)


def erlang_b_exact(c: int, a: int) -> float:
    terms = [Fraction(a**k, math.factorial(k)) for k in range(c + 1)]
    return float(terms[-1] / sum(terms))


def mmn_m_by_linear_algebra(n: int, lam: float, mu: float, theta: float, cap: int) -> np.ndarray:
    """Stationary distribution from the generator matrix (pi Q = 0), truncated at ``cap``."""
    q = np.zeros((cap + 1, cap + 1))
    for k in range(cap + 1):
        if k < cap:
            q[k, k + 1] = lam
        if k > 0:
            q[k, k - 1] = min(k, n) * mu + max(k - n, 0) * theta
        q[k, k] = -q[k].sum()
    a = np.vstack([q.T, np.ones(cap + 1)])
    b = np.zeros(cap + 2)
    b[-1] = 1.0
    return np.linalg.lstsq(a, b, rcond=None)[0]


def answered_within_by_expm(n_mu: float, theta: float, ahead: int, t: float) -> float:
    """P(answered by t) for a caller with ``ahead`` in front, via the phase-type generator."""
    size = ahead + 1 + 2  # transient states (ahead..0), then served, abandoned
    served, abandoned = ahead + 1, ahead + 2
    q = np.zeros((size, size))
    for idx in range(ahead + 1):
        j = ahead - idx  # callers still ahead
        q[idx, idx + 1 if j > 0 else served] = n_mu + j * theta
        q[idx, abandoned] = theta
        q[idx, idx] = -(n_mu + j * theta + theta)
    return float(expm(q * t)[0, served])


class TestErlangB:
    @pytest.mark.parametrize(("c", "a"), [(1, 1), (5, 3), (10, 8), (20, 25)])
    def test_recursion_matches_exact_sum(self, c: int, a: int) -> None:
        """The recursion equals (A^c/c!) / sum A^k/k! computed in exact rationals."""
        assert erlang_b(c, a) == pytest.approx(erlang_b_exact(c, a), rel=1e-12)

    def test_thousands_of_servers_stay_finite(self) -> None:
        """No factorial overflow at 5,000 servers."""
        b = erlang_b(5000, 4900.0)
        assert 0 < b < 1
        assert math.isfinite(erlang_c(5000, 4900.0))


class TestErlangC:
    def test_textbook_value(self) -> None:
        """C(10 servers, 8 Erlangs) = 0.4092 (published Erlang C tables)."""
        assert erlang_c(10, 8.0) == pytest.approx(0.40918, abs=1e-5)

    def test_asa_and_service_level_formulas(self) -> None:
        """ASA = C aht/(c-A); SL(t) = 1 - C e^{-(c-A)t/aht}; overload is explicit."""
        c = erlang_c(10, 8.0)
        assert erlang_c_asa(10, 8.0, 180) == pytest.approx(c * 180 / 2)
        assert erlang_c_sl(10, 8.0, 180, 20) == pytest.approx(1 - c * math.exp(-2 * 20 / 180))
        assert erlang_c(5, 5.0) == 1.0
        assert erlang_c_asa(5, 6.0, 60) == math.inf
        assert erlang_c_sl(5, 6.0, 60, 10) == 0.0

    def test_matches_generator_matrix(self) -> None:
        """P(wait) equals the stationary mass on k >= c from the M/M/c generator."""
        pi = mmn_m_by_linear_algebra(4, 3.0, 1.0, 1.0, cap=4)  # theta irrelevant below n
        # With no waiting room this is M/M/4/4: blocking = Erlang B.
        assert pi[-1] == pytest.approx(erlang_b(4, 3.0), rel=1e-9)


class TestErlangA:
    def test_stationary_distribution_against_linear_algebra(self) -> None:
        """P(wait) and P(abandon) agree with pi Q = 0 solved numerically."""
        n, lam, mu, theta = 3, 2.5, 1.0, 0.5
        pi = mmn_m_by_linear_algebra(n, lam, mu, theta, cap=80)
        result = erlang_a(n, lam, 1 / mu, 1 / theta, t=1.0)
        assert result.p_wait == pytest.approx(pi[n:].sum(), rel=1e-9)
        queue = sum((k - n) * pi[k] for k in range(n, len(pi)))
        assert result.p_abandon == pytest.approx(theta * queue / lam, rel=1e-9)

    @pytest.mark.parametrize(("ahead", "t"), [(0, 5.0), (3, 5.0), (12, 30.0)])
    def test_answered_within_t_against_matrix_exponential(self, ahead: int, t: float) -> None:
        """The incomplete-beta tail equals the phase-type absorption probability."""
        from scipy.special import betainc

        n_mu, theta = 2.0, 0.25
        x = n_mu / theta
        closed = x / (x + ahead + 1) * betainc(ahead + 1, x + 1, 1 - math.exp(-theta * t))
        assert closed == pytest.approx(answered_within_by_expm(n_mu, theta, ahead, t), rel=1e-9)

    def test_infinite_patience_is_erlang_c(self) -> None:
        """Very patient callers give the Erlang C figures."""
        a = erlang_a(10, 8 / 180, 180, 1e12, 20)
        assert a.p_wait == pytest.approx(erlang_c(10, 8.0), rel=1e-6)
        assert a.asa == pytest.approx(erlang_c_asa(10, 8.0, 180), rel=1e-6)
        assert a.service_level == pytest.approx(erlang_c_sl(10, 8.0, 180, 20), rel=1e-6)
        assert erlang_a(10, 8 / 180, 180, math.inf, 20).p_abandon == 0.0

    def test_internal_identities(self) -> None:
        """SL(inf) = 1 - P(abandon); mean wait of all = E[Q]/lambda; SL rises with t."""
        a = erlang_a(20, 22 / 180, 180, 90, 1e7)
        assert a.service_level == pytest.approx(1 - a.p_abandon, rel=1e-9)
        assert a.mean_wait == pytest.approx(a.mean_queue / (22 / 180), rel=1e-12)
        sls = [erlang_a(20, 22 / 180, 180, 90, t).service_level for t in (0, 10, 20, 60)]
        assert sls == sorted(sls)
        assert 0 < a.p_abandon < 1  # overloaded yet stable: patience drains the queue

    def test_five_thousand_servers(self) -> None:
        """Large centres compute quickly and finitely."""
        a = erlang_a(5000, 4950 / 180, 180, 300, 20)
        assert 0 < a.p_wait < 1
        assert 0 <= a.p_abandon < a.p_wait
        assert math.isfinite(a.asa)


class TestPriorityWaits:
    def test_conservation_law(self) -> None:
        """The arrival-weighted mean of class waits is the FIFO Erlang C wait."""
        rates = [1 / 180, 3 / 180, 4 / 180]
        waits = priority_waits(10, rates, 180)
        mean = sum(r * w for r, w in zip(rates, waits, strict=True)) / sum(rates)
        assert mean == pytest.approx(erlang_c_asa(10, 8.0, 180), rel=1e-12)
        assert waits == sorted(waits)

    def test_single_class_is_erlang_c(self) -> None:
        """One class waits exactly as in M/M/c."""
        assert priority_waits(10, [8 / 180], 180) == [pytest.approx(erlang_c_asa(10, 8.0, 180))]

    def test_saturated_low_class_waits_forever(self) -> None:
        """A class whose cumulative load reaches capacity has an infinite wait."""
        assert priority_waits(2, [1 / 60, 2 / 60], 60)[-1] == math.inf


class TestValidation:
    @pytest.mark.parametrize(("servers", "load"), [(0, 1.0), (2.5, 1.0), (3, -1.0), (3, math.nan)])
    def test_bad_inputs(self, servers: float, load: float) -> None:
        """Nonsense inputs raise ValueError naming the problem."""
        with pytest.raises(ValueError, match=r"servers|load"):
            erlang_b(servers, load)  # type: ignore[arg-type]
