"""``tierline calibrate --flows``: the twin walks the operator's flows with calibrated callers.

Recorded paths name the option taken at each menu; the flow file maps the
names back to keys (:mod:`simulator.ivr_calibration`). The routing file
gives the services the flows queue to, exactly as ``tierline serve`` loads
them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from router.errors import LoadError

if TYPE_CHECKING:
    from router.ami.records import CallRecord

__all__ = ["with_flows"]


def _services(flows_dir: Path, routing: Path | None, rows: Sequence[CallRecord]) -> tuple[
    Path | None, frozenset[str], frozenset[str]
]:  # fmt: skip
    """The routing file used, the services flows may queue to, and the lanes it can use."""
    from router.policy import load_policy

    if routing is None and (flows_dir / "routing.yaml").is_file():
        routing = flows_dir / "routing.yaml"
    if routing is None:
        seen = frozenset(r.queue for r in rows if r.queue)
        return None, seen, seen
    try:
        policy = load_policy(routing)
    except LoadError as exc:
        raise click.ClickException(str(exc)) from None
    return routing, frozenset(policy.services), frozenset(policy.queues)


def with_flows(
    doc: dict[str, Any], rows: Sequence[CallRecord], flows_dir: Path, routing: Path | None,
    out: Path,
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:  # fmt: skip
    """The flows twin of ``doc``, the IVR part of the calibration report, and lines to print."""
    from router.flows.loader import load_flows
    from simulator.ivr_calibration import calibrate_ivr, flows_twin

    routing, services, lanes = _services(flows_dir, routing, rows)
    try:
        flows = load_flows(flows_dir, services)
    except LoadError as exc:
        raise click.ClickException(str(exc)) from None
    cal = calibrate_ivr((r.path for r in rows), flows)
    flows_abs, home = flows_dir.resolve(), out.resolve().parent
    # relative when it sits beside the scenario (they move together), absolute otherwise
    where = os.path.relpath(flows_abs, home) if flows_abs.is_relative_to(home) else str(flows_abs)
    twin = flows_twin(doc, cal, where, str(routing.resolve()) if routing else None, lanes)
    summary = {
        "menus": {w: {"visits": m.visits, "ended": m.ended, "keys": m.keys}
                  for w, m in cal.menus.items()},
        "callback_uptake": {w: {"offered": u.offered, "accepted": u.accepted,
                                "share": round(u.share, 4)} for w, u in cal.uptake.items()},
        "unreadable_paths": cal.unreadable,
    }  # fmt: skip
    lines = [f"ivr {w}: " + ", ".join(f"{k} {p:.3f}" for k, p in m.keys.items())
             + f" ({m.visits} visits)" for w, m in cal.menus.items()]  # fmt: skip
    lines += [f"callback uptake at {w}: {u.share:.3f} ({u.accepted} of {u.offered} offered)"
              for w, u in cal.uptake.items()]  # fmt: skip
    if not cal.menus:
        lines.append("ivr: no recorded path visits a menu of these flows")
    if not cal.uptake:
        lines.append("callback uptake: no menu visited offers a callback")
    return twin, summary, lines
