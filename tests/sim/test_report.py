"""The planner's report: clock times, verdicts against targets, staffing table, CI bands."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from simulator.report import clock_labels, tiers_figure, verdicts, write_report
from simulator.runner import replicate
from simulator.scenario import parse_scenario
from simulator.stats import Estimate

DAY = """\
start: "2026-12-01T08:00:00"
interval_minutes: 30
intervals: 4
tiers:
  vip: {patience: {dist: exponential, mean: 120}, target: {service_level: 0.9, within_s: 10}}
  normal: {patience: {dist: exponential, mean: 120}, target: {service_level: 0.99, within_s: 5,
           max_abandon: 0.001}}
arrivals:
  - {dnis: "1", calls: 200, mix: {vip: 1, normal: 4}}
queues:
  care: {handle: {dist: exponential, mean: 180}, agents: [14, 16, 18, 14], cost_per_hour: 30}
"""


class TestPlannerReport:
    def test_clock_times_start_at_the_scenario_start(self) -> None:
        sc = parse_scenario(DAY, "s.yaml")
        assert clock_labels(sc.model) == ["08:00", "08:30", "09:00", "09:30"]

    def test_verdicts_follow_the_planners_significance_rule(self) -> None:
        """A figure misses only when its whole interval is on the wrong side."""
        sc = parse_scenario(DAY, "s.yaml")
        none = Estimate(0.0, 0.0)
        est = {
            "tier/vip": {"service_level": Estimate(0.88, 0.03), "abandon_rate": none},
            "tier/normal": {"service_level": Estimate(0.8, 0.02), "abandon_rate": none},
        }
        got = {v["tier"]: v["verdict"] for v in verdicts(est, sc.targets)}
        assert got == {"vip": "pass", "normal": "MISS"}  # 0.88 + 0.03 reaches 0.9; 0.82 does not

    def test_written_report_has_verdicts_staffing_and_bands(self, tmp_path: Path) -> None:
        """staffing.csv by clock time; the page shows the verdicts and the staffing table;
        the tier chart draws a 95 % band per tier."""
        sc = parse_scenario(DAY, "s.yaml")
        reps = replicate(sc.model, 3, 1)
        write_report(tmp_path, reps.estimates, sc.model, replications=3, seed=1,
                     targets=sc.targets)  # fmt: skip
        rows = list(csv.reader(io.StringIO((tmp_path / "staffing.csv").read_text())))
        assert rows == [["interval_start", "care"], ["08:00", "14"], ["08:30", "16"],
                        ["09:00", "18"], ["09:30", "14"]]  # fmt: skip
        page = (tmp_path / "report.html").read_text()
        assert '<h2 id="targets">Targets</h2>' in page
        assert ">MISS<" in page  # 20 Erlangs on 14-18 agents: 99 % in 5 s is out of reach
        assert "<th>09:30</th>" in page
        fig = tiers_figure(reps.estimates, sc.model)
        bands = [c for c in fig.axes[0].collections if len(c.get_paths())]
        plt.close(fig)
        assert len(bands) == len(sc.model.tiers)
        assert np.isfinite(reps.estimates["tier/vip"]["service_level"].ci95)
