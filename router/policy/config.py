"""The routing policy file, as frozen objects checked once at load.

Everything the live router, the simulator and ``tierline asterisk-conf``
need about lanes comes from this one file, so the dialplan's queues and the
policy's queues cannot drift apart. Shapes are checked by pydantic; the
cross-references (a lane naming a queue that does not exist, priorities that
would let a lower tier outrank a higher one) are checked in
:mod:`router.policy.checks`. Every problem is reported with its line.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from router.customers.model import TierOrder
from router.errors import Problem, RoutingConfigError
from router.policy.checks import DEFAULT_LANE, check
from router.yamlpos import Positioned, compose, pydantic_problems

__all__ = [
    "DEFAULT_LANE",
    "AgingConf",
    "AtRiskConf",
    "BlackListConf",
    "OverflowRule",
    "QueueConf",
    "RedListConf",
    "RoutingConfig",
    "ServiceConf",
    "load_routing",
    "parse_routing",
    "parse_routing_data",
]

# Asterisk queue names become queues.conf section names and dialplan
# arguments: keep them to characters that need no quoting anywhere.
QueueName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
ServiceName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Strategy = Literal[
    "ringall", "leastrecent", "fewestcalls", "random", "rrmemory", "rrordered", "linear", "wrandom"
]
EmptyRule = Annotated[
    str,
    StringConstraints(
        pattern=r"^(yes|no|strict|loose|((paused|penalty|inuse|ringing|unavailable|invalid"
        r"|unknown|wrapup),?)+)$"
    ),
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


class QueueConf(_Frozen):
    """One Asterisk queue (a lane): what queues.conf needs, plus the dialplan timeout."""

    description: str = ""
    strategy: Strategy = "rrmemory"
    timeout: int = Field(15, ge=1, le=600)
    retry: int = Field(5, ge=0, le=600)
    weight: int = Field(0, ge=0, le=1000)
    wrapuptime: int = Field(0, ge=0, le=3600)
    maxlen: int = Field(0, ge=0)
    servicelevel: int = Field(20, ge=0, le=3600)
    ringinuse: bool = False
    musicclass: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]+$")] | None = None
    joinempty: EmptyRule | None = None
    leavewhenempty: EmptyRule | None = None
    max_wait_s: int = Field(0, ge=0, le=86_400)


class ServiceConf(_Frozen):
    """Which queue serves each tier; ``default`` covers tiers not listed."""

    lanes: dict[str, QueueName]
    description: str = ""


class RedListConf(_Frozen):
    queue: QueueName
    priority: int = Field(ge=0)


class BlackListConf(_Frozen):
    service: ServiceName
    priority: int = Field(0, ge=0)


class AtRiskConf(_Frozen):
    """``at_risk`` customers go to ``service``; ``applies_to`` empty means every service."""

    service: ServiceName
    applies_to: tuple[ServiceName, ...] = ()


class OverflowRule(_Frozen):
    """Leave ``from_queue`` for the first open ``to`` queue when a threshold is passed.

    ``ewt_over_s`` / ``waiting_over`` are strict thresholds (None = not used);
    ``when_closed`` also overflows when the source queue is closed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    from_queue: QueueName = Field(alias="from")
    to: tuple[QueueName, ...] = Field(min_length=1)
    ewt_over_s: float | None = Field(None, ge=0)
    waiting_over: int | None = Field(None, ge=0)
    when_closed: bool = True
    priority_boost: int = Field(0, ge=0)


class AgingConf(_Frozen):
    """Starvation guard: every tier reaches ``top_priority`` by its wait cap."""

    top_priority: int = Field(ge=1)
    wait_cap_s: dict[str, float]
    interval_s: float = Field(5.0, gt=0, le=300)
    min_step: int = Field(1, ge=1)


class RoutingConfig(_Frozen):
    """A whole routing policy file, valid by construction once loaded."""

    version: Literal[1] = 1
    tiers: tuple[str, ...] = ("vip", "high", "mid", "normal")
    default_queue: QueueName
    priorities: dict[str, int]
    red_list: RedListConf
    black_list: BlackListConf
    at_risk: AtRiskConf
    aging: AgingConf
    queues: dict[QueueName, QueueConf] = Field(min_length=1)
    services: dict[ServiceName, ServiceConf] = Field(min_length=1)
    overflow: tuple[OverflowRule, ...] = ()

    @property
    def tier_order(self) -> TierOrder:
        return TierOrder(self.tiers)

    @property
    def service_names(self) -> frozenset[str]:
        """What flows may ask for (their static checks use it)."""
        return frozenset(self.services)

    @property
    def queue_names(self) -> frozenset[str]:
        return frozenset(self.queues)

    def lane(self, service: str, tier: str) -> str:
        """The queue of ``service`` for ``tier`` (its default lane when not listed)."""
        lanes = self.services[service].lanes
        return lanes.get(tier) or lanes[DEFAULT_LANE]


def _normalise(data: object) -> object:
    """Accept ``service: queue`` as shorthand for ``service: {lanes: {default: queue}}``."""
    if isinstance(data, dict) and isinstance(data.get("services"), dict):
        services = {
            k: {"lanes": {DEFAULT_LANE: v}} if isinstance(v, str) else v
            for k, v in data["services"].items()
        }
        data = {**data, "services": services}
    return data


def parse_routing_data(doc: Positioned) -> RoutingConfig:
    """Validate already-parsed data; raises RoutingConfigError with every problem."""
    if doc.problems:
        raise RoutingConfigError(doc.problems)
    if not isinstance(doc.data, Mapping):
        raise RoutingConfigError([doc.problem((), "the file must be a mapping of settings")])
    try:
        config = RoutingConfig.model_validate(_normalise(dict(doc.data)))
    except ValidationError as exc:
        raise RoutingConfigError(pydantic_problems(doc, exc)) from None
    problems = check(config, doc)
    if problems:
        raise RoutingConfigError(problems)
    return config


def parse_routing(text: str, file: str = "<routing>") -> RoutingConfig:
    """Parse routing YAML text; ``file`` is only used in problem positions."""
    return parse_routing_data(compose(text, file))


def load_routing(path: str | Path) -> RoutingConfig:
    """Load and validate a routing file; raises RoutingConfigError (with lines)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RoutingConfigError([Problem(str(path), 0, 0, f"cannot read: {exc}")]) from None
    return parse_routing(text, str(path))
