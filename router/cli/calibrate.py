"""``tierline calibrate``: a scenario from the centre's own call records, and its backtest."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from router.cli.extras import needs_extra
from router.cli.store_url import redis_option, store_url

if TYPE_CHECKING:
    from router.ami.records import CallRecord

__all__ = ["calibrate"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"unknown time zone {name!r}", param_hint="--tz") from None


def _weekdays(text: str | None) -> list[int] | None:
    if not text:
        return None
    out = []
    for part in text.lower().split(","):
        if part.strip() not in WEEKDAYS:
            raise click.BadParameter(f"{part!r}: use {','.join(WEEKDAYS)}", param_hint="--weekdays")
        out.append(WEEKDAYS.index(part.strip()))
    return out


def _file_records(path: Path) -> Iterator[CallRecord]:
    """JSON Lines or CSV of the calls stream's fields (one record per line/row)."""
    import csv

    from router.ami.records import from_fields

    with path.open(encoding="utf-8", newline="") as fh:
        if path.suffix == ".csv":
            for n, row in enumerate(csv.DictReader(fh), 2):
                yield _parsed(from_fields, row, path, n)
            return
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise click.ClickException(f"{path}:{n}: not JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise click.ClickException(f"{path}:{n}: expected one JSON object per line")
            yield _parsed(from_fields, row, path, n)


_TIMES = ("started_at", "joined_at", "answered_at", "abandoned_at", "left_at", "ended_at")


def _parsed(parse: Any, row: dict[str, Any], path: Path, line: int) -> CallRecord:
    """Strict where the stream reader is lenient: a planner's file must be right."""
    for name in _TIMES:
        value = row.get(name)
        if value not in (None, ""):
            try:
                float(value)
            except (TypeError, ValueError):
                msg = f"{path}:{line}: {name}: {str(value)[:40]!r} is not epoch seconds"
                raise click.ClickException(msg) from None
    return parse({k: str(v) for k, v in row.items()})  # type: ignore[no-any-return]


async def _stream_records(url: str, start: float, end: float) -> list[CallRecord]:
    from router.reports import read_records
    from router.storage.client import bulk_client

    client = bulk_client(url)
    try:
        return [r for r in await read_records(client, start, end) if start <= r.started_at < end]
    finally:
        await client.aclose()


@click.command()
@click.option("--from", "start", help="First day (ISO date, local time); with --to, reads Redis.")
@click.option("--to", "end", help="Day after the last (ISO date, local time).")
@click.option(
    "--records",
    type=click.Path(exists=True, path_type=Path),
    help="A JSON Lines or CSV export of the calls stream instead of Redis.",
)
@click.option("--tz", "tz", default="Asia/Shanghai", show_default=True, help="The centre's clock.")
@click.option("--interval", type=click.Choice(["15", "30", "60"]), default="30", show_default=True)
@click.option("--weekdays", help="Only these days, e.g. mon,tue,wed,thu,fri.")
@click.option(
    "--out", type=click.Path(path_type=Path), required=True, help="Scenario file to write."
)
@click.option(
    "--backtest",
    "replications",
    type=click.IntRange(min=0),
    default=0,
    help="Simulate the twin N times and compare it with the records, per interval.",
)
@click.option(
    "--flows",
    "flows_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The operator's flows: the twin walks them, with key probabilities per menu "
    "and callback uptake from the recorded paths.",
)
@click.option(
    "--routing",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Routing file for --flows [FLOWS/routing.yaml when present].",
)
@click.option(
    "--cost-per-hour",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Cost of an agent-hour in every queue (1: costs read as agent-hours).",
)
@click.option(
    "--shrinkage",
    type=click.FloatRange(min=0, max=0.95),
    default=0.0,
    show_default=True,
    help="Share of paid time off the phones (training, leave), for rosters.",
)
@redis_option
def calibrate(
    *,
    start: str | None,
    end: str | None,
    records: Path | None,
    tz: str,
    interval: str,
    weekdays: str | None,
    out: Path,
    replications: int,
    flows_dir: Path | None,
    routing: Path | None,
    cost_per_hour: float,
    shrinkage: float,
    redis_url: str | None,
) -> None:
    """Write a scenario (arrivals, handle times, patience, agents) from recorded calls.

    With --flows, the scenario walks the operator's flows instead of the
    observed queue shares, with callers' key probabilities per menu and
    callback uptake calibrated from the recorded IVR paths.
    """
    import yaml

    with needs_extra("sim", "tierline calibrate"):
        from simulator.calibration import calibrate as fit
        from simulator.twin import scenario_document

    zone = _zone(tz)
    rows = _load(records, start, end, zone, redis_url)
    try:
        cal = fit(rows, zone, interval_minutes=int(interval), weekdays=_weekdays(weekdays),
                  all_calls=flows_dir is not None)  # fmt: skip
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    doc = scenario_document(cal, cost_per_hour=cost_per_hour, shrinkage=shrinkage)
    summary, lines = _summary(cal), _fit_lines(cal)
    head = (f"# Calibrated by tierline from {cal.calls} calls over {cal.days} days ({tz}); "
            f"{cal.contained} ended in the IVR.\n")  # fmt: skip
    if flows_dir is not None:
        from router.cli.calibrate_flows import with_flows

        doc, summary["ivr"], ivr_lines = with_flows(doc, rows, flows_dir, routing, out)
        lines += ivr_lines
        head += "".join(f"# {line}\n" for line in ivr_lines if line.startswith("callback"))
    text = yaml.safe_dump(
        doc, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100
    )  # lists of numbers on a few lines, not one line per number
    out.write_text(head + text, "utf-8")
    report = out.with_suffix(".calibration.json")
    report.write_text(json.dumps(summary, indent=1, ensure_ascii=False), "utf-8")
    click.echo(f"wrote {out} and {report}")
    for line in lines:
        click.echo(line)
    if replications:
        _backtest(out, rows, zone, int(interval), replications)


def _load(records: Path | None, start: str | None, end: str | None, zone: ZoneInfo,
          redis_url: str | None) -> list[CallRecord]:  # fmt: skip
    if records is not None:
        return list(_file_records(records))
    if not (start and end):
        raise click.UsageError("give --records FILE, or --from and --to to read the calls stream")
    t1, t2 = (datetime.fromisoformat(x).replace(tzinfo=zone).timestamp() for x in (start, end))
    with store_url(redis_url) as url:
        return asyncio.run(_stream_records(url, t1, t2))


def _summary(cal: Any) -> dict[str, Any]:
    return {
        "calls": cal.calls, "days": cal.days, "contained": cal.contained,
        "traffic": [{"dnis": t.dnis, "mean": t.mean, "sd": t.sd, "mix": t.mix}
                    for t in cal.traffic],
        "handle": {q: {"dist": f.dist, "mean": f.mean, "sd": f.sd, "n": f.n, "ks": f.ks,
                       "p_value": f.p_value} for q, f in cal.handle.items()},
        "patience": {t: {"median": p.median, "abandoned": p.abandoned, "censored": p.censored}
                     for t, p in cal.patience.items()},
        "agents_observed": cal.agents,
    }  # fmt: skip


def _fit_lines(cal: Any) -> list[str]:
    lines = [f"handle {q}: {f.dist} mean {f.mean:.1f}s sd {f.sd:.1f}s (n={f.n}, KS {f.ks:.3f}, "
             f"p={f.p_value:.2f})" for q, f in cal.handle.items()]  # fmt: skip
    for t, p in cal.patience.items():
        median = f"{p.median:.1f}s" if p.median is not None else "beyond the waits seen"
        lines.append(f"patience {t}: median {median} ({p.abandoned} abandoned, "
                     f"{p.censored} answered = censored)")  # fmt: skip
    return lines


def _backtest(path: Path, rows: list[CallRecord], zone: ZoneInfo, minutes: int, n: int) -> None:
    from simulator.backtest import backtest_rows, observed
    from simulator.runner import replicate
    from simulator.scenario import load_scenario

    sc = load_scenario(path)
    reps = replicate(sc.model, n, 1)
    table = backtest_rows(observed(rows, zone, minutes, 20.0), reps, sc.model.n_intervals)
    click.echo("interval  offered/day  SL seen/sim      abandon seen/sim  ASA seen/sim")
    for row in table:
        cells = []
        for name in ("service_level", "abandon_rate", "asa"):
            seen, sim, _ = row.figures[name]
            cells.append(f"{_num(seen):>7}/{_num(sim):<7}")
        slot = f"{row.interval * minutes // 60:02d}:{row.interval * minutes % 60:02d}"
        click.echo(f"{slot:<9} {row.offered:>10.1f}  " + "  ".join(cells))


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"
