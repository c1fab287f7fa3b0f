"""Interval views and period comparisons for supervisors (pure).

Per interval (15/30/60 min, local clock) and group (all calls, a tier or a
queue): offered, answered, abandoned, service level, ASA, AHT, transfer
rate and IVR containment, with the same definitions as
:mod:`router.reports.aggregate`. A call belongs to the interval it started
in. ``headline``/``compare`` put a period beside the one before it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from router.ami.records import CallRecord

__all__ = ["Headline", "IntervalRow", "compare", "headline", "interval_rows"]


@dataclass(frozen=True, slots=True)
class Headline:
    """The figures of one group over one span of time."""

    calls: int
    offered: int
    answered: int
    abandoned: int
    service_level: float | None
    abandon_rate: float | None
    asa_s: float | None
    aht_s: float | None
    transfer_rate: float | None
    containment: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class IntervalRow:
    """One interval of one group."""

    label: str
    start: float
    group: str
    figures: Headline


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def headline(calls: Sequence[CallRecord], sl_seconds: float) -> Headline:
    """Figures over ``calls`` (a dash rather than 0 % where nothing was offered)."""
    queued = [c for c in calls if c.joined_at]
    answered = [c for c in queued if c.outcome == "answered"]
    talk = [c.ended_at - c.answered_at for c in answered if c.ended_at >= c.answered_at > 0]
    with_ivr = [c for c in calls if c.path]
    return Headline(
        calls=len(calls),
        offered=len(queued),
        answered=len(answered),
        abandoned=sum(1 for c in queued if c.outcome == "abandoned"),
        service_level=_share(sum(1 for c in answered if c.wait_s <= sl_seconds), len(queued)),
        abandon_rate=_share(sum(1 for c in queued if c.outcome == "abandoned"), len(queued)),
        asa_s=_mean([c.wait_s for c in answered]),
        aht_s=_mean(talk),
        transfer_rate=_share(sum(1 for c in calls if c.outcome == "transfer"), len(calls)),
        containment=_share(sum(1 for c in with_ivr if c.outcome == "ivr"), len(with_ivr)),
    )


def interval_rows(
    records: Iterable[CallRecord],
    slots: Sequence[tuple[float, float, str]],
    sl_seconds: float,
    by: str | None = None,
) -> list[IntervalRow]:
    """Rows per slot (and per ``tier``/``queue`` value when ``by`` is given)."""
    buckets: dict[tuple[int, str], list[CallRecord]] = {}
    starts = [s for s, _, _ in slots]
    for rec in records:
        at = rec.started_at or rec.ended_at
        i = _slot_index(starts, slots, at)
        if i is not None:
            group = (getattr(rec, by) or "(none)") if by else "all"
            buckets.setdefault((i, group), []).append(rec)
    groups = sorted({g for _, g in buckets}) or ["all"]
    return [
        IntervalRow(label, start, group, headline(buckets.get((i, group), []), sl_seconds))
        for i, (start, _, label) in enumerate(slots)
        for group in groups
    ]


def _slot_index(
    starts: list[float], slots: Sequence[tuple[float, float, str]], at: float
) -> int | None:
    i = bisect_right(starts, at) - 1
    return i if i >= 0 and at < slots[i][1] else None


def compare(current: Headline, before: Headline) -> dict[str, dict[str, float | None]]:
    """Each figure now, in the period before, and the change (now - before)."""
    out: dict[str, dict[str, float | None]] = {}
    for name, now in current.as_dict().items():
        old = getattr(before, name)
        change = now - old if now is not None and old is not None else None
        out[name] = {"now": now, "before": old, "change": change}
    return out
