"""The whole router service on a free port, for end-to-end tests over the AGI wire."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from router import service
from router.settings import Settings
from router.storage import keys
from tests.redis_server import free_port

IVR = Path(__file__).resolve().parents[2] / "ivr_flows"


@asynccontextmanager
async def serving(flows_dir: Path, redis_url: str, **overrides: Any) -> AsyncIterator[Settings]:
    """Run ``service.run`` on ``flows_dir`` (with the shipped routing.yaml) until the block ends.

    ``overrides`` are further ``Settings`` fields (``drain_s=0.2``).
    """
    if not (flows_dir / "routing.yaml").exists():
        shutil.copy(IVR / "routing.yaml", flows_dir / "routing.yaml")
    settings = Settings(
        agi_port=free_port(),
        flows_dir=flows_dir,
        routing_config=flows_dir / "routing.yaml",
        **overrides,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(settings, redis_url, stop))
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", settings.agi_port), timeout=0.1):
                break
        except OSError:
            await asyncio.sleep(0.02)
    try:
        yield settings
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def kept_path(redis: Redis, uniqueid: str) -> str | None:
    """The IVR path the router kept for a call: written just after the call, so wait a little."""
    for _ in range(100):
        path = await redis.get(keys.ivr_path_key(uniqueid))
        if path is not None:
            return str(path)
        await asyncio.sleep(0.02)
    return None
