"""The long-running router process: wires adapters together and waits.

Kept apart from the CLI so tests and benchmarks can start the same service
in-process. On SIGTERM/SIGINT the FastAGI server stops accepting and the
calls in flight are drained (each still gets its route) before Redis closes.
"""

from __future__ import annotations

import asyncio
import signal

from router.agi import AGIServer, InboundRoute
from router.logs import get_logger
from router.redis_client import call_path_client
from router.settings import Settings
from router.store import RedisCustomerStore

__all__ = ["DRAIN_S", "run"]

log = get_logger("tierline.service")

DRAIN_S = 10.0
"""How long calls in flight may take to finish after SIGTERM."""


async def run(settings: Settings, redis_url: str, stop: asyncio.Event | None = None) -> None:
    """Serve FastAGI until SIGTERM/SIGINT (or ``stop`` is set), then drain."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    client = call_path_client(settings, redis_url)
    store = RedisCustomerStore(client, settings.lookup_deadline_ms)
    agi = AGIServer(
        {"inbound": InboundRoute(store, settings)},
        host=settings.agi_host,
        port=settings.agi_port,
    )
    try:
        await client.ping()
        await agi.start()
        log.info("ready", store=redis_url, agi=f"{agi.host}:{agi.port}")
        await stop.wait()
        await agi.stop(drain_s=DRAIN_S)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await client.aclose()
        # The pool was passed in explicitly, so aclose() leaves it open.
        await client.connection_pool.disconnect()
        log.info("stopped")
