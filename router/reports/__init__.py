"""Reports over call records: pure aggregation, Redis source, renderers."""

from __future__ import annotations

from router.reports.aggregate import GroupStats, Report, build_report
from router.reports.paths import Step, parse_path
from router.reports.render import render
from router.reports.source import read_records

__all__ = ["GroupStats", "Report", "Step", "build_report", "parse_path", "read_records", "render"]
