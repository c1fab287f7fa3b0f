"""``tierline simulate`` and ``tierline plan``: argument parsing only.

Heavy imports (numpy, SimPy, matplotlib, distributed) happen inside the
commands so ``tierline serve`` starts fast.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from router.cli.extras import needs_extra
from router.errors import LoadError

__all__ = ["plan", "simulate"]

_scenario_arg = click.argument("scenario", type=click.Path(path_type=Path))
_seed = click.option("--seed", type=int, default=1, show_default=True, help="Base seed.")
_out = click.option("--out", type=click.Path(path_type=Path), help="Write results.json/CSV/HTML.")
_workers = click.option(
    "--workers", type=click.IntRange(min=1), help="Process-pool size [all cores]."
)


def _what_if(command: Any) -> Any:
    """--volume/--aht/--patience/--staffing: the scenario scaled for a what-if."""
    for name, what in (("staffing", "agents"), ("patience", "caller patience"),
                       ("aht", "handle times"), ("volume", "arrivals")):  # fmt: skip
        command = click.option(
            f"--{name}", type=click.FloatRange(min=0, min_open=True), default=1.0,
            show_default=True, help=f"What-if: multiply {what} by this factor.",
        )(command)  # fmt: skip
    return command


def _scaled(sc: Any, volume: float, aht: float, patience: float, staffing: float) -> Any:
    """The scenario under the what-if factors (said on stderr when any is not 1)."""
    from dataclasses import replace

    from simulator.whatif import WhatIf, apply

    what = WhatIf(volume, aht, patience, staffing)
    if what.label != "as scenario":
        click.echo(f"what-if: {what.label}", err=True)
    return replace(sc, model=apply(sc.model, what))


_lang = click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    help="Report language [TIERLINE_LANG, else the locale].",
)


_scheduler = click.option("--scheduler", help="Dask scheduler address (runs replications there).")


@contextmanager
def _executor(workers: int | None, scheduler: str | None) -> Iterator[Executor | None]:
    """A Dask executor, a process pool, or None (serial) for a single worker."""
    if scheduler:
        from distributed import Client

        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            yield client.get_executor()
        return
    if workers == 1:
        yield None
        return
    from simulator.runner import process_pool

    with process_pool(workers) as pool:
        yield pool


def _load(path: Path) -> Any:
    with needs_extra("sim", "the simulator"):
        import simpy  # noqa: F401 - checked here so a router-only install gets the hint

        from simulator.scenario import load_scenario

    try:
        return load_scenario(path)
    except LoadError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command()
@_scenario_arg
@click.option("--replications", "-n", type=click.IntRange(min=1), default=10, show_default=True)
@_seed
@_out
@click.option("--json", "as_json", is_flag=True, help="Print per-tier results as JSON.")
@_workers
@_scheduler
@_lang
@_what_if
def simulate(
    *,
    scenario: Path,
    replications: int,
    seed: int,
    out: Path | None,
    as_json: bool,
    workers: int | None,
    scheduler: str | None,
    lang: str | None,
    volume: float,
    aht: float,
    patience: float,
    staffing: float,
) -> None:
    """Simulate a scenario day: service, abandonment, occupancy and cost with 95% CIs."""
    sc = _scaled(_load(scenario), volume, aht, patience, staffing)
    from tqdm import tqdm

    from simulator.report import shown, tier_table, write_report
    from simulator.report_labels import default_lang
    from simulator.runner import replicate

    bar = tqdm(total=replications, disable=as_json or not sys.stderr.isatty(), unit="rep")
    with _executor(workers, scheduler) as ex, bar:
        reps = replicate(sc.model, replications, seed, ex, progress=bar.update)
    table = tier_table(reps.estimates, sc.model)
    if out:
        write_report(
            out, reps.estimates, sc.model, replications=replications, seed=seed,
            targets=sc.targets, lang=lang or default_lang(),
        )  # fmt: skip
    if as_json:
        click.echo(json.dumps(table, indent=1, allow_nan=False))
        return
    click.echo(f"{reps.calls:,} calls over {replications} replications")
    for tier, row in table.items():
        sl, ab, asa = row["service_level"], row["abandon_rate"], row["asa"]
        click.echo(
            f"  {tier:<10} SL {shown(sl, 3)}  abandon {shown(ab, 3)}  ASA {shown(asa, 3, 's')}"
        )
    if sc.model.outbound is not None:
        with _executor(workers, scheduler) as ex:
            _blended(sc.model, replications, seed, ex, out, reps)


def _blended(  # noqa: PLR0917 - the run's own settings
    model: Any, replications: int, seed: int, ex: Executor | None, out: Path | None, reps: Any,
    echo: bool = True,
) -> None:  # fmt: skip
    """What outbound costs each tier: the inbound-only day on the same seeds beside it."""
    from simulator.blended import compare, lines, write_blended

    result = compare(model, replications, seed, ex, blended=reps)
    for line in lines(result) if echo else ():  # plan --json: stdout holds the JSON alone
        click.echo(line)
    if out:
        write_blended(out, result)


@click.command()
@_scenario_arg
@click.option("--replications", "-n", type=click.IntRange(min=1), default=5, show_default=True)
@_seed
@click.option(
    "--rounds", type=click.IntRange(min=0), default=6, show_default=True, help="Max adjust rounds."
)
@_out
@_workers
@_scheduler
@click.option("--roster", is_flag=True, help="Also turn the plan into shifts with breaks.")
@_lang
@click.option("--json", "as_json", is_flag=True, help="Print the plan (and roster) as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@_what_if
def plan(
    *,
    scenario: Path,
    replications: int,
    seed: int,
    rounds: int,
    out: Path | None,
    workers: int | None,
    scheduler: str | None,
    roster: bool,
    lang: str | None,
    as_json: bool,
    quiet: bool,
    volume: float,
    aht: float,
    patience: float,
    staffing: float,
) -> None:
    """Cheapest staffing per queue and interval meeting every tier's targets, and the frontier."""
    sc = _scaled(_load(scenario), volume, aht, patience, staffing)
    from simulator.planner import frontier, plan_staffing, with_staffing
    from simulator.report import write_report
    from simulator.report_labels import default_lang

    if roster:
        _whole_day(sc.model)
    with _executor(workers, scheduler) as ex, _progress(quiet or as_json) as counted:
        counting = counted(ex)
        result = plan_staffing(sc.model, sc.targets, replications=replications, seed=seed,
                               rounds=rounds, executor=counting)  # fmt: skip
        points = frontier(sc.model, result, seed=seed, executor=counting)
    rosters = _rosters(sc.model, result.staffing) if roster else {}
    if as_json:
        click.echo(json.dumps(_plan_json(sc.model, result, points, rosters), indent=1))
    else:
        _print_plan(sc.model, result, points, rosters)
    planned = with_staffing(sc.model, {k: list(v) for k, v in result.staffing.items()})
    if out:
        write_report(
            out, result.result.estimates, planned, replications=replications, seed=seed,
            frontier=points, targets=sc.targets, rosters=rosters, lang=lang or default_lang(),
        )  # fmt: skip
    if sc.model.outbound is not None:
        with _executor(workers, scheduler) as ex:
            _blended(planned, replications, seed, ex, out, None, echo=not as_json)


