"""Independent replications: one seed sequence, one child seed per run.

Children of one ``SeedSequence`` are statistically independent streams, so
replications may run in any order or process and still give the same
numbers for the same seed. Runs fan out to a process pool when asked.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from router.types import RoutingPolicy
from simulator.engine import RunResult, simulate
from simulator.model import RunConfig
from simulator.stats import Estimate, TierFigures, combine, tier_figures

__all__ = ["replicate", "summarise"]


def _one(config: RunConfig, policy: RoutingPolicy, seed: np.random.SeedSequence) -> RunResult:
    return simulate(config, policy, np.random.default_rng(seed))


def replicate(
    config: RunConfig, policy: RoutingPolicy, replications: int, seed: int, workers: int = 1
) -> list[RunResult]:
    """``replications`` independent runs; the same seed gives the same results."""
    seeds = np.random.SeedSequence(seed).spawn(replications)
    if workers <= 1:
        return [_one(config, policy, s) for s in seeds]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        return list(pool.map(_one, [config] * replications, [policy] * replications, seeds))


def summarise(runs: list[RunResult]) -> dict[str, dict[str, Estimate]]:
    """Per tier: each metric's mean and 95% CI half-width across runs."""
    per_run = [tier_figures(r) for r in runs]
    tiers = sorted({t for f in per_run for t in f})
    figures: dict[str, list[TierFigures]] = {t: [f[t] for f in per_run if t in f] for t in tiers}
    return {t: combine(v) for t, v in figures.items()}
