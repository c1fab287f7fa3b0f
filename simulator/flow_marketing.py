"""Simulated callers at offer and survey nodes (the scenario's ``ivr.callers``).

An offer node's caller takes the offer at position *k* (1st, 2nd, ...)
with ``accept[k]`` (the last value repeats), else hears the next one with
``next``, else goes back to the menu; an accept sends the simulated call to
the offer's lane through the live engine, as it would a live one. A survey
node's caller answers each question with ``participate``, picking a digit
by ``answers`` (weights; digits outside the question's range are left
out; none given: uniform over the range), else stays silent.

Defaults (a node the scenario does not list) are deliberately modest:
5 % accept at every position, 40 % of the rest hear the next offer; half
the callers answer a survey, uniformly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import numpy as np

from router.flows.model import OfferNode, Survey, SurveyQuestion
from router.yamlpos import Path
from simulator.problems import Collector

__all__ = ["SILENT", "OfferChoice", "SurveyChoice", "default_choice", "parse_choice"]

SILENT = ""  # the caller presses nothing (the node's timeout path)


@dataclass(frozen=True, slots=True)
class OfferChoice:
    accept: tuple[float, ...] = (0.05,)
    next: float = 0.4
    think_s: float = 2.0

    def key(self, node: OfferNode, position: int, rng: np.random.Generator) -> str:
        """The key pressed at the offer in ``position`` (0-based): one draw, cut by :meth:`cuts`."""
        took, skipped = self.cuts(position)
        u = float(rng.random())
        if u < took:
            return node.accept
        return node.skip if u < skipped else node.back

    def cuts(self, position: int) -> tuple[float, float]:
        """Where the one uniform draw changes from accept to next, and from next to back.

        One draw per offer, so the exact traffic split (:mod:`simulator.split`)
        enumerates the same three answers with the same shares.
        """
        took = self.accept[min(position, len(self.accept) - 1)]
        return took, took + (1.0 - took) * self.next


@dataclass(frozen=True, slots=True)
class SurveyChoice:
    participate: float = 0.5
    answers: Mapping[str, float] = field(default_factory=dict)
    think_s: float = 3.0

    def key(self, question: SurveyQuestion, rng: np.random.Generator) -> str:
        """The digit answered to ``question``, or SILENT: one draw, cut by :meth:`cuts`."""
        digits, cuts = self._digits(question), self.cuts(question)
        u = float(rng.random())
        return next((d for d, c in zip(digits, cuts, strict=True) if u < c), SILENT)

    def cuts(self, question: SurveyQuestion) -> list[float]:
        """Upper ends of each digit's share of the draw (the rest is SILENT)."""
        digits = self._digits(question)
        weights = (
            [self.answers.get(d, 0.0) for d in digits] if self.answers else [1.0] * len(digits)
        )
        total = sum(weights)
        if total <= 0:
            return [0.0] * len(digits)
        return [self.participate * c / total for c in accumulate(weights)]

    @staticmethod
    def _digits(question: SurveyQuestion) -> list[str]:
        return [str(d) for d in range(int(question.low), int(question.high) + 1)]


def default_choice(node: OfferNode | Survey) -> OfferChoice | SurveyChoice:
    return OfferChoice() if isinstance(node, OfferNode) else SurveyChoice()


def parse_choice(
    ctx: Collector, spec: Mapping[str, Any], path: Path, node: OfferNode | Survey
) -> OfferChoice | SurveyChoice:
    """The scenario's caller behaviour at an offer or survey node; problems go to ``ctx``."""
    think = ctx.num(spec, "think_s", path, 2.0 if isinstance(node, OfferNode) else 3.0)
    if isinstance(node, OfferNode):
        raw = spec.get("accept", [0.05])
        listed = raw if isinstance(raw, list) and raw else [raw]
        accept = tuple(ctx.num({"accept": p}, "accept", path, 0.05, hi=1.0) for p in listed)
        return OfferChoice(accept, ctx.num(spec, "next", path, 0.4, hi=1.0), think)
    answers = spec.get("answers") or {}
    if not isinstance(answers, dict):
        ctx.bad((*path, "answers"), "must map digits to weights")
        answers = {}
    weights = {str(k): ctx.num(answers, k, (*path, "answers"), 0.0) for k in answers}
    for key in weights:
        if not (len(key) == 1 and key.isdigit()):
            ctx.bad((*path, "answers", key), f"{key!r} is not one digit")
    return SurveyChoice(ctx.num(spec, "participate", path, 0.5, hi=1.0), weights, think)
