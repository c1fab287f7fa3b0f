"""What-if scaling: exact on the draws, and checked against Erlang C on the queue."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from router.cli import cli
from simulator.distributions import Exponential, LogNormal, Never, Scaled, scaled
from simulator.engine import ANSWERED, simulate
from simulator.scenario import parse_scenario
from simulator.theory import erlang_c
from simulator.whatif import WhatIf, apply

MMC = """\
interval_minutes: 60
intervals: 24
tiers:
  normal: {patience: never}
arrivals:
  - {dnis: "1", calls: 60, mix: {normal: 1}}
queues:
  a: {handle: {dist: exponential, mean: 120}, agents: 4}
"""


class TestScaledDraws:
    def test_every_draw_is_the_base_draw_times_the_factor(self) -> None:
        """Same generator state: the scaled values are exactly factor x the base values."""
        base = LogNormal(200, 120)
        a = base.draw(np.random.default_rng(3), 1000)
        b = Scaled(base, 1.1).draw(np.random.default_rng(3), 1000)
        assert np.allclose(b, 1.1 * a)
        assert Scaled(base, 1.1).mean == pytest.approx(220)

    def test_infinite_patience_stays_infinite(self) -> None:
        assert isinstance(scaled(Never(), 2.0), Never)
        assert scaled(Exponential(5), 1.0) == Exponential(5)

    def test_bad_factor(self) -> None:
        with pytest.raises(ValueError, match="> 0"):
            WhatIf(volume=0)


class TestScaledCentre:
    def test_volume_and_aht_move_the_queue_as_erlang_c_says(self) -> None:
        """60 calls/h x 120 s on 4 agents is 2 Erlangs; +20 % volume and +10 % AHT make
        2.64 Erlangs, where Erlang C says 37 % wait. Three simulated days (about 5,200
        calls; binomial standard error 0.007, batch effects included under 0.015) must
        agree within 0.04."""
        sc = parse_scenario(MMC, "s.yaml")
        model = apply(sc.model, WhatIf(volume=1.2, aht=1.1))
        assert sum(model.streams[0].rates) * 3600 / 24 == pytest.approx(72)
        waits = []
        for seed in (5, 6, 7):
            log = simulate(model, np.random.default_rng(seed))
            waits.append(log.wait[log.outcome == ANSWERED])
        waited = float(np.mean(np.concatenate(waits) > 0))
        assert waited == pytest.approx(erlang_c(4, 72 / 3600 * 132), abs=0.04)

    def test_staffing_rounds_agents(self) -> None:
        sc = parse_scenario(MMC, "s.yaml")
        assert apply(sc.model, WhatIf(staffing=1.5)).queues[0].agents == (6,) * 24

    def test_command_line(self, tmp_path: Path) -> None:
        """simulate --volume 1.5 says the what-if and offers 1.5 x the calls (within 5 %)."""
        path = tmp_path / "s.yaml"
        path.write_text(MMC)
        args = ["simulate", str(path), "-n", "2", "--workers", "1", "--json"]
        base = json.loads(CliRunner().invoke(cli, args).stdout)
        res = CliRunner().invoke(cli, [*args, "--volume", "1.5"])
        assert res.exit_code == 0, res.output
        assert res.stderr == "what-if: volume x1.5\n"
        more = json.loads(res.stdout)
        ratio = more["normal"]["offered"]["mean"] / base["normal"]["offered"]["mean"]
        assert ratio == pytest.approx(1.5, rel=0.05)
