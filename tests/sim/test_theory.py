"""Closed forms against textbook values, identities and an independent CTMC solve."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.theory import (
    erlang_a,
    erlang_b,
    erlang_c,
    erlang_c_asa,
    erlang_c_sl,
    priority_waits,
)


def birth_death_erlang_a(c: int, lam: float, aht: float, patience: float) -> tuple[float, float]:
    """P(wait), P(abandon) of M/M/c+M from a truncated birth-death chain (independent)."""
    mu, theta = 1 / aht, 1 / patience
    n_max = c + 4000
    logp = np.zeros(n_max + 1)
    for k in range(1, n_max + 1):
        death = min(k, c) * mu + max(0, k - c) * theta
        logp[k] = logp[k - 1] + math.log(lam / death)
    p = np.exp(logp - logp.max())
    p /= p.sum()
    queue = np.clip(np.arange(n_max + 1) - c, 0, None)
    return float(p[c:].sum()), float(theta * (queue * p).sum() / lam)


class TestErlangB:
    def test_textbook_value(self) -> None:
        """B(10 servers, 5 Erlangs) = 0.018385 (standard Erlang B tables)."""
        assert erlang_b(10, 5.0) == pytest.approx(0.018385, abs=1e-6)

    def test_one_server(self) -> None:
        """B(1, a) = a / (1 + a)."""
        assert erlang_b(1, 3.0) == pytest.approx(0.75)

    def test_large_and_light(self) -> None:
        """5,000 servers stay finite; a light load gives no blocking instead of NaN."""
        assert 0 < erlang_b(5000, 4990.0) < 0.02
        assert erlang_b(5000, 1.0) == 0.0

    def test_rejects_bad_input(self) -> None:
        """Non-integer servers and negative loads are refused."""
        with pytest.raises(ValueError, match="servers"):
            erlang_b(0, 1.0)
        with pytest.raises(ValueError, match="load"):
            erlang_b(3, -1.0)


class TestErlangC:
    def test_exact_small_case(self) -> None:
        """C(3 servers, 2 Erlangs) = 4/9 exactly."""
        assert erlang_c(3, 2.0) == pytest.approx(4 / 9, rel=1e-12)

    def test_relation_to_erlang_b(self) -> None:
        """C = c B / (c - a (1 - B)) for a spread of sizes."""
        for c, a in [(5, 3.0), (50, 45.0), (700, 690.0)]:
            b = erlang_b(c, a)
            assert erlang_c(c, a) == pytest.approx(c * b / (c - a * (1 - b)), rel=1e-10)

    def test_unstable_waits_for_sure(self) -> None:
        """At load >= servers every caller waits and ASA is infinite."""
        assert erlang_c(10, 10.0) == 1.0
        assert erlang_c_asa(10, 12.0, 180) == math.inf

    def test_asa_and_service_level(self) -> None:
        """M/M/1: ASA = rho/(1-rho) * aht and SL(t) = 1 - rho e^{-(1-rho) t/aht}."""
        assert erlang_c_asa(1, 0.5, 100) == pytest.approx(100.0)
        assert erlang_c_sl(1, 0.5, 100, 30) == pytest.approx(1 - 0.5 * math.exp(-0.15))

    def test_stable_at_5000_servers(self) -> None:
        """Near-critical 5,000-server loads give a probability strictly inside (0, 1)."""
        assert 0.0 < erlang_c(5000, 4950.0) < 1.0


class TestErlangA:
    def test_matches_birth_death_chain(self) -> None:
        """P(wait) and P(abandon) agree with an independent truncated CTMC solve."""
        for c, lam, aht, pat in [(10, 12 / 180, 180, 60), (100, 0.6, 180, 300)]:
            r = erlang_a(c, lam, aht, pat, 20)
            pw, pab = birth_death_erlang_a(c, lam, aht, pat)
            assert r.p_wait == pytest.approx(pw, rel=1e-8)
            assert r.p_abandon == pytest.approx(pab, rel=1e-8)

    def test_tends_to_erlang_c(self) -> None:
        """With near-infinite patience Erlang A approaches Erlang C (P(wait), ASA, SL)."""
        r = erlang_a(20, 18 / 180, 180, 1e6, 20)
        assert r.p_wait == pytest.approx(erlang_c(20, 18.0), rel=1e-3)
        assert r.asa == pytest.approx(erlang_c_asa(20, 18.0, 180), rel=1e-2)
        assert r.service_level == pytest.approx(erlang_c_sl(20, 18.0, 180, 20), abs=1e-3)

    def test_wait_consistent_with_abandonment(self) -> None:
        """Mean wait of all callers equals P(abandon) x mean patience (Little on the queue)."""
        r = erlang_a(10, 12 / 180, 180, 60, 20)
        assert r.mean_wait == pytest.approx(r.p_abandon * 60, rel=1e-9)

    def test_overloaded_is_finite(self) -> None:
        """An overloaded centre is still stable thanks to abandonment."""
        r = erlang_a(10, 0.2, 180, 60, 20)
        assert 0.5 < r.p_abandon < 1.0
        assert 0.0 < r.service_level < 0.2

    def test_large_centre(self) -> None:
        """5,000 agents give finite probabilities."""
        r = erlang_a(5000, 4990 / 180, 180, 120, 20)
        assert 0.0 < r.p_wait < 1.0
        assert 0.0 <= r.p_abandon < 0.05


class TestPriorityWaits:
    def test_conservation(self) -> None:
        """Rate-weighted class waits equal the FCFS Erlang C mean wait (work conservation)."""
        rates, aht, c = [0.02, 0.03, 0.01], 180.0, 12
        waits = priority_waits(c, rates, aht)
        fcfs = erlang_c_asa(c, sum(rates) * aht, aht)
        assert sum(r * w for r, w in zip(rates, waits, strict=True)) / sum(rates) == (
            pytest.approx(fcfs, rel=1e-12)
        )
        assert waits[0] < waits[1] < waits[2]

    def test_single_class_is_erlang_c(self) -> None:
        """One class reduces to the Erlang C mean wait."""
        assert priority_waits(5, [0.02], 180)[0] == pytest.approx(erlang_c_asa(5, 3.6, 180))

    def test_saturated_low_class(self) -> None:
        """A class beyond total capacity has an infinite wait."""
        assert priority_waits(2, [0.005, 0.01], 180)[1] == math.inf


class TestErlangAEdges:
    def test_no_traffic(self) -> None:
        """Load 0 is a quiet night, not a math domain error: nobody waits."""
        r = erlang_a(3, 0.0, 180.0, 60.0, 20.0)
        assert (r.p_wait, r.p_abandon, r.service_level, r.mean_queue) == (0.0, 0.0, 1.0, 0.0)

    def test_overload_with_huge_patience_is_not_truncated(self) -> None:
        """Arrivals twice what 10 agents serve: half the callers abandon (fluid limit),
        where the old truncated chain claimed 0.4 %."""
        r = erlang_a(10, 1.0, 20.0, 1e9, 20.0)
        assert r.p_abandon == pytest.approx(0.5, rel=1e-9)
        assert r.service_level == 0.0
        assert r.mean_queue == pytest.approx(0.5e9, rel=1e-9)

    def test_fluid_limit_agrees_with_the_exact_chain_where_both_apply(self) -> None:
        """At a queue of 50,000 (exact chain still feasible) the fluid figures match
        the exact ones to 1e-4 relative: the switch between them is seamless."""
        from simulator.theory import _fluid_overload

        exact = erlang_a(10, 1.0, 20.0, 1e5, 20.0)
        fluid = _fluid_overload(10, 1.0, 1 / 20.0, 1e-5)
        for name in ("p_abandon", "asa", "mean_queue"):
            assert getattr(fluid, name) == pytest.approx(getattr(exact, name), rel=1e-4), name
