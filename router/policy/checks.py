"""Cross-reference checks on a shape-valid routing config.

pydantic proves each value has the right shape; these checks prove the
values agree with each other, which is what makes the run-time policy
total: every lane names a real queue, every tier has a priority and a wait
cap, and a higher tier can never be given a lower priority than a lower
tier. Each check yields located problems; all of them are reported at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from typing import TYPE_CHECKING

from router.errors import Problem
from router.yamlpos import Positioned

if TYPE_CHECKING:
    from router.policy.config import RoutingConfig

__all__ = ["DEFAULT_LANE", "RESERVED_QUEUES", "check"]

DEFAULT_LANE = "default"
# queues.conf sections that are not queues.
RESERVED_QUEUES = frozenset({"general"})


def check(config: RoutingConfig, doc: Positioned) -> list[Problem]:
    """Every cross-reference problem in ``config``, located in ``doc``."""
    problems: list[Problem] = []
    for rule in (_tiers, _priorities, _aging, _queues, _services, _lists, _overflow):
        problems.extend(rule(config, doc))
    return problems


def _tiers(config: RoutingConfig, doc: Positioned) -> Iterator[Problem]:
    if not config.tiers or len(set(config.tiers)) != len(config.tiers):
        yield doc.problem(("tiers",), "tiers must be a non-empty list of distinct names")
    if DEFAULT_LANE in config.tiers:
        yield doc.problem(("tiers",), f"'{DEFAULT_LANE}' is reserved for a service's default lane")


def _covers_tiers(
    config: RoutingConfig, doc: Positioned, section: tuple[str, ...], keys: set[str]
) -> Iterator[Problem]:
    for tier in config.tiers:
        if tier not in keys:
            yield doc.problem(section, f"{'.'.join(section)}: no value for tier '{tier}'")
    for key in sorted(keys - set(config.tiers)):
        yield doc.problem((*section, key), f"unknown tier '{key}'", _tier_hint(config))


def _tier_hint(config: RoutingConfig) -> str:
    return "tiers are: " + ", ".join(config.tiers)


def _priorities(config: RoutingConfig, doc: Positioned) -> Iterator[Problem]:
    yield from _covers_tiers(config, doc, ("priorities",), set(config.priorities))
    known = [t for t in config.tiers if t in config.priorities]
    for higher, lower in pairwise(known):
        if config.priorities[higher] <= config.priorities[lower]:
            yield doc.problem(
                ("priorities", lower),
                f"priority of '{lower}' must be below that of '{higher}'",
                "QUEUE_PRIO: a higher number is served first, so higher tiers need higher numbers",
            )
    for tier, value in config.priorities.items():
        if value < 0:
            yield doc.problem(("priorities", tier), "priorities must be 0 or more")


def _aging(config: RoutingConfig, doc: Positioned) -> Iterator[Problem]:
    aging = config.aging
    yield from _covers_tiers(config, doc, ("aging", "wait_cap_s"), set(aging.wait_cap_s))
    for tier, cap in aging.wait_cap_s.items():
        if cap <= 0:
            yield doc.problem(("aging", "wait_cap_s", tier), "a wait cap must be above 0 s")
    if config.priorities and aging.top_priority <= max(config.priorities.values()):
        yield doc.problem(
            ("aging", "top_priority"),
            "top_priority must be above every tier's priority",
            "a caller at its wait cap must outrank every fresh caller",
        )


def _queues(config: RoutingConfig, doc: Positioned) -> Iterator[Problem]:
    for name in config.queues:
        if name.lower() in RESERVED_QUEUES:
            yield doc.problem(("queues", name), f"'{name}' is a reserved queues.conf section")
    yield from _queue_ref(config, doc, ("default_queue",), config.default_queue)


def _queue_ref(
    config: RoutingConfig, doc: Positioned, path: tuple[str | int, ...], name: str
) -> Iterator[Problem]:
    if name not in config.queues:
        yield doc.problem(
            path, f"unknown queue '{name}'", "queues are: " + ", ".join(config.queues)
        )


def _service_ref(
    config: RoutingConfig, doc: Positioned, path: tuple[str | int, ...], name: str
) -> Iterator[Problem]:
    if name not in config.services:
        hint = "services are: " + ", ".join(config.services)
        yield doc.problem(path, f"unknown service '{name}'", hint)


def _services(config: RoutingConfig, doc: Positioned) -> Iterator[Problem]:
    for service, conf in config.services.items():
        base = ("services", service, "lanes")
        for lane, queue in conf.lanes.items():
            if lane != DEFAULT_LANE and lane not in config.tiers:
                yield doc.problem((*base, lane), f"unknown tier '{lane}'", _tier_hint(config))
            yield from _queue_ref(config, doc, (*base, lane), queue)
        missing = [t for t in config.tiers if t not in conf.lanes]
        if missing and DEFAULT_LANE not in conf.lanes:
            yield doc.problem(
                base, f"service '{service}' has no lane for {', '.join(missing)}", "add 'default:'"
            )


def _lists(config: RoutingConfig, doc: Positioned) -> Iterator[Problem]:
    yield from _queue_ref(config, doc, ("red_list", "queue"), config.red_list.queue)
    yield from _service_ref(config, doc, ("black_list", "service"), config.black_list.service)
    yield from _service_ref(config, doc, ("at_risk", "service"), config.at_risk.service)
    for i, name in enumerate(config.at_risk.applies_to):
        yield from _service_ref(config, doc, ("at_risk", "applies_to", i), name)


def _overflow(config: RoutingConfig, doc: Positioned) -> Iterator[Problem]:
    for i, rule in enumerate(config.overflow):
        base: tuple[str | int, ...] = ("overflow", i)
        yield from _queue_ref(config, doc, (*base, "from"), rule.from_queue)
        for j, target in enumerate(rule.to):
            yield from _queue_ref(config, doc, (*base, "to", j), target)
            if target == rule.from_queue:
                yield doc.problem((*base, "to", j), "a queue cannot overflow to itself")
        if rule.ewt_over_s is None and rule.waiting_over is None and not rule.when_closed:
            yield doc.problem(base, "the rule can never fire", "set ewt_over_s or waiting_over")
