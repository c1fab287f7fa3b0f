"""The scenario's ``ivr:`` section: the operator's flows walked by the live engine, or menus.

Two ways to describe the IVR, because planners do not always have flows yet:

* ``flows: DIR`` loads the operator's YAML flows (the ones ``tierline serve``
  runs) and walks them with :class:`simulator.flow_ivr.FlowIvr`; ``callers``
  gives key-press probabilities per ``flow.node``. This is the default to use.
* ``menus:`` a quick stand-in: prompts played, then one service by probability.

Prompt durations come from the prompt manifest that ``tierline prompts build``
writes (``name: {duration_s: ...}``), plus inline ``prompts:`` overrides.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, replace
from itertools import accumulate
from pathlib import Path as FsPath
from typing import Any

import numpy as np
import yaml

from router.customers.model import Customer
from router.errors import LoadError
from router.flows.model import FlowSet, Input, Menu, OfferNode, Survey, Transfer
from router.types import CallInfo, QueueSnapshot, RoutingPolicy
from router.yamlpos import Path
from simulator.flow_data import data_choices
from simulator.flow_ivr import HANGUP, TIMEOUT, CallerModel, FlowIvr, KeyChoice
from simulator.flow_marketing import OfferChoice, SurveyChoice, parse_choice
from simulator.model import IvrExit, IvrModel, IvrPath, after
from simulator.problems import Collector

__all__ = ["MenuIvr", "ServiceMenu", "parse_ivr"]

_KEYS = re.compile(r"[0-9*#]{1,32}")


@dataclass(frozen=True, slots=True)
class ServiceMenu:
    seconds: float
    services: tuple[str, ...]
    cumulative: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class MenuIvr:
    """IvrModel for scenarios without flows: prompts played, then one service by probability."""

    menus: Mapping[str, ServiceMenu]

    def walk(
        self,
        call: CallInfo,
        customer: Customer | None,
        rng: np.random.Generator,
        queues: Mapping[str, QueueSnapshot],
    ) -> IvrPath:
        menu = self.menus.get(call.dnis) or self.menus["default"]
        pick = bisect_right(menu.cumulative, float(rng.random()) * menu.cumulative[-1])
        done = IvrExit(menu.services[min(pick, len(menu.services) - 1)])
        return after(menu.seconds, done) if menu.seconds > 0 else done


def parse_ivr(
    ctx: Collector, raw: Any, base: FsPath, services: set[str], policy: RoutingPolicy
) -> IvrModel:
    ivr = raw if isinstance(raw, dict) else {}
    prompts = _prompts(ctx, ivr, base)
    if ivr.get("flows"):
        return _flow_ivr(ctx, ivr, base, services, policy, prompts)
    return _menu_ivr(ctx, ivr, services, prompts)


def _prompts(ctx: Collector, ivr: Mapping[str, Any], base: FsPath) -> dict[str, float]:
    prompts: dict[str, float] = {}
    manifest = ivr.get("prompt_manifest")
    if manifest:
        try:
            data = yaml.safe_load((base / str(manifest)).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            ctx.bad(("ivr", "prompt_manifest"), f"cannot read prompt manifest: {exc}")
            data = {}
        for name, v in data.items() if isinstance(data, dict) else []:
            secs = v.get("duration_s") if isinstance(v, dict) else v
            if isinstance(secs, int | float):
                prompts[str(name)] = float(secs)
    inline = ivr.get("prompts") or {}
    for name in inline if isinstance(inline, dict) else []:
        prompts[name] = ctx.num(inline, name, ("ivr", "prompts"), 0.0)
    return prompts


def _menu_ivr(
    ctx: Collector, ivr: Mapping[str, Any], queues: set[str], prompts: Mapping[str, float]
) -> MenuIvr:
    menus: dict[str, ServiceMenu] = {}
    raw_menus = ivr.get("menus") or {"default": {"choices": {next(iter(queues), "default"): 1}}}
    for key, m in raw_menus.items():
        path: Path = ("ivr", "menus", key)
        m = m if isinstance(m, dict) else {}  # noqa: PLW2901 - bad shapes reported by their keys
        secs = ctx.num(m, "think_s", path, 0.0)
        for j, p in enumerate(m.get("play") or []):
            if p not in prompts:
                ctx.bad(
                    (*path, "play", j), f"unknown prompt {p!r}", "add it to the prompt manifest"
                )
            secs += prompts.get(p, 0.0)
        choices = m.get("choices")
        if not isinstance(choices, dict) or not choices:
            ctx.bad((*path, "choices"), "must map services to probabilities")
            continue
        for svc in choices:
            if svc not in queues:
                ctx.bad((*path, "choices", svc), f"no service named {svc!r} in the routing")
            ctx.num(choices, svc, (*path, "choices"), 0.0)
        weights = [float(v) if isinstance(v, int | float) else 0.0 for v in choices.values()]
        menus[str(key)] = ServiceMenu(secs, tuple(choices), tuple(accumulate(weights)))
    if "default" not in menus and menus:
        menus["default"] = next(iter(menus.values()))
    return MenuIvr(menus)


def _flow_ivr(  # noqa: PLR0917 - the parts of one section
    ctx: Collector,
    ivr: Mapping[str, Any],
    base: FsPath,
    services: set[str],
    policy: RoutingPolicy,
    prompts: Mapping[str, float],
) -> IvrModel:
    directory = base / str(ivr["flows"])
    if not directory.is_dir():
        ctx.bad(
            ("ivr", "flows"), f"no flows directory {str(directory)!r}", "relative to the scenario"
        )
        return MenuIvr({})
    try:
        walk = FlowIvr.load(
            directory,
            frozenset(services),
            policy,
            CallerModel(default_think_s=ctx.num(ivr, "think_s", ("ivr",), 2.0)),
            {},
            default_prompt_s=ctx.num(ivr, "default_prompt_s", ("ivr",), 3.0),
            unrouted_service=str(ivr.get("unrouted_service", "general")),
        )
    except LoadError as exc:
        ctx.problems.extend(exc.problems)  # the flow files' own file:line problems
        return MenuIvr({})
    flows = walk.engine.flows
    marketing: dict[str, OfferChoice | SurveyChoice] = {}
    callers = _callers(ctx, ivr.get("callers"), flows, marketing)
    data = data_choices(ctx, ivr.get("data"), flows)
    return replace(
        walk,
        callers=replace(walk.callers, nodes=callers, data=data, marketing=marketing).complete(
            flows
        ),
        durations={flows.prompts.path(name): secs for name, secs in prompts.items()},
    )


def _callers(
    ctx: Collector, raw: Any, flows: FlowSet, marketing: dict[str, OfferChoice | SurveyChoice]
) -> dict[str, KeyChoice]:
    """Menu and input behaviour; offer and survey nodes' go into ``marketing``."""
    out: dict[str, KeyChoice] = {}
    if raw is None:
        return out
    if not isinstance(raw, dict):
        ctx.bad(("ivr", "callers"), "must map flow.node to {keys, think_s, verified, answered}")
        return out
    for where, spec in raw.items():
        path: Path = ("ivr", "callers", where)
        node = _node(flows, str(where))
        if isinstance(node, OfferNode | Survey):
            marketing[str(where)] = parse_choice(
                ctx, spec if isinstance(spec, dict) else {}, path, node
            )
            continue
        if node is None:
            ctx.bad(
                path,
                "no menu, input, transfer, offer or survey node of that name",
                "write it as flow.node",
            )
            continue
        given = spec if isinstance(spec, dict) else {}
        if isinstance(node, Transfer):
            answered = ctx.num(given, "answered", path, 1.0, hi=1.0)
            out[str(where)] = KeyChoice((TIMEOUT,), (1.0,), answered=answered)
            continue
        choice = _choice(ctx, given, path, node)
        if choice is not None:
            out[str(where)] = choice
    return out


