"""Calibration recovers a synthetic centre whose true parameters are known."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from simulator.calibration import calibrate
from simulator.engine import simulate
from simulator.records import log_to_records
from simulator.scenario import parse_scenario
from simulator.twin import scenario_document

SH = ZoneInfo("Asia/Shanghai")
DAYS = 3
TRUE = """\
start: "2026-11-02T00:00:00+08:00"
interval_minutes: 30
intervals: 48
tiers:
  vip: {patience: {dist: exponential, mean: 150}}
  normal: {patience: {dist: exponential, mean: 90}}
arrivals:
  - {dnis: "4008001234", calls: %s, mix: {vip: 1, normal: 3}}
ivr:
  menus:
    default: {choices: {support: 1}}
queues:
  support: {handle: {dist: lognormal, mean: 200, sd: 120}, agents: %s}
"""
# a day's shape: quiet nights, a busy day; staffing a little short so callers wait and leave
CALLS = [20] * 16 + [240] * 28 + [40] * 4
AGENTS = [8] * 16 + [24] * 28 + [8] * 4


@pytest.fixture(scope="module")
def recorded() -> tuple[object, list[object]]:
    sc = parse_scenario(TRUE % (CALLS, AGENTS), "true.yaml")
    records = []
    for d in range(DAYS):
        start = datetime.fromisoformat(sc.model.start) + timedelta(days=d)
        model = replace(sc.model, start=start.isoformat())
        records += log_to_records(simulate(model, np.random.default_rng(100 + d)), model, f"d{d}")
    return sc, records


class TestSyntheticCentre:
    def test_arrivals_within_two_percent(self, recorded: tuple) -> None:
        """Calls per day and per busy interval match the true rates within 2 %."""
        _, records = recorded
        cal = calibrate(records, SH, interval_minutes=30)
        assert cal.days == DAYS
        [traffic] = cal.traffic
        assert sum(traffic.mean) == pytest.approx(sum(CALLS), rel=0.02)
        busy = sum(traffic.mean[16:44])
        assert busy == pytest.approx(sum(CALLS[16:44]), rel=0.02)
        assert traffic.mix["vip"] == pytest.approx(0.25, abs=0.01)

    def test_handle_time_within_two_percent(self, recorded: tuple) -> None:
        """The fitted family is lognormal and its mean is the true AHT within 2 %."""
        _, records = recorded
        fit = calibrate(records, SH).handle["support"]
        assert fit.dist == "lognormal"
        assert fit.mean == pytest.approx(200, rel=0.02)
        assert fit.sd == pytest.approx(120, rel=0.1)

    def test_patience_median_within_five_percent(self, recorded: tuple) -> None:
        """Kaplan-Meier with answered callers censored finds the true median patience;
        the naive median of abandoners' waits does not (it only sees the impatient)."""
        _, records = recorded
        normal = calibrate(records, SH).patience["normal"]
        true = 90.0 * math.log(2)
        assert normal.median == pytest.approx(true, rel=0.05)
        waits = [r.wait_s for r in records if r.tier == "normal" and r.outcome == "abandoned"]
        assert abs(float(np.median(waits)) - true) > 0.2 * true

    def test_a_median_the_data_cannot_show_is_not_guessed(self, recorded: tuple) -> None:
        """VIPs are answered within a minute, so nobody shows a two-minute patience:
        no median is claimed, and the unseen mass sits beyond the longest wait."""
        _, records = recorded
        vip = calibrate(records, SH).patience["vip"]
        longest = max(r.wait_s for r in records if r.tier == "vip" and r.joined_at)
        assert vip.abandoned > 0
        assert vip.median is None
        assert vip.values[-1] == pytest.approx(2 * longest, abs=0.01)

    def test_the_scenario_it_writes_loads_and_reproduces_the_centre(self, recorded: tuple) -> None:
        """The calibrated scenario validates, and simulates the same abandonment within 2 points."""
        import yaml

        _, records = recorded
        doc = scenario_document(calibrate(records, SH))
        twin = parse_scenario(yaml.safe_dump(doc), "twin.yaml")
        true_ab = np.mean([r.outcome == "abandoned" for r in records if r.joined_at])
        log = simulate(twin.model, np.random.default_rng(7))
        queued = log.queue >= 0
        twin_ab = float(np.mean(log.outcome[queued] == 2))
        assert twin_ab == pytest.approx(true_ab, abs=0.02), (twin_ab, true_ab)


