"""What-if: the same scenario with more calls, longer calls, more patient callers, more agents.

A planner asks "what if volume rises 10 % and AHT falls 5 %?" of the model
they trust, not of a copy they edited by hand; these transforms keep every
other part (flows, policy, shapes of the distributions) as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from simulator.distributions import scaled
from simulator.model import SimModel

__all__ = ["WhatIf", "apply"]


@dataclass(frozen=True, slots=True)
class WhatIf:
    """Factors on arrivals, handle time, patience and agents (1.0 = as scenario)."""

    volume: float = 1.0
    aht: float = 1.0
    patience: float = 1.0
    staffing: float = 1.0

    def __post_init__(self) -> None:
        for name in ("volume", "aht", "patience", "staffing"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} factor must be > 0")

    @property
    def label(self) -> str:
        parts = [f"{n} x{getattr(self, n):g}" for n in ("volume", "aht", "patience", "staffing")
                 if getattr(self, n) != 1.0]  # fmt: skip
        return ", ".join(parts) or "as scenario"


def apply(model: SimModel, what: WhatIf) -> SimModel:
    """``model`` under ``what``: rates, handle and patience draws, agents scaled."""
    streams = tuple(
        replace(s, rates=tuple(r * what.volume for r in s.rates),
                patience=scaled(s.patience, what.patience))
        for s in model.streams
    )  # fmt: skip
    queues = tuple(
        replace(q, handle=scaled(q.handle, what.aht),
                agents=tuple(round(a * what.staffing) for a in q.agents))
        for q in model.queues
    )  # fmt: skip
    return replace(model, streams=streams, queues=queues)
