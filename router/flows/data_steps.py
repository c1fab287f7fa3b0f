"""The pure half of the data steps (fetch, notify, say): actions in, variables out.

The engine calls these to turn a node and a call's facts into an action
(templates filled, values URL-encoded) and to speak values; the adapter
(:mod:`router.backend_http`, the simulator, ``flows trace``) runs the
request and answers with an event. Reading the JSON answer into variables
(:func:`extract`) is pure too, so every adapter maps fields the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from router import speech
from router.errors import SpeechError
from router.flows import actions as a
from router.flows import model as m
from router.flows.expr import Facts
from router.flows.templates import as_text

__all__ = [
    "MAX_VALUE_CHARS",
    "extract",
    "fetch_action",
    "notify_action",
    "say_prompts",
]

MAX_VALUE_CHARS = 256
"""A mapped field longer than this is not a value a caller should hear: a bad answer."""


def fetch_action(node: m.Fetch, facts: Facts, flow: str) -> a.Fetch:
    """The request for one call: path URL-encoded, body values as text."""
    body = {k: t.render(facts, flow) for k, t in node.body.items()} if node.body else None
    path = node.path.render(facts, flow, url=True)
    return a.Fetch(node.name, node.backend, node.method, path, body, node.fields, node.timeout_ms)


def notify_action(node: m.Notify, facts: Facts, flow: str) -> a.Notify:
    return a.Notify(
        node.name,
        node.backend,
        node.path.render(facts, flow, url=True),
        node.channel,
        node.to.render(facts, flow),
        node.text.render(facts, flow),
        node.timeout_ms,
    )


def extract(doc: Any, fields: Mapping[str, tuple[str, ...]]) -> dict[str, str] | None:
    """Each variable's field of the JSON answer as text; None when one is missing or not a value.

    A path step is a key of an object or an index of a list (``items.0.name``).
    Objects, lists and over-long text are refused: a variable is something
    to compare or to speak, never a structure.
    """
    out: dict[str, str] = {}
    for var, path in fields.items():
        here = doc
        for step in path:
            if isinstance(here, dict) and step in here:
                here = here[step]
            elif isinstance(here, list) and step.isdigit() and int(step) < len(here):
                here = here[int(step)]
            else:
                return None
        if isinstance(here, dict | list) or here is None:
            return None
        text = as_text(here)
        if len(text) > MAX_VALUE_CHARS:
            return None
        out[var] = text
    return out


Evaluate = Callable[[Facts, str, Any], Any]


def say_prompts(
    node: m.Say, facts: Facts, flow: str, language: str, evaluate: Evaluate
) -> tuple[str, ...] | None:
    """Prompt names for the node; None when a value cannot be spoken and the node has ``failed``.

    Without ``failed`` the value that cannot be spoken is left out (and the
    call's record notes it): the caller still hears the rest.
    """
    names: list[str] = []
    for part in node.parts:
        if part.kind == "prompt":
            names.append(part.prompt)
            continue
        value = as_text(evaluate(facts, flow, part.value))
        try:
            names += speech.spoken(part.kind, value, language)  # type: ignore[arg-type]
        except SpeechError:  # the value itself stays out of the record
            facts.errors.append(f"{flow}.{node.name}: cannot speak a {part.kind} value")
            if node.failed:
                return None
    return tuple(names)
