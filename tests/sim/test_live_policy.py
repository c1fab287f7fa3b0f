"""Simulated calls are routed by the live routing policy, not a stand-in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from router.errors import ScenarioError
from router.policy import TieredPolicy
from simulator.engine import simulate
from simulator.scenario import load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[2]


class TestLivePolicy:
    def test_telecom_scenario_uses_tiered_policy(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The shipped telecom scenario routes with TieredPolicy: VIPs reach vip lanes."""
        monkeypatch.chdir(ROOT)
        scenario = load_scenario(ROOT / "simulator" / "scenarios" / "telecom.yaml")
        assert isinstance(scenario.model.policy, TieredPolicy)
        log = simulate(scenario.model, np.random.default_rng(7))
        names = [q.name for q in scenario.model.queues]
        used = {names[i] for i in np.unique(log.queue[log.queue >= 0])}
        assert used <= scenario.model.policy.queues
        assert {"vip_desk", "support"} <= used

    def test_unstaffed_lane_is_a_located_error(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A lane the policy can route to but the scenario does not staff is rejected."""
        monkeypatch.chdir(ROOT)
        text = (ROOT / "simulator" / "scenarios" / "telecom.yaml").read_text()
        start = text.index("  red_desk:")
        end = text.index("  restricted:")
        with pytest.raises(ScenarioError, match="red_desk"):
            parse_scenario(
                text[:start] + text[end:], "telecom.yaml", ROOT / "simulator" / "scenarios"
            )
