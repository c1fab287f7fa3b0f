"""``tierline backend-demo``: the sample operator backend the demo flows fetch from."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from router.cli.extras import needs_extra

__all__ = ["backend_demo"]


@click.command("backend-demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8600, show_default=True)
@click.option(
    "--customers",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Customer CSV the balances come from [the sample customers].",
)
def backend_demo(host: str, port: int, customers: Path | None) -> None:
    """Serve balances, orders and an SMS gateway for ivr_flows/backends.yaml (until Ctrl-C)."""
    from router.bundled import bundled
    from router.logs import configure_logging

    configure_logging("info")  # JSON lines, numbers masked
    with needs_extra("web", "tierline backend-demo"):
        from router.backend_demo import serve_demo_backend
    source = customers or bundled("samples") / "customers.csv"
    click.echo(f"demo backend on http://{host}:{port}/ (customers: {source})", err=True)
    asyncio.run(serve_demo_backend(source, host, port))
