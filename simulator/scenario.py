"""Scenario files: a planner's YAML day, validated once into a SimModel.

Every problem in a file is collected (not just the first) and raised as one
``router.errors.ScenarioError`` whose problems carry ``file:line``, because a
planner fixes all of them in one editor pass. See docs/simulator.md for the
format with a full example.
"""

from __future__ import annotations

import importlib
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path as FsPath
from typing import Any

import numpy as np
import yaml

from router.customer import Customer, TierOrder
from router.errors import Problem, ScenarioError
from router.types import CallInfo, QueueSnapshot, RouteDecision, RoutingPolicy
from router.yamlpos import Path, compose
from simulator.distributions import Empirical, Exponential, LogNormal, Never, Sampler
from simulator.model import CallbackOffer, QueueSpec, SimModel, Stream

__all__ = ["LaneByServicePolicy", "MenuIvr", "Scenario", "Target", "load_scenario"]


@dataclass(frozen=True, slots=True)
class Target:
    """A tier's goal: ``service_level`` answered within ``within_s``; abandonment cap."""

    service_level: float = 0.8
    within_s: float = 20.0
    max_abandon: float = 1.0


@dataclass(frozen=True, slots=True)
class Scenario:
    model: SimModel
    targets: Mapping[str, Target]
    source: str


@dataclass(frozen=True, slots=True)
class Menu:
    seconds: float
    services: tuple[str, ...]
    cumulative: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class MenuIvr:
    """IvrModel from the scenario: prompts played, then one menu choice by probability.

    A stand-in until the flow engine is wired in: the lead replaces it by an
    adapter that walks the real flow with simulated digits.
    """

    menus: Mapping[str, Menu]

    def walk(
        self, call: CallInfo, customer: Customer | None, rng: np.random.Generator
    ) -> tuple[str, float]:
        menu = self.menus.get(call.dnis) or self.menus["default"]
        pick = bisect_right(menu.cumulative, float(rng.random()) * menu.cumulative[-1])
        return menu.services[min(pick, len(menu.services) - 1)], menu.seconds


@dataclass(frozen=True, slots=True)
class LaneByServicePolicy:
    """Default RoutingPolicy until the real one is wired: queue = service, prio by tier."""

    tiers: TierOrder = field(default_factory=TierOrder)

    def decide(
        self,
        service: str,
        customer: Customer | None,
        call: CallInfo,
        queues: Mapping[str, QueueSnapshot],
    ) -> RouteDecision:
        rank = self.tiers.rank(customer.tier if customer else self.tiers.lowest)
        return RouteDecision(service, 10 * (len(self.tiers.names) - rank), "default")


class _Ctx:
    """Collects problems with their line numbers while the file is read."""

    def __init__(self, file: str, lines: dict[Path, int]) -> None:
        self.file, self.lines = file, lines
        self.problems: list[Problem] = []

    def bad(self, path: Path, message: str, hint: str = "") -> None:
        line = next(
            (self.lines[path[:i]] for i in range(len(path), -1, -1) if path[:i] in self.lines), 1
        )
        where = ".".join(str(p) for p in path) or "<top>"
        self.problems.append(Problem(self.file, line, 0, f"{where}: {message}", hint))

    def num(  # noqa: PLR0917 - mirrors dict.get(key, default) plus bounds
        self,
        data: Mapping[str, Any],
        key: str,
        path: Path,
        default: float | None = None,
        lo: float = 0.0,
        hi: float = float("inf"),
    ) -> float:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            self.bad((*path, key), f"must be a number in [{lo}, {hi}], got {value!r}")
            return default if default is not None else lo
        return float(value)


def _sampler(ctx: _Ctx, spec: Any, path: Path) -> Sampler:  # noqa: PLR0911 - one per kind
    if spec in (None, "never"):
        return Never()
    if not isinstance(spec, dict):
        ctx.bad(path, "expected a mapping like {dist: exponential, mean: 180}")
        return Exponential(1.0)
    dist = spec.get("dist", "exponential")
    if dist == "exponential":
        return Exponential(ctx.num(spec, "mean", path, 1.0, lo=1e-9))
    if dist == "lognormal":
        return LogNormal(
            ctx.num(spec, "mean", path, 1.0, lo=1e-9), ctx.num(spec, "sd", path, 1.0, lo=1e-9)
        )
    if dist == "empirical":
        values = spec.get("values")
        if (
            isinstance(values, list)
            and values
            and all(
                isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in values
            )
        ):
            return Empirical(tuple(float(v) for v in values))
        ctx.bad((*path, "values"), "must be a non-empty list of durations >= 0")
        return Exponential(1.0)
    ctx.bad((*path, "dist"), f"unknown distribution {dist!r}", "exponential, lognormal, empirical")
    return Exponential(1.0)


