"""Files a planner opens: results.json, a CSV, and an HTML page with PNG plots."""

from __future__ import annotations

import csv
import json
import logging
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np

mpl.use("Agg")
import matplotlib.pyplot as plt

from simulator.model import SimModel
from simulator.planner import FrontierPoint
from simulator.report_labels import CJK_FONTS, Labels, labels
from simulator.report_page import render_page
from simulator.roster import Roster
from simulator.roster_table import CSV_HEADER, RosterTable, coverage_rows, roster_table
from simulator.scenario import Target
from simulator.stats import Estimate, JsonResults, as_json

__all__ = [
    "chart_style",
    "clock_labels",
    "shown",
    "staff_figure",
    "staffing_rows",
    "step_points",
    "tier_table",
    "tiers_figure",
    "verdicts",
    "write_report",
]

TIER_METRICS = (
    "calls",
    "ivr_ended",
    "offered",
    "answered",
    "abandoned",
    "p_wait",
    "asa",
    "service_level",
    "abandon_rate",
)


def shown(figure: Mapping[str, float | None], digits: int = 4, unit: str = "") -> str:
    """``mean ± ci95`` for people; a dash where a figure or its interval is unknown."""
    mean, ci = figure.get("mean"), figure.get("ci95")
    if mean is None:
        return "-"
    return f"{mean:.{digits}g}{unit}" + (f" ± {ci:.2g}{unit}" if ci is not None else " (1 run)")


def tier_table(estimates: Mapping[str, Mapping[str, Estimate]], model: SimModel) -> JsonResults:
    """Per tier: the figures ``--json`` prints, each with mean and ci95."""
    js = as_json(estimates)
    return {t: {m: js[f"tier/{t}"][m] for m in TIER_METRICS} for t in model.tiers}


def clock_labels(model: SimModel) -> list[str]:
    """Each interval's start as the planner's clock shows it (``09:30``)."""
    t0 = datetime.fromisoformat(model.start)
    return [(t0 + timedelta(seconds=i * model.interval_s)).strftime("%H:%M")
            for i in range(model.n_intervals)]  # fmt: skip


def _clock_axis(ax: Any, model: SimModel, lab: Labels) -> None:
    clock = clock_labels(model)
    every = max(1, len(clock) // 12)
    ax.set_xticks(range(0, len(clock), every), clock[::every], rotation=45)
    ax.set_xlabel(lab["interval_start"])


def chart_style(lang: str) -> dict[str, Any]:
    """Matplotlib settings for ``lang``: a CJK font first for Chinese labels.

    DejaVu Sans has no Chinese glyphs; without a CJK font first, every
    Chinese axis label is drawn as empty boxes.
    """
    if lang != "zh":
        return {}
    return {"font.family": "sans-serif",
            "font.sans-serif": [*CJK_FONTS, *mpl.rcParams["font.sans-serif"]],
            "axes.unicode_minus": False}  # fmt: skip


def tiers_figure(
    est: Mapping[str, Mapping[str, Estimate]], model: SimModel, lang: str = "en"
) -> Any:
    """Service level and abandonment per tier and interval, with their 95 % bands."""
    lab = labels(lang)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    x = np.arange(model.n_intervals)
    for t in model.tiers:
        for ax, metric in ((ax1, "service_level"), (ax2, "abandon_rate")):
            mean = np.array([est[f"tier/{t}/{i}"][metric].mean for i in x], dtype=float)
            half = np.nan_to_num([est[f"tier/{t}/{i}"][metric].ci95 for i in x], nan=0.0)
            (line,) = ax.plot(x, mean, label=t)
            # both figures are shares: a wide interval (a quiet night, two runs) is cut at
            # 0 and 1 rather than stretching the axis for the whole day
            low, high = np.clip(mean - half, 0, 1), np.clip(mean + half, 0, 1)
            ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2)
    for ax in (ax1, ax2):
        ax.set_ylim(-0.02, 1.02)
    ax1.set_ylabel(lab["service_level"])
    ax2.set_ylabel(lab["abandon_rate"])
    _clock_axis(ax2, model, lab)
    ax1.legend()
    fig.tight_layout()
    return fig


