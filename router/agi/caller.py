"""Drive the Asterisk double over real TCP: one call against a FastAGI server.

Used by ``tierline call``, the robustness tests and the benchmark. ``speed``
runs the virtual clock faster than the wall clock so a scripted 5 s IVR
takes 50 ms in a test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from router.agi.double import AsteriskModel, CallerScript, environment

__all__ = ["CallTranscript", "place_call"]


@dataclass
class CallTranscript:
    """What happened: the exchange (``A>`` Asterisk, ``S>`` server) and the end state."""

    exchange: list[tuple[float, str, str]] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    closed_by_server: bool = False
    env_done_at: float = 0.0
    first_command_at: float | None = None


class _Wire(asyncio.Protocol):
    """The double's socket: chunks in arrival order, one waiter at a time.

    A protocol, not a StreamReader read under ``wait_for``: no task per read,
    and no way for two coroutines to wait on the socket at once.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._chunks: list[bytes] = []
        self._eof = False
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._wake()

    def eof_received(self) -> bool | None:
        self._eof = True
        self._wake()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def read(self, wait_s: float | None) -> bytes | None:
        """What arrived (``b""``: EOF), or ``None`` after ``wait_s`` without news."""
        if not self._chunks and not self._eof:
            if self._waiter is not None:
                raise RuntimeError("a read is already waiting")
            loop = asyncio.get_running_loop()
            self._waiter = waiter = loop.create_future()
            timer = loop.call_later(wait_s, self._wake) if wait_s is not None else None
            try:
                await waiter
            finally:
                self._waiter = None
                if timer is not None:
                    timer.cancel()
        if self._chunks:
            data = b"".join(self._chunks)
            self._chunks.clear()
            return data
        return b"" if self._eof else None

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


async def place_call(
    host: str,
    port: int,
    env: list[str] | None = None,
    script: CallerScript | None = None,
    *,
    speed: float = 1.0,
    max_s: float = 30.0,
) -> CallTranscript:
    """Play Asterisk's side of one call until the server closes (or ``max_s``)."""
    env = env if env is not None else environment("13800138000", dnis="4008001234")
    model = AsteriskModel(env, script)
    record = CallTranscript()
    loop = asyncio.get_running_loop()
    _, wire = await loop.create_connection(_Wire, host, port)
    t0 = loop.time()

    def now() -> float:
        return (loop.time() - t0) * 1000 * speed

    wire.write("".join(f"{line}\n" for line in env).encode())
    record.env_done_at = now()
    record.exchange += [(0.0, "A", line) for line in env]
    try:
        async with asyncio.timeout(max_s):  # no extra task, unlike wait_for
            await _pump(model, wire, record, clock=now, speed=speed)
    finally:
        record.variables = dict(model.vars)
        if wire.transport is not None:
            wire.transport.close()
    return record


async def _pump(
    model: AsteriskModel,
    wire: _Wire,
    record: CallTranscript,
    *,
    clock: Callable[[], float],
    speed: float,
) -> None:
    while True:
        for t, line in model.advance(clock()):
            wire.write(line.encode() + b"\n")
            record.exchange.append((t, "A", line))
        nxt = model.next_time()
        wait = None if nxt is None else max(0.0, (nxt - clock()) / speed / 1000)
        data = await wire.read(wait)
        if data is None:
            continue
        at = clock()
        if not data:
            model.close(at)
            record.closed_by_server = True
            return
        if record.first_command_at is None:
            record.first_command_at = at
        model.feed(data, at)
        for line in data.decode("utf-8", "replace").splitlines():
            record.exchange.append((at, "S", line))
