"""The planner's circulated report: roster tables, coverage, Chinese labels, progress."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from router.cli import cli
from simulator.progress import CountingExecutor
from simulator.report import chart_style, clock_labels, write_report
from simulator.report_labels import default_lang, labels
from simulator.roster import DEFAULT_TEMPLATES, Roster, Shift, build_roster
from simulator.roster_table import coverage_rows, roster_table
from simulator.runner import replicate
from simulator.scenario import parse_scenario

DEFAULT_FULL = DEFAULT_TEMPLATES[0]
DAY = """\
start: "2026-12-01T00:00:00"
interval_minutes: 30
intervals: 48
tiers:
  vip: {patience: {dist: exponential, mean: 120}, target: {service_level: 0.9, within_s: 10}}
  normal: {patience: {dist: exponential, mean: 120}, target: {service_level: 0.8, within_s: 20}}
arrivals:
  - {dnis: "1", calls: 20, mix: {vip: 1, normal: 4}}
queues:
  care: {handle: {dist: exponential, mean: 180}, agents: 3, cost_per_hour: 30, shrinkage: 0.25}
"""


@pytest.fixture(scope="module")
def day() -> tuple[object, object]:
    sc = parse_scenario(DAY, "day.yaml")
    return sc, replicate(sc.model, 2, 1)


def night_roster() -> Roster:
    """One full shift from 22:00 (break 01:30) and two part-timers from 09:00."""
    shifts = (Shift("full", 44, 3, 1), Shift("part", 18, None, 2))
    return Roster(shifts, (1,) * 48, (1,) * 48, 16.0, 16.0)


class TestRosterTable:
    def test_shifts_by_clock_time_with_next_day_end(self) -> None:
        """Start, end and break as clock times; a night shift's end says it is the next day."""
        clock = [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)]
        t = roster_table("care", night_roster(), clock, 30)
        assert t.rows == (
            ("care", "part", "09:00", "13:00", "", 2, 8.0),
            ("care", "full", "22:00", "06:30+1", "01:30", 1, 8.0),
        )
        zh = roster_table("care", night_roster(), clock, 30, lang="zh")
        assert zh.rows[1][1:4] == ("全天班", "22:00", "06:30 （次日）")
        assert t.people == 3
        assert t.floor_hours == 24.0

    def test_clock_follows_the_scenario_start(self) -> None:
        """A day starting at 06:00 labels interval 0 as 06:00, not 00:00."""
        sc = parse_scenario(DAY.replace("T00:00:00", "T06:00:00"), "day.yaml")
        clock = clock_labels(sc.model)
        t = roster_table("care", night_roster(), clock, 30)
        assert t.rows[0][2:4] == ("15:00", "19:00")

    def test_coverage_pairs_rostered_with_required(self) -> None:
        """Each interval shows what the roster puts on the phones against the need."""
        r = build_roster([2] * 48, 30, shrinkage=0.5)
        rows = coverage_rows({"care": r}, [str(i) for i in range(48)])
        assert all(need == 4 and have >= need for _, [(have, need)] in rows)


