"""Drive the Asterisk double over real TCP: one call against a FastAGI server.

Used by ``tierline call``, the robustness tests and the benchmark. ``speed``
runs the virtual clock faster than the wall clock so a scripted 5 s IVR
takes 50 ms in a test.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from router.agi.double import AsteriskModel, CallerScript, environment

__all__ = ["CallRecord", "place_call"]


@dataclass
class CallRecord:
    """What happened: the exchange (``A>`` Asterisk, ``S>`` server) and the end state."""

    exchange: list[tuple[float, str, str]] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    closed_by_server: bool = False
    env_done_at: float = 0.0
    first_command_at: float | None = None


async def place_call(
    host: str,
    port: int,
    env: list[str] | None = None,
    script: CallerScript | None = None,
    *,
    speed: float = 1.0,
    max_s: float = 30.0,
) -> CallRecord:
    """Play Asterisk's side of one call until the server closes (or ``max_s``)."""
    env = env if env is not None else environment("13800138000", dnis="4008001234")
    model = AsteriskModel(env, script)
    record = CallRecord()
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection(host, port)
    t0 = loop.time()

    def now() -> float:
        return (loop.time() - t0) * 1000 * speed

    writer.write("".join(f"{line}\n" for line in env).encode())
    record.env_done_at = now()
    record.exchange += [(0.0, "A", line) for line in env]
    try:
        await asyncio.wait_for(_pump(model, reader, writer, record, clock=now, speed=speed), max_s)
    finally:
        record.variables = dict(model.vars)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return record


async def _pump(
    model: AsteriskModel,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    record: CallRecord,
    *,
    clock: Callable[[], float],
    speed: float,
) -> None:
    while True:
        for t, line in model.advance(clock()):
            writer.write(line.encode() + b"\n")
            record.exchange.append((t, "A", line))
        nxt = model.next_time()
        wait = None if nxt is None else max(0.0, (nxt - clock()) / speed / 1000)
        try:
            data = await asyncio.wait_for(reader.read(65536), wait)
        except TimeoutError:
            continue
        except ConnectionError:
            data = b""
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
