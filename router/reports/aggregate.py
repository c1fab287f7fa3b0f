"""Contact-centre figures aggregated from call records (pure).

Definitions (per tier and per queue; a call counts where it queued):

* **offered**: calls that joined a queue; **answered** / **abandoned** by
  outcome (a caller who left the queue on timeout is neither);
* **answer rate** = answered / offered; **abandonment rate** = abandoned / offered;
* **service level** = answered within ``sl_seconds`` of joining / offered
  (abandoned calls count against it, whenever they hung up);
* **ASA** (average speed of answer) = mean queue wait of answered calls;
* **longest wait** = the longest time any offered call spent in queue.

IVR: **containment** = calls that went through the IVR (a recorded path)
and ended there without a queue, transfer or voicemail / calls with a path.
**Hot spots**: the most frequent (menu, option name) pairs (typed input
is never a choice, and never shown), and the **exit
points** (last node of the path) of contained calls — where self-service
ends. **Campaigns**: calls per dialled number (DNIS).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from router.ami.records import CallRecord
from router.customers.model import TierOrder
from router.flows.walk import INPUT
from router.reports.intervals import IntervalRow
from router.reports.paths import parse_path
from router.reports.sections import Section

__all__ = ["GroupStats", "Report", "build_report", "group_stats"]

NO_TIER = "(none)"
_NOT_CHOICES = frozenset({"", INPUT})


@dataclass(frozen=True, slots=True)
class GroupStats:
    """Queue figures for one tier or one queue."""

    name: str
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    answer_rate: float = 0.0
    service_level: float = 0.0
    asa_s: float = 0.0
    abandon_rate: float = 0.0
    longest_wait_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Report:
    """Everything ``tierline report`` prints for one period."""

    start: float
    end: float
    sl_seconds: float
    calls: int
    tiers: list[GroupStats] = field(default_factory=list)
    queues: list[GroupStats] = field(default_factory=list)
    ivr_calls: int = 0
    contained: int = 0
    containment: float = 0.0
    top_choices: list[tuple[str, str, int]] = field(default_factory=list)
    exit_points: list[tuple[str, int]] = field(default_factory=list)
    by_dnis: list[tuple[str, int, int]] = field(default_factory=list)  # dnis, calls, answered
    outcomes: dict[str, int] = field(default_factory=dict)
    zone: str = "UTC"  # the centre's clock: times shown and intervals cut in it
    label: str = ""  # "2026-12-01", "2026-W49", "2026-11" for a whole period
    intervals: list[IntervalRow] = field(default_factory=list)
    change: dict[str, dict[str, float | None]] = field(default_factory=dict)  # vs the period before
    sections: list[Section] = field(default_factory=list)  # e.g. campaigns (reports/sections.py)


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def group_stats(name: str, calls: list[CallRecord], sl_seconds: float) -> GroupStats:
    """Figures for the queued calls of one group (see module docstring)."""
    offered = len(calls)
    answered = [c for c in calls if c.outcome == "answered"]
    abandoned = sum(1 for c in calls if c.outcome == "abandoned")
    in_sl = sum(1 for c in answered if c.wait_s <= sl_seconds)
    return GroupStats(
        name=name,
        offered=offered,
        answered=len(answered),
        abandoned=abandoned,
        answer_rate=_ratio(len(answered), offered),
        service_level=_ratio(in_sl, offered),
        asa_s=sum(c.wait_s for c in answered) / len(answered) if answered else 0.0,
        abandon_rate=_ratio(abandoned, offered),
        longest_wait_s=max((c.wait_s for c in calls), default=0.0),
    )


def _grouped(
    calls: Iterable[CallRecord], key: str, sl: float, tiers: TierOrder | None = None
) -> list[GroupStats]:
    """Tiers highest first (unknown after), queues by name."""
    groups: dict[str, list[CallRecord]] = defaultdict(list)
    for c in calls:
        groups[getattr(c, key) or NO_TIER].append(c)
    order = sorted(groups, key=lambda n: (tiers.rank(n) if tiers else 0, n))
    return [group_stats(name, groups[name], sl) for name in order]


@dataclass(slots=True)
class _Ivr:
    calls: int = 0
    contained: int = 0
    choices: Counter[tuple[str, str]] = field(default_factory=Counter)
    exits: Counter[str] = field(default_factory=Counter)


def _ivr_figures(calls: Iterable[CallRecord]) -> _Ivr:
    """Calls with a path, those contained, (node, choice) counts, exit nodes."""
    out = _Ivr()
    for c in calls:
        steps = parse_path(c.path)
        if not steps:
            continue
        out.calls += 1
        out.choices.update((s.node, s.choice) for s in steps if s.choice not in _NOT_CHOICES)
        if c.outcome == "ivr":
            out.contained += 1
            out.exits[steps[-1].node] += 1
    return out


def build_report(
    records: Iterable[CallRecord],
    start: float,
    end: float,
    *,
    sl_seconds: float = 20.0,
    top_n: int = 10,
    tiers: TierOrder | None = None,
) -> Report:
    """Aggregate the calls that started in ``[start, end)``."""
    calls = [r for r in records if start <= (r.started_at or r.ended_at) < end]
    queued = [c for c in calls if c.joined_at]
    ivr = _ivr_figures(calls)
    dnis: Counter[str] = Counter(c.dnis or "(unknown)" for c in calls)
    dnis_answered: Counter[str] = Counter(
        c.dnis or "(unknown)" for c in calls if c.outcome == "answered"
    )
    return Report(
        start=start,
        end=end,
        sl_seconds=sl_seconds,
        calls=len(calls),
        tiers=_grouped(queued, "tier", sl_seconds, tiers or TierOrder()),
        queues=_grouped(queued, "queue", sl_seconds),
        ivr_calls=ivr.calls,
        contained=ivr.contained,
        containment=_ratio(ivr.contained, ivr.calls),
        top_choices=[(n, ch, k) for (n, ch), k in ivr.choices.most_common(top_n)],
        exit_points=ivr.exits.most_common(top_n),
        by_dnis=[(d, k, dnis_answered[d]) for d, k in dnis.most_common(top_n)],
        outcomes=dict(Counter(c.outcome for c in calls).most_common()),
    )
