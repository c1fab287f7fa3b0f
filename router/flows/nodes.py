"""One compile function per node type, registered by its ``type:`` name.

Each takes the shared :class:`~router.flows.build.FlowBuilder` (reference,
prompt, service and expression checks, problem list), the node's validated
model (:mod:`router.flows.spec`) and its positioned mapping (for where a
problem was written), and returns the frozen run-time node.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from router.flows import identify, spec
from router.flows import model as m
from router.flows.backends import BACKENDS_FILE
from router.flows.expr import ValueExpr, closest
from router.flows.section import Items, Pos, Section, empty
from router.flows.templates import Template, compile_template
from router.flows.validate import DEAD_END
from router.speech import KINDS as SAY_KINDS

if TYPE_CHECKING:
    from router.flows.build import FlowBuilder

__all__ = ["PARSERS"]

Parser = Callable[["FlowBuilder", str, Any, Section], "m.Node"]
PARSERS: dict[str, Parser] = {}


def _parser(kind: str) -> Callable[[Parser], Parser]:
    def register(fn: Parser) -> Parser:
        PARSERS[kind] = fn
        return fn

    return register


@_parser("play")
def _play(b: FlowBuilder, name: str, node: spec.Play, body: Section) -> m.Node:
    raw = body.get("prompts")
    where = raw.item_pos if isinstance(raw, Items) else [body.at("prompts")] * len(node.prompts)
    prompts = tuple(b.prompt(p, pos) for p, pos in zip(node.prompts, where, strict=True))
    return m.Play(name, body.pos[0], prompts, b.ref(node.next, body, "next"), node.interruptible)


@_parser("menu")
def _menu(b: FlowBuilder, name: str, node: spec.Menu, body: Section) -> m.Node:
    options: Section = body["options"]
    for digit, target in node.options.items():
        b.refs.append((target, options.at(digit), f"option {digit}"))
    return m.Menu(
        name,
        body.pos[0],
        b.prompt(node.prompt, body.at("prompt")),
        dict(node.options),
        b.ref(node.fallback, body, "fallback"),
        node.timeout_s,
        node.retries,
        b.prompt(node.invalid_prompt, body.at("invalid_prompt")),
        b.prompt(node.timeout_prompt, body.at("timeout_prompt")),
    )


@_parser("input")
def _input(b: FlowBuilder, name: str, node: spec.Input, body: Section) -> m.Node:
    factor = identify.compile_factor(b, node, body)
    return m.Input(
        name,
        body.pos[0],
        b.prompt(node.prompt, body.at("prompt")),
        re.compile(node.pattern),
        b.ref(node.next, body, "next"),
        b.ref(node.fallback, body, "fallback"),
        node.max_digits,
        node.timeout_s,
        node.retries,
        b.prompt(node.invalid_prompt, body.at("invalid_prompt")),
        node.variable,
        node.verify,
        node.account_prefix,
        node.sensitive or factor is not None,
        factor,
    )


@_parser("branch")
def _branch(b: FlowBuilder, name: str, node: spec.Branch, body: Section) -> m.Node:
    cases = []
    items: Items = body.get("cases") or Items()
    for case, item in zip(node.cases, items, strict=True):
        cond = b.expr(case.when, item.at("when"))
        goto = b.ref(case.goto, item, "goto")
        if cond is not None:
            cases.append(m.Case(cond, goto))
    return m.Branch(name, body.pos[0], tuple(cases), b.ref(node.default, body, "default"))


@_parser("set")
def _set(b: FlowBuilder, name: str, node: spec.SetVars, body: Section) -> m.Node:
    values: dict[str, ValueExpr] = {}
    for var, value in node.vars.items():
        if isinstance(value, spec.ExprValue):
            values[var] = ValueExpr(expr=b.expr(value.expr, body["vars"][var].at("expr")))
        else:
            values[var] = ValueExpr(literal=value)
    langs = b.catalog.languages
    if node.language and b.catalog.file and node.language not in langs:
        hint = closest(node.language, langs) or f"prompts.yaml has {', '.join(langs)}"
        b.fail(body.at("language"), f"unknown prompt language {node.language!r}", hint)
    return m.SetVars(name, body.pos[0], values, b.ref(node.next, body, "next"), node.language)


@_parser("queue")
def _queue(b: FlowBuilder, name: str, node: spec.Queue, body: Section) -> m.Node:
    if node.hours and node.hours not in b.hour_names:
        hint = closest(node.hours, b.hour_names)
        b.fail(body.at("hours"), f"unknown hours {node.hours!r}", hint)
    if node.max_wait_s and not node.overflow:
        b.fail(body.pos, DEAD_END, "add overflow: <node> (used when max_wait_s is exceeded)")
    if node.hours and not node.closed:
        b.fail(body.pos, DEAD_END, "add closed: <node> (used outside hours)")
    priority = b.expr(node.priority, body.at("priority")) if node.priority is not None else None
    return m.QueueNode(
        name,
        body.pos[0],
        b.service(node.service, body.at("service")),
        priority,
        node.max_wait_s,
        b.ref(node.overflow, body, "overflow"),
        node.hours,
        b.ref(node.closed, body, "closed"),
        node.announce_position,
        b.prompt(node.prompt, body.at("prompt")),
    )


@_parser("transfer")
def _transfer(b: FlowBuilder, name: str, node: spec.Transfer, body: Section) -> m.Node:
    field = node.to.customer if isinstance(node.to, spec.FromCustomer) else ""
    if field and not node.fallback:
        hint = "add fallback: <node> (used when that person cannot take the call)"
        b.fail(body.at("to"), f"a transfer to customer.{field} needs a fallback", hint)
    if node.context and not field:
        b.fail(body.at("context"), "context: applies to a target from a customer field only")
    return m.Transfer(
        name,
        body.pos[0],
        node.to if isinstance(node.to, str) else "",
        b.prompt(node.prompt, body.at("prompt")),
        field,
        node.context,
        b.ref(node.fallback, body, "fallback"),
        node.ring_s,
    )


@_parser("callback")
def _callback(b: FlowBuilder, name: str, node: spec.Callback, body: Section) -> m.Node:
    service = b.service(node.service, body.at("service"))
    return m.Callback(name, body.pos[0], service, b.prompt(node.prompt, body.at("prompt")))


@_parser("voicemail")
def _voicemail(b: FlowBuilder, name: str, node: spec.Voicemail, body: Section) -> m.Node:
    return m.Voicemail(name, body.pos[0], node.mailbox, b.prompt(node.prompt, body.at("prompt")))


@_parser("hangup")
def _hangup(b: FlowBuilder, name: str, node: spec.Hangup, body: Section) -> m.Node:
    return m.Hangup(name, body.pos[0], b.prompt(node.prompt, body.at("prompt")), node.reason)


@_parser("subflow")
def _subflow(b: FlowBuilder, name: str, node: spec.SubFlow, body: Section) -> m.Node:
    b.positions[f"{name}.flow"] = body.at("flow")
    return m.SubFlow(name, body.pos[0], node.flow, b.ref(node.next, body, "next"))


@_parser("return")
def _return(b: FlowBuilder, name: str, node: spec.Return, body: Section) -> m.Node:
    return m.Return(name, body.pos[0])


@_parser("offer")
def _offer(b: FlowBuilder, name: str, node: spec.OfferNode, body: Section) -> m.Node:
    raw = body.get("offers")
    where = raw.item_pos if isinstance(raw, Items) else [body.at("offers")] * len(node.offers)
    for oid, pos in zip(node.offers, where, strict=True):
        if b.offers.file and oid not in b.offers.offers:
            b.fail(pos, f"unknown offer {oid!r}", closest(oid, b.offers.offers))
    if not b.offers.file:
        b.fail(body.pos, "an offer node needs the offers catalogue", "add ivr_flows/offers.yaml")
    priority = b.expr(node.priority, body.at("priority")) if node.priority is not None else None
    return m.OfferNode(
        name,
        body.pos[0],
        b.ref(node.next, body, "next"),
        b.prompt(node.intro, body.at("intro")),
        frozenset(node.offers),
        node.max_offers,
        node.keys.accept,
        node.keys.next,
        node.keys.back,
        node.timeout_s,
        node.retries,
        b.prompt(node.timeout_prompt, body.at("timeout_prompt")),
        b.prompt(node.accepted_prompt, body.at("accepted_prompt")),
        priority,
    )


@_parser("survey")
def _survey(b: FlowBuilder, name: str, node: spec.Survey, body: Section) -> m.Node:
    questions = []
    items: Items = body.get("questions") or Items()
    for q, item in zip(node.questions, items, strict=True):
        low, high = q.answers.split("-")
        if low > high:
            b.fail(item.at("answers"), f"answers {q.answers!r}: the range runs low-high")
        questions.append(m.SurveyQuestion(q.id, b.prompt(q.prompt, item.at("prompt")), low, high))
    if len({q.id for q in questions}) < len(questions):
        b.fail(body.at("questions"), "two questions of this survey have the same id")
    return m.Survey(
        name,
        body.pos[0],
        tuple(questions),
        b.ref(node.next, body, "next"),
        node.after_call,
        b.prompt(node.intro, body.at("intro")),
        b.prompt(node.thanks, body.at("thanks")),
        b.prompt(node.invalid_prompt, body.at("invalid_prompt")),
        node.timeout_s,
        node.retries,
    )


# ---- data steps: fetch, notify, say ------------------------------------------
_NEEDS_FAILED = "add failed: <node> (taken on timeout, error or a bad answer)"


def _template(b: FlowBuilder, source: str, pos: Pos) -> Template:
    template, problems = compile_template(source)
    for problem in problems:
        b.fail(pos, problem)
    b.read_vars(template.vars, pos)
    return template


def _backend(b: FlowBuilder, name: str, pos: Pos) -> str:
    if b.backends is not None and name not in b.backends:
        where = f"not in {BACKENDS_FILE}" if b.backends else f"there is no {BACKENDS_FILE}"
        b.fail(pos, f"unknown backend {name!r} ({where})", closest(name, b.backends))
    return name


def _failed(b: FlowBuilder, kind: str, failed: str, body: Section) -> str:
    if not failed:
        b.fail(body.pos, f"a {kind} node needs a failed exit", _NEEDS_FAILED)
    return b.ref(failed, body, "failed")


@_parser("fetch")
def _fetch(b: FlowBuilder, name: str, node: spec.Fetch, body: Section) -> m.Node:
    if node.body and node.method == "GET":
        b.fail(body.at("body"), "a GET has no body", "use method: POST, or put values in path")
    bodies: Section = body.get("body") or empty()
    return m.Fetch(
        name,
        body.pos[0],
        _backend(b, node.backend, body.at("backend")),
        node.method,
        _template(b, node.path, body.at("path")),
        {k: _template(b, v, bodies.at(k)) for k, v in node.body.items()},
        {var: tuple(path.removeprefix("$.").split(".")) for var, path in node.set.items()},
        node.timeout_ms,
        b.ref(node.next, body, "next"),
        _failed(b, "fetch", node.failed, body),
    )


@_parser("notify")
def _notify(b: FlowBuilder, name: str, node: spec.Notify, body: Section) -> m.Node:
    return m.Notify(
        name,
        body.pos[0],
        _backend(b, node.backend, body.at("backend")),
        _template(b, node.path, body.at("path")),
        node.channel,
        _template(b, node.to, body.at("to")),
        _template(b, node.text, body.at("text")),
        node.timeout_ms,
        b.ref(node.next, body, "next"),
        _failed(b, "notify", node.failed, body),
    )


@_parser("say")
def _say(b: FlowBuilder, name: str, node: spec.Say, body: Section) -> m.Node:
    parts = []
    items: Items = body.get("items") or Items()
    for item, raw in zip(node.items, items, strict=True):
        if item.prompt:
            parts.append(m.SayPart("prompt", b.prompt(item.prompt, raw.at("prompt"))))
            continue
        kind, source = next((k, getattr(item, k)) for k in SAY_KINDS if getattr(item, k))
        parts.append(m.SayPart(kind, value=b.expr(source, raw.at(kind))))
    failed = b.ref(node.failed, body, "failed")
    return m.Say(name, body.pos[0], tuple(parts), b.ref(node.next, body, "next"), failed)
