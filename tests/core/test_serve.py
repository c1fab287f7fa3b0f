"""`tierline serve`: the README's main command, on the embedded store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from router.eventloop import loop_name


def wait_for_event(proc: subprocess.Popen[bytes], name: str, timeout: float) -> dict[str, object]:
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        event = orjson.loads(line)
        if event["event"] == name:
            return dict(event)
    pytest.fail(f"no {name!r} event within {timeout}s")


def refusal(args: list[str], env: dict[str, str]) -> list[str]:
    """The stderr lines of a tierline command that must stop with exit 2."""
    out = subprocess.run(
        [sys.executable, "-m", "router", *args],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 2, out.stderr
    return out.stderr.decode().splitlines()


class TestServe:
    def test_demo_serve_on_embedded_store_and_clean_stop(self, tmp_path: Path) -> None:
        """serve --demo starts Valkey, loads samples, reports ready, stops on SIGTERM."""
        env = {**os.environ, "TIERLINE_DATA_DIR": str(tmp_path), "TIERLINE_AGI_PORT": "0"}
        env.pop("REDIS_URL", None)
        proc = subprocess.Popen(
            [sys.executable, "-m", "router", "serve", "--demo"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            ready = wait_for_event(proc, "ready", 60)
            assert ready["loop"] == loop_name()  # uvloop where installed (TIERLINE_UVLOOP)
            url_file = tmp_path / "valkey" / "server.url"
            url = url_file.read_text()
            password = url.split("://:", 1)[1].split("@", 1)[0]
            assert len(password) >= 20
            assert ready["store"] == url.replace(password, "***")  # the log never shows it
            show = subprocess.run(
                [sys.executable, "-m", "router", "customers", "show", "13800138000"],
                env=env,
                capture_output=True,
                timeout=60,
                check=False,
            )
            assert show.returncode == 0, show.stderr
            assert orjson.loads(show.stdout)["customer_id"] == "C00001"
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == 0
            assert proc.stderr is not None
            assert password not in proc.stderr.read().decode()
            assert not url_file.exists()
            assert (tmp_path / "valkey" / "appendonlydir").is_dir()
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            if proc.stderr:
                proc.stderr.close()

    def test_bad_setting_is_one_line_not_a_traceback(self, tmp_path: Path) -> None:
        """A bad environment value stops serve with exit 2 and the variable's name."""
        env = {**os.environ, "TIERLINE_DATA_DIR": str(tmp_path), "TIERLINE_AGI_PORT": "x"}
        out = subprocess.run(
            [sys.executable, "-m", "router", "serve"], env=env, capture_output=True, check=False
        )
        assert out.returncode == 2
        assert out.stderr.decode().strip() == (
            "error: Config 'TIERLINE_AGI_PORT' has value 'x'. "
            "Input should be a valid integer, unable to parse string as an integer."
        )

    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            (
                "TIERLINE_LOG_LEVEL",
                "verbose",
                "Input should be 'debug', 'info', 'warning', 'error' or 'critical'.",
            ),
            ("TIERLINE_LOOKUP_DEADLINE_MS", "-5", "Input should be greater than or equal to 1."),
        ],
    )
    def test_out_of_range_setting_stops_serve_in_one_line(
        self, tmp_path: Path, name: str, value: str, message: str
    ) -> None:
        """The README's promise: a bad value stops the process with a message naming it."""
        env = {**os.environ, "TIERLINE_DATA_DIR": str(tmp_path), name: value}
        env.pop("REDIS_URL", None)
        assert refusal(["serve"], env) == [f"error: Config '{name}' has value '{value}'. {message}"]

    def test_unknown_config_file_key_stops_serve(self, tmp_path: Path) -> None:
        """tierline --config FILE: an unknown key is one line with the file and the key."""
        conf = tmp_path / "tierline.toml"
        conf.write_text('agi_port = 0\nlog_levle = "debug"\n')
        assert refusal(["--config", str(conf), "serve"], dict(os.environ)) == [
            f"error: config file {conf}: unknown key 'log_levle'; did you mean 'log_level'?"
        ]
