"""Structured JSON logs: one object per line, call ids bound, numbers masked."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import orjson
import pytest
import structlog

from router.logs import (
    bind_call,
    configure_logging,
    get_logger,
    mask_number,
    mask_numbers,
    mask_secrets,
)


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging("debug", stream=out)
    structlog.contextvars.clear_contextvars()
    yield out
    structlog.contextvars.clear_contextvars()
    root.handlers[:] = handlers  # leave pytest's own capture handlers as they were
    root.setLevel(level)


class TestMasking:
    @pytest.mark.parametrize(
        ("raw", "masked"),
        [("13800138000", "138****8000"), ("+8613800138000", "+861****8000"), ("12345", "*****")],
    )
    def test_mask_number(self, raw: str, masked: str) -> None:
        """Numbers keep 3 leading and 4 trailing digits."""
        assert mask_number(raw) == masked

    def test_numbers_inside_text(self) -> None:
        """Numbers embedded in free text are masked; short digit runs stay."""
        assert mask_numbers("call from 138-0013-8000 to ext 1234") == (
            "call from 138****8000 to ext 1234"
        )


class TestJsonLines:
    def test_event_is_one_json_line_with_call_id(self, stream: io.StringIO) -> None:
        """Bound ids appear on every line; caller numbers never in clear."""
        bind_call(uniqueid="1732281234.42")
        get_logger("t").info("lookup", caller="13800138000", note="dial 13900001111 now")
        (line,) = stream.getvalue().splitlines()
        event = orjson.loads(line)
        assert event["uniqueid"] == "1732281234.42"
        assert event["caller"] == "138****8000"
        assert event["note"] == "dial 139****1111 now"
        assert event["level"] == "info"
        assert "13800138000" not in line

    def test_level_filter(self, stream: io.StringIO) -> None:
        """Events below the configured level are dropped."""
        configure_logging("warning", stream=stream)
        get_logger("t").info("quiet")
        get_logger("t").warning("loud")
        assert [orjson.loads(x)["event"] for x in stream.getvalue().splitlines()] == ["loud"]


class TestNotNumbers:
    def test_hashes_and_ids_stay_readable(self) -> None:
        """Digit runs inside hex hashes or words are not phone numbers."""
        assert mask_numbers("flows 703c1949513 v2a12345678") == "flows 703c1949513 v2a12345678"


class TestSecrets:
    def test_url_password_is_hidden_in_every_value(self, stream: io.StringIO) -> None:
        """A store URL with a password (the ready line's) is logged without it."""
        get_logger("t").info(
            "ready", store="redis://:s3cretPw@127.0.0.1:6379/0", note="via rediss://u:pw2@h:1"
        )
        (line,) = stream.getvalue().splitlines()
        event = orjson.loads(line)
        assert event["store"] == "redis://:***@127.0.0.1:6379/0"
        assert event["note"] == "via rediss://u:***@h:1"
        assert "s3cretPw" not in line
        assert "pw2" not in line

    def test_secret_named_fields_are_hidden(self, stream: io.StringIO) -> None:
        """Fields named like secrets never print their value."""
        get_logger("t").info("login", secret="abc", ami={"password": "x1", "user": "router"})
        event = orjson.loads(stream.getvalue())
        assert event["secret"] == "***"
        assert event["ami"] == {"password": "***", "user": "router"}

    def test_mask_secrets(self) -> None:
        """URLs without a password stay as they are."""
        assert (
            mask_secrets("redis://h:6379/0 and unix:///tmp/s")
            == "redis://h:6379/0 and unix:///tmp/s"
        )


class TestCallIds:
    @pytest.mark.parametrize(
        ("uniqueid", "logged"),
        [
            ("1795348509.9", "1795348509.9"),
            ("pbx1-1795348509.12", "pbx1-1795348509.12"),
            ("13800138000.5", "138****8000.5"),
            ("trunk-13800138000", "trunk-138****8000"),
            ("1065529988.3", "106****9988.3"),
        ],
    )
    def test_uniqueid_keeps_asterisk_form_and_hides_numbers(
        self, stream: io.StringIO, uniqueid: str, logged: str
    ) -> None:
        """Asterisk's epoch.seq stays readable; a number embedded by a trunk is masked."""
        bind_call(uniqueid=uniqueid, linkedid=uniqueid)
        get_logger("t").info("route")
        event = orjson.loads(stream.getvalue())
        assert (event["uniqueid"], event["linkedid"]) == (logged, logged)


class TestStandardLibrary:
    def test_stdlib_records_are_json_and_masked(self, stream: io.StringIO) -> None:
        """redis-py/asyncio log through logging: same JSON lines, same masking."""
        logging.getLogger("redis.test").warning(
            "lost %s at redis://:pw9@h:1 for %s", "conn", "13800138000"
        )
        (line,) = stream.getvalue().splitlines()
        event = orjson.loads(line)
        assert event["event"] == "lost conn at redis://:***@h:1 for 138****8000"
        assert event["level"] == "warning"
        assert event["logger"] == "redis.test"

    def test_stdlib_level_follows_the_setting(self, stream: io.StringIO) -> None:
        """Below the configured level, standard-library records are dropped too."""
        configure_logging("warning", stream=stream)
        logging.getLogger("asyncio").info("quiet")
        assert stream.getvalue() == ""

    def test_reconfiguring_replaces_the_handler(self, stream: io.StringIO) -> None:
        """configure_logging twice does not print every record twice."""
        configure_logging("info", stream=stream)
        logging.getLogger("x").warning("once")
        assert len(stream.getvalue().splitlines()) == 1
