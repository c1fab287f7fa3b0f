"""The simulator against queueing theory, with stated tolerances.

Each scenario is sized so that its 95% confidence half-width is under three
quarters of the tolerance (asserted, so a too-small run fails loudly instead
of passing by luck), and seeds are fixed, so the tests cannot flake. Tolerances (issue
6): P(wait) 3% relative, service level 1 point, P(abandon) 5% relative,
mean waits 6% relative.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest

from router.customer import Customer
from router.types import CallInfo, QueueSnapshot, RouteDecision
from simulator.engine import RunResult
from simulator.model import RunConfig, Stream
from simulator.replications import replicate, summarise
from simulator.stats import Estimate
from simulator.theory import erlang_a, erlang_c, erlang_c_asa, erlang_c_sl, priority_waits


class OneQueue:
    """A routing policy (the protocol the router's policy implements) with one lane."""

    def decide(
        self,
        service: str,
        customer: Customer | None,
        call: CallInfo,
        queues: Mapping[str, QueueSnapshot],
    ) -> RouteDecision:
        prio = 10 if customer is not None and customer.tier == "vip" else 0
        return RouteDecision("q", prio, "test")


def config(
    streams: tuple[Stream, ...], agents: int, aht: float, calls: int, **kw: object
) -> RunConfig:
    rate = sum(s.rates[0] for s in streams)
    return RunConfig(
        streams=streams,
        agents={"q": agents},
        aht={"q": aht},
        horizon_s=calls / rate,
        warmup_s=500 / rate,  # ~20 busy periods' worth of start-up dropped
        **kw,  # type: ignore[arg-type]
    )


def close(est: Estimate, expected: float, rel: float) -> None:
    assert est.ci95 < 0.75 * rel * expected, f"run too small: ci95 {est.ci95:.4g}"
    assert abs(est.mean - expected) <= rel * expected, f"{est.mean:.4g} vs {expected:.4g}"


def within_points(est: Estimate, expected: float, points: float) -> None:
    assert est.ci95 < 0.75 * points, f"run too small: ci95 {est.ci95:.4g}"
    assert abs(est.mean - expected) <= points


def littles_law(run: RunResult) -> tuple[float, float]:
    """(time-average number waiting, arrival rate x mean wait) over the window."""
    exits = run.arrival + run.wait
    lo, hi = float(run.arrival.min()), float(run.arrival.max())
    grid = np.linspace(lo, hi, 20_000)
    waiting = np.searchsorted(np.sort(run.arrival), grid, "right") - np.searchsorted(
        np.sort(exits), grid, "right"
    )
    inside = (run.arrival >= lo) & (run.arrival <= hi)
    return float(waiting.mean()), float(inside.sum() / (hi - lo) * run.wait[inside].mean())


class TestErlangC:
    def test_mmc_matches_erlang_c(self) -> None:
        """M/M/15 at 12 Erlangs: P(wait), ASA and SL(20 s) match Erlang C."""
        aht, load, c = 180.0, 12.0, 15
        cfg = config((Stream("s", "normal", (load / aht,)),), c, aht, 150_000, sl_seconds=20)
        runs = replicate(cfg, OneQueue(), 8, seed=11)
        got = summarise(runs)["normal"]
        close(got["p_wait"], erlang_c(c, load), 0.03)
        close(got["asa"], erlang_c_asa(c, load, aht), 0.06)
        within_points(got["service_level"], erlang_c_sl(c, load, aht, 20), 0.01)
        for run in runs[:2]:
            lq, lam_w = littles_law(run)
            assert lq == pytest.approx(lam_w, rel=0.02)


class TestErlangA:
    def test_mmn_m_matches_erlang_a(self) -> None:
        """M/M/10+M at 9 Erlangs, patience 120 s: every Erlang A figure matches."""
        aht, rate, c, patience = 180.0, 9 / 180, 10, 120.0
        cfg = config(
            (Stream("s", "normal", (rate,)),),
            c,
            aht,
            60_000,
            patience={"normal": patience},
            sl_seconds=20,
        )
        runs = replicate(cfg, OneQueue(), 8, seed=12)
        got = summarise(runs)["normal"]
        theory = erlang_a(c, rate, aht, patience, 20)
        close(got["p_wait"], theory.p_wait, 0.03)
        close(got["abandon_rate"], theory.p_abandon, 0.05)
        close(got["asa"], theory.asa, 0.06)
        within_points(got["service_level"], theory.service_level, 0.01)
        lq, lam_w = littles_law(runs[0])
        assert lq == pytest.approx(lam_w, rel=0.02)


class TestPriorities:
    def test_two_classes_match_priority_theory(self) -> None:
        """VIP (prio 10) and normal (prio 0) waits match M/M/c non-preemptive priority."""
        aht, c = 180.0, 15
        rates = (3 / aht, 9 / aht)  # 12 Erlangs in all
        streams = (Stream("s", "vip", (rates[0],)), Stream("s", "normal", (rates[1],)))
        runs = replicate(config(streams, c, aht, 150_000), OneQueue(), 12, seed=13)
        got = summarise(runs)
        expected = priority_waits(c, rates, aht)
        # Mean wait of all calls of a class: with no abandonment, all are answered (ASA).
        close(got["vip"]["asa"], expected[0], 0.06)
        close(got["normal"]["asa"], expected[1], 0.06)


class TestReproducibility:
    def test_same_seed_same_numbers(self) -> None:
        """Regression check, not theory: a seed fixes every figure exactly."""
        cfg = config(
            (Stream("s", "normal", (9 / 180,)),), 10, 180, 2_000, patience={"normal": 60.0}
        )
        a = replicate(cfg, OneQueue(), 2, seed=5)
        b = replicate(cfg, OneQueue(), 2, seed=5)
        assert all(np.array_equal(x.wait, y.wait) for x, y in zip(a, b, strict=True))
        assert not np.array_equal(a[0].wait, a[1].wait)
