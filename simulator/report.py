"""Files a planner opens: results.json, a CSV, and an HTML page with PNG plots."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np

mpl.use("Agg")
import matplotlib.pyplot as plt
from jinja2 import Environment, select_autoescape

from simulator.model import SimModel
from simulator.planner import FrontierPoint
from simulator.scenario import Target
from simulator.stats import Estimate, JsonResults, as_json

__all__ = [
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

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 10px;text-align:right}
.ok{color:#1f7a3a;font-weight:bold}.bad{color:#fff;background:#c0392b;font-weight:bold}</style>
</head><body><h1>{{ title }}</h1><p>{{ replications }} replications, seed {{ seed }}.</p>
<table><tr><th>tier</th>{% for m in metrics %}<th>{{ m }}</th>{% endfor %}</tr>
{% for tier, row in table.items() %}<tr><th>{{ tier }}</th>{% for m in metrics %}
<td>{{ shown(row[m]) }}</td>
{% endfor %}</tr>{% endfor %}</table>
{% if verdicts %}<h2>Targets</h2>
<table><tr><th>tier</th><th>service level</th><th>target</th><th>abandonment</th><th>cap</th>
<th></th></tr>
{% for v in verdicts %}<tr><th>{{ v.tier }}</th><td>{{ v.service_level }}</td>
<td>{{ v.target }}</td><td>{{ v.abandon_rate }}</td><td>{{ v.cap }}</td>
<td class="{{ 'ok' if v.verdict == 'pass' else 'bad' }}">{{ v.verdict }}</td></tr>
{% endfor %}</table>{% endif %}
{% for img in images %}<p><img src="{{ img }}" alt="{{ img }}"></p>{% endfor %}
<h2>Staffing (agents on the phones)</h2>
<table><tr><th>from</th>{% for q in queues %}<th>{{ q }}</th>{% endfor %}</tr>
{% for row in staffing %}<tr><th>{{ row[0] }}</th>
{% for v in row[1:] %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}
</table>
</body></html>"""


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


