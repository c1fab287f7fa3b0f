"""A fake Asterisk manager port: real TCP, real wire format (CRLF frames).

Scriptable for the failure modes the listener must survive: a dropped
connection, a half-open one (the peer stops answering but never closes),
an Asterisk restart (Shutdown event, EOF, refused connects, then a fresh
banner), and resync (QueueStatus replies built from ``queue_status``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

BANNER = b"Asterisk Call Manager/11.0.0\r\n"


def frame(fields: Mapping[str, str] | list[tuple[str, str]]) -> bytes:
    items = fields.items() if isinstance(fields, Mapping) else fields
    return b"".join(f"{k}: {v}\r\n".encode() for k, v in items) + b"\r\n"


class FakeAMI:
    """Serve AMI on 127.0.0.1 (a fixed port once started, so restarts reuse it)."""

    def __init__(self, secret: str = "s3cret") -> None:
        self.secret = secret
        self.port = 0
        self.actions: list[dict[str, str]] = []
        self.logins = 0
        self.mute = False  # half-open: read actions, answer nothing
        self.drop_on: set[str] = set()  # actions that make the server drop the link unanswered
        self.queue_status: list[dict[str, str]] = []
        self.unknown_actions: set[str] = set()  # e.g. QueueStatus with app_queue not loaded
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> FakeAMI:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None

    async def close(self) -> None:
        await self.drop()
        await self.stop_listening()

    async def drop(self) -> None:
        """Close every client connection (EOF)."""
        for w in self._writers:
            w.close()
        for w in self._writers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(w.wait_closed(), 1.0)
        self._writers.clear()

    async def restart(self, down_s: float) -> None:
        """Shutdown event, EOF, refuse connects for ``down_s``, then listen again."""
        await self.push(
            {
                "Event": "Shutdown",
                "Privilege": "system,all",
                "Shutdown": "Cleanly",
                "Restart": "True",
            }
        )
        await self.stop_listening()
        await self.drop()
        await asyncio.sleep(down_s)
        await self.start()

    async def push(
        self, fields: Mapping[str, str] | list[tuple[str, str]], *, split: int = 0
    ) -> None:
        """Send an event to every client (optionally in two writes cut at ``split``)."""
        data = frame(fields)
        for w in list(self._writers):
            if split:
                w.write(data[:split])
                await w.drain()
                await asyncio.sleep(0.01)
                w.write(data[split:])
            else:
                w.write(data)
            await w.drain()

    async def push_raw(self, data: bytes, chunk: int = 1500) -> None:
        """Send captured bytes as they are, in TCP-sized writes."""
        for w in list(self._writers):
            for i in range(0, len(data), chunk):
                w.write(data[i : i + chunk])
                await w.drain()

    def count(self, action: str) -> int:
        return sum(1 for a in self.actions if a.get("Action") == action)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        writer.write(BANNER)
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                action = dict(
                    line.split(": ", 1) for line in raw.decode().split("\r\n") if ": " in line
                )
                self.actions.append(action)
                if self.mute:
                    continue
                if action.get("Action") in self.drop_on:
                    writer.close()
                    return
                writer.write(self._reply(action))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _reply(self, action: dict[str, str]) -> bytes:  # noqa: PLR0911 - one branch per action
        aid = action.get("ActionID", "")
        name = action.get("Action")
        if name in self.unknown_actions:  # as Asterisk 22 answers an unregistered action
            return frame(
                {
                    "Response": "Error",
                    "ActionID": aid,
                    "Message": f"Invalid/unknown command: {name}. Use Action: ListCommands"
                    " to show available commands.",
                }
            )
        if name == "Login":
            if action.get("Secret") != self.secret:
                return frame(
                    {"Response": "Error", "ActionID": aid, "Message": "Authentication failed"}
                )
            self.logins += 1
            return frame(
                {"Response": "Success", "ActionID": aid, "Message": "Authentication accepted"}
            ) + frame(
                {
                    "Event": "FullyBooted",
                    "Privilege": "system,all",
                    "Uptime": "0",
                    "Status": "Fully Booted",
                }
            )
        if name == "Ping":
            return frame(
                {"Response": "Success", "ActionID": aid, "Ping": "Pong", "Timestamp": "1.0"}
            )
        if name == "QueueStatus":
            head = frame(
                {
                    "Response": "Success",
                    "ActionID": aid,
                    "EventList": "start",
                    "Message": "Queue status will follow",
                }
            )
            body = b"".join(frame({**f, "ActionID": aid}) for f in self.queue_status)
            tail = frame(
                {
                    "Event": "QueueStatusComplete",
                    "ActionID": aid,
                    "EventList": "Complete",
                    "ListItems": str(len(self.queue_status)),
                }
            )
            return head + body + tail
        if name == "QueueChangePriorityCaller":
            return frame(
                {"Response": "Success", "ActionID": aid, "Message": "Priority change for caller"}
            )
        if name == "Logoff":
            return frame(
                {"Response": "Goodbye", "ActionID": aid, "Message": "Thanks for all the fish."}
            )
        return frame(
            {"Response": "Error", "ActionID": aid, "Message": f"Invalid/unknown command: {name}"}
        )