def _plot_tiers(
    est: Mapping[str, Mapping[str, Estimate]], model: SimModel, out: Path, lang: str
) -> str:
    fig = tiers_figure(est, model, lang)
    fig.savefig(out / "tiers.png", dpi=80)
    plt.close(fig)
    return "tiers.png"


def step_points(values: Sequence[float]) -> tuple[list[int], list[float]]:
    """Points for ``step(where="post")``: interval i's value spans [i, i+1).

    Matplotlib's default (``where="pre"``) draws each value over the
    interval *before* it, shifting a staffing plan one interval early.
    """
    return list(range(len(values) + 1)), [*values, *values[-1:]]


def staff_figure(
    est: Mapping[str, Mapping[str, Estimate]], model: SimModel, lang: str = "en"
) -> Any:
    """Agents and cost per interval, each value drawn over its own interval."""
    lab = labels(lang)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    x = range(model.n_intervals)
    for q in model.queues:
        for ax, metric in ((ax1, "agents"), (ax2, "cost")):
            xs, ys = step_points([est[f"queue/{q.name}/{i}"][metric].mean for i in x])
            ax.step(xs, ys, where="post", label=q.name)
    ax1.set_ylabel(lab["agents"])
    ax2.set_ylabel(lab["cost"])
    _clock_axis(ax2, model, lab)
    ax1.legend()
    fig.tight_layout()
    return fig


def _plot_staff(
    est: Mapping[str, Mapping[str, Estimate]], model: SimModel, out: Path, lang: str
) -> str:
    fig = staff_figure(est, model, lang)
    fig.savefig(out / "staffing.png", dpi=80)
    plt.close(fig)
    return "staffing.png"


def _plot_frontier(points: Sequence[FrontierPoint], out: Path, lang: str) -> str:
    lab = labels(lang)
    fig, ax = plt.subplots(figsize=(7, 4))
    for tier in points[0].service_level:
        ax.plot([p.cost for p in points], [p.service_level[tier] for p in points], "o-", label=tier)
    ax.set_xlabel(lab["cost_per_day"])
    ax.set_ylabel(lab["service_level"])
    ax.set_title(lab["frontier"])
    ax.legend()
    fig.savefig(out / "frontier.png", dpi=80)
    plt.close(fig)
    return "frontier.png"


