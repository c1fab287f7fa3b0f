"""Running counts: windows by the minute callers joined, today by local midnight."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from router.ami.records import CallRecord
from router.web.tally import Tally

SH = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 12, 2, 12, 0, tzinfo=SH).timestamp()


def rec(
    joined: float, wait: float, outcome: str, tier: str = "vip", queue: str = "vip_desk"
) -> CallRecord:
    end = joined + wait
    return CallRecord(
        "u", tier=tier, queue="vip_desk", joined_at=joined, outcome=outcome,
        answered_at=end if outcome == "answered" else 0.0,
        abandoned_at=end if outcome == "abandoned" else 0.0, ended_at=end + 60,
    )  # fmt: skip


class TestTally:
    def test_windows_and_service_level(self) -> None:
        """15 min holds the recent calls only; SL counts answers within 20 s over offered."""
        t = Tally(SH, 20.0)
        t.add([
            rec(NOON - 40 * 60, 5, "answered"),   # in 60m only
            rec(NOON - 10 * 60, 5, "answered"),   # in 15m, within SL
            rec(NOON - 5 * 60, 50, "answered"),   # in 15m, late
            rec(NOON - 2 * 60, 30, "abandoned"),  # in 15m
            CallRecord("ivr", tier="vip", outcome="ivr"),  # never queued: no queue figures
        ], NOON)  # fmt: skip
        w15 = t.window(15, NOON)[("tier", "vip")]
        assert (w15.offered, w15.answered, w15.abandoned, w15.in_sl) == (3, 2, 1, 1)
        assert w15.service_level == pytest.approx(1 / 3)
        assert w15.abandon_rate == pytest.approx(1 / 3)
        assert t.window(60, NOON)[("queue", "vip_desk")].offered == 4
        assert t.window(15, NOON + 20 * 60)[("tier", "vip")].offered == 0

    def test_today_resets_at_local_midnight(self) -> None:
        """At 00:00 Shanghai (16:00 UTC) today's counts start again."""
        t = Tally(SH, 20.0)
        midnight = datetime(2026, 12, 3, 0, 0, tzinfo=SH).timestamp()
        t.add([rec(midnight - 600, 5, "answered")], midnight - 60)
        assert t.today(midnight - 60)[("tier", "vip")].offered == 1
        assert ("tier", "vip") not in t.today(midnight + 1)
        t.add([rec(midnight + 10, 5, "answered")], midnight + 60)
        assert t.today(midnight + 60)[("tier", "vip")].offered == 1

    def test_no_calls_means_no_figure(self) -> None:
        """A group with nothing offered shows no SL rather than 0 % or 100 %."""
        t = Tally(SH, 20.0)
        assert t.window(15, NOON).get(("tier", "vip")) is None
