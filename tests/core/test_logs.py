"""Structured JSON logs: one object per line, call ids bound, numbers masked."""

from __future__ import annotations

import io

import orjson
import pytest
import structlog

from router.logs import bind_call, configure_logging, get_logger, mask_number, mask_numbers


@pytest.fixture
def stream() -> io.StringIO:
    out = io.StringIO()
    configure_logging("debug", stream=out)
    structlog.contextvars.clear_contextvars()
    return out


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
