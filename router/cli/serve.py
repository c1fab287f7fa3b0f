"""``tierline serve``: the router, on an embedded store unless one is given."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import click

from router import eventloop, service
from router.logs import configure_logging
from router.settings import Settings
from router.storage.embedded import embedded_store

__all__ = ["serve"]

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "customers.csv"


@click.command()
@click.option("--redis", "redis_url", help="Redis URL (default: $REDIS_URL, else embedded).")
@click.option("--host", "agi_host", help="FastAGI listen address [127.0.0.1].")
@click.option("--port", "agi_port", type=int, help="FastAGI listen port [4573].")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Embedded store data dir.")
@click.option("--demo", is_flag=True, help="Load the sample customers before serving.")
def serve(
    redis_url: str | None,
    agi_host: str | None,
    agi_port: int | None,
    data_dir: Path | None,
    demo: bool,
) -> None:
    """Run the FastAGI router until SIGTERM."""
    settings = Settings.from_env().with_overrides(
        redis_url=redis_url, agi_host=agi_host, agi_port=agi_port, data_dir=data_dir
    )
    configure_logging(settings.log_level)
    with ExitStack() as stack:
        url = settings.redis_url or stack.enter_context(embedded_store(settings.data_dir))
        if demo:
            from router.customers.importer import import_path_sync

            import_path_sync(url, SAMPLES)
        main = service.run(settings, url, on_ready=eventloop.tune_gc)
        eventloop.run(main, want_uvloop=settings.uvloop)
