"""Alert rules: raised once past the threshold, cleared only past clear_at."""

from __future__ import annotations

import pytest

from router.web.alerts import AlertBook
from router.web.config import AlertRule

SL = AlertRule(name="vip_sl", metric="service_level_15m", tier="vip", below=0.9, clear_at=0.93)
WAIT = AlertRule(
    name="long_wait", metric="longest_wait_s", queue="vip_desk", above=60, clear_at=45, for_s=5
)


def feed(
    book: AlertBook, values: dict[tuple[str, str, str], float | None], now: float
) -> list[str]:
    return [
        f"{t.kind}:{t.alert.name}" for t in book.update(lambda k, n, m: values.get((k, n, m)), now)
    ]


class TestHysteresis:
    def test_raise_once_then_hold_inside_the_band(self) -> None:
        """Below 0.9 raises; 0.91 (between below and clear_at) keeps it up; 0.93 clears."""
        book = AlertBook([SL])
        key = ("tier", "vip", "service_level_15m")
        assert feed(book, {key: 0.95}, 0) == []
        assert feed(book, {key: 0.85}, 1) == ["raised:vip_sl"]
        assert feed(book, {key: 0.80}, 2) == []  # no second raise
        assert feed(book, {key: 0.91}, 3) == []  # inside the hysteresis band
        assert [a.name for a in book.active] == ["vip_sl"]
        assert feed(book, {key: 0.93}, 4) == ["cleared:vip_sl"]
        assert book.active == []

    def test_flapping_around_the_threshold_raises_once(self) -> None:
        """0.89/0.91 alternating pages the supervisor once, not every second."""
        book = AlertBook([SL])
        key = ("tier", "vip", "service_level_15m")
        events = [e for t in range(20) for e in feed(book, {key: 0.89 if t % 2 else 0.91}, t)]
        assert events == ["raised:vip_sl"]

    def test_for_s_needs_the_breach_to_last(self) -> None:
        """A 3 s spike over 60 s does not raise a rule with for_s=5; a lasting one does."""
        book = AlertBook([WAIT])
        key = ("queue", "vip_desk", "longest_wait_s")
        assert feed(book, {key: 70}, 0) == []
        assert feed(book, {key: 70}, 3) == []
        assert feed(book, {key: 30}, 4) == []  # spike over: pending reset
        assert feed(book, {key: 70}, 10) == []
        assert feed(book, {key: 70}, 15) == ["raised:long_wait"]
        assert book.active[0].since == 10

    def test_unknown_figure_changes_nothing(self) -> None:
        """A queue that is not in the live state neither raises nor clears."""
        book = AlertBook([SL])
        assert feed(book, {}, 0) == []
        key = ("tier", "vip", "service_level_15m")
        feed(book, {key: 0.5}, 1)
        assert feed(book, {key: None}, 2) == []
        assert len(book.active) == 1


class TestRuleShape:
    def test_clear_at_must_leave_a_band(self) -> None:
        """clear_at on the wrong side of the threshold is refused at load."""
        with pytest.raises(ValueError, match="hysteresis"):
            AlertRule(name="x", metric="waiting", queue="q", above=10, clear_at=12)