def _clean(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def _meets(est: Mapping[str, Estimate], t: Target, *, lone_ok: bool = False) -> bool:
    """The planner's rule: a miss only when the whole 95 % interval is on the wrong side.

    ``lone_ok``: a figure with no interval (one replication had calls there)
    is not a miss; for the day's figure it is judged on its mean.
    """
    sl, ab = est["service_level"], est["abandon_rate"]
    if lone_ok and not math.isfinite(sl.ci95):
        return True
    sl_ok = not math.isfinite(sl.mean) or sl.mean + sl.half >= t.service_level
    ab_ok = not math.isfinite(ab.mean) or ab.mean - ab.half <= t.max_abandon
    return sl_ok and ab_ok


def _missed(
    estimates: Mapping[str, Mapping[str, Estimate]], tier: str, t: Target, clock: Sequence[str]
) -> list[str]:
    """Clock times of the intervals where ``tier`` significantly misses its target."""
    out = []
    for i, label in enumerate(clock):
        est = estimates.get(f"tier/{tier}/{i}")
        if est and est["offered"].mean and not _meets(est, t, lone_ok=True):
            out.append(label)
    return out


def _listed(times: Sequence[str], lab: Labels, most: int = 6) -> str:
    if not times:
        return lab["none"]
    more = f" +{len(times) - most}" if len(times) > most else ""
    return " ".join(times[:most]) + more


def verdicts(
    estimates: Mapping[str, Mapping[str, Estimate]],
    targets: Mapping[str, Target],
    lang: str = "en",
    clock: Sequence[str] = (),
) -> list[dict[str, str]]:
    """Per tier: the day's SL and abandonment against its targets, pass or MISS.

    As the planner judges: a figure misses only when its whole 95 % interval
    is on the wrong side of the target. With ``clock`` (interval labels) the
    intervals missed are listed too and make the verdict a MISS, as they
    make ``tierline plan`` say it still misses targets.
    """
    out, lab = [], labels(lang)
    for tier, t in targets.items():
        est = estimates.get(f"tier/{tier}")
        if not est:
            continue
        sl, ab = est["service_level"], est["abandon_rate"]
        missed = _missed(estimates, tier, t, clock)
        out.append({
            "tier": tier,
            "service_level": shown({"mean": _finite(sl.mean), "ci95": _finite(sl.ci95)}, 3),
            "target": lab["target_sl"].format(level=t.service_level, within=t.within_s),
            "abandon_rate": shown({"mean": _finite(ab.mean), "ci95": _finite(ab.ci95)}, 3),
            "cap": f"≤ {t.max_abandon:g}",
            "missed": _listed(missed, lab),
            "verdict": "pass" if _meets(est, t) and not missed else "MISS",
        })  # fmt: skip
    return out


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def staffing_rows(
    estimates: Mapping[str, Mapping[str, Estimate]], model: SimModel
) -> list[list[str]]:
    """One row per interval: its clock time, then each queue's agents."""
    return [
        [label, *(f"{estimates[f'queue/{q.name}/{i}']['agents'].mean:g}" for q in model.queues)]
        for i, label in enumerate(clock_labels(model))
    ]


def write_report(
    out: Path,
    estimates: Mapping[str, Mapping[str, Estimate]],
    model: SimModel,
    *,
    replications: int,
    seed: int,
    frontier: Sequence[FrontierPoint] = (),
    targets: Mapping[str, Target] | None = None,
    rosters: Mapping[str, Roster] | None = None,
    lang: str = "en",
) -> None:
    """results.json (everything), results.csv (long format), staffing.csv, report.html,
    and with ``rosters`` roster.csv.

    The page shows each tier's verdict against its targets, the charts with
    their 95 % bands, the roster's shifts and coverage, and the staffing by
    clock time, all labelled in ``lang`` (``zh`` or ``en``).
    """
    out.mkdir(parents=True, exist_ok=True)
    js = as_json(estimates)
    (out / "results.json").write_text(json.dumps(_clean(js), indent=1), encoding="utf-8")
    long = ([k, m, v["mean"], v["ci95"]] for k, row in js.items() for m, v in row.items())
    _csv(out / "results.csv", ["key", "metric", "mean", "ci95"], long)
    staffing = staffing_rows(estimates, model)
    _csv(out / "staffing.csv", ["interval_start", *(q.name for q in model.queues)], staffing)
    tables = _roster_tables(out, model, rosters or {}, lang)
    with plt.rc_context(chart_style(lang)), _quiet_fonts():  # type: ignore[arg-type]
        images = [_plot_tiers(estimates, model, out, lang)]
        images.append(_plot_staff(estimates, model, out, lang))
        if frontier:
            images.append(_plot_frontier(frontier, out, lang))
    html = render_page(
        L=labels(lang),
        lang=lang,
        replications=replications,
        seed=seed,
        metrics=TIER_METRICS,
        table=tier_table(estimates, model),
        images=images,
        shown=shown,
        verdicts=verdicts(estimates, targets or {}, lang, clock_labels(model)),
        queues=[q.name for q in model.queues],
        staffing=staffing,
        rosters=tables,
        coverage=coverage_rows(rosters or {}, clock_labels(model)),
    )
    (out / "report.html").write_text(html, encoding="utf-8")


@contextmanager
def _quiet_fonts() -> Iterator[None]:
    """No "findfont: ... using 500" lines on the planner's terminal (WenQuanYi is medium)."""
    logger = logging.getLogger("matplotlib.font_manager")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def _roster_tables(
    out: Path, model: SimModel, rosters: Mapping[str, Roster], lang: str
) -> list[RosterTable]:
    """The roster's shifts per queue; roster.csv (English headers, for spreadsheets)."""
    if not rosters:
        return []
    clock, minutes = clock_labels(model), round(model.interval_s / 60)
    tables = [roster_table(q, r, clock, minutes, lang=lang) for q, r in rosters.items()]
    plain = [roster_table(q, r, clock, minutes) for q, r in rosters.items()]  # CSV: raw names
    _csv(out / "roster.csv", CSV_HEADER, (row for t in plain for row in t.rows))
    return tables
