"""Extra report sections: titled tables any part of Tierline can add to ``tierline report``.

The call figures have their own layout; other parts (the dialer's
campaigns, and the like) contribute a :class:`Section` instead, and every
format renders sections the same way: text tables, CSV blocks after the
interval view, HTML tables, and the section's own ``data`` in JSON. So a
new section needs no change to the renderers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["Section", "Table", "sections_csv"]


@dataclass(frozen=True, slots=True)
class Table:
    """One table: the first column is a label, the rest are figures."""

    title: str
    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Section:
    """A titled group of tables, plus its figures as plain data for JSON."""

    name: str
    title: str
    tables: tuple[Table, ...]
    note: str = ""
    data: Mapping[str, object] = field(default_factory=dict)


def sections_csv(sections: Sequence[Section]) -> str:
    """Each table as a CSV block: a blank line, its title, its header, its rows."""
    out = io.StringIO()
    writer = csv.writer(out)
    for section in sections:
        for table in section.tables:
            writer.writerow([])
            writer.writerow([f"{section.title}: {table.title}"])
            writer.writerow(table.head)
            writer.writerows(table.rows)
    return out.getvalue()
