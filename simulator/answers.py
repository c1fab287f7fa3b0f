"""What may happen at one step of a simulated call: a distribution the walk and the split share.

A simulated caller meets one blocking or terminal action per step (a menu's
key press, an account check, a transfer that may go unanswered...). The
caller model (:meth:`simulator.flow_ivr.CallerModel.answers`) turns that
action into :class:`Answers`: every event the step can end with, each with
its chance and the seconds it takes. The sampled walk draws one of them
with a single uniform; the exact traffic split (:mod:`simulator.split`)
follows all of them, weighted. Neither has any other source of chance, so
a node kind added to the caller model is enumerated exactly as it is
sampled, and a kind the model does not know fails loudly in both.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import NamedTuple

import numpy as np

from router.flows import actions as a
from simulator.model import IvrExit

__all__ = ["Answers", "Resume", "Then"]


@dataclass(frozen=True, slots=True)
class Resume:
    """The dialplan hands the call back to the flow at ``node`` (a transfer nobody answered)."""

    node: str


Then = a.Event | IvrExit | Resume
"""What a step leads to: an event for the engine, the caller's way out, or a resumed flow."""


class Answers(NamedTuple):
    """The ways one step can end, with chances summing to 1 (impossible ones left out).

    A NamedTuple, not a frozen dataclass: the walk builds one per queue
    route, and a frozen dataclass pays an ``object.__setattr__`` per field.
    """

    chances: tuple[float, ...]
    seconds: tuple[float, ...]
    thens: tuple[Then, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, weighted: Iterable[tuple[float, float, Then]]) -> Answers:
        """``(weight, seconds, then)`` triples; weights are scaled to sum to 1."""
        kept = [w for w in weighted if w[0] > 0]
        total = sum(w[0] for w in kept)
        if not kept or not np.isfinite(total):
            raise ValueError("a caller step needs at least one answer of positive chance")
        chances = tuple(w[0] / total for w in kept)
        return cls(
            chances,
            tuple(w[1] for w in kept),
            tuple(w[2] for w in kept),
            tuple(accumulate(chances)),
        )

    @classmethod
    def certain(cls, then: Then, seconds: float = 0.0) -> Answers:
        """A step with one outcome: the walk draws nothing for it."""
        return cls(_ONE, (seconds,), (then,), _ONE)

    def draw(self, rng: np.random.Generator) -> tuple[float, Then]:
        """One answer, by one uniform from ``rng`` (none when the step is certain)."""
        thens = self.thens
        if len(thens) == 1:
            return self.seconds[0], thens[0]
        i = bisect_right(self.cumulative, float(rng.random()) * self.cumulative[-1])
        i = min(i, len(thens) - 1)
        return self.seconds[i], thens[i]

    def each(self) -> Iterator[tuple[float, float, Then]]:
        """Every answer as ``(chance, seconds, then)``: what the exact split follows."""
        return zip(self.chances, self.seconds, self.thens, strict=True)


_ONE = (1.0,)
