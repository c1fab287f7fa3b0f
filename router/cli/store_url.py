"""Which store a CLI command talks to: ``--redis``, ``$REDIS_URL`` or embedded."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from router.settings import Settings
from router.storage.embedded import embedded_store

__all__ = ["redis_option", "store_url"]

redis_option = click.option(
    "--redis", "redis_url", help="Redis URL (default: $REDIS_URL, else the embedded store)."
)


@contextmanager
def store_url(redis_url: str | None) -> Iterator[str]:
    settings = Settings.from_env().with_overrides(redis_url=redis_url)
    if settings.redis_url:
        yield settings.redis_url
    else:
        with embedded_store(settings.data_dir) as url:
            yield url
