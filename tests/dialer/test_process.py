"""The dialer's settings (TOML/environment, bounded) and the dialer inside `tierline serve`."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis

from router import service
from router.dialer.process import config_file, prepare
from router.errors import CampaignDataError, ConfigError
from router.flows.callbacks import CallbackRequest
from router.settings import Settings
from router.storage import keys
from router.storage.callback_stream import RedisCallbackStore
from tests.dialer.fake_ami import ReplayAMI
from tests.dialer.harness import SECRET, member, routes, wait_for
from tests.dialer.helpers import ALWAYS
from tests.redis_server import free_port

IVR = Path(__file__).resolve().parents[2] / "ivr_flows"
CONFIG_TEXT = f"""
dial: {{customer_channel: "Local/{{number}}@callee"}}
callbacks: {{lane: outbound_q, hours: {ALWAYS}}}
"""


def toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tierline.toml"
    path.write_text(text)
    return path


class TestDialerSettings:
    def test_toml_keys_and_relative_paths(self, tmp_path: Path) -> None:
        """The dialer's keys come from the TOML file; its relative paths from the file's folder."""
        path = toml(
            tmp_path,
            'dialer = true\ndialer_config = "d.yaml"\ndialer_tick_ms = 100\n'
            'dialer_ami_secret_file = "dialer.secret"\ndialer_name = "east-1"\n',
        )
        s = Settings.from_env({}, config_file=path)
        assert (s.dialer, s.dialer_tick_ms, s.dialer_name) == (True, 100.0, "east-1")
        assert s.dialer_config == tmp_path / "d.yaml"
        assert s.dialer_ami_secret_file == tmp_path / "dialer.secret"

    def test_environment_names(self) -> None:
        """TIERLINE_DIALER_* variables set the same fields the old CLI options read."""
        env = {"TIERLINE_DIALER_AMI_USERNAME": "dialer-2", "TIERLINE_DIALER": "1"}
        s = Settings.from_env(env)
        assert (s.dialer, s.dialer_ami_username) == (True, "dialer-2")

    def test_out_of_bounds_tick(self, tmp_path: Path) -> None:
        """A re-check slower than a second would let outbound keep agents too long: refused."""
        with pytest.raises(
            ConfigError, match=r"dialer_tick_ms' in .*tierline\.toml has value '5000'"
        ):
            Settings.from_env({}, config_file=toml(tmp_path, "dialer_tick_ms = 5000\n"))

    def test_unknown_key_is_an_error(self, tmp_path: Path) -> None:
        """A misspelt dialer key stops start-up with the likely intended one."""
        with pytest.raises(ConfigError, match="unknown key 'dialer_tik_ms'; did you mean"):
            Settings.from_env({}, config_file=toml(tmp_path, "dialer_tik_ms = 100\n"))

    def test_bad_name(self) -> None:
        """The name goes into attempt ids: only a short plain token is accepted."""
        with pytest.raises(ConfigError, match="TIERLINE_DIALER_NAME"):
            Settings.from_env({"TIERLINE_DIALER_NAME": "a b"})

    def test_default_file_beside_the_flows(self, tmp_path: Path) -> None:
        """Without TIERLINE_DIALER_CONFIG the dialer file is dialer.yaml in the flows folder."""
        assert config_file(Settings(flows_dir=tmp_path)) == tmp_path / "dialer.yaml"

    def test_prepare_needs_the_secret(self, tmp_path: Path) -> None:
        """No secret file: one message naming the variable, before anything starts."""
        cfg = tmp_path / "dialer.yaml"
        cfg.write_text(CONFIG_TEXT)
        with pytest.raises(ConfigError, match="TIERLINE_DIALER_AMI_SECRET_FILE"):
            prepare(Settings(dialer_config=cfg))


def serve_settings(tmp_path: Path, ami_port: int, config_text: str = CONFIG_TEXT) -> Settings:
    shutil.copy(IVR / "routing.yaml", tmp_path / "routing.yaml")
    cfg = tmp_path / "dialer.yaml"
    cfg.write_text(config_text)
    secret = tmp_path / "dialer.secret"
    secret.write_text(SECRET + "\n")
    return Settings(
        agi_port=free_port(),
        flows_dir=tmp_path,
        routing_config=tmp_path / "routing.yaml",
        ami_port=ami_port,
        dialer=True,
        dialer_config=cfg,
        dialer_ami_secret_file=secret,
        dialer_name="serve-1",
    )


class TestServeRunsTheDialer:
    async def test_callback_dialled_by_serve(
        self, redis_url: str, redis_client: Redis, shared_dir: Path, tmp_path: Path
    ) -> None:
        """With TIERLINE_DIALER=1 the router process itself dials a callback request."""
        ami = ReplayAMI(routes(shared_dir), SECRET)
        ami.queue_status = [member("agent1")]
        await ami.start()
        await RedisCallbackStore(redis_client).add(
            CallbackRequest(
                "13900000003", "", "normal", "billing", datetime.now(UTC), "u1", "telecom"
            )
        )
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(serve_settings(tmp_path, ami.port), redis_url, stop))
        try:
            await wait_for(lambda: redis_client.xlen(keys.DIALER_ATTEMPTS_STREAM), within_s=30)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
            await ami.close()
        (rec,) = [dict(f) for _, f in await redis_client.xrange(keys.DIALER_ATTEMPTS_STREAM)]
        assert (rec["campaign"], rec["result"], rec["state"]) == ("callbacks", "answered", "done")
        assert rec["attempt_id"].startswith("serve-1-")

    async def test_bad_dialer_file_stops_start_up(self, redis_url: str, tmp_path: Path) -> None:
        """A broken dialer file fails `serve` at start, naming the file and line."""
        settings = serve_settings(tmp_path, 1, "limits: {per_dya: 2}\n")
        with pytest.raises(CampaignDataError) as err:
            await service.run(settings, redis_url, asyncio.Event())
        assert "dialer.yaml:1" in str(err.value)
