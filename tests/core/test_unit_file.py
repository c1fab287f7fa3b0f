"""The shipped systemd unit: notify + watchdog + restart, a stop timeout above the drain."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from router.agi.server import CUT_S
from router.settings import Settings

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "tierline.service"


def seconds(value: str) -> float:
    assert value.endswith("s"), value
    return float(value[:-1])


@pytest.fixture
def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]  # keys are case-sensitive
    parser.read(UNIT)
    return parser


class TestUnitFile:
    def test_a_stuck_loop_is_killed_and_restarted(self, unit: configparser.ConfigParser) -> None:
        """Type=notify, the watchdog on, messages from the router itself, always restarted."""
        svc = unit["Service"]
        assert svc["Type"] == "notify"
        assert svc["NotifyAccess"] == "main"
        assert 0 < seconds(svc["WatchdogSec"]) <= 10
        assert svc["Restart"] == "always"
        assert "tierline serve" in svc["ExecStart"]

    def test_stop_timeout_covers_the_drain(self, unit: configparser.ConfigParser) -> None:
        """SIGTERM reaches only the router, which gets its drain and the cut before SIGKILL."""
        svc = unit["Service"]
        assert svc["KillMode"] == "mixed"
        assert seconds(svc["TimeoutStopSec"]) > Settings().drain_s + CUT_S + 1

    def test_hardened(self, unit: configparser.ConfigParser) -> None:
        """Unprivileged, read-only system, no new privileges, network families only."""
        svc = unit["Service"]
        assert svc["User"] == "tierline"
        assert svc["NoNewPrivileges"] == "yes"
        assert svc["ProtectSystem"] == "strict"
        assert svc["CapabilityBoundingSet"] == ""
        assert svc["RestrictAddressFamilies"] == "AF_INET AF_INET6 AF_UNIX"

    def test_systemd_accepts_it(self, tmp_path: Path) -> None:
        """``systemd-analyze verify`` passes (ExecStart pointed at this interpreter)."""
        analyze = shutil.which("systemd-analyze")
        if analyze is None:
            pytest.skip("systemd-analyze not installed")
        text = UNIT.read_text().replace(
            "ExecStart=/opt/tierline/.venv/bin/tierline serve",
            f"ExecStart={Path(sys.executable).resolve()} -m router serve",
        )
        copy = tmp_path / "tierline.service"
        copy.write_text(text)
        out = subprocess.run(
            [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60, check=False
        )
        assert out.returncode == 0, out.stderr
        assert out.stderr == ""
