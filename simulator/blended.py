"""What outbound costs inbound: the same day with and without it, on common random numbers.

A blended run and an inbound-only run of one seed draw the same arrivals,
patience and IVR paths (the dialer has its own generator, see
:mod:`simulator.dialer`), so the per-replication difference of a tier's
service level has far less noise than two independent runs would: the
paired difference's Student-t interval is what says whether outbound hurt.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path

from simulator.model import SimModel
from simulator.runner import Replications, replicate
from simulator.stats import Estimate, Summary, combine

__all__ = ["Blended", "TierCost", "compare", "inbound_only", "lines", "write_blended"]

_FIELDS = ("sl_with", "sl_without", "sl_diff", "abandon_with", "abandon_without", "abandon_diff")
_THROUGHPUT = ("attempts", "answered", "right_party", "connected", "abandoned", "agent_hours")


@dataclass(frozen=True, slots=True)
class TierCost:
    """One tier's inbound figures with outbound, without, and the paired difference."""

    sl_with: Estimate
    sl_without: Estimate
    sl_diff: Estimate  # with - without: negative = outbound cost service level
    abandon_with: Estimate
    abandon_without: Estimate
    abandon_diff: Estimate


@dataclass(frozen=True, slots=True)
class Blended:
    tiers: dict[str, TierCost]
    outbound: dict[str, dict[str, Estimate]]  # campaign -> metric -> estimate
    replications: int

    @property
    def worst_loss(self) -> float:
        """The largest mean service-level loss of any tier (in fractions, 0.01 = 1 point)."""
        return max((-t.sl_diff.mean for t in self.tiers.values()), default=0.0)


def inbound_only(model: SimModel) -> SimModel:
    """The same scenario with no outbound work: the baseline outbound is measured against."""
    return replace(model, outbound=None)


def _diffs(blend: Replications, base: Replications, tiers: tuple[str, ...]) -> list[Summary]:
    return [
        {
            f"tier/{t}": {
                m: a[f"tier/{t}"][m] - b[f"tier/{t}"][m] for m in ("service_level", "abandon_rate")
            }
            for t in tiers
        }
        for a, b in zip(blend.runs, base.runs, strict=True)
    ]


def compare(  # noqa: PLR0917 - replicate()'s arguments plus the run to reuse
    model: SimModel,
    replications: int,
    seed: int,
    executor: Executor | None = None,
    blended: Replications | None = None,
    progress: Callable[[int], None] | None = None,
    base: Replications | None = None,
) -> Blended:
    """Inbound service per tier with outbound vs inbound-only (same seeds), and throughput.

    Args:
        blended: the blended replications when the caller already ran them
            with the same ``replications`` and ``seed`` (``simulate`` does).
        base: likewise for the inbound-only replications.
    """
    if blended is None:
        blended = replicate(model, replications, seed, executor, progress)
    if base is None:
        base = replicate(inbound_only(model), replications, seed, executor, progress)
    diff = combine(_diffs(blended, base, model.tiers))
    with_, without = blended.estimates, base.estimates
    tiers = {
        t: TierCost(
            with_[f"tier/{t}"]["service_level"],
            without[f"tier/{t}"]["service_level"],
            diff[f"tier/{t}"]["service_level"],
            with_[f"tier/{t}"]["abandon_rate"],
            without[f"tier/{t}"]["abandon_rate"],
            diff[f"tier/{t}"]["abandon_rate"],
        )
        for t in model.tiers
    }
    outbound = {
        key.removeprefix("outbound/"): dict(metrics)
        for key, metrics in with_.items()
        if key.startswith("outbound/")
    }
    return Blended(tiers, outbound, replications)


def _pt(e: Estimate) -> str:
    """A difference in points of service level, with its 95 % half-width."""
    ci = f" ± {100 * e.ci95:.2f}" if math.isfinite(e.ci95) else ""
    return f"{100 * e.mean:+.2f}{ci} pt"


def lines(b: Blended) -> list[str]:
    """The comparison as ``simulate``/``plan`` print it."""
    out = [f"outbound vs inbound-only (same seeds, {b.replications} replications):"]
    for tier, c in b.tiers.items():
        out.append(
            f"  {tier:<10} SL {c.sl_with.mean:.3f} vs {c.sl_without.mean:.3f} "
            f"({_pt(c.sl_diff)})  abandon {c.abandon_with.mean:.4f} vs "
            f"{c.abandon_without.mean:.4f} ({_pt(c.abandon_diff)})"
        )
    for name, m in b.outbound.items():
        if "/" in name and not m["requests"].mean:
            continue  # a tier that left no callback request
        figures = "  ".join(f"{k} {m[k].mean:,.1f}" for k in _THROUGHPUT)
        wait = m["mean_wait_s"].mean
        asked = m["requests"].mean > 0  # callbacks: how long a request waited for its agent
        waited = f"  callback wait {wait / 60:,.1f} min" if asked and math.isfinite(wait) else ""
        out.append(f"  outbound {name}: {figures}{waited}")
    return out


def _plain(e: Estimate) -> dict[str, float | None]:
    return {k: v if math.isfinite(v) else None for k, v in (("mean", e.mean), ("ci95", e.ci95))}


def write_blended(out: Path, b: Blended) -> Path:
    """``blended.json``: per tier with/without/difference, per campaign its throughput."""
    out.mkdir(parents=True, exist_ok=True)
    doc = {
        "replications": b.replications,
        "tiers": {t: {f: _plain(getattr(c, f)) for f in _FIELDS} for t, c in b.tiers.items()},
        "outbound": {n: {k: _plain(e) for k, e in m.items()} for n, m in b.outbound.items()},
    }
    path = out / "blended.json"
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path
