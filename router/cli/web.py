"""``tierline web``: the supervisors' wallboard, ``/metrics`` and health checks."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import click

from router.cli.store_url import redis_option, store_url
from router.errors import ConfigError

__all__ = ["web"]

TOKEN_VAR = "TIERLINE_WEB_TOKEN_FILE"  # noqa: S105 - a variable name, not a secret


def _token(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"Config 'TIERLINE_WEB_TOKEN_FILE' cannot be read: {exc.strerror}"
        ) from None
    if len(token) < 16:
        raise ConfigError(
            "Config 'TIERLINE_WEB_TOKEN_FILE' holds a token shorter than 16 characters."
        )
    return token


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="TIERLINE_WEB_HOST")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    envvar="TIERLINE_WEB_PORT",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    envvar="TIERLINE_WALLBOARD_CONFIG",
    help="Wallboard thresholds and alerts (YAML).",
)
@click.option(
    "--token-file",
    type=click.Path(path_type=Path),
    envvar="TIERLINE_WEB_TOKEN_FILE",
    help="File holding the access token (required when not bound to loopback).",
)
@click.option(
    "--routing",
    type=click.Path(path_type=Path),
    envvar="TIERLINE_ROUTING_CONFIG",
    default="ivr_flows/routing.yaml",
    show_default=True,
    help="For the tier order.",
)
@redis_option
def web(*, host: str, port: int, config_path: Path | None, token_file: Path | None, routing: Path,
        redis_url: str | None) -> None:  # fmt: skip
    """Serve the wallboard on http://HOST:PORT/ (also /metrics, /healthz, /readyz)."""
    from redis.asyncio import Redis

    from router.policy import load_routing
    from router.web.access import check_bind
    from router.web.config import load_wallboard
    from router.web.service import run_web

    config = load_wallboard(config_path)
    tiers = load_routing(routing).tiers
    token = _token(token_file)
    check_bind(host, token)

    async def main(url: str) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        redis = Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        try:
            await run_web(redis, config, tiers, host=host, port=port, token=token, stop=stop)
        finally:
            await redis.aclose()

    with store_url(redis_url) as url:
        asyncio.run(main(url))
