"""AMI wire framing: bytes in, header dicts out (pure, no sockets).

Asterisk ends every AMI frame with an empty line (``\\r\\n\\r\\n``) and
writes raw UTF-8 in header values (caller names such as ``张三``). A TCP
read can end in the middle of a multi-byte character, so frames are split
on the raw bytes first and each complete frame is decoded once; decoding
each read separately (panoramisk 1.4) silently drops those characters.

The parser is tolerant on purpose: one malformed line must not cost the
listener its connection or the frame's other headers, so a bad line is
logged and skipped.
"""

from __future__ import annotations

from router.logs import get_logger

__all__ = ["BANNER_PREFIX", "Frame", "FrameSplitter", "parse_frame", "unescape_c"]

Frame = dict[str, str]
"""One AMI frame: header name (case as sent) -> value. Repeated headers are
joined with ``\\n``; ``ChanVariable: NAME=value`` lines become
``ChanVariable(NAME)`` keys so every channel variable stays addressable.
Values of the ``ChanVariable: NAME=value`` form (channel snapshots, which
Asterisk C-escapes) are unescaped; the ``ChanVariable(channel): NAME=value``
form (manager.c, written raw) is kept as sent."""

BANNER_PREFIX = b"Asterisk Call Manager/"
_CRLF = b"\r\n"
_END = b"\r\n\r\n"
_MAX_FRAME = 1 << 20  # a frame this large is garbage, not AMI; drop it

_log = get_logger(__name__)

# ast_escape_c's map (main/utils.c), reversed: escape letter -> character.
_C_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}


def unescape_c(value: str) -> str:
    """Undo Asterisk's ``ast_escape_c`` (VarSet ``Value``, snapshot ``ChanVariable``).

    An unknown escape keeps its character, and a trailing lone backslash is
    kept, as ``ast_unescape_c`` does.
    """
    if "\\" not in value:
        return value
    out: list[str] = []
    chars = iter(value)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        nxt = next(chars, "")
        out.append(_C_ESCAPES.get(nxt, nxt) if nxt else "\\")
    return "".join(out)


class FrameSplitter:
    """Accumulate bytes from one connection and cut complete frames.

    The banner (``Asterisk Call Manager/x.y.z``) is a single CRLF-terminated
    line, not a frame; it is returned separately by :meth:`feed` through
    :attr:`banner`. Lone ``\\n`` line ends are accepted too (tolerance for
    proxies and test doubles), but CRLF is what Asterisk sends.
    """

    __slots__ = ("_buf", "_scan", "banner", "banner_pending")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._scan = 0
        self.banner: str | None = None
        self.banner_pending = True

    def feed(self, data: bytes) -> list[bytes]:
        """Add one read's bytes; return the raw frames completed by it."""
        self._buf += data
        if self.banner_pending and not self._take_banner():
            return []
        frames: list[bytes] = []
        buf = self._buf
        start = 0
        while True:
            end, sep = _find_end(buf, max(start, self._scan))
            if end < 0:
                break
            frames.append(bytes(buf[start:end]))
            start = end + sep
            self._scan = start
        if start:
            del buf[:start]
        self._scan = max(0, len(buf) - 3)
        if len(buf) > _MAX_FRAME:
            _log.warning("ami_frame_too_large", size=len(buf))
            buf.clear()
            self._scan = 0
        return frames

    def _take_banner(self) -> bool:
        """Consume the banner line once it is complete; False while waiting."""
        buf = self._buf
        if len(buf) < len(BANNER_PREFIX) and BANNER_PREFIX.startswith(bytes(buf)):
            return False
        self.banner_pending = False
        if not buf.startswith(BANNER_PREFIX):
            return True
        nl = buf.find(b"\n")
        if nl < 0:
            self.banner_pending = True
            return False
        self.banner = buf[:nl].rstrip(b"\r").decode("utf-8", "replace")
        del buf[: nl + 1]
        return True


def _find_end(buf: bytearray, start: int) -> tuple[int, int]:
    """Index of the blank line ending the frame that starts before it."""
    crlf = buf.find(_END, start)
    lf = buf.find(b"\n\n", start, crlf + 2 if crlf >= 0 else len(buf))
    if lf >= 0 and (crlf < 0 or lf < crlf):
        # '\r\n\n' (a CRLF line then a bare LF) also ends a frame.
        back = 1 if lf > 0 and buf[lf - 1] == 13 else 0
        return lf - back, 2 + back
    return crlf, 4


def parse_frame(raw: bytes) -> Frame:
    """Decode one frame and split its ``Key: Value`` lines.

    Never raises: a line without a colon is logged (``ami_bad_line``) and
    skipped, and invalid UTF-8 is replaced rather than dropped so the rest of
    the value survives.
    """
    text = raw.decode("utf-8", "replace")
    if "\ufffd" in text:
        _log.warning("ami_bad_utf8", frame_head=text[:60])
    frame: Frame = {}
    for line in text.split("\n"):
        key, sep, value = line.partition(":")
        if not sep or not key:
            if line.strip("\r"):
                _log.warning("ami_bad_line", line=line[:120])
            continue
        if value.endswith("\r"):
            value = value[:-1]
        if value.startswith(" "):
            value = value[1:]
        if key == "ChanVariable" or key.startswith("ChanVariable("):
            name, _, var = value.partition("=")
            key, value = f"ChanVariable({name})", unescape_c(var) if key == "ChanVariable" else var
        if key in frame:
            frame[key] += "\n" + value
        else:
            frame[key] = value
    return frame