def _clock_axis(ax: Any, model: SimModel) -> None:
    labels = clock_labels(model)
    every = max(1, len(labels) // 12)
    ax.set_xticks(range(0, len(labels), every), labels[::every], rotation=45)
    ax.set_xlabel("interval start")


def tiers_figure(est: Mapping[str, Mapping[str, Estimate]], model: SimModel) -> Any:
    """Service level and abandonment per tier and interval, with their 95 % bands."""
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    x = np.arange(model.n_intervals)
    for t in model.tiers:
        for ax, metric in ((ax1, "service_level"), (ax2, "abandon_rate")):
            mean = np.array([est[f"tier/{t}/{i}"][metric].mean for i in x], dtype=float)
            half = np.nan_to_num([est[f"tier/{t}/{i}"][metric].ci95 for i in x], nan=0.0)
            (line,) = ax.plot(x, mean, label=t)
            ax.fill_between(x, mean - half, mean + half, color=line.get_color(), alpha=0.2)
    ax1.set_ylabel("service level")
    ax2.set_ylabel("abandonment")
    _clock_axis(ax2, model)
    ax1.legend()
    fig.tight_layout()
    return fig


def _plot_tiers(est: Mapping[str, Mapping[str, Estimate]], model: SimModel, out: Path) -> str:
    fig = tiers_figure(est, model)
    fig.savefig(out / "tiers.png", dpi=80)
    plt.close(fig)
    return "tiers.png"


def step_points(values: Sequence[float]) -> tuple[list[int], list[float]]:
    """Points for ``step(where="post")``: interval i's value spans [i, i+1).

    Matplotlib's default (``where="pre"``) draws each value over the
    interval *before* it, shifting a staffing plan one interval early.
    """
    return list(range(len(values) + 1)), [*values, *values[-1:]]


def staff_figure(est: Mapping[str, Mapping[str, Estimate]], model: SimModel) -> Any:
    """Agents and cost per interval, each value drawn over its own interval."""
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    x = range(model.n_intervals)
    for q in model.queues:
        for ax, metric in ((ax1, "agents"), (ax2, "cost")):
            xs, ys = step_points([est[f"queue/{q.name}/{i}"][metric].mean for i in x])
            ax.step(xs, ys, where="post", label=q.name)
    ax1.set_ylabel("agents")
    ax2.set_ylabel("cost")
    _clock_axis(ax2, model)
    ax1.legend()
    fig.tight_layout()
    return fig


def _plot_staff(est: Mapping[str, Mapping[str, Estimate]], model: SimModel, out: Path) -> str:
    fig = staff_figure(est, model)
    fig.savefig(out / "staffing.png", dpi=80)
    plt.close(fig)
    return "staffing.png"


def _plot_frontier(points: Sequence[FrontierPoint], out: Path) -> str:
    fig, ax = plt.subplots(figsize=(7, 4))
    for tier in points[0].service_level:
        ax.plot([p.cost for p in points], [p.service_level[tier] for p in points], "o-", label=tier)
    ax.set_xlabel("cost per day")
    ax.set_ylabel("service level")
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


def verdicts(
    estimates: Mapping[str, Mapping[str, Estimate]], targets: Mapping[str, Target]
) -> list[dict[str, str]]:
    """Per tier: the day's SL and abandonment against its targets, pass or MISS.

    As the planner judges: a figure misses only when its whole 95 % interval
    is on the wrong side of the target.
    """
    out = []
    for tier, t in targets.items():
        est = estimates.get(f"tier/{tier}")
        if not est:
            continue
        sl, ab = est["service_level"], est["abandon_rate"]
        half_sl = sl.ci95 if math.isfinite(sl.ci95) else 0.0
        half_ab = ab.ci95 if math.isfinite(ab.ci95) else 0.0
        sl_ok = not math.isfinite(sl.mean) or sl.mean + half_sl >= t.service_level
        ab_ok = not math.isfinite(ab.mean) or ab.mean - half_ab <= t.max_abandon
        out.append({
            "tier": tier,
            "service_level": shown({"mean": _finite(sl.mean), "ci95": _finite(sl.ci95)}, 3),
            "target": f">= {t.service_level:g} within {t.within_s:g} s",
            "abandon_rate": shown({"mean": _finite(ab.mean), "ci95": _finite(ab.ci95)}, 3),
            "cap": f"<= {t.max_abandon:g}",
            "verdict": "pass" if sl_ok and ab_ok else "MISS",
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
) -> None:
    """results.json (everything), results.csv (long format), staffing.csv, report.html.

    The page shows each tier's verdict against its targets, the staffing by
    clock time, and the charts with their 95 % bands.
    """
    out.mkdir(parents=True, exist_ok=True)
    js = as_json(estimates)
    (out / "results.json").write_text(json.dumps(_clean(js), indent=1), encoding="utf-8")
    with (out / "results.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "metric", "mean", "ci95"])
        for key, row in js.items():
            for metric, v in row.items():
                w.writerow([key, metric, v["mean"], v["ci95"]])
    staffing = staffing_rows(estimates, model)
    with (out / "staffing.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["interval_start", *(q.name for q in model.queues)])
        w.writerows(staffing)
    images = [_plot_tiers(estimates, model, out), _plot_staff(estimates, model, out)]
    if frontier:
        images.append(_plot_frontier(frontier, out))
    env = Environment(autoescape=select_autoescape(default=True))
    html = env.from_string(_PAGE).render(
        title="Tierline capacity simulation",
        replications=replications,
        seed=seed,
        metrics=TIER_METRICS,
        table=tier_table(estimates, model),
        images=images,
        shown=shown,
        verdicts=verdicts(estimates, targets or {}),
        queues=[q.name for q in model.queues],
        staffing=staffing,
    )
    (out / "report.html").write_text(html, encoding="utf-8")
