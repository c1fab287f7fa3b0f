"""Render a :class:`~router.reports.aggregate.Report` as text, JSON or HTML.

HTML is one self-contained file (charts are matplotlib PNGs embedded as
base64) so it can be mailed or attached to a ticket as is.
"""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from jinja2 import Environment, PackageLoader, select_autoescape

from router.reports.aggregate import GroupStats, Report
from router.reports.sections import Section, sections_csv

__all__ = ["render", "render_csv", "render_html", "render_json", "render_table", "section_text"]

_COLUMNS = (
    "offered",
    "answered",
    "abandoned",
    "answer %",
    "SL %",
    "ASA s",
    "aband. %",
    "longest s",
)


def _when(ts: float, zone: str = "UTC") -> str:
    """Local time of the centre, with its zone, as supervisors read it."""
    when = datetime.fromtimestamp(ts, UTC if zone == "UTC" else ZoneInfo(zone))
    return when.strftime("%Y-%m-%d %H:%M:%SZ" if zone == "UTC" else f"%Y-%m-%d %H:%M ({zone})")


_FIGURES = (
    ("calls", "calls", ""),
    ("offered", "offered", ""),
    ("answered", "answered", ""),
    ("abandoned", "abandoned", ""),
    ("service_level", "SL %", "%"),
    ("abandon_rate", "aband. %", "%"),
    ("asa_s", "ASA s", "s"),
    ("aht_s", "AHT s", "s"),
    ("transfer_rate", "transfer %", "%"),
    ("containment", "IVR contained %", "%"),
)


