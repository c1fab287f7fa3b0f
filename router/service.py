"""The long-running router process: wires adapters together and waits.

Kept apart from the CLI so tests and benchmarks can start the same service
in-process.
"""

from __future__ import annotations

import asyncio
import signal

from router.logs import get_logger
from router.redis_client import call_path_client
from router.settings import Settings

__all__ = ["run"]

log = get_logger("tierline.service")


async def run(settings: Settings, redis_url: str, stop: asyncio.Event | None = None) -> None:
    """Serve until SIGTERM/SIGINT (or ``stop`` is set)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    client = call_path_client(settings, redis_url)
    try:
        await client.ping()
        log.info("ready", store=redis_url)
        await stop.wait()
    finally:
        await client.aclose()
        log.info("stopped")
