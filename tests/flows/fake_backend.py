"""A misbehaving operator backend on a real TCP port, for the fetch/notify tests.

The first path segment picks the behaviour: ``/ok/...`` answers JSON,
``/slow/...`` answers after ``slow_s``, ``/hang/...`` never answers (the
request is counted, so a test can wait until the router is stuck on it),
``/html/...`` is a web page, ``/500/...`` a server error, ``/huge/...`` an
endless JSON body, ``/bad/...`` JSON that does not parse, ``/small/...``
a JSON answer without the mapped fields, ``/big/...`` a 2 kB one.
Plain asyncio, HTTP/1.1 keep-alive.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

ANSWER = {"balance": "35.20", "topup": {"status": "credited"}, "items": [{"name": "TV"}]}


@dataclass
class FakeBackend:
    port: int = 0
    slow_s: float = 0.5
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)  # method, path, body
    hanging: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def until_hanging(self, count: int) -> None:
        """Wait (on arrivals, not a clock) until ``count`` requests hang here."""
        while self.hanging < count:
            self._arrived.clear()
            await self._arrived.wait()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client gave up, or the test is over
        finally:
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append((method, path, body))
        kind = path.split("/")[1]
        if kind == "hang":
            self.hanging += 1
            self._arrived.set()
            await self.release.wait()
            return False
        if kind == "slow":
            await asyncio.sleep(self.slow_s)
        if kind == "huge":
            await self._endless(writer)
            return False
        status, ctype, data = _reply(kind)
        writer.write(
            f"HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\n"
            f"content-length: {len(data)}\r\n\r\n".encode()
            + data
        )
        await writer.drain()
        return True

    async def _endless(self, writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        chunk = b'{"pad": "' + b"x" * 16_000
        for _ in range(10_000):  # ~160 MB if nobody stops reading
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()


def _reply(kind: str) -> tuple[int, str, bytes]:
    match kind:
        case "html":
            return 200, "text/html", b"<html><body>Service Unavailable</body></html>"
        case "500":
            return 500, "application/json", b'{"error": "boom"}'
        case "bad":
            return 200, "application/json", b'{"balance": '
        case "small":
            return 200, "application/json", b'{"other": 1}'
        case "big":
            return 200, "application/json", json.dumps({**ANSWER, "pad": "x" * 2000}).encode()
    return 200, "application/json; charset=utf-8", json.dumps(ANSWER).encode()


@asynccontextmanager
async def fake_backend(**kw: float) -> AsyncIterator[FakeBackend]:
    """The backend listening on a free port until the block ends (hanging requests released)."""
    backend = FakeBackend(**kw)  # type: ignore[arg-type]
    server = await asyncio.start_server(backend.handle, "127.0.0.1", 0)
    backend.port = server.sockets[0].getsockname()[1]
    try:
        yield backend
    finally:
        backend.release.set()
        server.close()
        await server.wait_closed()
