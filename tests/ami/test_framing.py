"""Framing: raw bytes split into frames before decoding, tolerant parsing."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from panoramisk.ami_protocol import AMIProtocol
from structlog.testing import capture_logs

from router.ami.framing import FrameSplitter, parse_frame
from tests.ami.replay import split_frames
from tests.ami.transcripts import all_captures, load


def _expected_frame_count(data: bytes) -> int:
    """Blocks whose first line is Event:/Response: (OriginateResponse also has a Response line)."""
    lines = data.split(b"\r\n")
    return sum(
        1
        for prev, line in zip([b"", *lines], lines, strict=False)
        if line.startswith((b"Event: ", b"Response: "))
        and (prev == b"" or prev.startswith(b"Asterisk"))
    )


@pytest.mark.shared
class TestCaptureFraming:
    def test_every_capture_frames_match_its_event_and_response_lines(
        self, shared_dir: Path
    ) -> None:
        """Each Event/Response block of every capture is exactly one parsed frame."""
        captures = all_captures(shared_dir)
        assert len(captures) >= 13, [p.name for p in captures]  # 01-13 as of 2026-12-02
        for path in captures:
            for conn in load(path):
                data = bytes(conn.server)
                banner, frames = split_frames(data, 65536)
                assert banner == "Asterisk Call Manager/11.0.0", path.name
                assert len(frames) == _expected_frame_count(data), path.name
                assert all(next(iter(f)) in ("Event", "Response") for f in frames), path.name

    def test_chunk_sizes_do_not_change_the_frames(self, shared_dir: Path) -> None:
        """Byte-by-byte and odd-sized reads give the same frames as one big read."""
        for path in all_captures(shared_dir):
            for conn in load(path):
                data = bytes(conn.server)
                whole = split_frames(data, len(data) + 1)
                for size in (1, 2, 3, 5, 7, 1021):
                    assert split_frames(data, size) == whole, (path.name, size)

    def test_split_around_every_frame_end(self, shared_dir: Path) -> None:
        """A read ending anywhere inside a CRLF CRLF terminator still frames correctly."""
        data = bytes(load(shared_dir / "ami" / "06-queue-member-actions.txt")[0].server)
        whole = split_frames(data, len(data) + 1)
        cuts = {
            i + d for i in range(len(data)) if data.startswith(b"\r\n\r\n", i) for d in range(5)
        }
        cuts |= set(range(0, 40))  # inside and right after the banner
        for cut in sorted(cuts):
            splitter = FrameSplitter()
            raws = splitter.feed(data[:cut]) + splitter.feed(data[cut:])
            assert (splitter.banner, [parse_frame(r) for r in raws]) == whole, cut

    def test_reply_and_event_field_names_are_kept_as_sent(self, shared_dir: Path) -> None:
        """QueueMember (reply) says Name/Location; member events say MemberName/Interface."""
        data = bytes(load(shared_dir / "ami" / "05-queuestatus-queuesummary.txt")[0].server)
        _, frames = split_frames(data, 997)
        member = next(f for f in frames if f.get("Event") == "QueueMember")
        pause = next(f for f in frames if f.get("Event") == "QueueMemberPause")
        params = next(f for f in frames if f.get("Event") == "QueueParams")
        assert (member["Name"], member["Location"]) == ("Agent1", "Local/agent1@agents/n")
        assert (pause["MemberName"], pause["Interface"]) == ("Agent1", "Local/agent1@agents/n")
        assert params["ServicelevelPerf"] == "50.0"
        empty = next(f for f in frames if f.get("Event") == "QueueCallerJoin")
        assert empty["AccountCode"] == ""


class TestUtf8AcrossReads:
    FRAME = (
        "Event: QueueCallerJoin\r\nCallerIDNum: 13900001111\r\n"
        "CallerIDName: 张三丰\r\nQueue: support\r\n\r\n"
    ).encode()

    def test_chinese_name_survives_every_split_point(self) -> None:
        """Splitting the bytes anywhere (inside a 3-byte character too) keeps 张三丰 intact."""
        for cut in range(1, len(self.FRAME)):
            splitter = FrameSplitter()
            raws = splitter.feed(self.FRAME[:cut]) + splitter.feed(self.FRAME[cut:])
            assert [parse_frame(r)["CallerIDName"] for r in raws] == ["张三丰"], cut

    def test_panoramisk_decoder_loses_the_split_character(self) -> None:
        """Why we frame bytes: panoramisk 1.4's own protocol drops 三 when a read splits it."""
        got: list[Any] = []
        proto = AMIProtocol()
        proto.connection_made(None)
        proto.factory = SimpleNamespace(dispatch=got.append)
        proto.encoding = "utf-8"
        cut = self.FRAME.index("三".encode()) + 1
        proto.data_received(self.FRAME[:cut])
        proto.data_received(self.FRAME[cut:])
        assert [m["CallerIDName"] for m in got] == ["张丰"]


