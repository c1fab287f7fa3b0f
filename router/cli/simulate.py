"""``tierline simulate`` and ``tierline plan``: argument parsing only.

Heavy imports (numpy, SimPy, matplotlib, distributed) happen inside the
commands so ``tierline serve`` starts fast.
"""

from __future__ import annotations

import json
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
    volume: float,
    aht: float,
    patience: float,
    staffing: float,
) -> None:
    """Simulate a scenario day: service, abandonment, occupancy and cost with 95% CIs."""
    sc = _scaled(_load(scenario), volume, aht, patience, staffing)
    from tqdm import tqdm

    from simulator.report import shown, tier_table, write_report
    from simulator.runner import replicate

    bar = tqdm(total=replications, disable=not sys.stderr.isatty(), unit="rep")
    with _executor(workers, scheduler) as ex, bar:
        reps = replicate(sc.model, replications, seed, ex, progress=bar.update)
    table = tier_table(reps.estimates, sc.model)
    if out:
        write_report(
            out, reps.estimates, sc.model, replications=replications, seed=seed,
            targets=sc.targets,
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
    model: Any, replications: int, seed: int, ex: Executor | None, out: Path | None, reps: Any
) -> None:
    """What outbound costs each tier: the inbound-only day on the same seeds beside it."""
    from simulator.blended import compare, lines, write_blended

    result = compare(model, replications, seed, ex, blended=reps)
    for line in lines(result):
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
    volume: float,
    aht: float,
    patience: float,
    staffing: float,
) -> None:
    """Cheapest staffing per queue and interval meeting every tier's targets, and the frontier."""
    sc = _scaled(_load(scenario), volume, aht, patience, staffing)
    from simulator.planner import frontier, plan_staffing, with_staffing
    from simulator.report import write_report

    with _executor(workers, scheduler) as ex:
        result = plan_staffing(
            sc.model, sc.targets, replications=replications, seed=seed, rounds=rounds, executor=ex
        )
        points = frontier(sc.model, result, seed=seed, executor=ex)
    status = "meets all targets" if result.met else "STILL MISSES targets"
    click.echo(f"plan after {result.rounds} round(s), {status}; cost {result.cost:,.2f}")
    for queue, agents in result.staffing.items():
        click.echo(f"  {queue}: {' '.join(str(a) for a in agents)}")
    click.echo("frontier (scale, cost, service level per tier):")
    for p in points:
        sls = "  ".join(f"{t} {v:.3f}" for t, v in p.service_level.items())
        click.echo(f"  x{p.scale:.2f}  {p.cost:>12,.2f}  {sls}")
    if out:
        planned = with_staffing(sc.model, {k: list(v) for k, v in result.staffing.items()})
        write_report(
            out,
            result.result.estimates,
            planned,
            replications=replications,
            seed=seed,
            frontier=points,
            targets=sc.targets,
        )
    if sc.model.outbound is not None:
        planned = with_staffing(sc.model, {k: list(v) for k, v in result.staffing.items()})
        with _executor(workers, scheduler) as ex:
            _blended(planned, replications, seed, ex, out, None)
    if roster:
        _roster(sc.model, result.staffing, out)


def _roster(model: Any, staffing: Mapping[str, Sequence[int]], out: Path | None) -> None:
    """Shifts per queue (8 h with a break, 4 h part-time) covering the plan after shrinkage."""
    import csv

    from simulator.roster import build_roster

    minutes = round(model.interval_s / 60)
    if model.n_intervals * minutes != 1440:
        raise click.ClickException(
            f"--roster needs a scenario of one whole day (this one has {model.n_intervals} "
            f"intervals of {minutes} min): shifts wrap round the clock"
        )
    rows = []
    for q in model.queues:
        r = build_roster(staffing[q.name], minutes, shrinkage=q.shrinkage)
        people = sum(s.count for s in r.shifts)
        floor = sum(r.need) * minutes / 60
        click.echo(f"roster {q.name}: {people} shifts, {r.paid_hours:,.1f} paid hours "
                   f"(interval minimum {floor:,.1f} h)")  # fmt: skip
        for s in r.shifts:
            start = f"{s.start * minutes // 60:02d}:{s.start * minutes % 60:02d}"
            pause = "" if s.break_at is None else (
                f"{s.break_at * minutes // 60:02d}:{s.break_at * minutes % 60:02d}"
            )  # fmt: skip
            rows.append([q.name, s.template, start, pause, s.count])
    if out:
        out.mkdir(parents=True, exist_ok=True)
        with (out / "roster.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["queue", "shift", "start", "break", "agents"])
            w.writerows(rows)
