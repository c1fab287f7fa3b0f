"""Running call counts per queue and per tier, by minute and for today.

A wall screen is redrawn every second, so figures over the last 15/30/60
minutes must not rescan every call: calls are counted into one-minute
buckets as their records arrive (by the minute they joined the queue, so
service level is charged to when the caller waited), and a window is the
sum of its buckets. Memory is bounded: 60 buckets plus today's totals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from router.ami.records import CallRecord

__all__ = ["WINDOWS_MIN", "Counts", "Key", "Tally", "day_start"]

WINDOWS_MIN = (15, 30, 60)
Key = tuple[str, str]  # ("queue", name) or ("tier", name)


@dataclass(slots=True)
class Counts:
    """Queued calls of one group: what a service level is computed from."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    in_sl: int = 0
    wait_answered_s: float = 0.0

    def add(self, other: Counts) -> None:
        self.offered += other.offered
        self.answered += other.answered
        self.abandoned += other.abandoned
        self.in_sl += other.in_sl
        self.wait_answered_s += other.wait_answered_s

    @property
    def service_level(self) -> float | None:
        """Share answered within the target (None: no call offered yet)."""
        return self.in_sl / self.offered if self.offered else None

    @property
    def abandon_rate(self) -> float | None:
        return self.abandoned / self.offered if self.offered else None

    @property
    def asa_s(self) -> float | None:
        return self.wait_answered_s / self.answered if self.answered else None


def _one(record: CallRecord, sl_s: float) -> Counts:
    answered = record.outcome == "answered"
    return Counts(
        offered=1,
        answered=int(answered),
        abandoned=int(record.outcome == "abandoned"),
        in_sl=int(answered and record.wait_s <= sl_s),
        wait_answered_s=record.wait_s if answered else 0.0,
    )


class Tally:
    """Counts by minute for the last hour and since local midnight."""

    def __init__(self, zone: ZoneInfo, sl_s: float) -> None:
        self._zone = zone
        self._sl_s = sl_s
        self._minutes: dict[int, dict[Key, Counts]] = {}
        self._today: dict[Key, Counts] = defaultdict(Counts)
        self._day_start = 0.0

    def add(self, records: Iterable[CallRecord], now: float) -> None:
        """Count queued calls; an IVR-only call has no queue figures."""
        self._roll(now)
        for rec in records:
            if not rec.joined_at or not rec.queue:
                continue
            one = _one(rec, self._sl_s)
            keys: list[Key] = [("queue", rec.queue), ("tier", rec.tier or "unknown")]
            minute = int(rec.joined_at // 60)
            if minute >= int(now // 60) - WINDOWS_MIN[-1]:
                bucket = self._minutes.setdefault(minute, {})
                for key in keys:
                    bucket.setdefault(key, Counts()).add(one)
            if rec.joined_at >= self._day_start:
                for key in keys:
                    self._today[key].add(one)

    def window(self, minutes: int, now: float) -> dict[Key, Counts]:
        """Counts of calls that joined in the last ``minutes`` minutes."""
        self._roll(now)
        first = int(now // 60) - minutes + 1
        out: dict[Key, Counts] = defaultdict(Counts)
        for minute, bucket in self._minutes.items():
            if minute >= first:
                for key, counts in bucket.items():
                    out[key].add(counts)
        return out

    def today(self, now: float) -> dict[Key, Counts]:
        self._roll(now)
        return dict(self._today)

    def _roll(self, now: float) -> None:
        """Drop buckets older than the longest window; reset at local midnight."""
        oldest = int(now // 60) - WINDOWS_MIN[-1]
        for minute in [m for m in self._minutes if m < oldest]:
            del self._minutes[minute]
        start = day_start(now, self._zone)
        if start != self._day_start:
            self._day_start = start
            self._today = defaultdict(Counts)


def day_start(now: float, zone: ZoneInfo) -> float:
    """Epoch seconds of the start of ``now``'s local day."""
    local = datetime.fromtimestamp(now, zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