class TestTolerantParser:
    def test_bad_line_is_logged_and_skipped(self) -> None:
        """A line without a colon is skipped with a log; the other headers survive."""
        with capture_logs() as logs:
            frame = parse_frame(b"Event: Hangup\r\ngarbage without colon\r\nUniqueid: 1.2")
        assert frame == {"Event": "Hangup", "Uniqueid": "1.2"}
        assert [e["event"] for e in logs] == ["ami_bad_line"]

    def test_invalid_utf8_is_replaced_not_dropped(self) -> None:
        """Invalid bytes become U+FFFD and are logged; the value keeps its other text."""
        with capture_logs() as logs:
            frame = parse_frame(b"Event: X\r\nCallerIDName: ab\xffcd")
        assert frame["CallerIDName"] == "ab\ufffdcd"
        assert logs[0]["event"] == "ami_bad_utf8"

    def test_chanvariable_headers_become_addressable(self) -> None:
        """Repeated ChanVariable lines map to ChanVariable(NAME) keys."""
        frame = parse_frame(
            b"Event: QueueCallerJoin\r\nChanVariable: TIERLINE_TIER=vip\r\n"
            b"ChanVariable: TIERLINE_PRIO=10\r\nOutput: a\r\nOutput: b"
        )
        assert frame["ChanVariable(TIERLINE_TIER)"] == "vip"
        assert frame["ChanVariable(TIERLINE_PRIO)"] == "10"
        assert frame["Output"] == "a\nb"

    def test_bare_lf_frames_are_accepted(self) -> None:
        """Frames ended by LF LF (test doubles, proxies) are split too."""
        splitter = FrameSplitter()
        raws = splitter.feed(b"Asterisk Call Manager/11.0.0\nEvent: A\n\nEvent: B\r\n\n")
        assert splitter.banner == "Asterisk Call Manager/11.0.0"
        assert [parse_frame(r)["Event"] for r in raws] == ["A", "B"]

    def test_no_banner_when_stream_starts_with_a_frame(self) -> None:
        """A stream without the banner line is framed from its first byte."""
        splitter = FrameSplitter()
        raws = splitter.feed(b"Event: A\r\n\r\n")
        assert splitter.banner is None
        assert [parse_frame(r) for r in raws] == [{"Event": "A"}]


class TestFramingProperties:
    @settings(max_examples=100, deadline=None)
    @given(
        blocks=st.lists(
            st.lists(
                st.tuples(
                    st.text(
                        st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n:"),
                        min_size=1,
                        max_size=8,
                    ),
                    st.text(
                        st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                        max_size=12,
                    ),
                ),
                min_size=1,
                max_size=4,
            ),
            max_size=5,
        ),
        cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6),
    )
    def test_any_split_gives_the_same_frames(
        self, blocks: list[list[tuple[str, str]]], cuts: list[int]
    ) -> None:
        """Well-formed frames (any UTF-8 text) split at arbitrary byte offsets parse identically."""
        data = b"".join(
            b"".join(f"{k.strip() or 'K'}: {v}\r\n".encode() for k, v in block) + b"\r\n"
            for block in blocks
        )
        whole = split_frames(data, len(data) + 1)
        splitter, raws, last = FrameSplitter(), [], 0
        for cut in sorted({c for c in cuts if c < len(data)}):
            raws += splitter.feed(data[last:cut])
            last = cut
        raws += splitter.feed(data[last:])
        assert (splitter.banner, [parse_frame(r) for r in raws]) == whole
        assert len(whole[1]) == len(blocks)

    @settings(max_examples=100, deadline=None)
    @given(st.binary(max_size=300))
    def test_garbage_never_raises(self, data: bytes) -> None:
        """Arbitrary bytes never make the splitter or the parser raise."""
        with capture_logs():
            splitter = FrameSplitter()
            for raw in splitter.feed(data) + splitter.feed(b"\r\n\r\n"):
                assert isinstance(parse_frame(raw), dict)
