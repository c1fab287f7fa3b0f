"""Random durations (handle time, patience, IVR time) drawn in vectorised blocks.

Every sampler takes the injected ``numpy.random.Generator``: drawing a block
of n values at once is what keeps the engine fast, and never touching a
global RNG is what makes a seed reproduce a run exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Constant",
    "Empirical",
    "Exponential",
    "LogNormal",
    "Never",
    "Sampler",
    "Scaled",
    "scaled",
]

FloatArray = NDArray[np.float64]


class Sampler(Protocol):
    @property
    def mean(self) -> float: ...

    def draw(self, rng: np.random.Generator, n: int) -> FloatArray:
        """n independent values in seconds."""
        ...


@dataclass(frozen=True, slots=True)
class Exponential:
    mean: float

    def __post_init__(self) -> None:
        if not self.mean > 0:
            raise ValueError("exponential mean must be > 0")

    def draw(self, rng: np.random.Generator, n: int) -> FloatArray:
        return rng.exponential(self.mean, n)


@dataclass(frozen=True, slots=True)
class LogNormal:
    """Parameterised by the mean and standard deviation planners actually know."""

    mean: float
    sd: float

    def __post_init__(self) -> None:
        if not (self.mean > 0 and self.sd > 0):
            raise ValueError("lognormal mean and sd must be > 0")

    def draw(self, rng: np.random.Generator, n: int) -> FloatArray:
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        mu = math.log(self.mean) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), n)


@dataclass(frozen=True, slots=True)
class Empirical:
    """Resamples observed durations (e.g. last month's handle times)."""

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.values or min(self.values) < 0:
            raise ValueError("empirical values must be a non-empty list of durations >= 0")

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    def draw(self, rng: np.random.Generator, n: int) -> FloatArray:
        return rng.choice(np.asarray(self.values, dtype=float), n)


@dataclass(frozen=True, slots=True)
class Constant:
    mean: float

    def draw(self, rng: np.random.Generator, n: int) -> FloatArray:
        return np.full(n, self.mean)


@dataclass(frozen=True, slots=True)
class Never:
    """Infinite patience: the caller never hangs up."""

    mean: float = math.inf

    def draw(self, rng: np.random.Generator, n: int) -> FloatArray:
        return np.full(n, math.inf)


@dataclass(frozen=True, slots=True)
class Scaled:
    """Another sampler's values times ``factor``: a what-if on handle time or patience.

    Scaling the draws (not refitting a family) keeps the shape the planner
    calibrated, so "AHT +10 %" means every call 10 % longer.
    """

    base: Sampler
    factor: float

    def __post_init__(self) -> None:
        if not self.factor > 0:
            raise ValueError("a scale factor must be > 0")

    @property
    def mean(self) -> float:
        return self.base.mean * self.factor

    def draw(self, rng: np.random.Generator, n: int) -> FloatArray:
        return self.base.draw(rng, n) * self.factor


def scaled(sampler: Sampler, factor: float) -> Sampler:
    """``sampler`` scaled by ``factor``; infinite patience stays infinite, x1 stays as is."""
    if factor == 1.0 or isinstance(sampler, Never):
        return sampler
    return Scaled(sampler, factor)
