"""Run the web service: the wallboard's refresh task plus uvicorn.

Used by ``tierline web`` on its own and by ``tierline serve`` in the same
process (then ``/metrics`` carries the router's own counters too and the
readiness probes see the flows and the AMI listener directly).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import uvicorn
from prometheus_client.registry import Collector
from redis.asyncio import Redis

from router.errors import TierlineError
from router.logs import get_logger
from router.policy import load_routing
from router.settings import Settings
from router.web.access import check_bind
from router.web.app import Check, create_app
from router.web.config import WallboardConfig, load_wallboard
from router.web.files import read_token, wallboard_file
from router.web.live import Wallboard
from router.web.source import StateSource

__all__ = ["redis_check", "run_web", "web_in_router"]

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
    collectors: Sequence[Collector] = (),
) -> None:
    """Serve until ``stop`` is set; a non-loopback bind needs a token."""
    check_bind(host, token)
    board = Wallboard(StateSource(redis), config, tiers)
    app = create_app(board, {"redis": redis_check(redis), **(checks or {})}, token, collectors)
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


def web_in_router(
    settings: Settings,
    redis: Redis,
    stop: asyncio.Event,
    checks: Mapping[str, Check],
    collectors: Sequence[Collector] = (),
) -> asyncio.Task[None] | None:
    """``tierline serve`` with ``TIERLINE_WEB=1``: the web service in the router's process.

    Then ``/metrics`` carries the router's own counters, and ``/readyz``
    sees the flows and the AMI listener directly. A web service that
    cannot start (a bad wallboard file, a busy port) is logged and left
    out: routing never depends on it.
    """
    if not settings.web:
        return None
    try:
        config = load_wallboard(wallboard_file(settings))
        tiers = load_routing(settings.routing_config).tiers
        token = read_token(settings.web_token_file)
        check_bind(settings.web_host, token)
    except TierlineError as exc:
        log.error("web.not_started", error=str(exc)[:500])
        return None
    return asyncio.create_task(
        run_web(
            redis,
            config,
            tiers,
            host=settings.web_host,
            port=settings.web_port,
            token=token,
            stop=stop,
            checks=checks,
            collectors=collectors,
        )
    )
