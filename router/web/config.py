"""The wallboard's operator file: colour thresholds, alert rules, language.

Validated once at start-up through the same positioned-YAML loader as the
routing file, so a typo is a ``file:line:col`` error before anyone looks at
a wall screen, never a silently missing alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from router.errors import Problem, WebConfigError
from router.yamlpos import Positioned, compose

__all__ = ["METRICS", "AlertRule", "Band", "WallboardConfig", "load_wallboard", "parse_wallboard"]

METRICS = (
    "waiting",
    "longest_wait_s",
    "service_level_15m",
    "service_level_30m",
    "service_level_60m",
    "service_level_today",
    "abandon_rate_15m",
    "abandon_rate_30m",
    "abandon_rate_60m",
    "abandon_rate_today",
    "agents_logged_in",
    "agents_free",
)
"""What a threshold or an alert may watch (per queue, or per tier)."""

Metric = Literal[
    "waiting",
    "longest_wait_s",
    "service_level_15m",
    "service_level_30m",
    "service_level_60m",
    "service_level_today",
    "abandon_rate_15m",
    "abandon_rate_30m",
    "abandon_rate_60m",
    "abandon_rate_today",
    "agents_logged_in",
    "agents_free",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Band(_Frozen):
    """Colour bands of one figure: ``warn`` turns it amber, ``bad`` red.

    ``higher_is_better`` says which way the figure improves (service level:
    yes; waiting time: no), so bands read the same way for both.
    """

    warn: float
    bad: float
    higher_is_better: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if self.higher_is_better and self.bad > self.warn:
            raise ValueError("with higher_is_better, bad must be at most warn")
        if not self.higher_is_better and self.bad < self.warn:
            raise ValueError("bad must be at least warn")
        return self

    def colour(self, value: float) -> str:
        """``ok``, ``warn`` or ``bad`` for the page's CSS class."""
        sign = -1.0 if self.higher_is_better else 1.0
        if sign * value >= sign * self.bad:
            return "bad"
        return "warn" if sign * value >= sign * self.warn else "ok"


class AlertRule(_Frozen):
    """Raise when ``metric`` crosses ``raise_at``; clear only past ``clear_at``.

    The gap between the two is the hysteresis that keeps a figure hovering
    at the threshold from paging a supervisor every second.
    """

    name: str = Field(min_length=1, max_length=80)
    metric: Metric
    queue: str | None = None
    tier: str | None = None
    above: float | None = None
    below: float | None = None
    clear_at: float
    for_s: float = Field(default=0.0, ge=0.0, le=3600.0)

    @model_validator(mode="after")
    def _shape(self) -> AlertRule:
        if (self.queue is None) == (self.tier is None):
            raise ValueError("give exactly one of queue or tier")
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of above or below")
        if self.above is not None and self.clear_at > self.above:
            raise ValueError("clear_at must be at most 'above' (hysteresis)")
        if self.below is not None and self.clear_at < self.below:
            raise ValueError("clear_at must be at least 'below' (hysteresis)")
        return self

    @property
    def scope(self) -> tuple[str, str]:
        return ("queue", self.queue) if self.queue is not None else ("tier", self.tier or "")


class WallboardConfig(_Frozen):
    """Everything the wallboard, its alerts and the local-time views need."""

    timezone: str = "Asia/Shanghai"
    language: Literal["auto", "zh", "en"] = "auto"
    service_level_s: float = Field(default=20.0, gt=0.0, le=3600.0)
    push_interval_s: float = Field(default=0.5, ge=0.2, le=10.0)
    stale_after_s: float = Field(default=10.0, gt=0.0, le=3600.0)
    bands: Mapping[Metric, Band] = Field(default_factory=dict)
    alerts: tuple[AlertRule, ...] = Field(default=(), strict=False)  # YAML lists
    webhook: str | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
        return value

    @field_validator("webhook")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("webhook must be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _unique(self) -> WallboardConfig:
        names = [a.name for a in self.alerts]
        if len(names) != len(set(names)):
            raise ValueError("alert names must be unique")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _problems(doc: Positioned, exc: ValidationError) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        name = ".".join(str(p) for p in loc) or "file"
        out.append(doc.problem(loc, f"{name}: {err['msg']}"))
    return out


def parse_wallboard(text: str, file: str = "<wallboard>") -> WallboardConfig:
    """Validate wallboard YAML; every problem is raised at once with its position."""
    doc = compose(text, file)
    if doc.problems:
        raise WebConfigError(doc.problems)
    if not isinstance(doc.data, Mapping):
        raise WebConfigError([doc.problem((), "the file must be a mapping of settings")])
    try:
        return WallboardConfig.model_validate(dict(doc.data))
    except ValidationError as exc:
        raise WebConfigError(_problems(doc, exc)) from None


def load_wallboard(path: str | Path | None) -> WallboardConfig:
    """The file's settings, or the defaults when no file is configured."""
    if path is None:
        return WallboardConfig()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WebConfigError([Problem(str(p), 0, 0, f"cannot read: {exc}")]) from None
    return parse_wallboard(text, str(p))
