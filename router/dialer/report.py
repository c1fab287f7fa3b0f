"""Campaign figures from the attempts and refusals streams (pure).

Rendered by ``router.reports.campaigns`` for ``tierline report`` and
``tierline campaigns report``.

A right-party contact is an answered call that was not an instant hang-up
(``BillableSeconds: 0``, ami/11 step 5) and that the agent did not mark
``wrong_party``; a conversion is an answered call with
``TIERLINE_OFFER_ACCEPTED`` true, counted per offer (its rate is over the
right-party contacts made with that offer).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["CampaignFigures", "DialerReport", "summarise"]

WRONG_PARTY = "wrong_party"


@dataclass(slots=True)
class CampaignFigures:
    attempts: int = 0
    contacts: int = 0
    right_party: int = 0
    results: Counter[str] = field(default_factory=Counter)
    conversions: Counter[str] = field(default_factory=Counter)
    offered: Counter[str] = field(default_factory=Counter)  # right-party contacts per offer
    refusals: Counter[str] = field(default_factory=Counter)
    talk_s: float = 0.0


@dataclass(slots=True)
class DialerReport:
    campaigns: dict[str, CampaignFigures] = field(default_factory=dict)
    callbacks_completed: int = 0
    callback_waits: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        waits = sorted(self.callback_waits)
        return {
            "campaigns": {
                name: {
                    "attempts": f.attempts,
                    "contacts": f.contacts,
                    "right_party": f.right_party,
                    "results": dict(f.results),
                    "conversions": dict(f.conversions),
                    "offered": dict(f.offered),
                    "refusals": dict(f.refusals),
                    "talk_s": round(f.talk_s, 1),
                }
                for name, f in sorted(self.campaigns.items())
            },
            "callbacks": {
                "completed": self.callbacks_completed,
                "wait_mean_s": round(sum(waits) / len(waits), 1) if waits else 0.0,
                "wait_max_s": waits[-1] if waits else 0.0,
            },
        }


def _float(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return 0.0


def summarise(
    attempts: Iterable[Mapping[str, str]], refusals: Iterable[Mapping[str, str]]
) -> DialerReport:
    """Fold every attempt and refusal record into per-campaign figures."""
    report = DialerReport()
    for rec in attempts:
        fig = report.campaigns.setdefault(rec.get("campaign", ""), CampaignFigures())
        fig.attempts += 1
        fig.results[rec.get("result", "")] += 1
        if rec.get("result") != "answered":
            continue
        fig.contacts += 1
        fig.talk_s += _float(rec.get("talk_s", "0"))
        offer = rec.get("offer", "") or "-"
        if rec.get("instant_hangup") != "1" and rec.get("disposition") != WRONG_PARTY:
            fig.right_party += 1
            fig.offered[offer] += 1
        if rec.get("offer_accepted") == "1":
            fig.conversions[offer] += 1
        if rec.get("kind") == "callback" and rec.get("state") == "done":
            report.callbacks_completed += 1
            report.callback_waits.append(_float(rec.get("waited_s", "0")))
    for rec in refusals:
        fig = report.campaigns.setdefault(rec.get("campaign", ""), CampaignFigures())
        fig.refusals[rec.get("reason", "")] += 1
    return report
