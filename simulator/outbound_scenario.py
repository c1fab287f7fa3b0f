"""The ``outbound:`` section of a scenario, read with the live dialer's own schema.

A campaign's kind, lane, hours, retries, attempts and priority, the
callbacks' hours and priorities, and each lane's pacing (guards, forecast)
are validated by the very models that read ``dialer.yaml``
(:mod:`router.dialer.config`), so one block can be copied between the two
files and mean the same thing. The simulator adds only what it must invent:
how many contacts there are and how the called customers behave. Problems
are located (``file:line``) like every other scenario problem; unknown keys
were already reported by :mod:`simulator.scenario_keys`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from router.dialer.config import build_callback_campaign, build_campaign, build_pacing
from router.dialer.model import Campaign
from router.dialer.pacing import LanePacing
from router.yamlpos import Path
from simulator.distributions import Sampler
from simulator.outbound import Customers, Outbound, SimCallbacks, SimCampaign
from simulator.problems import Collector

__all__ = ["SIM_CAMPAIGN_KEYS", "parse_outbound"]

SamplerParser = Callable[[Collector, Any, Path], Sampler]

SIM_CAMPAIGN_KEYS = frozenset({"list_size", "contacts", "customers"})
_SIM_CALLBACK_KEYS = frozenset({"uptake", "delay_s", "customers"})


def _pydantic(ctx: Collector, path: Path, exc: ValidationError) -> None:
    for err in exc.errors():
        if err["type"] == "extra_forbidden":
            continue  # scenario_keys reported it, with a suggestion
        loc = tuple(str(p) if isinstance(p, str) else p for p in err["loc"])
        ctx.bad((*path, *loc), err["msg"])


def _local(campaign: Campaign) -> Campaign:
    """The simulated clock is the hours' local time: expiry as a naive local moment."""
    if campaign.expires_at is None or campaign.expires_at.tzinfo is None:
        return campaign
    zone = ZoneInfo(campaign.hours.timezone)
    return replace(campaign, expires_at=campaign.expires_at.astimezone(zone).replace(tzinfo=None))


def _customers(ctx: Collector, raw: Any, path: Path, sampler: SamplerParser) -> Customers:
    if raw is None:
        return Customers()
    if not isinstance(raw, dict):
        ctx.bad(path, "must be a mapping of how the called customers behave")
        return Customers()
    d = Customers()
    answer = ctx.num(raw, "answer", path, d.answer, hi=1.0)
    busy = ctx.num(raw, "busy", path, d.busy, hi=1.0)
    if answer + busy > 1:
        ctx.bad((*path, "busy"), "answer + busy must be at most 1")
    return Customers(
        answer=answer,
        busy=busy,
        right_party=ctx.num(raw, "right_party", path, d.right_party, hi=1.0),
        ring=sampler(ctx, raw["ring"], (*path, "ring")) if "ring" in raw else d.ring,
        talk=sampler(ctx, raw["talk"], (*path, "talk")) if "talk" in raw else d.talk,
        wrong_party_s=ctx.num(raw, "wrong_party_s", path, d.wrong_party_s),
        wrap_s=ctx.num(raw, "wrap_s", path, d.wrap_s),
        no_answer_s=ctx.num(raw, "no_answer_s", path, d.no_answer_s),
        busy_s=ctx.num(raw, "busy_s", path, d.busy_s),
    )


def _contacts(ctx: Collector, raw: Mapping[str, Any], n: int, path: Path) -> tuple[int, ...]:
    """``list_size`` (all due at the start) or ``contacts`` (new ones per interval)."""
    if ("list_size" in raw) == ("contacts" in raw):
        ctx.bad(path, "give exactly one of list_size (due at the start) or contacts (per interval)")
        return (0,) * n
    if "list_size" in raw:
        size = ctx.num(raw, "list_size", path, 0.0, hi=10_000_000)
        return (int(size),) + (0,) * (n - 1)
    value = raw["contacts"]
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value] * n
    if (
        not isinstance(value, list)
        or len(value) != n
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
    ):
        ctx.bad((*path, "contacts"), f"must be one whole number or a list of {n}")
        return (0,) * n
    return tuple(value)


