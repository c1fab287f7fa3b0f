"""The router service: FastAGI on a real Redis, drained on stop."""

from __future__ import annotations

import asyncio
import socket

from router import service
from router.agi.caller import place_call
from router.agi.double import environment
from router.settings import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TestService:
    async def test_serves_inbound_and_stops_cleanly(self, redis_url: str) -> None:
        """An unknown caller on a live Redis gets the default route; stop ends run()."""
        settings = Settings(agi_port=_free_port(), default_queue="support")
        stop = asyncio.Event()
        running = asyncio.create_task(service.run(settings, redis_url, stop))
        for _ in range(100):
            try:
                record = await place_call(
                    "127.0.0.1", settings.agi_port, environment("13912345678"), max_s=5
                )
                break
            except OSError:
                await asyncio.sleep(0.02)
        assert record.variables["TIERLINE_QUEUE"] == "support"
        assert record.variables["TIERLINE_PRIO"] == "0"
        stop.set()
        await asyncio.wait_for(running, 5)
