"""The settings and the store a CLI command uses: ``--redis``, ``$REDIS_URL`` or embedded.

Every command reads settings the same way (the group's ``--config`` and
``--data-dir``, then its own options), so two commands run with the same
flags always talk to the same store.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from router.settings import Settings

__all__ = ["SettingsHelp", "cli_settings", "redis_option", "store_url"]

redis_option = click.option(
    "--redis", "redis_url", help="Redis URL (default: $REDIS_URL, else the embedded store)."
)


def cli_settings(**overrides: Any) -> Settings:
    """Settings from the file and environment, then the group's and the command's options."""
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root().params if ctx is not None else {}
    settings = Settings.from_env(config_file=root.get("config"))
    return settings.with_overrides(data_dir=root.get("data_dir"), **overrides)


@contextmanager
def store_url(redis_url: str | None) -> Iterator[str]:
    """The configured store's URL; the embedded store is started if none is configured."""
    settings = cli_settings(redis_url=redis_url)
    if settings.redis_url:
        yield settings.redis_url
        return
    from router.storage.embedded import embedded_store, running_store

    if running_store(settings.data_dir) is None:
        # Say so: a --data-dir or TIERLINE_DATA_DIR unlike serve's would otherwise
        # silently show an empty store.
        click.echo(
            f"note: no tierline serve on {settings.data_dir}; using its store directly", err=True
        )
    with embedded_store(settings.data_dir) as url:
        yield url


class SettingsHelp(click.Command):
    """A command whose ``--help`` ends with the settings it reads."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from router.settings import settings_help

        formatter.write_paragraph()
        formatter.write_text(settings_help())
