"""Feed a capture's bytes through framing and the reducer, as the listener does."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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


def with_channelvars(
    data: bytes, values: Callable[[str], Mapping[str, str]], *, form: str = "snapshot"
) -> bytes:
    """Add manager.conf ``channelvars`` headers to every channel snapshot in ``data``.

    Asterisk 22 writes them right after the snapshot's ``Linkedid`` line, one
    per configured variable, empty when the channel does not have it set:
    ``ChanVariable: NAME=value`` for channel snapshots (manager_channels.c,
    value C-escaped) or ``ChanVariable(<channel>): NAME=value`` for events
    raised by manager.c (``form="manager"``). ``values(channel)`` gives the
    variables of one channel at that point of the stream.
    """
    out: list[bytes] = []
    channel = ""
    for line in data.split(b"\r\n"):
        out.append(line)
        if line.startswith(b"Channel: "):
            channel = line[len(b"Channel: ") :].decode()
        elif line.startswith(b"Linkedid: ") and channel:
            head = "ChanVariable" if form == "snapshot" else f"ChanVariable({channel})"
            out.extend(f"{head}: {k}={v}".encode() for k, v in values(channel).items())
        elif not line:
            channel = ""
    return b"\r\n".join(out)


def replay_bytes(data: bytes, size: int = 4096, clock_step: float = 0.01) -> Replay:
    """Like :func:`replay` for one connection's server bytes."""
    out = Replay()
    now = 1_000_000.0
    banner, frames = split_frames(data, size)
    if banner:
        out.banners.append(banner)
    for frame in frames:
        now += clock_step
        out.frames.append(frame)
        out.records.extend(apply(out.state, frame, now).finished)
    return out
