"""A TCP proxy in front of the test Redis that can hang or die on demand.

``freeze()`` keeps connections open but forwards nothing (a Redis that
hangs: the client only gives up after its socket timeout); ``kill()`` closes
every connection and refuses new ones (Redis down); ``resume()`` restores
normal service.
"""

from __future__ import annotations

import asyncio
import contextlib


class RedisProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._thawed = asyncio.Event()
        self._thawed.set()
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._pumps: list[asyncio.Task[None]] = []
        self._open = asyncio.Event()
        self._open.set()

    async def start(self) -> RedisProxy:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def freeze(self) -> None:
        self._thawed.clear()

    async def kill(self) -> None:
        self._open.clear()
        self._thawed.set()  # let held pumps see the connection is gone
        for w in self._writers:
            w.close()
        self._writers.clear()

    def resume(self) -> None:
        self._open.set()
        self._thawed.set()

    async def close(self) -> None:
        await self.kill()
        for task in self._pumps:
            task.cancel()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self._open.is_set():
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [writer, up_writer]
        self._pumps += [
            asyncio.create_task(self._pump(reader, up_writer)),
            asyncio.create_task(self._pump(up_reader, writer)),
        ]

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._thawed.wait()
                if not self._open.is_set():
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
