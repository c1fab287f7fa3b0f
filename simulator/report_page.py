"""The planner's HTML page: one Jinja template, every word from the label table.

Apart from :mod:`simulator.report`, which computes what the page shows,
so the layout can change without touching the figures.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, select_autoescape

__all__ = ["render_page"]

_PAGE = """<!doctype html><html lang="{{ lang }}"><head><meta charset="utf-8">
<title>{{ L.title }}</title>
<style>body{font-family:"Noto Sans CJK SC","WenQuanYi Zen Hei","Microsoft YaHei",sans-serif;
margin:2em}td,th{padding:4px 10px;text-align:right}table{border-collapse:collapse}
tr:nth-child(even){background:#f4f6f8}.ok{color:#1f7a3a;font-weight:bold}
.bad,.short{color:#fff;background:#c0392b;font-weight:bold}</style>
</head><body><h1>{{ L.title }}</h1><p>{{ L.runs.format(replications=replications, seed=seed) }}</p>
{% if verdicts %}<h2 id="targets">{{ L.targets }}</h2>
<table><tr><th>{{ L.tier }}</th><th>{{ L.service_level }}</th><th>{{ L.target }}</th>
<th>{{ L.abandon_rate }}</th><th>{{ L.cap }}</th><th>{{ L.missed_intervals }}</th>
<th>{{ L.verdict }}</th></tr>
{% for v in verdicts %}<tr><th>{{ v.tier }}</th><td>{{ v.service_level }}</td>
<td>{{ v.target }}</td><td>{{ v.abandon_rate }}</td><td>{{ v.cap }}</td><td>{{ v.missed }}</td>
<td class="{{ 'ok' if v.verdict == 'pass' else 'bad' }}">{{ L[v.verdict] }}</td></tr>
{% endfor %}</table>{% endif %}
<h2>{{ L.results }}</h2>
<table><tr><th>{{ L.tier }}</th>{% for m in metrics %}<th>{{ L[m] }}</th>{% endfor %}</tr>
{% for tier, row in table.items() %}<tr><th>{{ tier }}</th>{% for m in metrics %}
<td>{{ shown(row[m]) }}</td>
{% endfor %}</tr>{% endfor %}</table>
<h2>{{ L.charts }}</h2>
{% for img in images %}<p><img src="{{ img }}" alt="{{ img }}"></p>{% endfor %}
{% if rosters %}<h2 id="roster">{{ L.roster }}</h2><p>{{ L.roster_note }}</p>
{% for r in rosters %}<p>{{ L.roster_sum.format(queue=r.queue, people=r.people,
 paid=r.paid_hours, floor=r.floor_hours) }}</p>{% endfor %}
<table id="roster-shifts"><tr><th>{{ L.queue }}</th><th>{{ L.shift }}</th><th>{{ L.start }}</th>
<th>{{ L.end }}</th><th>{{ L.break }}</th><th>{{ L.agents }}</th><th>{{ L.paid_hours }}</th></tr>
{% for r in rosters %}{% for row in r.rows %}<tr>{% for v in row %}<td>{{ v }}</td>
{% endfor %}</tr>{% endfor %}{% endfor %}</table>
<h2 id="coverage">{{ L.coverage }}</h2><p>{{ L.coverage_note }}</p>
<table id="roster-coverage"><tr><th>{{ L.from }}</th>{% for r in rosters %}<th>{{ r.queue }}</th>
{% endfor %}</tr>{% for label, cells in coverage %}<tr><th>{{ label }}</th>
{% for have, need in cells %}<td class="{{ 'short' if have < need else '' }}">
{{- have }} / {{ need }}</td>
{% endfor %}</tr>{% endfor %}</table>{% endif %}
<h2 id="staffing">{{ L.staffing }}</h2>
<table><tr><th>{{ L.from }}</th>{% for q in queues %}<th>{{ q }}</th>{% endfor %}</tr>
{% for row in staffing %}<tr><th>{{ row[0] }}</th>
{% for v in row[1:] %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}
</table>
</body></html>"""


def render_page(**context: Any) -> str:
    """The page for ``context`` (``L`` the labels; see the template for the rest)."""
    env = Environment(autoescape=select_autoescape(default=True))
    return env.from_string(_PAGE).render(**context)
