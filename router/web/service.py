"""Run the web service: the wallboard's refresh task plus uvicorn.

Used by ``tierline web`` on its own and by ``tierline serve`` in the same
process (then ``/metrics`` carries the router's own counters too and the
readiness probes see the flows and the AMI listener directly).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import uvicorn
from redis.asyncio import Redis

from router.logs import get_logger
from router.web.access import check_bind
from router.web.app import Check, create_app
from router.web.config import WallboardConfig
from router.web.live import Wallboard
from router.web.source import StateSource

__all__ = ["redis_check", "run_web"]

log = get_logger("tierline.web")


def redis_check(redis: Redis) -> Check:
    """Ready while the store answers PING."""

    async def check() -> bool:
        return bool(await redis.ping())

    return check


async def run_web(
    redis: Redis,
    config: WallboardConfig,
    tiers: Sequence[str],
    *,
    host: str,
    port: int,
    token: str | None,
    stop: asyncio.Event,
    checks: Mapping[str, Check] | None = None,
) -> None:
    """Serve until ``stop`` is set; a non-loopback bind needs a token."""
    check_bind(host, token)
    board = Wallboard(StateSource(redis), config, tiers)
    app = create_app(board, {"redis": redis_check(redis), **(checks or {})}, token)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
    )
    refresher = asyncio.create_task(board.run(stop))
    serving = asyncio.create_task(server.serve())
    log.info("web.ready", url=f"http://{host}:{port}/")
    await stop.wait()
    server.should_exit = True
    await asyncio.gather(serving, refresher, return_exceptions=True)
