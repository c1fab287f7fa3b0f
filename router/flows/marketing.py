"""Offer and survey nodes inside the pure engine: what the caller hears, what a key does.

Kept out of :mod:`router.flows.engine` so the engine's hot path stays a few
hooks long. Both nodes ask one digit at a time (a ``Collect`` of one key)
and keep their place (which offer, which question) in the call's facts
memo, so :class:`~router.flows.engine.State` needs no field for them.

Offers (``guided marketing``): the customer's ranked offers that the
catalogue knows and that are valid today, one prompt each. ``accept``
records a conversion and routes to the offer's service through the routing
policy, with the offer id in the screen pop (``TL_OFFER``); ``next`` plays
the next one; ``back``, the last one declined, or silence after the retries
leave by ``next``. Any other key is the caller's own menu choice: it leaves
the offers and answers the menu at ``next``, as does a key typed during the
prompt before the offer node. So the caller's choice is never overridden.
The intro plays on its own, any key ending it: an offer key there acts on
the first offer, any other key is a menu choice typed ahead (no offer heard).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from router.flows import actions as a
from router.flows import engine as e
from router.flows import model as m
from router.flows import plan as p
from router.flows.offers import Offer, call_day, offers_for_call

if TYPE_CHECKING:
    from router.flows.engine import Engine, Outcome, State

__all__ = ["OFFER_VAR", "answer", "enter", "place", "typed_ahead"]

OFFER_VAR = "TL_OFFER"
"""The screen-pop variable naming the offer a caller accepted."""


def enter(engine: Engine, state: State, here: p.Step, acts: tuple[a.Action, ...]) -> Outcome:
    """First arrival at an offer or survey node."""
    node = here.node
    if isinstance(node, m.OfferNode):
        return _enter_offer(engine, state, node, acts)
    assert isinstance(node, m.Survey)
    state.facts.keep(_key(state), 0)
    intro = _play(engine, node.intro)
    return state, (*acts, *intro, _ask(engine, node, node.questions[0]))


def answer(engine: Engine, state: State, here: p.Step, event: a.Event) -> Outcome:
    """The caller's key (or silence) at an offer or survey node."""
    node = here.node
    if isinstance(event, a.PlayDone) and isinstance(node, m.OfferNode):
        return _after_intro(engine, state, node, event.digit[:1])
    if not isinstance(event, a.Digits):
        return engine._enter(state, ())  # unexpected: ask again
    state = e._with(state, e._noted_path(state.path, event.digits), state.reason, state.attempt)
    if isinstance(node, m.OfferNode):
        return _offer_answer(engine, state, node, event.digits[:1])
    assert isinstance(node, m.Survey)
    return _survey_answer(engine, state, node, event.digits[:1])


def typed_ahead(
    engine: Engine, state: State, here: p.Step, digit: str, out: tuple[a.Action, ...]
) -> Outcome:
    """A key typed during the prompt before an offer node: skip the offers, answer ``next``."""
    node = here.node
    assert isinstance(node, m.OfferNode)
    state, more = _skip_offers(engine, state, node, digit)
    return state, (*out[:-1], *more)  # the last is the offer's intro or first prompt, unheard


def _skip_offers(engine: Engine, state: State, node: m.OfferNode, digit: str) -> Outcome:
    """A menu digit before any offer was heard: the menu at ``next`` answers it."""
    return engine._after_play(_reason(state, "offer_skipped"), node.next, a.PlayDone(digit))


# ---- offers ----------------------------------------------------------------
def _enter_offer(
    engine: Engine, state: State, node: m.OfferNode, acts: tuple[a.Action, ...]
) -> Outcome:
    facts = state.facts
    ranked = facts.customer.offers if facts.customer is not None else ()
    day = partial(call_day, facts, state.flow)
    shown, unknown = offers_for_call(engine.flows.offers, ranked, node.only, node.max_offers, day)
    acts = (*acts, *(a.RecordOffer("unknown", oid) for oid in unknown))
    if not shown:
        return engine._enter(_reason(state, "no_offers"), acts, node.next)
    facts.keep(_key(state), (shown, 0))
    if node.intro:  # its own step, so a key pressed during it is heard (_after_intro)
        intro = a.Play((engine.flows.prompts.path(node.intro),), p.ALL_DIGITS)
        return state, (*acts, intro)
    return state, (*acts, _present(engine, node, shown[0]))


def _after_intro(engine: Engine, state: State, node: m.OfferNode, digit: str) -> Outcome:
    """The intro ended: an offer key answers the first offer, another key the menu at ``next``."""
    if digit and digit not in (node.accept, node.skip, node.back):
        return _skip_offers(engine, state, node, digit)
    if digit:
        state = e._with(state, e._noted_path(state.path, digit), state.reason, state.attempt)
        return _offer_answer(engine, state, node, digit)
    shown, _pos = state.facts.recall(_key(state))
    return state, (_present(engine, node, shown[0]),)


