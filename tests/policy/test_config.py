"""Loading the routing file: shipped file valid, bad edits rejected with positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.errors import RoutingConfigError
from router.policy import RoutingConfig, load_routing, parse_routing
from tests.policy.conftest import ROUTING

GOOD = ROUTING.read_text(encoding="utf-8")


def problems_of(text: str) -> list[str]:
    with pytest.raises(RoutingConfigError) as info:
        parse_routing(text, "r.yaml")
    return [str(p) for p in info.value.problems]


def line_of(text: str, needle: str, nth: int = 0) -> int:
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return lines[nth]


class TestLoadRouting:
    def test_shipped_file_loads(self, shipped: RoutingConfig) -> None:
        """The shipped routing.yaml is valid and has the default tier order."""
        assert shipped.tiers == ("vip", "high", "mid", "normal")
        assert shipped.default_queue in shipped.queues

    def test_config_is_frozen(self, shipped: RoutingConfig) -> None:
        """A loaded config cannot be reassigned field by field."""
        with pytest.raises(ValueError, match="frozen"):
            shipped.default_queue = "billing"  # type: ignore[misc]

    def test_shorthand_service_means_one_queue_for_all_tiers(self, shipped: RoutingConfig) -> None:
        """`sales: sales` routes every tier to the sales queue."""
        assert {shipped.lane("sales", t) for t in shipped.tiers} == {"sales"}

    def test_lane_falls_back_to_default(self, shipped: RoutingConfig) -> None:
        """A tier not listed under a service's lanes uses its default lane."""
        assert shipped.lane("tech", "high") == "tech_vip"
        assert shipped.lane("tech", "mid") == "tech"

    def test_unreadable_file(self, tmp_path: Path) -> None:
        """A missing file is a RoutingConfigError naming the file, not an OSError."""
        with pytest.raises(RoutingConfigError, match="cannot read"):
            load_routing(tmp_path / "nope.yaml")

    def test_yaml_syntax_error_has_position(self) -> None:
        """A YAML syntax error is reported at its line."""
        text = GOOD.replace("  vip: 40\n", "  vip: [40\n", 1)
        (problem,) = problems_of(text)
        assert problem.startswith("r.yaml:")
        assert "YAML syntax" in problem

    def test_empty_file(self) -> None:
        """An empty file is rejected, not loaded as defaults."""
        assert problems_of("") == ["r.yaml:1:1: the file is empty"]

    def test_duplicate_key(self) -> None:
        """A duplicated key is an error at the second occurrence (PyYAML would keep the last)."""
        text = GOOD.replace("  mid: 20\n", "  mid: 20\n  mid: 25\n", 1)
        (problem,) = problems_of(text)
        assert f"r.yaml:{line_of(text, 'mid: 25')}:3: duplicate key 'mid'" == problem

    def test_unknown_lane_queue_points_at_lane(self) -> None:
        """A lane naming a missing queue is reported at that lane's line and column."""
        text = GOOD.replace("{vip: tech_vip, high: tech_vip", "{vip: tech_vip, high: tech_gold", 1)
        (problem,) = problems_of(text)
        line = line_of(text, "tech_gold")
        assert problem.startswith(f"r.yaml:{line}:")
        assert "unknown queue 'tech_gold'" in problem
        assert "queues are:" in problem

    def test_typo_key_rejected(self) -> None:
        """An unknown key (a typo) is rejected at its position instead of ignored."""
        text = GOOD.replace("    ewt_over_s: 180\n", "    ewt_over: 180\n", 1)
        (problem,) = problems_of(text)
        assert problem.startswith(f"r.yaml:{line_of(text, 'ewt_over: 180')}:")
        assert "overflow.1.ewt_over" in problem

    def test_bad_type_points_at_value(self) -> None:
        """A wrong value type is reported at the value's line."""
        text = GOOD.replace("    timeout: 30\n", "    timeout: soon\n", 1)
        (problem,) = problems_of(text)
        assert problem.startswith(f"r.yaml:{line_of(text, 'timeout: soon')}:")
        assert "queues.red_desk.timeout" in problem

    def test_priorities_must_fall_with_tier(self) -> None:
        """A lower tier with a priority not below the tier above is rejected."""
        text = GOOD.replace("  mid: 20\n", "  mid: 30\n", 1)
        (problem,) = problems_of(text)
        assert "priority of 'mid' must be below that of 'high'" in problem
        assert problem.startswith(f"r.yaml:{line_of(text, 'mid: 30')}:")

    def test_missing_tier_priority(self) -> None:
        """Every tier needs a priority."""
        text = GOOD.replace("  normal: 10\n", "", 1)
        assert any("no value for tier 'normal'" in p for p in problems_of(text))

    def test_top_priority_must_outrank_tiers(self) -> None:
        """The aging top must be above every tier's join priority."""
        text = GOOD.replace("top_priority: 50", "top_priority: 40", 1)
        (problem,) = problems_of(text)
        assert "top_priority must be above every tier's priority" in problem

    def test_reserved_queue_name(self) -> None:
        """A queue named 'general' would collide with queues.conf's [general]."""
        text = GOOD.replace("  support:\n    description", "  general:\n    description", 1)
        problems = problems_of(text)
        assert any("'general' is a reserved queues.conf section" in p for p in problems)

    def test_overflow_to_itself(self) -> None:
        """An overflow rule cannot target its own source queue."""
        text = GOOD.replace("    to: [tech_vip]\n", "    to: [tech]\n", 1)
        (problem,) = problems_of(text)
        assert "a queue cannot overflow to itself" in problem
        assert problem.startswith(f"r.yaml:{line_of(text, 'to: [tech]')}:")

    def test_rule_that_never_fires(self) -> None:
        """A rule with no threshold and when_closed off is rejected."""
        text = GOOD.replace(
            "    waiting_over: 10\n    to: [support]",
            "    when_closed: false\n    to: [support]",
            1,
        )
        assert any("the rule can never fire" in p for p in problems_of(text))

    def test_all_problems_reported_at_once(self) -> None:
        """Several independent mistakes are all reported in one error."""
        text = (
            GOOD.replace("  service: restricted", "  service: jail", 1)
            .replace("  queue: red_desk", "  queue: red_room", 1)
            .replace("    vip: 60\n", "    vip: -1\n", 1)
        )
        problems = problems_of(text)
        assert len(problems) == 3
        assert any("unknown service 'jail'" in p for p in problems)
        assert any("unknown queue 'red_room'" in p for p in problems)
        assert any("a wait cap must be above 0 s" in p for p in problems)

    def test_service_without_lane_for_a_tier(self) -> None:
        """A service must cover every tier (or have a default lane)."""
        text = GOOD.replace("{vip: vip_desk, default: billing}", "{vip: vip_desk}", 1)
        (problem,) = problems_of(text)
        assert "service 'billing' has no lane for high, mid, normal" in problem

    def test_not_a_mapping(self) -> None:
        """A file that is a list is rejected as a whole."""
        assert problems_of("- a\n- b\n") == ["r.yaml:1:1: the file must be a mapping of settings"]

    def test_alias_bomb_rejected(self) -> None:
        """Aliases expanding into a huge tree are rejected instead of eating memory."""
        lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in range(1, 9):
            lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
        (problem,) = problems_of("\n".join(lines) + "\n")
        assert "too large or too deep" in problem

    def test_recursive_alias_rejected(self) -> None:
        """A self-referencing alias is rejected, not a RecursionError."""
        (problem,) = problems_of("a: &a [*a]\n")
        assert "too large or too deep" in problem or "YAML syntax" in problem
