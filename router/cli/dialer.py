"""``tierline dialer run``: the outbound dialer service on its own.

Its settings are the ``TIERLINE_DIALER_*`` fields of
:class:`~router.settings.Settings` (environment or the TOML file); the
options below override them for one run. ``tierline serve`` runs the same
service in the router's process when ``TIERLINE_DIALER=1``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from router.cli.campaigns import config_option
from router.cli.store_url import SettingsHelp, cli_settings, redis_option, store_url

if TYPE_CHECKING:
    from router.dialer.process import DialerSetup

__all__ = ["dialer"]


@click.group()
def dialer() -> None:
    """The outbound dialer (callbacks and campaigns)."""


@dialer.command(cls=SettingsHelp)
@config_option
@redis_option
@click.option("--ami-host", help="AMI address [$TIERLINE_AMI_HOST, 127.0.0.1].")
@click.option("--ami-port", type=click.IntRange(1, 65535), help="AMI port [5038].")
@click.option("--ami-user", help="The dialer's own AMI user [tierline-dialer].")
@click.option(
    "--ami-secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File holding that user's secret [$TIERLINE_DIALER_AMI_SECRET_FILE].",
)
@click.option("--name", help="This dialer's name in attempt ids (default: random).")
def run(  # noqa: PLR0917 - one parameter per option
    config_path: Path | None,
    redis_url: str | None,
    ami_host: str | None,
    ami_port: int | None,
    ami_user: str | None,
    ami_secret_file: Path | None,
    name: str | None,
) -> None:
    """Dial callbacks and running campaigns until interrupted."""
    from router.dialer.process import prepare
    from router.logs import configure_logging

    settings = cli_settings(
        redis_url=redis_url,
        dialer_config=config_path,
        ami_host=ami_host,
        ami_port=ami_port,
        dialer_ami_username=ami_user,
        dialer_ami_secret_file=ami_secret_file,
        dialer_name=name,
    )
    configure_logging(settings.log_level)  # JSON lines, numbers and secrets masked
    setup = prepare(settings)  # a bad file or a missing secret: one message, exit
    with store_url(redis_url) as url:
        asyncio.run(_serve(setup, url))


async def _serve(setup: DialerSetup, url: str) -> None:
    from router.dialer.process import run_dialer
    from router.eventloop import tune_gc

    tune_gc()  # as `tierline serve` does: a long-lived heap, fewer young collections

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await run_dialer(setup, url, stop)
