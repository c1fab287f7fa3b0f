"""The originate captures (ami/09, 11, 12) cut into one segment per action.

A segment is what the client sent (one action) and every byte Asterisk
sent after it, up to the next action. ``as_sent_to`` rewrites only the
tokens a different client would have chosen, exactly as Asterisk does: the
``ActionID`` (cap-N -> the client's), and with ``ChannelId``/
``OtherChannelId`` in the Originate, the ``;1``/``;2`` uniqueids (ami/11
step 12 shows Asterisk then uses those ids as Uniqueid and Linkedid).
Nothing else is changed: header order, values and event order are the
capture's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from router.ami.framing import Frame, FrameSplitter, parse_frame


@dataclass
class Segment:
    action: dict[str, str] = field(default_factory=dict)
    server: bytearray = field(default_factory=bytearray)

    @property
    def action_id(self) -> str:
        return self.action.get("ActionID", "")


def segments(path: Path) -> list[Segment]:
    """Every action of a capture with the server bytes that followed it."""
    out: list[Segment] = [Segment()]
    pending: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.startswith(">>> ") or line == ">>>":
            body = line[4:]
            if body:
                key, _, value = body.partition(": ")
                pending[key] = f"{pending[key]},{value}" if key in pending else value
            else:
                out.append(Segment(action=pending))
                pending = {}
            continue
        if line.startswith("# "):
            continue
        out[-1].server += line.encode("utf-8") + b"\r\n"
    return out[1:]


def originate(path: Path, channel: str, nth: int = 0) -> Segment:
    """The ``nth`` Originate of ``path`` whose Channel is ``channel``."""
    found = [
        s
        for s in segments(path)
        if s.action.get("Action") == "Originate" and s.action.get("Channel") == channel
    ]
    return found[nth]


def _first_uid(data: str, half: str) -> str | None:
    for block in data.split("\r\n\r\n"):
        if block.startswith("Event: Newchannel") and re.search(rf"Channel: \S+{half}\r\n", block):
            m = re.search(r"\r\nUniqueid: (\S+)", block)
            if m:
                return m.group(1)
    return None


def as_sent_to(seg: Segment, action: dict[str, str]) -> bytes:
    """The segment's bytes as Asterisk would send them to this client action."""
    data = seg.server.decode("utf-8")
    data = data.replace(f"ActionID: {seg.action_id}\r\n", f"ActionID: {action['ActionID']}\r\n")
    ours, other = action.get("ChannelId"), action.get("OtherChannelId")
    if ours:
        theirs = seg.action.get("ChannelId") or _first_uid(data, ";1")
        theirs_other = seg.action.get("OtherChannelId") or _first_uid(data, ";2")
        for old, new in ((theirs_other, other), (theirs, ours)):
            if old and new:
                data = re.sub(rf"(?<![\w.\-]){re.escape(old)}(?![\w.\-])", new, data)
    return data.encode("utf-8")


def frames(data: bytes) -> list[Frame]:
    splitter = FrameSplitter()
    splitter.banner_pending = False
    return [parse_frame(raw) for raw in splitter.feed(data)]
