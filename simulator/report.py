"""Files a planner opens: results.json, a CSV, and an HTML page with PNG plots."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt
from jinja2 import Environment, select_autoescape

from simulator.model import SimModel
from simulator.planner import FrontierPoint
from simulator.stats import Estimate, JsonResults, as_json

__all__ = ["shown", "staff_figure", "step_points", "tier_table", "write_report"]

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
<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 10px;text-align:right}</style>
</head><body><h1>{{ title }}</h1><p>{{ replications }} replications, seed {{ seed }}.</p>
<table><tr><th>tier</th>{% for m in metrics %}<th>{{ m }}</th>{% endfor %}</tr>
{% for tier, row in table.items() %}<tr><th>{{ tier }}</th>{% for m in metrics %}
<td>{{ shown(row[m]) }}</td>
{% endfor %}</tr>{% endfor %}</table>
{% for img in images %}<p><img src="{{ img }}" alt="{{ img }}"></p>{% endfor %}
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


def _plot_tiers(est: Mapping[str, Mapping[str, Estimate]], model: SimModel, out: Path) -> str:
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    x = range(model.n_intervals)
    for t in model.tiers:
        ax1.plot(x, [est[f"tier/{t}/{i}"]["service_level"].mean for i in x], label=t)
        ax2.plot(x, [est[f"tier/{t}/{i}"]["abandon_rate"].mean for i in x], label=t)
    ax1.set_ylabel("service level")
    ax2.set_ylabel("abandonment")
    ax2.set_xlabel("interval")
    ax1.legend()
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
    ax2.set_xlabel("interval")
    ax1.legend()
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


def write_report(
    out: Path,
    estimates: Mapping[str, Mapping[str, Estimate]],
    model: SimModel,
    *,
    replications: int,
    seed: int,
    frontier: Sequence[FrontierPoint] = (),
) -> None:
    """results.json (everything), results.csv (long format), report.html with plots."""
    out.mkdir(parents=True, exist_ok=True)
    js = as_json(estimates)
    (out / "results.json").write_text(json.dumps(_clean(js), indent=1), encoding="utf-8")
    with (out / "results.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "metric", "mean", "ci95"])
        for key, row in js.items():
            for metric, v in row.items():
                w.writerow([key, metric, v["mean"], v["ci95"]])
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
    )
    (out / "report.html").write_text(html, encoding="utf-8")
