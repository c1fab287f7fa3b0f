"""Simulated callers at offer and survey nodes (the scenario's ``ivr.callers``).

An offer node's caller takes the offer at position *k* (1st, 2nd, ...)
with ``accept[k]`` (the last value repeats); of the others, ``timeout``
say nothing (the node re-presents it, then leaves by ``next``), the rest
hear the next one with ``next``, else go back to the menu; an accept sends
the simulated call to the offer's lane through the live engine, as it
would a live one. A survey node's caller answers each question with
``participate``, picking a digit by ``answers`` (weights; digits outside
the question's range are left out; none given: uniform over the range),
else stays silent.

These are distributions (:class:`simulator.answers.Answers`), never draws:
:meth:`simulator.flow_ivr.CallerModel.answers` hands them to the sampled
walk and to the exact split alike, keyed by the offer's position or the
survey's question.

Defaults (a node the scenario does not list) are deliberately modest:
5 % accept at every position, 40 % of the rest hear the next offer; half
the callers answer a survey, uniformly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from router.flows import actions as a
from router.flows.model import OfferNode, Survey, SurveyQuestion
from router.yamlpos import Path
from simulator.answers import Answers
from simulator.problems import Collector

__all__ = ["OfferChoice", "SurveyChoice", "answers_at", "default_choice", "parse_choice"]


@dataclass(frozen=True, slots=True)
class OfferChoice:
    """A caller at an offer: takes it by position, else silence, the next offer, or back."""

    accept: tuple[float, ...] = (0.05,)
    next: float = 0.4
    think_s: float = 2.0
    timeout: float = 0.0  # of the callers who do not take it: silent (the node's retry)

    def keys(self, node: OfferNode, position: int, timeout_s: float) -> Answers:
        """The keys pressed at the offer in ``position`` (0-based), with their chances."""
        took = self.accept[min(position, len(self.accept) - 1)]
        spoke = (1.0 - took) * (1.0 - self.timeout)
        return Answers.of(
            (
                (took, self.think_s, a.Digits(node.accept)),
                ((1.0 - took) * self.timeout, timeout_s, a.Digits("", True)),
                (spoke * self.next, self.think_s, a.Digits(node.skip)),
                (spoke * (1.0 - self.next), self.think_s, a.Digits(node.back)),
            )
        )


@dataclass(frozen=True, slots=True)
class SurveyChoice:
    """A caller at a survey question: answers with ``participate``, else stays silent."""

    participate: float = 0.5
    answers: Mapping[str, float] = field(default_factory=dict)
    think_s: float = 3.0

    def keys(self, question: SurveyQuestion, timeout_s: float) -> Answers:
        """Each digit in the question's range by its weight (uniform when none is given),
        silence with the rest (all of it when no digit in range has a weight)."""
        low, high = int(question.low), int(question.high)
        digits = [str(d) for d in range(low, high + 1)]
        weights = [self.answers.get(d, 0.0) if self.answers else 1.0 for d in digits]
        total = sum(weights)
        said = self.participate if total > 0 else 0.0
        typed = [
            (said * w / (total or 1.0), self.think_s, a.Digits(d))
            for d, w in zip(digits, weights, strict=True)
        ]
        return Answers.of((*typed, (1.0 - said, timeout_s, a.Digits("", True))))


def answers_at(
    choice: OfferChoice | SurveyChoice, node: OfferNode | Survey, place: int, timeout_s: float
) -> Answers:
    """The caller's keys at an offer (``place``: which offer) or survey (which question)."""
    if isinstance(node, OfferNode) and isinstance(choice, OfferChoice):
        return choice.keys(node, place, timeout_s)
    if isinstance(node, Survey) and isinstance(choice, SurveyChoice):
        return choice.keys(node.questions[place], timeout_s)
    return Answers.certain(a.Digits("", True), timeout_s)  # a mismatched choice: silent


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
        quiet = ctx.num(spec, "timeout", path, 0.0, hi=1.0)
        return OfferChoice(accept, ctx.num(spec, "next", path, 0.4, hi=1.0), think, quiet)
    answers = spec.get("answers") or {}
    if not isinstance(answers, dict):
        ctx.bad((*path, "answers"), "must map digits to weights")
        answers = {}
    weights = {str(k): ctx.num(answers, k, (*path, "answers"), 0.0) for k in answers}
    for key in weights:
        if not (len(key) == 1 and key.isdigit()):
            ctx.bad((*path, "answers", key), f"{key!r} is not one digit")
    return SurveyChoice(ctx.num(spec, "participate", path, 0.5, hi=1.0), weights, think)
