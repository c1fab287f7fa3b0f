"""What one simulation run is asked to model, as frozen values.

Kept free of SimPy so scenarios can be built, validated and sent to worker
processes (they pickle) before any simulation starts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from router.customer import CustomerList, Lifecycle

__all__ = ["RunConfig", "Stream"]


@dataclass(frozen=True, slots=True)
class Stream:
    """Poisson arrivals of one kind of caller asking for one service.

    ``rates`` are calls per second, one per interval of ``interval_s``
    (a non-stationary Poisson process, piecewise constant); a single rate
    is a stationary stream.
    """

    service: str
    tier: str
    rates: tuple[float, ...]
    list: CustomerList = CustomerList.NONE
    lifecycle: Lifecycle = Lifecycle.STABLE
    dnis: str = ""

    def rate_at(self, t: float, interval_s: float) -> float:
        if len(self.rates) == 1:
            return self.rates[0]
        return self.rates[min(int(t // interval_s), len(self.rates) - 1)]


@dataclass(frozen=True, slots=True)
class RunConfig:
    """One replication's inputs. Times in seconds.

    ``aht`` is the mean exponential handle time per queue; ``patience`` the
    mean exponential patience per tier (``inf``: callers never abandon).
    Statistics cover calls arriving in [warmup_s, horizon_s).
    """

    streams: tuple[Stream, ...]
    agents: Mapping[str, int]
    aht: Mapping[str, float]
    patience: Mapping[str, float] = field(default_factory=dict)
    horizon_s: float = 3600.0
    warmup_s: float = 0.0
    interval_s: float = 1800.0
    sl_seconds: float = 20.0

    def patience_of(self, tier: str) -> float:
        return self.patience.get(tier, math.inf)

    def __post_init__(self) -> None:
        if self.horizon_s <= self.warmup_s:
            raise ValueError("horizon_s must exceed warmup_s")
        for name, count in self.agents.items():
            if count < 0:
                raise ValueError(f"queue {name!r}: agents must be >= 0")
