"""The dialer's configuration file (campaigns, callbacks, limits, pacing).

Read once, validated whole (unknown keys are errors, every problem with
``file:line:col``), then turned into frozen core objects. Calling hours use
the flows' ``BusinessHours`` and holiday calendars, so a campaign and an
IVR flow agree on what "open" means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from router.dialer.model import (
    CALLBACK_CAMPAIGN,
    Campaign,
    CampaignKind,
    DialMode,
    DialResult,
    RetryRule,
)
from router.dialer.originate import DialPlan
from router.dialer.pacing import Forecast, InboundGuard, LanePacing
from router.dialer.rules import ContactLimits
from router.errors import CampaignDataError, Problem
from router.flows.hours import BusinessHours, known_calendar, weekly_from
from router.yamlpos import compose

__all__ = [
    "DialerConfig",
    "build_callback_campaign",
    "build_campaign",
    "build_pacing",
    "load_config",
    "parse_config",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Hours(_Strict):
    timezone: str = "UTC"
    weekly: dict[str, str] = Field(default_factory=lambda: {"mon-fri": "09:00-20:00"})
    holidays: str = ""
    closed: list[date] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v

    @field_validator("holidays")
    @classmethod
    def _calendar(cls, v: str) -> str:
        if v and not known_calendar(v):
            raise ValueError(f"unknown holiday calendar {v!r}")
        return v

    @field_validator("weekly")
    @classmethod
    def _weekly(cls, v: dict[str, str]) -> dict[str, str]:
        weekly_from(v)  # raises ValueError with an operator's message
        return v

    def build(self, name: str) -> BusinessHours:
        return BusinessHours(
            name, self.timezone, weekly_from(self.weekly), self.holidays, frozenset(self.closed)
        )


class _Retry(_Strict):
    count: int = Field(ge=0, le=20)
    gap_minutes: float = Field(gt=0, le=60 * 24 * 14)


_RETRY_KEYS = Literal["busy", "no_answer", "congestion", "failed", "unknown"]


class _CampaignBody(_Strict):
    kind: CampaignKind
    lane: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    hours: _Hours = Field(default_factory=_Hours)
    retry: dict[_RETRY_KEYS, _Retry] = Field(default_factory=dict)
    max_attempts: int = Field(default=3, ge=1, le=50)
    expires: datetime | None = None
    mode: DialMode = DialMode.PROGRESSIVE
    caller_id: str = Field(default="", max_length=80, pattern=r"^[^\x00-\x1f]*$")
    priority: int = Field(default=0, ge=0, le=9)

    def build(self, name: str) -> Campaign:
        expires = self.expires
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=ZoneInfo(self.hours.timezone))
        return Campaign(
            name=name,
            kind=self.kind,
            lane=self.lane,
            hours=self.hours.build(name),
            retry={
                DialResult(k): RetryRule(r.count, int(r.gap_minutes * 60))
                for k, r in self.retry.items()
            },
            max_attempts=self.max_attempts,
            expires_at=expires,
            mode=self.mode,
            caller_id=self.caller_id,
            priority=self.priority,
        )


class _Callbacks(_Strict):
    lane: str = "support"
    lanes: dict[str, str] = Field(default_factory=dict)  # service -> lane
    hours: _Hours = Field(default_factory=_Hours)
    retry: dict[_RETRY_KEYS, _Retry] = Field(
        default_factory=lambda: {  # type: ignore[arg-type]
            "busy": _Retry(count=3, gap_minutes=10),
            "no_answer": _Retry(count=3, gap_minutes=30),
            "congestion": _Retry(count=3, gap_minutes=5),
            "failed": _Retry(count=1, gap_minutes=60),
            "unknown": _Retry(count=1, gap_minutes=30),
        }
    )
    max_attempts: int = Field(default=5, ge=1, le=50)
    priorities: dict[str, int] = Field(
        default_factory=lambda: {"red": 9, "vip": 8, "high": 6, "mid": 4, "normal": 2}
    )


class _Limits(_Strict):
    per_day: int = Field(default=1, ge=1)
    marketing_max: int = Field(default=1, ge=1)
    marketing_window_days: float = Field(default=7, gt=0)
    campaign_attempts: int = Field(default=3, ge=1)
    manager_lanes: dict[str, str] = Field(default_factory=dict)


class _Guard(_Strict):
    queue: str
    max_waiting: int = Field(default=0, ge=0)
    max_longest_wait_s: float = Field(default=15, ge=0)
    max_ewt_s: float = Field(default=20, ge=0)


class _Forecast(_Strict):
    calls_per_hour: float = Field(ge=0)
    aht_s: float = Field(gt=0)
    target_sl: float = Field(default=0.8, gt=0, lt=1)
    answer_within_s: float = Field(default=20, gt=0)


class _Pacing(_Strict):
    guards: list[_Guard] = Field(default_factory=list)
    forecast: _Forecast | None = None


class _Dial(_Strict):
    customer_channel: str = Field(
        default="Local/{number}@tierline-dial", pattern=r"^[^\x00-\x1f,]*\{number\}[^\x00-\x1f,]*$"
    )
    timeout_s: float = Field(default=30, gt=0, le=120)
    caller_id: str = Field(default="Tierline <4000>", max_length=80, pattern=r"^[^\x00-\x1f]*$")


class _File(_Strict):
    limits: _Limits = Field(default_factory=_Limits)
    dial: _Dial = Field(default_factory=_Dial)
    callbacks: _Callbacks = Field(default_factory=_Callbacks)
    pacing: dict[str, _Pacing] = Field(default_factory=dict)
    campaigns: dict[str, _CampaignBody] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DialerConfig:
    """Everything the dialer decides with, frozen."""

    campaigns: Mapping[str, Campaign]
    limits: ContactLimits = field(default_factory=ContactLimits)
    plan: DialPlan = field(default_factory=DialPlan)
    pacing: Mapping[str, LanePacing] = field(default_factory=dict)
    callback_lanes: Mapping[str, str] = field(default_factory=dict)
    callback_priorities: Mapping[str, int] = field(default_factory=dict)

    def lanes(self) -> dict[str, str]:
        return {name: c.lane for name, c in self.campaigns.items()}

    def all_lanes(self) -> set[str]:
        """Every lane the dialer may place calls on (campaigns and callbacks)."""
        return {c.lane for c in self.campaigns.values()} | set(self.callback_lanes.values())

    def pacing_for(self, lane: str) -> LanePacing:
        return self.pacing.get(lane) or LanePacing(lane)


def _callback_campaign(cb: _Callbacks) -> Campaign:
    body = _CampaignBody(
        kind=CampaignKind.CALLBACK,
        lane=cb.lane,
        hours=cb.hours,
        retry=cb.retry,
        max_attempts=cb.max_attempts,
        priority=0,
    )
    return body.build(CALLBACK_CAMPAIGN)


def _lane_pacing(lane: str, p: _Pacing) -> LanePacing:
    return LanePacing(
        lane,
        tuple(InboundGuard(**g.model_dump()) for g in p.guards),
        Forecast(**p.forecast.model_dump()) if p.forecast else None,
    )


# The simulator reads the same sections with the same schema, so a campaign,
# its callbacks and its pacing mean one thing in dialer.yaml and in a scenario.
def build_campaign(name: str, raw: object) -> Campaign:
    """One ``campaigns:`` entry; raises pydantic ``ValidationError`` (with ``loc``)."""
    return _CampaignBody.model_validate(raw).build(name)


def build_callback_campaign(raw: object) -> tuple[Campaign, dict[str, int]]:
    """The ``callbacks:`` section: the built-in campaign and the priority per tier."""
    cb = _Callbacks.model_validate(raw)
    return _callback_campaign(cb), dict(cb.priorities)


def build_pacing(lane: str, raw: object) -> LanePacing:
    """One ``pacing:`` entry (guards and forecast) for ``lane``."""
    return _lane_pacing(lane, _Pacing.model_validate(raw))


def _build(f: _File) -> DialerConfig:
    campaigns = {name: body.build(name) for name, body in f.campaigns.items()}
    campaigns[CALLBACK_CAMPAIGN] = _callback_campaign(f.callbacks)
    lim = f.limits
    limits = ContactLimits(
        per_day=lim.per_day,
        marketing_max=lim.marketing_max,
        marketing_window_s=int(lim.marketing_window_days * 86400),
        campaign_attempts=lim.campaign_attempts,
        manager_lanes=dict(lim.manager_lanes),
    )
    plan = DialPlan(
        customer_channel=f.dial.customer_channel,
        timeout_ms=int(f.dial.timeout_s * 1000),
        caller_id=f.dial.caller_id,
    )
    pacing = {lane: _lane_pacing(lane, p) for lane, p in f.pacing.items()}
    return DialerConfig(
        campaigns, limits, plan, pacing, dict(f.callbacks.lanes), dict(f.callbacks.priorities)
    )


def parse_config(text: str, file: str) -> DialerConfig:
    """Validate ``text``; raises CampaignDataError listing every problem."""
    doc = compose(text, file)
    if doc.problems:
        raise CampaignDataError(doc.problems)
    if CALLBACK_CAMPAIGN in (
        (doc.data or {}).get("campaigns") or {} if isinstance(doc.data, dict) else {}
    ):
        raise CampaignDataError(
            [
                doc.problem(
                    ("campaigns", CALLBACK_CAMPAIGN),
                    f"{CALLBACK_CAMPAIGN!r} is reserved for callback requests",
                )
            ]
        )
    try:
        return _build(_File.model_validate(doc.data))
    except ValidationError as exc:
        problems = [
            doc.problem(tuple(err["loc"]), f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}")
            for err in exc.errors()
        ]
        raise CampaignDataError(problems) from None


def load_config(path: Path) -> DialerConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CampaignDataError(
            [Problem(str(path), 0, 0, f"cannot read: {exc.strerror}")]
        ) from None
    return parse_config(text, str(path))
