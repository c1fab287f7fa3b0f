"""``tierline report``: queue, IVR and campaign figures for a period."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING

import click

from router.cli.store_url import redis_option, store_url

if TYPE_CHECKING:
    from router.ami.records import CallRecord

__all__ = ["report"]


def _epoch(text: str, option: str) -> float:
    """ISO 8601 date or time; without a zone it is UTC."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"'{text}' is not an ISO 8601 time", param_hint=option) from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


@click.command()
@click.option("--from", "start", required=True, help="Period start, ISO 8601 (UTC if no zone).")
@click.option("--to", "end", required=True, help="Period end (exclusive).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html"]), default="table")
@click.option(
    "--sl-seconds", type=float, default=20.0, show_default=True, help="Service level threshold."
)
@click.option(
    "--top", "top_n", type=int, default=10, show_default=True, help="Rows in top-N lists."
)
@redis_option
@click.option(
    "-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="Output file."
)
def report(
    *,
    start: str,
    end: str,
    fmt: str,
    sl_seconds: float,
    top_n: int,
    redis_url: str | None,
    output: IO[str],
) -> None:
    """Offered/answered/abandoned, SL, ASA per tier and queue; IVR hot spots; calls per DNIS."""
    from router.reports import build_report, render

    t1, t2 = _epoch(start, "--from"), _epoch(end, "--to")
    if t2 <= t1:
        raise click.BadParameter("must be after --from", param_hint="--to")
    with store_url(redis_url) as url:
        records = asyncio.run(_load(url, t1, t2))
    figures = build_report(records, t1, t2, sl_seconds=sl_seconds, top_n=top_n)
    try:
        output.write(render(figures, fmt))
    except ModuleNotFoundError as exc:
        raise click.ClickException(
            f"--format {fmt} needs {exc.name}: pip install 'tierline[sim]'"
        ) from None


async def _load(url: str, start: float, end: float) -> list[CallRecord]:
    from router.reports import read_records
    from router.storage.client import bulk_client

    client = bulk_client(url)
    try:
        return await read_records(client, start, end)
    finally:
        await client.aclose()
