"""``tierline campaigns`` and ``tierline dnc`` against a real Redis."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result
from redis.asyncio import Redis

from router.cli import cli
from router.flows.callbacks import CallbackRequest
from router.storage import keys
from router.storage.callback_stream import RedisCallbackStore
from tests.dialer.fake_ami import ReplayAMI
from tests.dialer.harness import SECRET, member, routes, wait_for
from tests.dialer.helpers import ALWAYS

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "samples" / "dialer.yaml"
CONTACTS = ROOT / "samples" / "campaign.csv"
CONFIG_TEXT = f"""
dial: {{customer_channel: "Local/{{number}}@callee"}}
callbacks: {{lane: outbound_q, hours: {ALWAYS}}}
"""


def run(redis_url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--redis", redis_url])


def campaigns(redis_url: str, *args: str) -> Result:
    return run(
        redis_url,
        "campaigns",
        *args,
        *(["--dialer-config", str(CONFIG)] if args[0] != "report" else []),
    )


@pytest.fixture
def customers(redis_url: str) -> None:
    result = run(redis_url, "customers", "import", str(ROOT / "samples" / "customers.csv"))
    assert result.exit_code == 0, result.output


class TestImport:
    def test_sample_imports_and_reimport_is_idempotent(
        self, redis_url: str, customers: None
    ) -> None:
        """The sample file imports; importing it again adds nothing and keeps state."""
        first = campaigns(redis_url, "import", str(CONTACTS))
        assert first.exit_code == 0, first.output
        assert "imported 4 new contacts of 4 rows" in first.output
        again = campaigns(redis_url, "import", str(CONTACTS))
        assert "imported 0 new contacts of 4 rows" in again.output

    def test_bad_rows_all_or_nothing(self, redis_url: str, tmp_path: Path) -> None:
        """Any bad row: FILE:LINE: field: message for each, exit 1, nothing written."""
        bad = tmp_path / "c.csv"
        bad.write_text(
            "campaign,customer_id,number,offer,due_from,due_until\n"
            "winter_offer,,13900000001,x,,\n"
            "nosuch,,13900000002,,,\n"
            "winter_offer,,12ab,,,\n"
            "winter_offer,,13900000003,,2026-12-10T10:00,2026-12-01T10:00\n"
            "winter_offer,,13900000001,,,\n"
        )
        result = campaigns(redis_url, "import", str(bad))
        assert result.exit_code == 1
        lines = [ln for ln in result.output.splitlines() if ln.startswith(str(bad))]
        assert lines == [
            f"{bad}:3: campaign: unknown campaign 'nosuch'",
            f"{bad}:4: number: '12ab' is not a valid phone number",
            f"{bad}:5: due_until: ends before due_from",
            f"{bad}:6: customer_id: winter_offer:13900000001 is also on line 2",
        ]
        assert "imported nothing" in result.output
        import redis

        assert (
            redis.Redis.from_url(redis_url).exists(
                keys.dialer_campaign_contacts_key("winter_offer")
            )
            == 0
        )

    def test_unknown_customer_rejected(self, redis_url: str, tmp_path: Path) -> None:
        """A row naming only a customer id the store does not know is a located error."""
        f = tmp_path / "c.jsonl"
        f.write_text('{"campaign": "return_visit", "customer_id": "NOPE1"}\n')
        result = campaigns(redis_url, "import", str(f))
        assert result.exit_code == 1
        assert f"{f}:1: customer_id: unknown customer 'NOPE1'" in result.output

    def test_bad_config_reported(self, redis_url: str, tmp_path: Path) -> None:
        """An unknown key in the dialer config stops the command with file:line."""
        cfg = tmp_path / "d.yaml"
        cfg.write_text("campaigns:\n  x:\n    kind: telemarketing\n    lane: q\n    colour: red\n")
        result = CliRunner().invoke(
            cli, ["campaigns", "start", "x", "--dialer-config", str(cfg), "--redis", redis_url]
        )
        assert result.exit_code != 0
        assert f"{cfg}:5:" in str(result.exception or "") + result.output


class TestLifecycle:
    def test_start_pause_resume_stop_status(self, redis_url: str, customers: None) -> None:
        """State changes show in status; stop ends every pending contact as 'stopped'."""
        campaigns(redis_url, "import", str(CONTACTS))
        status = orjson.loads(campaigns(redis_url, "status", "winter_offer").output)
        assert status == {"campaign": "winter_offer", "state": "paused", "contacts": {"pending": 2}}
        for verb, state in (("start", "running"), ("pause", "paused"), ("resume", "running")):
            assert (
                campaigns(redis_url, verb, "winter_offer").output.strip()
                == f"winter_offer: {state}"
            )
        assert "2 pending contacts ended" in campaigns(redis_url, "stop", "winter_offer").output
        status = orjson.loads(campaigns(redis_url, "status", "winter_offer").output)
        assert status == {
            "campaign": "winter_offer",
            "state": "stopped",
            "contacts": {"stopped": 2},
        }

    def test_unknown_campaign(self, redis_url: str) -> None:
        result = campaigns(redis_url, "start", "nosuch")
        assert result.exit_code == 2
        assert "unknown campaign 'nosuch'" in result.output

    def test_report(self, redis_url: str) -> None:
        """The report folds attempts and refusals per campaign, callbacks apart."""
        import redis

        r = redis.Redis.from_url(redis_url)
        r.xadd(
            keys.DIALER_ATTEMPTS_STREAM,
            {
                "campaign": "winter_offer",
                "result": "answered",
                "offer": "5G",
                "offer_accepted": "1",
                "talk_s": "60",
                "instant_hangup": "0",
            },
        )
        r.xadd(
            keys.DIALER_ATTEMPTS_STREAM,
            {"campaign": "winter_offer", "result": "answered", "instant_hangup": "1"},
        )
        r.xadd(
            keys.DIALER_ATTEMPTS_STREAM,
            {
                "campaign": "callbacks",
                "kind": "callback",
                "result": "answered",
                "state": "done",
                "waited_s": "120",
            },
        )
        r.xadd(keys.DIALER_REFUSALS_STREAM, {"campaign": "winter_offer", "reason": "dnc"})
        data = orjson.loads(campaigns(redis_url, "report", "--json").output)
        offer = data["campaigns"]["winter_offer"]
        assert (offer["attempts"], offer["contacts"], offer["right_party"]) == (2, 2, 1)
        assert offer["conversions"] == {"5G": 1}
        assert offer["refusals"] == {"dnc": 1}
        assert data["callbacks"] == {"completed": 1, "wait_mean_s": 120.0, "wait_max_s": 120.0}
        table = campaigns(redis_url, "report").output.splitlines()
        rows = [line.split() for line in table]
        assert ["winter_offer", "dnc", "1"] in rows  # refusals by rule
        assert ["winter_offer", "5G", "1", "1", "100.0"] in rows  # conversions per offer
        assert ["winter_offer", "2", "2", "1", "50.0", "1", "1", "1.0"] in rows


class TestDnc:
    def test_add_check_remove(self, redis_url: str) -> None:
        """Numbers are normalised: any spelling of one number is the same entry."""
        assert run(redis_url, "dnc", "add", "+86 139-0000-0042").exit_code == 0
        assert run(redis_url, "dnc", "check", "13900000042").exit_code == 0
        assert run(redis_url, "dnc", "remove", "008613900000042").output.startswith("removed 1")
        assert run(redis_url, "dnc", "check", "13900000042").exit_code == 1

    def test_import_all_or_nothing(self, redis_url: str, tmp_path: Path) -> None:
        """A bad line in a DNC file: nothing added, FILE:LINE: number: message."""
        f = tmp_path / "dnc.txt"
        f.write_text("number\n13900000001\nnot-a-number\n")
        result = run(redis_url, "dnc", "import", str(f))
        assert result.exit_code == 1
        assert f"{f}:3: number: 'not-a-number' is not valid" in result.output
        assert run(redis_url, "dnc", "check", "13900000001").exit_code == 1
        f.write_text("13900000001\n139 0000 0002\n")
        assert "added 2 new of 2" in run(redis_url, "dnc", "import", str(f)).output

    def test_bad_number_argument(self, redis_url: str) -> None:
        result = run(redis_url, "dnc", "add", "abc")
        assert result.exit_code == 2
        assert "not a valid phone number" in result.output


class TestDialerRun:
    def test_missing_secret_is_a_config_error(self, redis_url: str) -> None:
        """Without the dialer's AMI secret file the service does not start."""
        result = CliRunner().invoke(
            cli,
            ["dialer", "run", "--dialer-config", str(CONFIG), "--redis", redis_url],
            env={"TIERLINE_DIALER_AMI_SECRET_FILE": ""},
        )
        assert result.exit_code != 0
        assert "TIERLINE_DIALER_AMI_SECRET_FILE" in str(result.exception)

    async def test_service_dials_a_callback_and_stops_on_sigterm(
        self, redis_url: str, redis_client: Redis, shared_dir: Path, tmp_path: Path
    ) -> None:
        """`tierline dialer run` as a process: a callback request is dialled, SIGTERM stops it."""
        ami = ReplayAMI(routes(shared_dir), SECRET)
        ami.queue_status = [member("agent1")]
        await ami.start()
        cfg = tmp_path / "dialer.yaml"
        cfg.write_text(CONFIG_TEXT)
        secret = tmp_path / "secret"
        secret.write_text(SECRET + "\n")
        await RedisCallbackStore(redis_client).add(
            CallbackRequest(
                "13900000003", "", "normal", "billing", datetime.now(UTC), "u1", "telecom"
            )
        )
        env = {**os.environ, "TIERLINE_DIALER_AMI_SECRET_FILE": str(secret)}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "router",
            "dialer",
            "run",
            "--dialer-config",
            str(cfg),
            "--redis",
            redis_url,
            "--ami-port",
            str(ami.port),
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await wait_for(lambda: _attempts(redis_client), within_s=60)
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(proc.communicate(), 30)
            await ami.close()
        assert proc.returncode == 0, err.decode()[-2000:]
        (rec,) = [dict(f) for _, f in await redis_client.xrange(keys.DIALER_ATTEMPTS_STREAM)]
        assert (rec["campaign"], rec["result"], rec["state"]) == ("callbacks", "answered", "done")
        assert [o["Channel"] for o in ami.originates()] == ["Local/13900000003@callee"]


async def _attempts(redis: Redis) -> bool:
    return bool(await redis.xlen(keys.DIALER_ATTEMPTS_STREAM))
