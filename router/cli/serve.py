"""``tierline serve``: the router, on an embedded store unless one is given."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import click

from router.cli.store_url import SettingsHelp, cli_settings

__all__ = ["serve"]


@click.command(cls=SettingsHelp)
@click.option("--redis", "redis_url", help="Redis URL (default: $REDIS_URL, else embedded).")
@click.option("--host", "agi_host", help="FastAGI listen address [127.0.0.1].")
@click.option("--port", "agi_port", type=click.IntRange(0, 65535), help="FastAGI port [4573].")
@click.option(
    "--flows",
    "flows_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="IVR flows directory [$TIERLINE_FLOWS_DIR, else the shipped samples].",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Load the sample customers, and run the sample backend (port 8600) beside the router.",
)
def serve(
    redis_url: str | None,
    agi_host: str | None,
    agi_port: int | None,
    flows_dir: Path | None,
    demo: bool,
) -> None:
    """Run the FastAGI router until SIGTERM."""
    from router import eventloop, service
    from router.bundled import bundled
    from router.logs import configure_logging, get_logger
    from router.storage.embedded import embedded_store

    settings = cli_settings(
        redis_url=redis_url, agi_host=agi_host, agi_port=agi_port, flows_dir=flows_dir
    )
    configure_logging(settings.log_level)
    with ExitStack() as stack:
        url = settings.redis_url or stack.enter_context(embedded_store(settings.data_dir))
        if demo:
            from router.customers.importer import import_path_sync

            import_path_sync(url, bundled("samples") / "customers.csv")
        main = service.run(settings, url, on_ready=eventloop.tune_gc)
        if demo:  # the sample backend the demo flows' fetch/notify steps call
            try:
                from router.backend_demo import beside
            except ImportError:
                # A log line, not plain text: stderr carries JSON lines only.
                get_logger(__name__).warning(
                    "demo_backend.not_started", reason="needs pip install 'tierline[web]'"
                )
            else:
                main = beside(main, bundled("samples") / "customers.csv")
        eventloop.run(main, want_uvloop=settings.uvloop)
