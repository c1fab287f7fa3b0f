"""Independent replications, in parallel, with 95% confidence intervals.

Each replication gets its own child of one ``numpy.random.SeedSequence``, so
results do not depend on how many workers ran them or in which order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from simulator.engine import simulate
from simulator.model import SimModel
from simulator.stats import Estimate, LittleCheck, Summary, combine, littles_law, summarize

__all__ = ["Replications", "replicate", "run_one"]


@dataclass(frozen=True, slots=True)
class Replications:
    """Per-replication summaries, their combination and Little's-law checks."""

    runs: tuple[Summary, ...]
    little: tuple[tuple[LittleCheck, ...], ...]
    estimates: dict[str, dict[str, Estimate]]
    calls: int


def run_one(
    model: SimModel, seed: np.random.SeedSequence
) -> tuple[Summary, list[LittleCheck], int]:
    """One replication from its own seed (top level so process pools can pickle it)."""
    log = simulate(model, np.random.default_rng(seed))
    return summarize(log, model), littles_law(log, model), int(log.arrive.size)


def replicate(
    model: SimModel,
    replications: int,
    seed: int,
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
) -> Replications:
    """Run ``replications`` independent replications; serial unless given an executor."""
    if replications < 1:
        raise ValueError("replications must be >= 1")
    seeds: Sequence[np.random.SeedSequence] = np.random.SeedSequence(seed).spawn(replications)
    if executor is None:
        results = []
        for s in seeds:
            results.append(run_one(model, s))
            if progress:
                progress(1)
    else:
        futures = [executor.submit(run_one, model, s) for s in seeds]
        results = []
        for f in futures:
            results.append(f.result())
            if progress:
                progress(1)
    runs = tuple(r[0] for r in results)
    return Replications(
        runs=runs,
        little=tuple(tuple(r[1]) for r in results),
        estimates=combine(list(runs)),
        calls=sum(r[2] for r in results),
    )


def process_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """A pool for replications; the caller closes it (``with process_pool() as ex``)."""
    return ProcessPoolExecutor(max_workers=workers)
