"""Scenario files: a planner's YAML day, validated once into a SimModel.

Every problem in a file is collected (not just the first) and raised as one
``router.errors.ScenarioError`` whose problems carry ``file:line``, because a
planner fixes all of them in one editor pass. The ``ivr:`` section is read by
:mod:`simulator.ivr`. See docs/simulator.md for the format with a full example.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path as FsPath
from typing import Any

from router.customers.model import Customer, CustomerList, Lifecycle, TierOrder
from router.errors import Problem, ScenarioError
from router.types import CallInfo, QueueSnapshot, RouteDecision, RoutingPolicy
from router.yamlpos import Path, compose
from simulator.distributions import Empirical, Exponential, LogNormal, Never, Sampler
from simulator.ivr import MenuIvr, parse_ivr
from simulator.model import CallbackOffer, QueueSpec, SimModel, Stream
from simulator.occupancy import parse_max_occupancy
from simulator.outbound_scenario import parse_outbound
from simulator.problems import Collector
from simulator.scenario_keys import check_keys

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


def _sampler(ctx: Collector, spec: Any, path: Path) -> Sampler:  # noqa: PLR0911 - one per kind
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


def _per_interval(
    ctx: Collector, value: Any, n: int, path: Path, integer: bool
) -> tuple[float, ...]:
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


_PROFILE_FIELDS = frozenset(
    {
        "list",
        "lifecycle",
        "arpu",
        "tenure_months",
        "credit_score",
        "language",
        "account_manager",
        "offers",
    }
)


def _tiers(
    ctx: Collector, raw: Any
) -> tuple[dict[str, Sampler], dict[str, Target], dict[str, dict[str, Any] | None]]:
    patience: dict[str, Sampler] = {}
    targets: dict[str, Target] = {}
    profiles: dict[str, dict[str, Any] | None] = {}
    if not isinstance(raw, dict) or not raw:
        ctx.bad(("tiers",), "must map each tier name to its patience and target")
        return patience, targets, profiles
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
        profiles[name] = _profile(ctx, spec.get("customer", {}), (*path, "customer"), name)
    return patience, targets, profiles


def _profile(ctx: Collector, raw: Any, path: Path, tier: str) -> dict[str, Any] | None:
    """Customer fields the flows and policy read (``unknown`` = callers not in the store)."""
    if raw == "unknown":
        return None
    if not isinstance(raw, dict):
        ctx.bad(path, "must be `unknown` or a mapping of customer fields")
        return {}
    profile: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "tier":
            profile["tier"] = str(value)
        elif key not in _PROFILE_FIELDS:
            ctx.bad(
                (*path, key), f"unknown customer field {key!r}", ", ".join(sorted(_PROFILE_FIELDS))
            )
        elif key in {"arpu", "tenure_months", "credit_score"}:
            number = ctx.num(raw, key, path, 0.0)
            profile[key] = number if key == "arpu" else int(number)
        else:
            profile[key] = value
    try:
        profile = _typed(profile)
        Customer(customer_id="check", **{"tier": tier, **profile})
    except (TypeError, ValueError) as exc:
        ctx.bad(path, f"not a valid customer: {exc}")
        return {}
    return profile


def _typed(profile: dict[str, Any]) -> dict[str, Any]:
    out = dict(profile)
    if "list" in out:
        out["list"] = CustomerList(str(out["list"]))
    if "lifecycle" in out:
        out["lifecycle"] = Lifecycle(str(out["lifecycle"]))
    if "offers" in out:
        offers = out["offers"]
        if not isinstance(offers, list) or not all(isinstance(o, str) for o in offers):
            raise ValueError("offers must be a list of names")
        out["offers"] = tuple(offers)
    for text in ("language", "account_manager"):
        if text in out:
            out[text] = str(out[text])
    return out


def _streams(  # noqa: PLR0917 - the parts of one section
    ctx: Collector,
    raw: Any,
    n: int,
    interval_s: float,
    patience: Mapping[str, Sampler],
    profiles: Mapping[str, dict[str, Any] | None],
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
                stream = Stream(f"{dnis}/{tier}", dnis, tier, rates, patience[tier], profiles[tier])
                out.append(stream)
    return tuple(out)


def _queues(ctx: Collector, raw: Any, n: int) -> tuple[QueueSpec, ...]:
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


def _policy(ctx: Collector, raw: Any, tiers: TierOrder) -> RoutingPolicy:
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


def _check_lanes(ctx: Collector, policy: RoutingPolicy, staffed: set[str]) -> None:
    """Every queue the live policy can route to must be staffed in the scenario."""
    for lane in sorted(set(getattr(policy, "queues", ())) - staffed):
        ctx.bad(("queues",), f"the routing policy can send calls to {lane!r}; staff it here")


def _callback(ctx: Collector, raw: Any) -> CallbackOffer | None:
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
    ctx = Collector(file, {path: line for path, (line, _col) in parsed.marks.items()})
    if not isinstance(data, dict):
        raise ScenarioError([Problem(file, 1, 0, "a scenario must be a YAML mapping")])
    check_keys(ctx, data)
    interval_s = ctx.num(data, "interval_minutes", (), 30.0, lo=0.1) * 60
    n = int(ctx.num(data, "intervals", (), 48.0, lo=1))
    patience, targets, profiles = _tiers(ctx, data.get("tiers"))
    streams = _streams(ctx, data.get("arrivals"), n, interval_s, patience, profiles)
    queues = _queues(ctx, data.get("queues"), n)
    caps = parse_max_occupancy(ctx, data.get("targets"), {q.name for q in queues})
    queues = tuple(replace(q, max_occupancy=caps.get(q.name, 1.0)) for q in queues)
    policy = _policy(ctx, data.get("routing"), TierOrder(tuple(patience) or ("normal",)))
    staffed = {q.name for q in queues}
    _check_lanes(ctx, policy, staffed)
    services = getattr(policy, "services", None) or staffed
    ivr = parse_ivr(ctx, data.get("ivr"), base or FsPath("."), set(services), policy)
    warmup = ctx.num(data, "warmup_minutes", (), 0.0) * 60
    callback = _callback(ctx, data.get("callback"))
    outbound = parse_outbound(ctx, data.get("outbound"), n, staffed, _sampler)
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
            outbound,
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