def _node(flows: FlowSet, where: str) -> Menu | Input | Transfer | OfferNode | Survey | None:
    flow, _, name = where.partition(".")
    node = flows.flows[flow].nodes.get(name) if flow in flows.flows else None
    return node if isinstance(node, Menu | Input | Transfer | OfferNode | Survey) else None


def _choice(
    ctx: Collector, spec: Mapping[str, Any], path: Path, node: Menu | Input
) -> KeyChoice | None:
    keys = spec.get("keys")
    if not isinstance(keys, dict) or not keys:
        ctx.bad((*path, "keys"), "must map keys typed (or timeout / hangup) to probabilities")
        return None
    for key in keys:
        text = str(key)
        if text in {TIMEOUT, HANGUP}:
            continue
        if not _KEYS.fullmatch(text) or (isinstance(node, Menu) and len(text) != 1):
            want = "one key 0-9 * #" if isinstance(node, Menu) else "digits 0-9 * #"
            ctx.bad((*path, "keys", key), f"{text!r} is not {want}", "or timeout / hangup")
    weights = [ctx.num(keys, k, (*path, "keys"), 0.0) for k in keys]
    if sum(weights) <= 0:
        ctx.bad((*path, "keys"), "the probabilities must not all be zero")
        return None
    return KeyChoice(
        tuple(str(k) for k in keys),
        tuple(accumulate(weights)),
        ctx.num(spec, "think_s", path, 2.0),
        ctx.num(spec, "verified", path, 1.0, hi=1.0),
    )