def _offer_answer(engine: Engine, state: State, node: m.OfferNode, digit: str) -> Outcome:
    shown, pos = state.facts.recall(_key(state))
    offer: Offer = shown[pos]
    heard = (a.RecordOffer("presented", offer.id, pos + 1),)
    if not digit:
        if state.attempt >= node.retries:
            return engine._enter(_reason(state, "offer_timeout"), heard, node.next)
        again = e._with(state, state.path, "timeout", state.attempt + 1)
        return again, (*_play(engine, node.timeout_prompt), _present(engine, node, offer))
    if digit == node.accept:
        return _accept(
            engine, state, node, offer, (*heard, a.RecordOffer("accepted", offer.id, pos + 1))
        )
    return _leave_or_next(engine, state, node, digit, heard)


def _leave_or_next(
    engine: Engine, state: State, node: m.OfferNode, digit: str, heard: tuple[a.Action, ...]
) -> Outcome:
    shown, pos = state.facts.recall(_key(state))
    if digit == node.skip and pos + 1 < len(shown):
        state.facts.keep(_key(state), (shown, pos + 1))
        fresh = e._with(state, state.path, state.reason, 0)
        return fresh, (*heard, _present(engine, node, shown[pos + 1]))
    if digit in (node.skip, node.back):
        why = "offers_declined" if digit == node.skip else "offer_back"
        return engine._enter(_reason(state, why), heard, node.next)
    # Any other key: the caller's own menu choice, for the menu that follows.
    state, more = engine._after_play(_reason(state, "offer_left"), node.next, a.PlayDone(digit))
    return state, (*heard, *more)


def _accept(
    engine: Engine, state: State, node: m.OfferNode, offer: Offer, records: tuple[a.Action, ...]
) -> Outcome:
    """Route to the offer's service as a queue node with the offer node's priority would."""
    lane = m.QueueNode(node.name, node.line, offer.service, node.priority)
    decision = engine._decide_now(state.facts, state.flow, lane)
    route = a.Route(offer.service, decision)
    done = e._finish(_reason(state, f"offer:{offer.id}"), route)
    pop = a.SetVars({OFFER_VAR: offer.id})
    return done, (*records, pop, *_play(engine, node.accepted_prompt), route)


def _present(engine: Engine, node: m.OfferNode, offer: Offer) -> a.Collect:
    return _one_key(engine, offer.prompt, node.timeout_s)


# ---- surveys ---------------------------------------------------------------
def _survey_answer(engine: Engine, state: State, node: m.Survey, digit: str) -> Outcome:
    index: int = state.facts.recall(_key(state)) or 0
    question = node.questions[index]
    if digit and question.low <= digit <= question.high:
        said = (a.RecordAnswer(node.name, question.id, digit),)
        return _next_question(engine, state, node, index + 1, said)
    if state.attempt >= node.retries:  # no usable answer: the question is skipped
        return _next_question(engine, state, node, index + 1, ())
    again = e._with(state, state.path, "invalid" if digit else "timeout", state.attempt + 1)
    sorry = _play(engine, node.invalid_prompt) if digit else ()
    return again, (*sorry, _ask(engine, node, question))


def _next_question(
    engine: Engine, state: State, node: m.Survey, index: int, out: tuple[a.Action, ...]
) -> Outcome:
    if index < len(node.questions):
        state.facts.keep(_key(state), index)
        fresh = e._with(state, state.path, state.reason, 0)
        return fresh, (*out, _ask(engine, node, node.questions[index]))
    return engine._enter(state, (*out, *_play(engine, node.thanks)), node.next)


def _ask(engine: Engine, node: m.Survey, question: m.SurveyQuestion) -> a.Collect:
    return _one_key(engine, question.prompt, node.timeout_s)


# ---- shared ----------------------------------------------------------------
def place(state: State) -> int:
    """Which offer (0-based rank among those presented) or question the caller is at."""
    found = state.facts.recall(_key(state))
    return int(found[1] if isinstance(found, tuple) else found or 0)


def _one_key(engine: Engine, prompt: str, timeout_s: float) -> a.Collect:
    """Play ``prompt`` and wait ``timeout_s`` for one key (an offer's or a question's)."""
    return a.Collect(engine.flows.prompts.path(prompt), int(timeout_s * 1000), 1)


def _play(engine: Engine, prompt: str) -> tuple[a.Action, ...]:
    return (a.Play((engine.flows.prompts.path(prompt),)),) if prompt else ()


def _key(state: State) -> tuple[str, str]:
    return ("@place", f"{state.flow}.{state.node}")


def _reason(state: State, reason: str) -> State:
    return e._with(state, state.path, reason, state.attempt)
