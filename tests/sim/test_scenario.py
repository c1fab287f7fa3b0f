"""Scenario YAML: the shipped example loads; bad files name every problem with file:line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from router.errors import ScenarioError
from simulator.distributions import Empirical, LogNormal
from simulator.engine import simulate
from simulator.scenario import load_scenario, parse_scenario

EXAMPLE = Path(__file__).resolve().parents[2] / "simulator" / "scenarios" / "weekday.yaml"

GOOD = """\
interval_minutes: 15
intervals: 2
tiers:
  vip: {patience: {dist: exponential, mean: 60}, target: {service_level: 0.9, within_s: 10}}
  normal: {patience: {dist: exponential, mean: 60}}
arrivals:
  - {dnis: "1", calls: [90, 180], mix: {vip: 1, normal: 2}}
ivr:
  prompts: {hello: 5}
  menus:
    default: {play: [hello], choices: {a: 1}}
queues:
  a: {handle: {dist: exponential, mean: 60}, agents: [3, 4], cost_per_hour: 20}
"""


class TestScenario:
    def test_example_loads_and_runs(self) -> None:
        """The documented 48-interval example validates and simulates."""
        sc = load_scenario(EXAMPLE)
        assert sc.model.n_intervals == 48
        assert isinstance(sc.model.queues[0].handle, LogNormal)
        assert isinstance(sc.model.streams[-1].patience, Empirical)
        assert sc.targets["vip"].within_s == 10
        assert sc.model.callback is not None
        assert sc.model.callback.accept == 0.3
        log = simulate(sc.model, np.random.default_rng(1))
        assert log.arrive.size > 1000

    def test_rates_mix_and_ivr(self) -> None:
        """Calls per interval split by tier mix become per-second rates; prompts add IVR time."""
        sc = parse_scenario(GOOD, "good.yaml")
        vip = next(s for s in sc.model.streams if s.tier == "vip")
        assert vip.rates == pytest.approx((30 / 900, 60 / 900))
        log = simulate(sc.model, np.random.default_rng(2))
        assert np.allclose(log.enqueue - log.arrive, 5.0)
        assert sc.targets["normal"].within_s == 20.0

    def test_problems_carry_lines(self) -> None:
        """Each bad value is reported at its own line, all in one error."""
        bad = (
            GOOD.replace("mean: 60}, target", "mean: -1}, target")
            .replace("[3, 4]", "[3]")
            .replace("{vip: 1, normal: 2}", "{vip: 1, gold: 2}")
            .replace("play: [hello]", "play: [nope]")
        )
        with pytest.raises(ScenarioError) as err:
            parse_scenario(bad, "bad.yaml")
        text = str(err.value)
        lines = {p.line for p in err.value.problems}
        assert "bad.yaml:4" in text
        assert "bad.yaml:7" in text
        assert "unknown tier 'gold'" in text
        assert "bad.yaml:11" in text
        assert "bad.yaml:13" in text
        assert lines == {4, 7, 11, 13}

    def test_yaml_syntax_error(self) -> None:
        """Broken YAML is reported at its line, not as a traceback."""
        with pytest.raises(ScenarioError, match=r"x\.yaml:2"):
            parse_scenario("a: 1\nb: c: d\n", "x.yaml")

    def test_missing_file(self, tmp_path: Path) -> None:
        """A missing file is a ScenarioError too."""
        with pytest.raises(ScenarioError, match="cannot read"):
            load_scenario(tmp_path / "none.yaml")


class TestStrictKeys:
    @pytest.mark.parametrize(
        ("wrong", "right", "hint"),
        [
            ("interval_minutes: 15", "interval_minute: 15", "did you mean 'interval_minutes'?"),
            ("vip: {patience:", "vip: {pateince:", "did you mean 'patience'?"),
            ("{service_level: 0.9,", "{servce_level: 0.9,", "did you mean 'service_level'?"),
            ("cost_per_hour: 20}", "cost_per_hour: 20, agnets: 2}", "did you mean 'agents'?"),
            ("exponential, mean: 60}}\narrivals", "exponential, maen: 60}}\narrivals",
             "did you mean 'mean'?"),
            ('{dnis: "1",', '{dnsi: "1",', "did you mean 'dnis'?"),
            ("default: {play:", "default: {plya:", "did you mean 'play'?"),
        ],
    )  # fmt: skip
    def test_a_misspelt_key_is_a_located_error(self, wrong: str, right: str, hint: str) -> None:
        """A typo never falls back to a default: it is reported at its own line with a fix."""
        text = GOOD.replace(wrong, right)
        assert text != GOOD
        want = next(
            i for i, t in enumerate(text.splitlines(), 1) if right.split("\n", maxsplit=1)[0] in t
        )
        with pytest.raises(ScenarioError) as err:
            parse_scenario(text, "s.yaml")
        problem = next(p for p in err.value.problems if "unknown key" in p.message)
        assert (problem.file, problem.line, problem.hint) == ("s.yaml", want, hint)

    def test_names_chosen_by_the_planner_are_free(self) -> None:
        """Tier, queue and menu names are the planner's own: only field names are checked."""
        text = GOOD.replace("vip:", "servce_level:").replace("vip: 1", "servce_level: 1")
        assert parse_scenario(text, "s.yaml").model.tiers[0] == "servce_level"


class TestStaffingPlot:
    def test_each_interval_is_drawn_over_its_own_span(self) -> None:
        """Interval i's agents cover [i, i+1), not [i-1, i) as step()'s default draws."""
        from simulator.report import step_points

        xs, ys = step_points([2.0, 5.0, 3.0])
        assert xs == [0, 1, 2, 3]
        assert ys == [2.0, 5.0, 3.0, 3.0]
        # with where="post", the value at x applies until the next x
        spans = {(xs[i], xs[i + 1]): ys[i] for i in range(len(xs) - 1)}
        assert spans == {(0, 1): 2.0, (1, 2): 5.0, (2, 3): 3.0}

    def test_the_staffing_chart_draws_post_steps(self) -> None:
        """The chart itself: one line per queue, steps-post, x from 0 to n intervals."""
        import matplotlib.pyplot as plt

        from simulator.report import staff_figure
        from simulator.stats import Estimate

        sc = parse_scenario(GOOD, "s.yaml")
        est = {
            f"queue/a/{i}": {"agents": Estimate(a, 0.0), "cost": Estimate(10.0 * a, 0.0)}
            for i, a in enumerate((3.0, 4.0))
        }
        fig = staff_figure(est, sc.model)
        line = fig.axes[0].lines[0]
        plt.close(fig)
        assert line.get_drawstyle() == "steps-post"
        assert list(line.get_xdata()) == [0, 1, 2]
        assert list(line.get_ydata()) == [3.0, 4.0, 4.0]
