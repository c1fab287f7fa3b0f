"""``tierline report``: queue, IVR, dialled-number, CSAT and offer figures for a period."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from router.cli.store_url import cli_settings, redis_option, store_url

if TYPE_CHECKING:
    from router.ami.records import CallRecord
    from router.reports import Report
    from router.reports.periods import Period
    from router.reports.sections import Section

__all__ = ["report"]

FORMATS = ("table", "json", "html", "csv")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"unknown time zone {name!r}", param_hint="--tz") from None


def _epoch(text: str, option: str, zone: ZoneInfo) -> float:
    """ISO 8601 date or time; without an offset it is the centre's local time."""
    from router.reports.periods import local_time

    try:
        return local_time(text, zone)
    except ValueError:
        raise click.BadParameter(f"'{text}' is not an ISO 8601 time", param_hint=option) from None


def _period(kind: str, day: str | None, zone: ZoneInfo) -> Period:
    """The named period containing ``day``; without one, the last complete period."""
    from router.reports.periods import period_of, previous

    if day is not None:
        try:
            return period_of(kind, date.fromisoformat(day), zone)
        except ValueError:
            raise click.BadParameter(f"'{day}' is not a date", param_hint="--date") from None
    today = datetime.fromtimestamp(time.time(), zone).date()
    return previous(period_of(kind, today, zone), zone)


@click.command()
@click.option("--from", "start", help="Period start, ISO 8601 (local time if no offset).")
@click.option("--to", "end", help="Period end (exclusive).")
@click.option(
    "--period",
    type=click.Choice(["day", "week", "month"]),
    help="A whole local day, ISO week or month (with --date; default: the last one).",
)
@click.option("--date", "day", help="A date inside the --period (YYYY-MM-DD).")
@click.option("--tz", help="The centre's time zone [$TIERLINE_TIMEZONE, Asia/Shanghai].")
@click.option(
    "--interval",
    type=click.Choice(["15", "30", "60"]),
    help="Add an interval view (minutes, on the local clock).",
)
@click.option(
    "--by",
    type=click.Choice(["tier", "queue", "all"]),
    default="tier",
    show_default=True,
    help="Groups of the interval view.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table")
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
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write LABEL.html, LABEL.csv and LABEL.json here (for cron).",
)
def report(
    *,
    start: str | None,
    end: str | None,
    period: str | None,
    day: str | None,
    tz: str | None,
    interval: str | None,
    by: str,
    fmt: str,
    sl_seconds: float,
    top_n: int,
    redis_url: str | None,
    output: IO[str],
    out_dir: Path | None,
) -> None:
    """Offered, answered, abandoned, SL, ASA per tier and queue; IVR options; dialled numbers.

    Times are the centre's local time. A --period adds a comparison with the period before.
    """
    zone = _zone(tz or cli_settings().timezone)
    span, label = _span(start, end, period, day, zone)
    earlier = _before(period, span, zone) if period else None
    with store_url(redis_url) as url:
        got, earlier_got, (answers, offers), extra = asyncio.run(_read(url, span, earlier))
    records = _within(got, span)
    before = _within(earlier_got, earlier) if earlier and earlier_got is not None else None
    figures = _figures(records, before, span, label, zone, interval, by, sl_seconds, top_n)
    extra += _marketing(answers, offers, records)
    figures = replace(figures, sections=[*figures.sections, *extra])
    if out_dir is not None:
        _write_all(figures, out_dir)
        return
    _write(figures, fmt, output)


def _span(start: str | None, end: str | None, period: str | None, day: str | None,
          zone: ZoneInfo) -> tuple[tuple[float, float], str]:  # fmt: skip
    if period is not None:
        if start or end:
            raise click.UsageError("give --period (with --date) or --from/--to, not both")
        p = _period(period, day, zone)
        return (p.start, p.end), p.label
    if not (start and end):
        raise click.UsageError("give --from and --to, or --period")
    t1, t2 = _epoch(start, "--from", zone), _epoch(end, "--to", zone)
    if t2 <= t1:
        raise click.BadParameter("must be after --from", param_hint="--to")
    return (t1, t2), ""


def _before(period: str | None, span: tuple[float, float], zone: ZoneInfo) -> tuple[float, float]:
    from router.reports.periods import period_of, previous

    first = datetime.fromtimestamp(span[0], zone).date()
    p = previous(period_of(period or "day", first, zone), zone)
    return p.start, p.end


def _within(records: list[CallRecord], span: tuple[float, float]) -> list[CallRecord]:
    """Calls that started in the span (the stream is read by hang-up time)."""
    return [r for r in records if span[0] <= (r.started_at or r.ended_at) < span[1]]


def _figures(  # noqa: PLR0917 - the report's parts, passed on as they came
    records: list[CallRecord], before: list[CallRecord] | None, span: tuple[float, float],
    label: str, zone: ZoneInfo, interval: str | None, by: str, sl_seconds: float, top_n: int,
) -> Report:  # fmt: skip
    from router.reports import build_report
    from router.reports.intervals import compare, headline, interval_rows
    from router.reports.periods import intervals

    t1, t2 = span
    figures = build_report(records, t1, t2, sl_seconds=sl_seconds, top_n=top_n)
    rows = []
    if interval:
        slots = intervals(t1, t2, int(interval), zone)
        rows = interval_rows(records, slots, sl_seconds, None if by == "all" else by)
    change = {}
    if before is not None:
        change = compare(headline(records, sl_seconds), headline(before, sl_seconds))
    return replace(figures, zone=str(zone), label=label, intervals=rows, change=change)


def _write(figures: Report, fmt: str, output: IO[str]) -> None:
    from router.reports import render

    try:
        output.write(render(figures, fmt))
    except ModuleNotFoundError as exc:
        raise click.ClickException(
            f"--format {fmt} needs {exc.name}: pip install 'tierline[sim]'"
        ) from None


def _write_all(figures: Report, out_dir: Path) -> None:
    """One file per format, named by the period, replaced atomically (cron reruns are safe)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = figures.label or datetime.fromtimestamp(figures.start, ZoneInfo(figures.zone)).strftime(
        "%Y-%m-%dT%H%M"
    )
    for fmt in ("json", "csv", "html"):
        target = out_dir / f"{stem}.{fmt}"
        tmp = target.with_suffix(f".{fmt}.tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            _write(figures, fmt, fh)
        tmp.replace(target)
        click.echo(str(target))


async def _read(
    url: str, span: tuple[float, float], earlier: tuple[float, float] | None
) -> tuple[
    list[CallRecord], list[CallRecord] | None,
    tuple[list[dict[str, str]], list[dict[str, str]]], list[Section],
]:  # fmt: skip
    """Everything the report reads, over one connection in one event loop.

    The period's records, the period before's (with --period), its survey
    answers and offer events (router.reports.marketing), and the dialer's
    section when it dialled or refused anything in the period.
    """
    from router.reports import read_records
    from router.reports.campaigns import read_campaign_section
    from router.reports.marketing_source import read_marketing
    from router.storage.client import bulk_client

    client = bulk_client(url)
    try:
        records = await read_records(client, *span)
        before = await read_records(client, *earlier) if earlier else None
        marketing = await read_marketing(client, *span)
        section = await read_campaign_section(client, *span)
    finally:
        await client.aclose()
    return records, before, marketing, [section] if section is not None else []


def _marketing(
    answers: list[dict[str, str]], offers: list[dict[str, str]], records: list[CallRecord]
) -> list[Section]:
    from router.reports.marketing import build_marketing, marketing_section

    section = marketing_section(build_marketing(answers, offers, records))
    return [section] if section is not None else []