def _campaign(  # noqa: PLR0917 - the parts one campaign is checked against
    ctx: Collector, name: str, raw: Any, n: int, lanes: set[str], sampler: SamplerParser
) -> SimCampaign | None:
    path: Path = ("outbound", "campaigns", name)
    if not isinstance(raw, dict):
        ctx.bad(path, "must be a campaign mapping (kind, lane, hours, ..., list_size)")
        return None
    body = {k: v for k, v in raw.items() if k not in SIM_CAMPAIGN_KEYS}
    try:
        campaign = _local(build_campaign(name, body))
    except ValidationError as exc:
        _pydantic(ctx, path, exc)
        return None
    if campaign.lane not in lanes:
        ctx.bad((*path, "lane"), f"lane {campaign.lane!r} is not a queue of this scenario")
    customers = _customers(ctx, raw.get("customers"), (*path, "customers"), sampler)
    return SimCampaign(campaign, customers, _contacts(ctx, raw, n, path))


def _callbacks(
    ctx: Collector, raw: Any, lanes: set[str], sampler: SamplerParser
) -> SimCallbacks | None:
    path: Path = ("outbound", "callbacks")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        ctx.bad(path, "must be a mapping (lane, hours, retry, priorities, uptake, ...)")
        return None
    try:
        campaign, priorities = build_callback_campaign(
            {k: v for k, v in raw.items() if k not in _SIM_CALLBACK_KEYS}
        )
    except ValidationError as exc:
        _pydantic(ctx, path, exc)
        return None
    if campaign.lane not in lanes:
        ctx.bad((*path, "lane"), f"lane {campaign.lane!r} is not a queue of this scenario")
    return SimCallbacks(
        _local(campaign),
        _customers(ctx, raw.get("customers"), (*path, "customers"), sampler),
        ctx.num(raw, "uptake", path, 1.0, hi=1.0),
        priorities,
        ctx.num(raw, "delay_s", path, 0.0),
    )


def _pacing(ctx: Collector, lane: str, raw: Any, n: int, lanes: set[str]) -> tuple[LanePacing, ...]:
    """One LanePacing per interval: a forecast's ``calls_per_hour`` may be a list of ``n``."""
    path: Path = ("outbound", "pacing", lane)
    if not isinstance(raw, dict):
        ctx.bad(path, "must be {guards: [...], forecast: {...}}")
        return ()
    forecast = raw.get("forecast")
    rates = forecast.get("calls_per_hour") if isinstance(forecast, dict) else None
    per: list[Any] = [rates]
    if isinstance(rates, list):
        if len(rates) != n:
            ctx.bad((*path, "forecast", "calls_per_hour"), f"must be one number or a list of {n}")
            return ()
        per = rates
    out: list[LanePacing] = []
    for rate in per:
        entry = dict(raw)
        if isinstance(forecast, dict):
            entry["forecast"] = {**forecast, "calls_per_hour": rate}
        try:
            out.append(build_pacing(lane, entry))
        except ValidationError as exc:
            _pydantic(ctx, path, exc)
            return ()
    for i, guard in enumerate(out[0].guards if out else ()):
        if guard.queue not in lanes:
            ctx.bad(
                (*path, "guards", i, "queue"), f"{guard.queue!r} is not a queue of this scenario"
            )
    return tuple(out)


def parse_outbound(
    ctx: Collector, raw: Any, n: int, lanes: set[str], sampler: SamplerParser
) -> Outbound | None:
    """The scenario's outbound work, or None when it has none."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        ctx.bad(("outbound",), "must be a mapping with campaigns, callbacks and pacing")
        return None
    camps = raw.get("campaigns") or {}
    if not isinstance(camps, dict):
        ctx.bad(("outbound", "campaigns"), "must map campaign names to campaigns")
        camps = {}
    campaigns = [_campaign(ctx, str(k), v, n, lanes, sampler) for k, v in camps.items()]
    pacing_raw = raw.get("pacing") or {}
    if not isinstance(pacing_raw, dict):
        ctx.bad(("outbound", "pacing"), "must map lanes to {guards, forecast}")
        pacing_raw = {}
    for lane in pacing_raw:
        if lane not in lanes:
            ctx.bad(("outbound", "pacing", lane), f"{lane!r} is not a queue of this scenario")
    return Outbound(
        campaigns=tuple(c for c in campaigns if c is not None),
        callbacks=_callbacks(ctx, raw.get("callbacks"), lanes, sampler),
        pacing={str(k): _pacing(ctx, str(k), v, n, lanes) for k, v in pacing_raw.items()},
        tick_s=ctx.num(raw, "tick_s", ("outbound",), 5.0, lo=0.05, hi=60.0),
        queue_timeout_s=ctx.num(raw, "queue_timeout_s", ("outbound",), 30.0, lo=1.0),
    )