def _fig(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "%":
        return f"{100 * value:.1f}"
    return f"{value:.1f}" if unit == "s" else str(int(value))


def _interval_rows(report: Report) -> list[list[str]]:
    return [
        [row.label, row.group, *(_fig(getattr(row.figures, k), u) for k, _, u in _FIGURES)]
        for row in report.intervals
    ]


def _change_rows(report: Report) -> list[list[str]]:
    out = []
    for key, title, unit in _FIGURES:
        c = report.change.get(key)
        if c is not None:
            delta = c["change"]
            sign = "" if delta is None else ("+" if delta >= 0 else "")
            out.append([title, _fig(c["now"], unit), _fig(c["before"], unit),
                        sign + _fig(delta, unit) if delta is not None else "-"])  # fmt: skip
    return out


def _row(g: GroupStats) -> list[str]:
    return [
        g.name,
        str(g.offered),
        str(g.answered),
        str(g.abandoned),
        f"{100 * g.answer_rate:.1f}",
        f"{100 * g.service_level:.1f}",
        f"{g.asa_s:.1f}",
        f"{100 * g.abandon_rate:.1f}",
        f"{g.longest_wait_s:.0f}",
    ]


def _table(title: str, head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cells = [list(head), *[list(r) for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(head))]
    lines = [title]
    for n, r in enumerate(cells):
        lines.append(
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_table(report: Report) -> str:
    """Plain-text tables for a terminal."""
    r = report
    parts = [
        f"Calls {r.label + ': ' if r.label else ''}{_when(r.start, r.zone)} .. "
        f"{_when(r.end, r.zone)}: {r.calls}  (service level: answered within {r.sl_seconds:g} s)",
        _table("By tier", ["tier", *_COLUMNS], [_row(g) for g in r.tiers]),
        _table("By queue", ["queue", *_COLUMNS], [_row(g) for g in r.queues]),
        f"IVR: {r.ivr_calls} calls, {r.contained} contained ({100 * r.containment:.1f} %)",
        _table(
            "Top menu choices",
            ["menu", "option", "calls"],
            [[n, c, str(k)] for n, c, k in r.top_choices],
        ),
        _table(
            "Self-service exit points", ["node", "calls"], [[n, str(k)] for n, k in r.exit_points]
        ),
        _table(
            "Calls per dialled number",
            ["dnis", "calls", "answered"],
            [[d, str(k), str(a)] for d, k, a in r.by_dnis],
        ),
    ]
    if r.change:
        head = ["figure", "this period", "period before", "change"]
        parts.append(_table("Compared with the period before", head, _change_rows(r)))
    if r.intervals:
        head = ["interval", "group", *(t for _, t, _ in _FIGURES)]
        parts.append(_table(f"By interval ({r.zone})", head, _interval_rows(r)))
    parts += [section_text(s) for s in r.sections]
    return "\n\n".join(parts) + "\n"


def section_text(section: Section) -> str:
    """A section's tables for a terminal, under its title."""
    head = section.title + (f" ({section.note})" if section.note else "")
    tables = [_table(t.title, t.head, t.rows) for t in section.tables]
    return "\n\n".join([head, *tables])


def render_csv(report: Report) -> str:
    """The interval view as CSV (one row per interval and group), for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["interval", "group", *(k for k, _, _ in _FIGURES)])
    for row in report.intervals:
        values = [getattr(row.figures, k) for k, _, _ in _FIGURES]
        writer.writerow([row.label, row.group, *("" if v is None else v for v in values)])
    return out.getvalue() + sections_csv(report.sections)


def render_json(report: Report) -> str:
    return orjson.dumps(asdict(report), option=orjson.OPT_INDENT_2).decode() + "\n"


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def _bar_chart(
    title: str, labels: list[str], series: dict[str, list[float]], horizontal: bool = False
) -> str:
    from matplotlib.figure import Figure  # noqa: PLC0415 - heavy import, only for HTML

    fig = Figure(figsize=(6.4, 3.2))
    ax = fig.add_subplot()
    n = max(len(series), 1)
    width = 0.8 / n
    for i, (name, values) in enumerate(series.items()):
        pos = [x + i * width for x in range(len(labels))]
        (ax.barh if horizontal else ax.bar)(pos, values, width, label=name)
    ticks = [x + width * (n - 1) / 2 for x in range(len(labels))]
    if horizontal:
        ax.set_yticks(ticks, labels)
        ax.invert_yaxis()
    else:
        ax.set_xticks(ticks, labels)
    ax.set_title(title)
    if len(series) > 1:
        ax.legend()
    return _png(fig)


def _charts(r: Report) -> list[tuple[str, str]]:
    """(caption, base64 PNG) for each chart that has data."""
    charts = []
    if r.tiers:
        series = {
            "service level": [100 * g.service_level for g in r.tiers],
            "abandoned": [100 * g.abandon_rate for g in r.tiers],
        }
        png = _bar_chart("By tier", [g.name for g in r.tiers], series)
        charts.append(("Service level and abandonment by tier (%)", png))
    if r.outcomes:
        series = {"calls": [float(v) for v in r.outcomes.values()]}
        charts.append(("Outcomes", _bar_chart("Outcomes", list(r.outcomes), series)))
    if r.top_choices:
        labels = [f"{n}:{c}" for n, c, _ in r.top_choices]
        series = {"calls": [float(k) for *_, k in r.top_choices]}
        png = _bar_chart("Top menu choices", labels, series, horizontal=True)
        charts.append(("Top menu choices", png))
    return charts


def render_html(report: Report) -> str:
    """A standalone HTML page with tables and embedded PNG charts."""
    env = Environment(
        loader=PackageLoader("router.reports", "templates"), autoescape=select_autoescape()
    )
    template = env.get_template("report.html")
    return template.render(
        r=report,
        start=_when(report.start, report.zone),
        end=_when(report.end, report.zone),
        figures=[t for _, t, _ in _FIGURES],
        interval_rows=_interval_rows(report),
        change_rows=_change_rows(report),
        columns=_COLUMNS,
        tier_rows=[_row(g) for g in report.tiers],
        queue_rows=[_row(g) for g in report.queues],
        charts=_charts(report),
    )


def render(report: Report, fmt: str) -> str:
    """Dispatch on ``table`` / ``json`` / ``html`` / ``csv``."""
    renderers = {"table": render_table, "json": render_json, "html": render_html, "csv": render_csv}
    return renderers[fmt](report)