@contextmanager
def _progress(off: bool) -> Iterator[Any]:
    """A replication counter on stderr while planning; nothing when off or not a terminal.

    ``plan`` does not know how many batches it will run, so the bar counts
    replications and their rate rather than promising an end.
    """
    from tqdm import tqdm

    from simulator.progress import CountingExecutor

    disable = off or not sys.stderr.isatty()
    with tqdm(desc="plan", unit=" runs", disable=disable, file=sys.stderr) as bar:
        yield lambda ex: ex if disable else CountingExecutor(ex, bar.update)


def _whole_day(model: Any) -> None:
    minutes = round(model.interval_s / 60)
    if model.n_intervals * minutes != 1440:
        raise click.ClickException(
            f"--roster needs a scenario of one whole day (this one has {model.n_intervals} "
            f"intervals of {minutes} min): shifts wrap round the clock"
        )


def _rosters(model: Any, staffing: Mapping[str, Sequence[int]]) -> dict[str, Any]:
    """Shifts per queue (8 h with a break, 4 h part-time) covering the plan after shrinkage."""
    from simulator.roster import build_roster

    minutes = round(model.interval_s / 60)
    return {
        q.name: build_roster(staffing[q.name], minutes, shrinkage=q.shrinkage) for q in model.queues
    }


def _print_plan(model: Any, result: Any, points: Sequence[Any], rosters: Mapping[str, Any]) -> None:
    from simulator.report import clock_labels
    from simulator.roster_table import roster_table

    status = "meets all targets" if result.met else "STILL MISSES targets"
    click.echo(f"plan after {result.rounds} round(s), {status}; cost {result.cost:,.2f}")
    for queue, agents in result.staffing.items():
        click.echo(f"  {queue}: {' '.join(str(a) for a in agents)}")
    click.echo("frontier (scale, cost, service level per tier):")
    for p in points:
        sls = "  ".join(f"{t} {v:.3f}" for t, v in p.service_level.items())
        click.echo(f"  x{p.scale:.2f}  {p.cost:>12,.2f}  {sls}")
    clock, minutes = clock_labels(model), round(model.interval_s / 60)
    for queue, r in rosters.items():
        t = roster_table(queue, r, clock, minutes)
        click.echo(f"roster {queue}: {t.people} shifts, {t.paid_hours:,.1f} paid hours "
                   f"(interval minimum {t.floor_hours:,.1f} h)")  # fmt: skip
        for row in t.rows:
            pause = f", break {row[4]}" if row[4] else ""
            click.echo(f"  {row[5]:>3} x {row[1]:<5} {row[2]}-{row[3]}{pause}")


def _plan_json(
    model: Any, result: Any, points: Sequence[Any], rosters: Mapping[str, Any]
) -> dict[str, Any]:
    """The plan for scripts: staffing by clock time, verdict, frontier, roster."""
    from simulator.report import clock_labels
    from simulator.roster_table import CSV_HEADER, roster_table

    clock, minutes = clock_labels(model), round(model.interval_s / 60)
    return {
        "met": result.met, "rounds": result.rounds, "cost": round(result.cost, 2),
        "intervals": clock,
        "staffing": {q: list(v) for q, v in result.staffing.items()},
        "frontier": [{"scale": p.scale, "cost": round(p.cost, 2),
                      "service_level": _finite(p.service_level)} for p in points],
        "roster": {q: {"paid_hours": r.paid_hours, "need": list(r.need),
                       "working": list(r.working),
                       "shifts": [dict(zip(CSV_HEADER[1:], row[1:], strict=True))
                                  for row in roster_table(q, r, clock, minutes).rows]}
                   for q, r in rosters.items()},
    }  # fmt: skip


def _finite(values: Mapping[str, float]) -> dict[str, float | None]:
    """JSON has no NaN: a tier with no calls at that scale shows null."""
    return {k: (v if math.isfinite(v) else None) for k, v in values.items()}
