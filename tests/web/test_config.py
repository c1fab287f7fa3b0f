"""The wallboard file: every mistake is a located error at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.errors import WebConfigError
from router.web.config import load_wallboard, parse_wallboard

GOOD = """\
timezone: Asia/Shanghai
bands:
  service_level_15m: {warn: 0.9, bad: 0.8, higher_is_better: true}
  longest_wait_s: {warn: 30, bad: 60}
alerts:
  - {name: vip_sl, metric: service_level_15m, tier: vip, below: 0.9, clear_at: 0.93}
"""


class TestWallboardConfig:
    def test_good_file_loads(self) -> None:
        """Bands colour both ways round: SL is better high, waits better low."""
        cfg = parse_wallboard(GOOD, "wb.yaml")
        assert cfg.bands["service_level_15m"].colour(0.95) == "ok"
        assert cfg.bands["service_level_15m"].colour(0.85) == "warn"
        assert cfg.bands["service_level_15m"].colour(0.7) == "bad"
        assert cfg.bands["longest_wait_s"].colour(45) == "warn"
        assert cfg.alerts[0].scope == ("tier", "vip")

    @pytest.mark.parametrize(
        ("text", "where", "words"),
        [
            ("timezone: Asia/Shangai\n", "wb.yaml:1:11", "unknown time zone"),
            ("pushinterval_s: 1\n", "wb.yaml:1:1", "Extra inputs"),
            (GOOD.replace("clear_at: 0.93", "clear_at: 0.8"), "wb.yaml:6:5", "hysteresis"),
            (GOOD.replace("metric: service_level_15m", "metric: sl"), "wb.yaml:6:", "metric"),
            ("bands:\n  waiting: {warn: 10, bad: 5}\n", "wb.yaml:2:", "bad must be at least warn"),
            ("webhook: ftp://x\n", "wb.yaml:1:10", "http"),
        ],
    )
    def test_mistakes_are_located(self, text: str, where: str, words: str) -> None:
        """A typo names the file, line and column, never a traceback at the first push."""
        with pytest.raises(WebConfigError) as err:
            parse_wallboard(text, "wb.yaml")
        assert where in str(err.value)
        assert words in str(err.value)

    def test_unreadable_file(self, tmp_path: Path) -> None:
        """A non-UTF-8 file is a located error too."""
        bad = tmp_path / "wb.yaml"
        bad.write_bytes("timezone: 北京".encode("gbk"))
        with pytest.raises(WebConfigError, match="cannot read"):
            load_wallboard(bad)

    def test_no_file_means_defaults(self) -> None:
        assert load_wallboard(None).service_level_s == 20.0


class TestShippedSample:
    def test_sample_wallboard_file_is_valid_and_names_real_queues(self) -> None:
        """ivr_flows/wallboard.yaml loads, and its alerts watch queues routing.yaml defines."""
        from router.policy import load_routing

        root = Path(__file__).resolve().parents[2] / "ivr_flows"
        cfg = load_wallboard(root / "wallboard.yaml")
        routing = load_routing(root / "routing.yaml")
        assert {a.queue for a in cfg.alerts if a.queue} <= set(routing.queues)
        assert {a.tier for a in cfg.alerts if a.tier} <= set(routing.tiers)