class TestLabels:
    def test_both_languages_have_every_label(self) -> None:
        """No label exists in one language only (a stray English word on a Chinese page)."""
        assert set(labels("zh")) == set(labels("en"))

    @pytest.mark.parametrize(
        ("env", "want"),
        [
            ({"TIERLINE_LANG": "zh", "LANG": "en_US.UTF-8"}, "zh"),
            ({"LANG": "zh_CN.UTF-8"}, "zh"),
            ({"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
            ({"LANG": "C.UTF-8"}, "en"),
            ({}, "en"),
        ],
    )
    def test_default_language(self, env: dict[str, str], want: str) -> None:
        """TIERLINE_LANG wins, then the locale; a bare server gets English."""
        assert default_lang(env) == want

    def test_chinese_charts_put_a_cjk_font_first(self) -> None:
        """zh charts ask for a CJK font before DejaVu (which has no Chinese glyphs)."""
        style = chart_style("zh")
        assert style["font.sans-serif"][0] == "WenQuanYi Zen Hei"
        assert chart_style("en") == {}


class TestReportWithRoster:
    def test_chinese_page_has_roster_coverage_and_verdicts(
        self, day: tuple, tmp_path: Path
    ) -> None:
        """zh: headings, verdicts and roster in Chinese; roster.csv machine-readable."""
        sc, reps = day
        rosters = {"care": build_roster([3] * 48, 30, shrinkage=0.25)}
        write_report(tmp_path, reps.estimates, sc.model, replications=2, seed=1,
                     targets=sc.targets, rosters=rosters, lang="zh")  # fmt: skip
        page = (tmp_path / "report.html").read_text(encoding="utf-8")
        for text in ('<html lang="zh">', "排班表", "覆盖情况", "目标达成", "人员配置", "带薪工时"):
            assert text in page
        assert "Targets" not in page
        assert "Roster" not in page
        assert page.count("/ 4</td>") == 48  # every interval needs 3 / 0.75 = 4 rostered
        rows = list(csv.DictReader(io.StringIO((tmp_path / "roster.csv").read_text())))
        assert set(rows[0]) == {"queue", "shift", "start", "end", "break", "agents", "paid_hours"}
        assert sum(float(r["paid_hours"]) for r in rows) == rosters["care"].paid_hours

    def test_english_page_without_roster_has_no_roster_section(
        self, day: tuple, tmp_path: Path
    ) -> None:
        """No --roster: no roster heading and no roster.csv."""
        sc, reps = day
        write_report(tmp_path, reps.estimates, sc.model, replications=2, seed=1,
                     targets=sc.targets)  # fmt: skip
        page = (tmp_path / "report.html").read_text(encoding="utf-8")
        assert "Staffing (agents on the phones)" in page
        assert 'id="roster"' not in page
        assert not (tmp_path / "roster.csv").exists()


class TestProgress:
    def test_counting_executor_changes_no_result(self, day: tuple) -> None:
        """Counted replications equal uncounted ones, and each ticks once."""
        sc, reps = day
        ticks: list[int] = []
        counted = replicate(sc.model, 2, 1, CountingExecutor(None, ticks.append))
        assert ticks == [1, 1]
        assert counted.estimates == reps.estimates

    def test_an_error_in_a_run_reaches_the_caller(self) -> None:
        """A failing task raises from its future, as a process pool's would."""
        ex = CountingExecutor(None, lambda _n: None)
        with pytest.raises(ZeroDivisionError):
            ex.submit(lambda: 1 / 0).result()


class TestPlanCommand:
    def test_json_with_roster_is_valid_and_alone_on_stdout(self, tmp_path: Path) -> None:
        """plan --json --roster prints one JSON document: staffing, frontier, shifts."""
        path = tmp_path / "day.yaml"
        path.write_text(DAY, encoding="utf-8")
        args = ["plan", str(path), "-n", "2", "--workers", "1", "--rounds", "0", "--roster",
                "--json", "--out", str(tmp_path / "out"), "--lang", "en"]  # fmt: skip
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 0, res.output
        doc = json.loads(res.stdout)
        assert doc["intervals"][:2] == ["00:00", "00:30"]
        shifts = doc["roster"]["care"]["shifts"]
        assert shifts
        assert set(shifts[0]) == {"shift", "start", "end", "break", "agents", "paid_hours"}
        assert len(doc["frontier"]) == 5
        page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
        assert 'id="roster-shifts"' in page

    def test_roster_on_part_of_a_day_fails_before_planning(self, tmp_path: Path) -> None:
        """--roster on a scenario that is not a whole day stops at once, no traceback."""
        path = tmp_path / "part.yaml"
        path.write_text(DAY.replace("intervals: 48", "intervals: 4"), encoding="utf-8")
        res = CliRunner().invoke(cli, ["plan", str(path), "--roster", "--workers", "1"])
        assert res.exit_code == 1
        assert "one whole day" in res.output


class TestLoneCallMiss:
    def test_one_call_in_one_replication_is_not_a_significant_miss(self) -> None:
        """A night VIP call seen in one of three replications (no interval) does not make
        the planner add agents for ever; the same miss with an interval does count."""
        from simulator.planner import _misses
        from simulator.runner import Replications
        from simulator.scenario import Target
        from simulator.stats import Estimate

        sc = parse_scenario(DAY, "day.yaml")
        lone = {"offered": Estimate(1 / 3, math.nan), "service_level": Estimate(0.0, math.nan),
                "abandon_rate": Estimate(0.0, math.nan)}  # fmt: skip
        seen = {"offered": Estimate(9.0, 1.0), "service_level": Estimate(0.5, 0.1),
                "abandon_rate": Estimate(0.0, 0.0)}  # fmt: skip
        targets = {"vip": Target(0.8, 20)}
        runs = (object(),) * 3
        reps = Replications(runs, (), {"tier/vip/33": lone, "tier/vip/20": seen}, 0)  # type: ignore[arg-type]
        assert _misses(sc.model, reps, targets) == {("vip", 20)}


class TestIntervalVerdicts:
    def test_a_significant_interval_miss_is_listed_and_fails_the_tier(self) -> None:
        """The day passes, but 00:30 misses with its whole interval: listed, verdict MISS,
        as plan prints "STILL MISSES"; a lone call with no interval (01:00) is not listed."""
        from simulator.report import verdicts
        from simulator.scenario import Target
        from simulator.stats import Estimate

        sc = parse_scenario(DAY, "day.yaml")
        ok = {"offered": Estimate(50.0, 2.0), "service_level": Estimate(0.9, 0.02),
              "abandon_rate": Estimate(0.01, 0.01)}  # fmt: skip
        bad = {**ok, "service_level": Estimate(0.5, 0.1)}
        lone = {**ok, "offered": Estimate(0.3, math.nan), "service_level": Estimate(0.0, math.nan)}
        est = {"tier/vip": ok, "tier/vip/0": ok, "tier/vip/1": bad, "tier/vip/2": lone}
        [v] = verdicts(est, {"vip": Target(0.8, 20)}, "zh", clock_labels(sc.model))
        assert v["missed"] == "00:30"
        assert v["verdict"] == "MISS"
        [day_only] = verdicts(est, {"vip": Target(0.8, 20)}, "zh")
        assert day_only["missed"] == "无"
        assert day_only["verdict"] == "pass"


class TestProgressBar:
    def test_bar_goes_to_a_terminal_stderr_only(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """On a terminal the bar counts runs on stderr; --quiet/--json or a pipe: no bar,
        and the executor is passed through untouched."""
        import sys

        from router.cli.simulate import _progress

        class Tty(io.StringIO):
            def isatty(self) -> bool:
                return True

        err = Tty()
        monkeypatch.setattr(sys, "stderr", err)
        with _progress(False) as counted:
            ex = counted(None)
            assert isinstance(ex, CountingExecutor)
            ex.submit(int, "7").result()
        assert "plan: 1 runs" in err.getvalue()
        with _progress(True) as counted:
            assert counted(None) is None
        monkeypatch.setattr(sys, "stderr", io.StringIO())
        with _progress(False) as counted:
            assert counted(None) is None


class TestHourlyRoster:
    def test_paid_hours_are_the_hours_worked(self) -> None:
        """On hourly intervals a full shift spans 8 of them with a one-hour break: 7 h paid,
        in the roster's total and in its rows, and the row ends 8 h after it starts."""
        r = build_roster([1] * 24, 60, templates=(DEFAULT_FULL,))
        clock = [f"{h:02d}:00" for h in range(24)]
        t = roster_table("care", r, clock, 60)
        assert r.paid_hours == 7 * sum(s.count for s in r.shifts)
        assert sum(row[6] for row in t.rows) == r.paid_hours
        first = t.rows[0]
        assert int(first[3][:2]) == (int(first[2][:2]) + 8) % 24
