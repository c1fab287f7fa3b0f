"""The tiered routing policy: (service, customer, call, live queues) -> decision.

Pure and cheap: everything that can be worked out from the config alone
(each service's lane and priority per tier, the red / black / at-risk
decisions) is built into lookup tables in the constructor, so a call costs a
few dict lookups plus, only for a queue that has overflow rules or is
closed, a look at its live snapshot.

Precedence: black list > red list > ``at_risk`` (for the services it applies
to) > the service's tier lane > the default queue for an unknown service.
Then overflow: a queue past a rule's threshold (or closed) sends the call to
the rule's first *open* target, one hop, never further. A closed queue with
no open target falls back to the default queue if that is open, else stays.

Priorities live in tier bands: a tier's band runs from its priority up to
just below the next higher tier's, and an overflow boost is clipped to the
band, so a higher tier is never given a lower priority than a lower tier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from router.customers.model import Customer, CustomerList, Lifecycle
from router.policy.aging import StarvationGuard
from router.policy.config import OverflowRule, RoutingConfig, load_routing
from router.types import CallInfo, QueueSnapshot, RouteDecision

__all__ = ["TieredPolicy", "load_policy"]


@dataclass(frozen=True, slots=True)
class _Entry:
    """A precomputed decision and the highest priority an overflow may give it."""

    decision: RouteDecision
    ceiling: int


class TieredPolicy:
    """Implements ``router.types.RoutingPolicy`` from a loaded RoutingConfig."""

    def __init__(self, config: RoutingConfig) -> None:
        self.config = config
        self.tiers = config.tier_order
        self.services: frozenset[str] = config.service_names
        self.queues: frozenset[str] = config.queue_names
        self._max_wait = {name: q.max_wait_s for name, q in config.queues.items()}
        self.default_queue = config.default_queue
        self.guard = StarvationGuard(
            config.aging.top_priority,
            config.aging.wait_cap_s,
            self.tiers.lowest,
            config.aging.interval_s,
            config.aging.min_step,
        )
        self._rank = {t: i for i, t in enumerate(config.tiers)}
        self._lowest = len(config.tiers) - 1
        self._lanes = {s: self._tier_entries(s, "tier_lane") for s in config.services}
        self._unknown = self._default_entries()
        self._at_risk = self._tier_entries(config.at_risk.service, "at_risk")
        self._at_risk_for = frozenset(config.at_risk.applies_to or config.services)
        self._red = self._fixed(config.red_list.queue, config.red_list.priority, "red_list")
        black = config.lane(config.black_list.service, self.tiers.lowest)
        self._black = self._fixed(black, config.black_list.priority, "black_list")
        self._rules: dict[str, tuple[OverflowRule, ...]] = {}
        for rule in config.overflow:
            self._rules[rule.from_queue] = (*self._rules.get(rule.from_queue, ()), rule)

    # -- construction ---------------------------------------------------
    def _ceiling(self, rank: int) -> int:
        cfg = self.config
        if rank == 0:
            return cfg.aging.top_priority - 1
        return cfg.priorities[cfg.tiers[rank - 1]] - 1

    def _entry(self, queue: str, priority: int, reason: str, ceiling: int) -> _Entry:
        return _Entry(RouteDecision(queue, priority, reason, self._max_wait[queue]), ceiling)

    def _tier_entries(self, service: str, reason: str) -> tuple[_Entry, ...]:
        cfg = self.config
        return tuple(
            self._entry(cfg.lane(service, t), cfg.priorities[t], reason, self._ceiling(i))
            for i, t in enumerate(cfg.tiers)
        )

    def _default_entries(self) -> tuple[_Entry, ...]:
        cfg = self.config
        return tuple(
            self._entry(cfg.default_queue, cfg.priorities[t], "unknown_service", self._ceiling(i))
            for i, t in enumerate(cfg.tiers)
        )

    def _fixed(self, queue: str, priority: int, reason: str) -> tuple[_Entry, ...]:
        return (self._entry(queue, priority, reason, priority),) * len(self.config.tiers)

    # -- the decision -----------------------------------------------------
    def decide(
        self,
        service: str,
        customer: Customer | None,
        call: CallInfo,
        queues: Mapping[str, QueueSnapshot],
    ) -> RouteDecision:
        """Pick lane and priority for a call asking for ``service`` (pure)."""
        if customer is None:
            rank = self._lowest
            table = self._lanes.get(service, self._unknown)
        else:
            rank = self._rank.get(customer.tier, self._lowest)
            table = self._table(service, customer)
        entry = table[rank]
        queue = entry.decision.queue
        snap = queues.get(queue)
        if snap is None or (snap.open and queue not in self._rules):
            return entry.decision
        return self._adjust(entry, snap, queues)

    def _table(self, service: str, customer: Customer) -> tuple[_Entry, ...]:
        listed = customer.list
        if listed is CustomerList.BLACK:
            return self._black
        if listed is CustomerList.RED:
            return self._red
        if customer.lifecycle is Lifecycle.AT_RISK and service in self._at_risk_for:
            return self._at_risk
        return self._lanes.get(service, self._unknown)

    def _adjust(
        self, entry: _Entry, snap: QueueSnapshot, queues: Mapping[str, QueueSnapshot]
    ) -> RouteDecision:
        """Apply the first firing overflow rule with an open target, or the closed fallback."""
        first = entry.decision
        for rule in self._rules.get(first.queue, ()):
            why = _trigger(rule, snap)
            if not why:
                continue
            target = _first_open(rule.to, queues)
            if target is not None:
                priority = min(first.priority + rule.priority_boost, entry.ceiling)
                priority = max(priority, first.priority)
                return self._moved(first, target, priority, f"overflow:{why}")
        if snap.open:
            return first
        default = self.default_queue
        if default != first.queue and _is_open(default, queues):
            return self._moved(first, default, first.priority, "closed:default")
        return RouteDecision(
            first.queue, first.priority, f"{first.reason}+closed:stay", first.max_wait_s
        )

    def _moved(self, first: RouteDecision, queue: str, priority: int, why: str) -> RouteDecision:
        return RouteDecision(queue, priority, f"{first.reason}+{why}", self._max_wait[queue])

    # -- starvation guard ---------------------------------------------------
    def aged_priority(self, base_priority: int, tier: str, waited_s: float) -> int:
        """See :meth:`router.policy.aging.StarvationGuard.aged_priority`."""
        return self.guard.aged_priority(base_priority, tier, waited_s)


def _trigger(rule: OverflowRule, snap: QueueSnapshot) -> str:
    """Why ``rule`` fires for ``snap`` ("" when it does not)."""
    if not snap.open:
        return "closed" if rule.when_closed else ""
    if rule.ewt_over_s is not None and snap.ewt > rule.ewt_over_s:
        return "ewt"
    if rule.waiting_over is not None and snap.waiting > rule.waiting_over:
        return "waiting"
    return ""


def _is_open(queue: str, queues: Mapping[str, QueueSnapshot]) -> bool:
    snap = queues.get(queue)
    return snap is None or snap.open


def _first_open(targets: tuple[str, ...], queues: Mapping[str, QueueSnapshot]) -> str | None:
    for target in targets:
        if _is_open(target, queues):
            return target
    return None


def load_policy(path: str | Path) -> TieredPolicy:
    """The policy of one routing file: the factory simulator scenarios name."""
    return TieredPolicy(load_routing(path))
