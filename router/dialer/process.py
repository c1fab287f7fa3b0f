"""The dialer as a long-running task, wired from :class:`~router.settings.Settings` (adapter).

One home for what ``tierline dialer run`` and ``tierline serve`` (with
``TIERLINE_DIALER=1``) both start: the dialling loop and the callback
feeder, on their own Redis clients. Everything that can be wrong in the
configuration (the dialer file, the AMI secret) is read by
:func:`prepare` before anything starts, so a bad edit stops start-up with
one message instead of surfacing mid-campaign.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from router.ami.listener import ListenerConfig
from router.ami.secret import read_secret
from router.dialer.config import DialerConfig, load_config
from router.errors import ConfigError
from router.logs import get_logger
from router.settings import Settings, env_name

__all__ = ["DialerSetup", "config_file", "prepare", "run_dialer"]

_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class DialerSetup:
    """Everything the dialer runs with, validated."""

    config: DialerConfig
    link: ListenerConfig
    name: str
    tick_s: float


def config_file(settings: Settings) -> Path:
    """The dialer file: ``TIERLINE_DIALER_CONFIG``, else ``dialer.yaml`` beside the flows."""
    return settings.dialer_config or settings.flows_dir / "dialer.yaml"


def prepare(settings: Settings) -> DialerSetup:
    """Load the dialer file and the dialer's AMI secret (ConfigError / CampaignDataError)."""
    config = load_config(config_file(settings))
    variable = env_name("dialer_ami_secret_file")
    if settings.dialer_ami_secret_file is None:
        raise ConfigError(f"set {variable} (or --ami-secret-file): the dialer's AMI secret")
    secret = read_secret(settings.dialer_ami_secret_file, variable)
    link = ListenerConfig(
        host=settings.ami_host,
        port=settings.ami_port,
        username=settings.dialer_ami_username,
        secret=secret,
    )
    return DialerSetup(config, link, settings.dialer_name, settings.dialer_tick_ms / 1000)


async def run_dialer(setup: DialerSetup, url: str, stop: asyncio.Event) -> None:
    """Dial callbacks and running campaigns until ``stop`` is set; Redis faults are retried."""
    from router.ami.store import RedisQueueState  # noqa: PLC0415 - keep `--help` light
    from router.dialer.callbacks import CallbackFeeder  # noqa: PLC0415
    from router.dialer.service import Dialer  # noqa: PLC0415
    from router.dialer.store import DialerStore, dialer_client  # noqa: PLC0415
    from router.storage.client import bulk_client  # noqa: PLC0415

    cfg = setup.config
    text, raw = dialer_client(url), bulk_client(url)
    store = DialerStore(text, cfg.limits)
    live = RedisQueueState(raw)
    service = Dialer(cfg, store, live, setup.link, tick_s=setup.tick_s, name=setup.name)
    feeder = CallbackFeeder(text, store, cfg, consumer=f"dialer-{service.name}")
    started = False
    try:
        await _until_ready(feeder.ensure_group, stop)
        if stop.is_set():
            return
        await service.start()
        started = True
        _log.info("dialer_started", name=service.name, campaigns=sorted(cfg.campaigns))
        while not stop.is_set():
            try:
                await feeder.pump(block_ms=500)
            except Exception as exc:  # Redis down: keep the dialer up, retry
                _log.warning("dialer_callbacks_failed", error=str(exc) or type(exc).__name__)
                await _sleep_or_stop(stop, 1.0)
    finally:
        if started:
            await service.stop()
        await text.aclose()
        await raw.aclose()


async def _until_ready(step: Callable[[], Awaitable[None]], stop: asyncio.Event) -> None:
    """Retry the consumer-group set-up while Redis is unreachable at start."""
    while not stop.is_set():
        try:
            await step()
            return
        except Exception as exc:
            _log.warning("dialer_store_unreachable", error=str(exc) or type(exc).__name__)
            await _sleep_or_stop(stop, 1.0)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
