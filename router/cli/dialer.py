"""``tierline dialer run``: the outbound dialer service."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from router.cli.campaigns import config_option
from router.cli.store_url import cli_settings, redis_option, store_url
from router.errors import ConfigError

if TYPE_CHECKING:
    from router.ami.listener import ListenerConfig
    from router.dialer.config import DialerConfig

__all__ = ["dialer"]


@click.group()
def dialer() -> None:
    """The outbound dialer (callbacks and campaigns)."""


@dialer.command()
@config_option
@redis_option
@click.option("--ami-host", default="127.0.0.1", envvar="TIERLINE_AMI_HOST", show_default=True)
@click.option("--ami-port", default=5038, type=click.IntRange(1, 65535), envvar="TIERLINE_AMI_PORT")
@click.option(
    "--ami-user",
    default="tierline-dialer",
    envvar="TIERLINE_DIALER_AMI_USERNAME",
    show_default=True,
    help="The dialer's own AMI user (write=originate).",
)
@click.option(
    "--ami-secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="TIERLINE_DIALER_AMI_SECRET_FILE",
    help="File holding that user's secret.",
)
@click.option("--name", default="", help="This dialer's name in attempt ids (default: random).")
def run(  # noqa: PLR0917 - one parameter per option
    config_path: Path,
    redis_url: str | None,
    ami_host: str,
    ami_port: int,
    ami_user: str,
    ami_secret_file: Path | None,
    name: str,
) -> None:
    """Dial callbacks and running campaigns until interrupted."""
    from router.ami.listener import ListenerConfig
    from router.ami.secret import read_secret
    from router.dialer.config import load_config
    from router.logs import configure_logging

    configure_logging(cli_settings().log_level)  # JSON lines, numbers and secrets masked
    cfg = load_config(config_path)
    if ami_secret_file is None:
        raise ConfigError("set TIERLINE_DIALER_AMI_SECRET_FILE (or --ami-secret-file)")
    # The same file format as the router's: the `secret=` line manager_dialer.conf includes.
    secret = read_secret(ami_secret_file, "TIERLINE_DIALER_AMI_SECRET_FILE")
    link = ListenerConfig(host=ami_host, port=ami_port, username=ami_user, secret=secret)
    with store_url(redis_url) as url:
        asyncio.run(_serve(cfg, link, url, name))


async def _serve(cfg: DialerConfig, link: ListenerConfig, url: str, name: str) -> None:
    from router.ami.store import RedisQueueState
    from router.dialer.callbacks import CallbackFeeder
    from router.dialer.service import Dialer
    from router.dialer.store import DialerStore, dialer_client
    from router.storage.client import bulk_client

    text, raw = dialer_client(url), bulk_client(url)
    store = DialerStore(text, cfg.limits)
    service = Dialer(cfg, store, RedisQueueState(raw), link, name=name)
    feeder = CallbackFeeder(text, store, cfg, consumer=f"dialer-{service.name}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await feeder.ensure_group()
    await service.start()
    try:
        while not stop.is_set():
            try:
                await feeder.pump(block_ms=500)
            except Exception as exc:  # Redis down: keep the dialer up, retry
                click.echo(f"callbacks: {exc}", err=True)
                await asyncio.sleep(1.0)
    finally:
        await service.stop()
        await text.aclose()
        await raw.aclose()
