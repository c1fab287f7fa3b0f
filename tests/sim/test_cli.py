"""``tierline simulate`` / ``tierline plan`` end to end, and the planner's pieces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from router.cli import cli
from simulator.planner import min_agents
from simulator.scenario import Target
from simulator.theory import erlang_a

SMALL = """\
interval_minutes: 30
intervals: 2
tiers:
  vip: {patience: {dist: exponential, mean: 120}, target: {service_level: 0.9, within_s: 10}}
  normal: {patience: {dist: exponential, mean: 120}, target: {service_level: 0.8, within_s: 20}}
arrivals:
  - {dnis: "1", calls: [300, 500], mix: {vip: 1, normal: 4}}
queues:
  care: {handle: {dist: exponential, mean: 180}, agents: [20, 30], cost_per_hour: 30}
"""


def scenario(tmp_path: Path, text: str = SMALL) -> str:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


class TestSimulateCommand:
    def test_json_output(self, tmp_path: Path) -> None:
        """--json prints every tier's metrics with mean and ci95."""
        res = CliRunner().invoke(
            cli, ["simulate", scenario(tmp_path), "-n", "3", "--workers", "1", "--json"]
        )
        assert res.exit_code == 0, res.output
        data = json.loads(res.output)
        assert set(data) == {"vip", "normal"}
        assert set(data["vip"]) == {
            "calls",
            "ivr_ended",
            "offered",
            "answered",
            "abandoned",
            "p_wait",
            "asa",
            "service_level",
            "abandon_rate",
        }
        assert data["normal"]["offered"]["mean"] > 0
        assert data["normal"]["service_level"]["ci95"] > 0

    def test_out_writes_report(self, tmp_path: Path) -> None:
        """--out writes results.json, CSV, HTML and PNG plots."""
        out = tmp_path / "out"
        res = CliRunner().invoke(
            cli, ["simulate", scenario(tmp_path), "-n", "2", "--workers", "1", "--out", str(out)]
        )
        assert res.exit_code == 0, res.output
        names = {p.name for p in out.iterdir()}
        assert {"results.json", "results.csv", "report.html", "tiers.png", "staffing.png"} <= names
        assert "tier/vip" in json.loads((out / "results.json").read_text())

    def test_bad_scenario(self, tmp_path: Path) -> None:
        """A broken scenario exits non-zero with file:line, no traceback."""
        path = scenario(tmp_path, SMALL.replace("mean: 180", "mean: x"))
        res = CliRunner().invoke(cli, ["simulate", path])
        assert res.exit_code == 1
        assert f"{path}:9" in res.output

    def test_one_replication_prints_valid_json(self, tmp_path: Path) -> None:
        """-n 1 has no confidence interval: null in JSON, never the invalid NaN."""
        res = CliRunner().invoke(
            cli, ["simulate", scenario(tmp_path), "-n", "1", "--workers", "1", "--json"]
        )
        assert res.exit_code == 0, res.output

        def no_nan(token: str) -> float:
            raise AssertionError(f"{token} in JSON output")

        data = json.loads(res.output, parse_constant=no_nan)
        assert data["vip"]["service_level"]["ci95"] is None
        assert data["vip"]["service_level"]["mean"] is not None
        out = tmp_path / "out"
        text = CliRunner().invoke(
            cli, ["simulate", scenario(tmp_path), "-n", "1", "--workers", "1", "--out", str(out)]
        )
        assert text.exit_code == 0, text.output
        assert "(1 run)" in text.output
        assert "(1 run)" in (out / "report.html").read_text()

    @pytest.mark.parametrize(
        "args",
        [["simulate", "-n", "0"], ["simulate", "--workers", "0"], ["plan", "-n", "0"],
         ["plan", "--workers", "0"], ["plan", "--rounds", "-1"]],
    )  # fmt: skip
    def test_counts_below_one_are_usage_errors(self, tmp_path: Path, args: list[str]) -> None:
        """-n 0 / --workers 0 name the option and exit 2, never a traceback."""
        res = CliRunner().invoke(cli, [args[0], scenario(tmp_path), *args[1:]])
        assert res.exit_code == 2, res.output
        assert "Invalid value for" in res.output
        assert res.exception is None or isinstance(res.exception, SystemExit)

    def test_same_seed_same_json(self, tmp_path: Path) -> None:
        """Same seed -> identical output; the process pool does not change numbers."""
        path = scenario(tmp_path)
        a = CliRunner().invoke(cli, ["simulate", path, "-n", "2", "--workers", "1", "--json"])
        b = CliRunner().invoke(cli, ["simulate", path, "-n", "2", "--workers", "2", "--json"])
        assert a.output == b.output


class TestPlan:
    def test_min_agents_is_minimal(self) -> None:
        """Erlang A staffing meets the target and one agent fewer does not."""
        t = Target(0.8, 20.0, 0.05)
        c = min_agents(1.0, 180.0, 120.0, t)
        ok = erlang_a(c, 1.0, 180.0, 120.0, 20.0)
        worse = erlang_a(c - 1, 1.0, 180.0, 120.0, 20.0)
        assert ok.service_level >= 0.8
        assert ok.p_abandon <= 0.05
        assert worse.service_level < 0.8 or worse.p_abandon > 0.05

    def test_plan_command(self, tmp_path: Path) -> None:
        """plan prints a staffing line per queue that meets targets, and the frontier."""
        out = tmp_path / "plan"
        res = CliRunner().invoke(
            cli,
            ["plan", scenario(tmp_path), "-n", "3", "--workers", "1", "--out", str(out)],
        )
        assert res.exit_code == 0, res.output
        assert "meets all targets" in res.output
        assert "  care: " in res.output
        assert res.output.count("  x") == 5
        assert (out / "frontier.png").exists()

    def test_plan_with_roster(self, tmp_path: Path) -> None:
        """--roster on a whole day prints shifts per queue and writes roster.csv; on a part
        of a day it says why it cannot (shifts wrap round the clock), no traceback."""
        import csv
        import io

        out = tmp_path / "plan"
        day = SMALL.replace("intervals: 2", "intervals: 48").replace(
            "calls: [300, 500]", "calls: 60").replace("agents: [20, 30]", "agents: 6")  # fmt: skip
        args = ["-n", "2", "--workers", "1", "--rounds", "0", "--roster", "--out", str(out)]
        res = CliRunner().invoke(cli, ["plan", scenario(tmp_path, day), *args])
        assert res.exit_code == 0, res.output
        assert "roster care:" in res.output
        rows = list(csv.DictReader(io.StringIO((out / "roster.csv").read_text())))
        assert rows
        assert {r["shift"] for r in rows} <= {"full", "part"}
        assert all(int(r["agents"]) > 0 for r in rows)
        part = CliRunner().invoke(cli, ["plan", scenario(tmp_path), *args])
        assert part.exit_code == 1
        assert "one whole day" in part.output


class TestDask:
    def test_scheduler_matches_local(self, tmp_path: Path) -> None:
        """--scheduler runs replications on a Dask cluster with the same numbers as locally."""
        from distributed import LocalCluster

        path = scenario(tmp_path)
        local = CliRunner().invoke(cli, ["simulate", path, "-n", "2", "--workers", "1", "--json"])
        with LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster:
            res = CliRunner().invoke(
                cli,
                ["simulate", path, "-n", "2", "--scheduler", cluster.scheduler_address, "--json"],
            )
        assert res.exit_code == 0, res.output
        assert res.output == local.output