class TestCalibrateCommand:
    def test_from_an_export_with_backtest(self, recorded: tuple, tmp_path: Path) -> None:
        """JSON Lines export -> scenario + report; the backtest prints per interval."""
        import json

        from click.testing import CliRunner

        from router.ami.records import to_fields
        from router.cli import cli

        _, records = recorded
        export = tmp_path / "calls.jsonl"
        export.write_text("".join(json.dumps(to_fields(r)) + "\n" for r in records))
        out = tmp_path / "twin.yaml"
        res = CliRunner().invoke(
            cli, ["calibrate", "--records", str(export), "--out", str(out), "--backtest", "2"]
        )
        assert res.exit_code == 0, res.output
        assert "handle support: lognormal" in res.output
        assert "patience vip: median beyond the waits seen" in res.output
        assert "09:00" in res.output  # backtest rows by local clock time
        report = json.loads(out.with_suffix(".calibration.json").read_text())
        assert report["days"] == DAYS
        assert parse_scenario(out.read_text(), str(out)).model.n_intervals == 48

    def test_from_the_calls_stream(self, recorded: tuple, tmp_path: Path, redis_url: str) -> None:
        """--from/--to read the AMI listener's calls stream for those local days."""
        import redis as sync_redis
        from click.testing import CliRunner

        from router.ami.records import to_fields
        from router.cli import cli
        from router.storage import keys

        _, records = recorded
        r = sync_redis.Redis.from_url(redis_url)
        pipe = r.pipeline()
        for rec in sorted(records, key=lambda x: x.ended_at):
            pipe.xadd(keys.CALLS_STREAM, to_fields(rec), id=f"{int(rec.ended_at * 1000)}-*")
        pipe.execute()
        out = tmp_path / "twin.yaml"
        res = CliRunner().invoke(cli, [
            "calibrate", "--from", "2026-11-03", "--to", "2026-11-05", "--out", str(out),
            "--redis", redis_url,
        ])  # fmt: skip
        assert res.exit_code == 0, res.output
        assert "over 2 days" in out.read_text().splitlines()[0]

    def test_a_bad_row_is_located(self, tmp_path: Path) -> None:
        """A malformed export line names its file and line, no traceback."""
        from click.testing import CliRunner

        from router.cli import cli

        export = tmp_path / "calls.jsonl"
        export.write_text('{"uniqueid": "1", "started_at": "soon"}\n')
        res = CliRunner().invoke(cli, ["calibrate", "--records", str(export), "--out", "x.yaml"])
        assert res.exit_code == 1
        assert f"{export}:1:" in res.output


class TestRoutingByInterval:
    def test_night_calls_keep_their_own_lane(self) -> None:
        """Queues reached change through the day: each (number, queue) is its own stream,
        so the twin sends night calls where they went, and a lane seen talking on one
        night in two keeps one agent rather than rounding to an empty lane."""
        from router.ami.records import CallRecord

        day0 = datetime(2026, 11, 2, tzinfo=SH).timestamp()

        def call(uid: str, t: float, queue: str) -> CallRecord:
            return CallRecord(uid, dnis="100", tier="normal", queue=queue, started_at=t,
                              joined_at=t + 5, answered_at=t + 10, left_at=t + 10,
                              ended_at=t + 200, outcome="answered")  # fmt: skip

        records = [call(f"d{d}.{k}", day0 + d * 86400 + 10 * 3600 + k * 60, "day")
                   for d in range(2) for k in range(6)]  # fmt: skip
        records.append(call("night", day0 + 2 * 3600, "night"))
        cal = calibrate(records, SH)
        streams = {t.queue: t.mean for t in cal.traffic}
        assert streams["day"][20] == 6
        assert sum(streams["day"]) == 6
        assert streams["night"][4] == 0.5
        assert sum(streams["night"]) == 0.5
        assert cal.agents["night"][4] == 1
        doc = scenario_document(cal)
        assert doc["ivr"]["menus"]["100>night"] == {"choices": {"night": 1}}
        assert (
            parse_scenario(__import__("yaml").safe_dump(doc), "twin.yaml").model.n_intervals == 48
        )
