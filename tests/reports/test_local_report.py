"""tierline report in the centre's local time: periods, intervals, the period before, cron files."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import redis
from click.testing import CliRunner

from router.ami.records import CallRecord, to_fields
from router.cli import cli
from router.storage import keys

SH = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH).timestamp()


def queued(uid: str, start: float, outcome: str, wait: float, tier: str = "vip") -> CallRecord:
    joined = start + 10
    return CallRecord(
        uid, tier=tier, queue="vip_desk", started_at=start, joined_at=joined, outcome=outcome,
        answered_at=joined + wait if outcome == "answered" else 0.0,
        abandoned_at=joined + wait if outcome == "abandoned" else 0.0,
        ended_at=joined + wait + 120,
    )  # fmt: skip


RECORDS = [
    queued("a", at(22, 9, 5), "answered", 5),  # Sunday 09:05 Shanghai = 01:05 UTC
    queued("b", at(22, 9, 40), "answered", 60),
    queued("c", at(22, 23, 50), "abandoned", 30, tier="normal"),  # 23:50 local, still the 22nd
    queued("d", at(21, 10, 0), "answered", 5),  # the day before
    queued("e", at(21, 11, 0), "answered", 5),
]


def store(url: str) -> None:
    client = redis.Redis.from_url(url)
    for seq, rec in enumerate(sorted(RECORDS, key=lambda r: r.ended_at)):
        client.xadd(keys.CALLS_STREAM, to_fields(rec), id=f"{int(rec.ended_at * 1000)}-{seq}")  # type: ignore[arg-type]


def run(*args: str) -> str:
    res = CliRunner().invoke(cli, ["report", *args])
    assert res.exit_code == 0, res.output
    return res.output


class TestLocalReport:
    def test_a_local_day_with_intervals(self, redis_url: str) -> None:
        """The 22nd in Shanghai holds the 23:50 call (the 23rd in UTC would not) and hourly
        intervals are labelled by the local clock."""
        store(redis_url)
        text = run("--period", "day", "--date", "2026-11-22", "--tz", "Asia/Shanghai",
                   "--interval", "60", "--format", "csv", "--redis", redis_url)  # fmt: skip
        rows = list(csv.DictReader(io.StringIO(text)))
        offered = {(r["interval"], r["group"]): int(r["offered"]) for r in rows}
        assert offered[("09:00", "vip")] == 2
        assert offered[("23:00", "normal")] == 1
        assert sum(offered.values()) == 3
        assert len({r["interval"] for r in rows}) == 24

    def test_the_period_before_is_compared(self, redis_url: str) -> None:
        """--period day compares with the day before: 3 calls now, 2 then."""
        store(redis_url)
        text = run("--period", "day", "--date", "2026-11-22", "--tz", "Asia/Shanghai",
                   "--redis", redis_url)  # fmt: skip
        assert "Calls 2026-11-22: 2026-11-22 00:00 (Asia/Shanghai)" in text
        section = text.split("Compared with the period before")[1]
        calls = next(line for line in section.splitlines() if line.startswith("calls"))
        assert calls.split()[1:] == ["3", "2", "+1"]

    def test_cron_writes_files_named_by_period(self, redis_url: str, tmp_path: Path) -> None:
        """--out DIR writes LABEL.html/.csv/.json; a rerun replaces them."""
        store(redis_url)
        week = ["--period", "week", "--date", "2026-11-22", "--tz", "Asia/Shanghai"]
        for _ in range(2):
            printed = run(*week, "--interval", "60", "--out", str(tmp_path), "--redis", redis_url)
        names = sorted(p.name for p in tmp_path.iterdir())
        assert names == ["2026-W47.csv", "2026-W47.html", "2026-W47.json"]
        assert printed.splitlines() == [str(tmp_path / n) for n in ("2026-W47.json",
                                        "2026-W47.csv", "2026-W47.html")]  # fmt: skip
        assert "By interval (Asia/Shanghai)" in (tmp_path / "2026-W47.html").read_text()
