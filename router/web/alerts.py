"""Alerts with hysteresis: raised once, cleared once, never flapping.

Pure: the web process feeds it the board's figures each push and gets back
the transitions to log, show and send to the webhook. A rule is raised when
its figure has been past ``above``/``below`` for ``for_s`` seconds, and
cleared only once the figure is back past ``clear_at``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from router.web.config import AlertRule

__all__ = ["Alert", "AlertBook", "Transition"]

Lookup = Callable[[str, str, str], float | None]
"""(scope kind, scope name, metric) -> the current figure, None when unknown."""


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert that is up now, as the wallboard shows it."""

    name: str
    scope: str
    metric: str
    value: float
    threshold: float
    since: float


@dataclass(frozen=True, slots=True)
class Transition:
    """A change to report: ``raised`` or ``cleared``."""

    kind: str
    alert: Alert


class AlertBook:
    """The state of every rule between pushes."""

    def __init__(self, rules: Iterable[AlertRule]) -> None:
        self._rules = tuple(rules)
        self._pending: dict[str, float] = {}
        self._up: dict[str, Alert] = {}

    @property
    def active(self) -> list[Alert]:
        return sorted(self._up.values(), key=lambda a: (a.since, a.name))

    def update(self, lookup: Lookup, now: float) -> list[Transition]:
        """Evaluate every rule once; unknown figures change nothing."""
        out: list[Transition] = []
        for rule in self._rules:
            kind, name = rule.scope
            value = lookup(kind, name, rule.metric)
            if value is None:
                self._pending.pop(rule.name, None)
                continue
            step = self._step(rule, value, now)
            if step is not None:
                out.append(step)
        return out

    def _step(self, rule: AlertRule, value: float, now: float) -> Transition | None:
        up = self._up.get(rule.name)
        if up is not None:
            if _cleared(rule, value):
                del self._up[rule.name]
                return Transition("cleared", _alert(rule, value, up.since))
            return None
        if not _breached(rule, value):
            self._pending.pop(rule.name, None)
            return None
        since = self._pending.setdefault(rule.name, now)
        if now - since < rule.for_s:
            return None
        del self._pending[rule.name]
        alert = _alert(rule, value, since)
        self._up[rule.name] = alert
        return Transition("raised", alert)


def _breached(rule: AlertRule, value: float) -> bool:
    if rule.above is not None:
        return value > rule.above
    return rule.below is not None and value < rule.below


def _cleared(rule: AlertRule, value: float) -> bool:
    if rule.above is not None:
        return value <= rule.clear_at
    return value >= rule.clear_at


def _alert(rule: AlertRule, value: float, since: float) -> Alert:
    kind, name = rule.scope
    threshold = rule.above if rule.above is not None else rule.below
    return Alert(rule.name, f"{kind}:{name}", rule.metric, value, threshold or 0.0, since)
