"""Feed a capture's bytes through framing and the reducer, as the listener does."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from router.ami.framing import Frame, FrameSplitter, parse_frame
from router.ami.records import CallRecord
from router.ami.state import LiveState, apply
from tests.ami.transcripts import load


@dataclass
class Replay:
    frames: list[Frame] = field(default_factory=list)
    banners: list[str] = field(default_factory=list)
    state: LiveState = field(default_factory=LiveState)
    records: list[CallRecord] = field(default_factory=list)


def chunks(data: bytes, size: int) -> Iterable[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def split_frames(data: bytes, size: int) -> tuple[str | None, list[Frame]]:
    splitter = FrameSplitter()
    frames = [parse_frame(raw) for part in chunks(data, size) for raw in splitter.feed(part)]
    return splitter.banner, frames


def replay(path: Path, size: int = 4096, clock_step: float = 0.01) -> Replay:
    """Every connection of ``path`` in order, one shared state, a fake clock."""
    out = Replay()
    now = 1_000_000.0
    for conn in load(path):
        banner, frames = split_frames(bytes(conn.server), size)
        if banner:
            out.banners.append(banner)
        for frame in frames:
            now += clock_step
            out.frames.append(frame)
            delta = apply(out.state, frame, now)
            out.records.extend(delta.finished)
    return out
