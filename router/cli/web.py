"""``tierline web``: the supervisors' wallboard, ``/metrics`` and health checks."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import click

from router.cli.extras import needs_extra
from router.cli.store_url import cli_settings, redis_option, store_url
from router.web.files import read_token, wallboard_file

__all__ = ["web"]


@click.command()
@click.option("--host", help="Listen address [$TIERLINE_WEB_HOST, 127.0.0.1].")
@click.option(
    "--port", type=click.IntRange(0, 65535), help="Listen port [$TIERLINE_WEB_PORT, 8080]."
)
@click.option(
    "--wallboard",
    "wallboard_config",
    type=click.Path(path_type=Path),
    help="Wallboard bands and alerts (YAML) [$TIERLINE_WALLBOARD_CONFIG].",
)
@click.option(
    "--token-file",
    "web_token_file",
    type=click.Path(path_type=Path),
    help="Access token file, required off loopback [$TIERLINE_WEB_TOKEN_FILE].",
)
@redis_option
def web(*, host: str | None, port: int | None, wallboard_config: Path | None,
        web_token_file: Path | None, redis_url: str | None) -> None:  # fmt: skip
    """Serve the wallboard on http://HOST:PORT/ (also /metrics, /healthz, /readyz)."""
    settings = cli_settings(
        web_host=host, web_port=port, wallboard_config=wallboard_config,
        web_token_file=web_token_file,
    )  # fmt: skip
    from router.logs import configure_logging

    configure_logging(settings.log_level)  # JSON lines, numbers and secrets masked
    with needs_extra("web", "tierline web"):
        from router.web.access import check_bind
        from router.web.service import run_web
    from router.policy import load_routing
    from router.web.config import load_wallboard

    config = load_wallboard(wallboard_file(settings))
    tiers = load_routing(settings.routing_config).tiers
    token = read_token(settings.web_token_file)
    check_bind(settings.web_host, token)

    async def main(url: str) -> None:
        from redis.asyncio import Redis

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        redis = Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        try:
            await run_web(redis, config, tiers, host=settings.web_host, port=settings.web_port,
                          token=token, stop=stop)  # fmt: skip
        finally:
            await redis.aclose()

    with store_url(redis_url) as url:
        asyncio.run(main(url))