def _per_interval(ctx: _Ctx, value: Any, n: int, path: Path, integer: bool) -> tuple[float, ...]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = [value] * n
    ok = (
        isinstance(value, list)
        and len(value) == n
        and all(
            isinstance(v, int | float)
            and not isinstance(v, bool)
            and v >= 0
            and (not integer or float(v).is_integer())
            for v in value
        )
    )
    if not ok:
        kind = "whole numbers" if integer else "numbers"
        ctx.bad(path, f"must be one value or a list of {n} non-negative {kind}")
        return (0.0,) * n
    return tuple(float(v) for v in value)


def _tiers(ctx: _Ctx, raw: Any) -> tuple[dict[str, Sampler], dict[str, Target]]:
    patience: dict[str, Sampler] = {}
    targets: dict[str, Target] = {}
    if not isinstance(raw, dict) or not raw:
        ctx.bad(("tiers",), "must map each tier name to its patience and target")
        return patience, targets
    for name, spec in raw.items():
        path: Path = ("tiers", name)
        spec = spec if isinstance(spec, dict) else {}  # noqa: PLW2901 - bad shapes reported by their keys
        patience[name] = _sampler(ctx, spec.get("patience"), (*path, "patience"))
        t = spec.get("target") or {}
        tp: Path = (*path, "target")
        targets[name] = Target(
            ctx.num(t, "service_level", tp, 0.8, hi=1.0),
            ctx.num(t, "within_s", tp, 20.0),
            ctx.num(t, "max_abandon", tp, 1.0, hi=1.0),
        )
    return patience, targets


def _streams(
    ctx: _Ctx, raw: Any, n: int, interval_s: float, patience: Mapping[str, Sampler]
) -> tuple[Stream, ...]:
    out: list[Stream] = []
    if not isinstance(raw, list) or not raw:
        ctx.bad(("arrivals",), "must be a list of {dnis, calls, mix}")
        return ()
    for i, a in enumerate(raw):
        path: Path = ("arrivals", i)
        a = a if isinstance(a, dict) else {}  # noqa: PLW2901 - bad shapes reported by their keys
        calls = _per_interval(ctx, a.get("calls"), n, (*path, "calls"), integer=False)
        mix = a.get("mix")
        if not isinstance(mix, dict) or not mix:
            ctx.bad((*path, "mix"), "must map tier names to shares")
            continue
        total = sum(v for v in mix.values() if isinstance(v, int | float))
        for tier, share in mix.items():
            if tier not in patience:
                ctx.bad(
                    (*path, "mix", tier), f"unknown tier {tier!r}", f"tiers: {', '.join(patience)}"
                )
            elif not isinstance(share, int | float) or share < 0 or total <= 0:
                ctx.bad((*path, "mix", tier), "share must be a non-negative number")
            else:
                rates = tuple(c * share / total / interval_s for c in calls)
                dnis = str(a.get("dnis", ""))
                out.append(Stream(f"{dnis}/{tier}", dnis, tier, rates, patience[tier]))
    return tuple(out)


def _queues(ctx: _Ctx, raw: Any, n: int) -> tuple[QueueSpec, ...]:
    out: list[QueueSpec] = []
    if not isinstance(raw, dict) or not raw:
        ctx.bad(("queues",), "must map queue names to {handle, agents, cost_per_hour}")
        return ()
    for name, q in raw.items():
        path: Path = ("queues", name)
        q = q if isinstance(q, dict) else {}  # noqa: PLW2901 - bad shapes reported by their keys
        agents = _per_interval(ctx, q.get("agents"), n, (*path, "agents"), integer=True)
        handle = _sampler(ctx, q.get("handle"), (*path, "handle"))
        if isinstance(handle, Never):
            ctx.bad((*path, "handle"), "a handle-time distribution is required")
        out.append(
            QueueSpec(
                name,
                handle,
                tuple(int(a) for a in agents),
                ctx.num(q, "cost_per_hour", path, 0.0),
                ctx.num(q, "shrinkage", path, 0.0, hi=0.95),
            )
        )
    return tuple(out)


