"""Rebuild the raw AMI byte streams of the shared captures.

The capture files strip CRLF and interleave what the client sent (``>>> ``)
and annotations (``# ``); this restores what Asterisk put on the wire, one
stream per TCP connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Connection:
    """One TCP connection of a capture: server bytes and client actions."""

    server: bytearray = field(default_factory=bytearray)
    client_lines: list[str] = field(default_factory=list)
    closed_by_server: bool = False


def load(path: Path) -> list[Connection]:
    """Every connection in one ``ami/NN-*.txt`` capture."""
    conns: list[Connection] = []
    current: Connection | None = None
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.startswith("# ---") and "connection" in line:
            current = Connection()
            conns.append(current)
            continue
        if line.startswith("# "):
            if line.startswith("# <EOF>") and current is not None:
                current.closed_by_server = True
            continue
        if current is None:
            current = Connection()
            conns.append(current)
        if line.startswith(">>> ") or line == ">>>":
            current.client_lines.append(line[4:])
            continue
        current.server += line.encode("utf-8") + b"\r\n"
    for conn in conns:
        # The file ends with a newline: the split leaves one extra empty line.
        if conn.server.endswith(b"\r\n\r\n\r\n"):
            del conn.server[-2:]
    return conns


def all_captures(shared: Path) -> list[Path]:
    return sorted((shared / "ami").glob("*.txt"))