def _prompts(ctx: _Ctx, ivr: Mapping[str, Any], base: FsPath) -> dict[str, float]:
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


def _ivr(ctx: _Ctx, raw: Any, base: FsPath, queues: set[str]) -> MenuIvr:
    ivr = raw if isinstance(raw, dict) else {}
    prompts = _prompts(ctx, ivr, base)
    menus: dict[str, Menu] = {}
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
        menus[str(key)] = Menu(secs, tuple(choices), tuple(accumulate(weights)))
    if "default" not in menus and menus:
        menus["default"] = next(iter(menus.values()))
    return MenuIvr(menus)


def _policy(ctx: _Ctx, raw: Any, tiers: TierOrder) -> RoutingPolicy:
    factory = raw.get("factory") if isinstance(raw, dict) else None
    if not factory:
        return LaneByServicePolicy(tiers)
    try:
        module, _, attr = str(factory).partition(":")
        make: Callable[..., RoutingPolicy] = getattr(importlib.import_module(module), attr)
        return make(**(raw.get("options") or {}))
    except (ImportError, AttributeError, TypeError, ValueError) as exc:
        ctx.bad(("routing", "factory"), f"cannot build routing policy: {exc}", "module:callable")
        return LaneByServicePolicy(tiers)


def _check_lanes(ctx: _Ctx, policy: RoutingPolicy, staffed: set[str]) -> None:
    """Every queue the live policy can route to must be staffed in the scenario."""
    for lane in sorted(set(getattr(policy, "queues", ())) - staffed):
        ctx.bad(("queues",), f"the routing policy can send calls to {lane!r}; staff it here")


def _callback(ctx: _Ctx, raw: Any) -> CallbackOffer | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        ctx.bad(("callback",), "must be {ewt_over_s, accept, delay_s, priority}")
        return None
    path: Path = ("callback",)
    return CallbackOffer(
        ctx.num(raw, "ewt_over_s", path, 60.0),
        ctx.num(raw, "accept", path, 0.0, hi=1.0),
        ctx.num(raw, "delay_s", path, 0.0),
        int(ctx.num(raw, "priority", path, 0.0, lo=-1e6, hi=1e6)),
    )


def parse_scenario(text: str, file: str = "<scenario>", base: FsPath | None = None) -> Scenario:
    """Validate a scenario document; raises ScenarioError listing every problem."""
    parsed = compose(text, file)  # syntax, duplicate keys, alias bombs: located problems
    if parsed.problems:
        raise ScenarioError(parsed.problems)
    data = parsed.data
    ctx = _Ctx(file, {path: line for path, (line, _col) in parsed.marks.items()})
    if not isinstance(data, dict):
        raise ScenarioError([Problem(file, 1, 0, "a scenario must be a YAML mapping")])
    interval_s = ctx.num(data, "interval_minutes", (), 30.0, lo=0.1) * 60
    n = int(ctx.num(data, "intervals", (), 48.0, lo=1))
    patience, targets = _tiers(ctx, data.get("tiers"))
    streams = _streams(ctx, data.get("arrivals"), n, interval_s, patience)
    queues = _queues(ctx, data.get("queues"), n)
    policy = _policy(ctx, data.get("routing"), TierOrder(tuple(patience) or ("normal",)))
    staffed = {q.name for q in queues}
    _check_lanes(ctx, policy, staffed)
    services = getattr(policy, "services", None) or staffed
    ivr = _ivr(ctx, data.get("ivr"), base or FsPath("."), set(services))
    warmup = ctx.num(data, "warmup_minutes", (), 0.0) * 60
    callback = _callback(ctx, data.get("callback"))
    if ctx.problems:
        raise ScenarioError(ctx.problems)
    try:
        model = SimModel(
            streams,
            queues,
            policy,
            ivr,
            interval_s,
            warmup,
            {t: v.within_s for t, v in targets.items()},
            str(data.get("start", "2026-01-05T00:00:00")),
            callback,
        )
    except ValueError as exc:
        raise ScenarioError([Problem(file, 1, 0, str(exc))]) from exc
    return Scenario(model, targets, file)


def load_scenario(path: str | FsPath) -> Scenario:
    """Read and validate a scenario file (prompt manifests resolve next to it)."""
    p = FsPath(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([Problem(str(p), 1, 0, f"cannot read scenario: {exc}")]) from exc
    return parse_scenario(text, str(p), p.parent)
