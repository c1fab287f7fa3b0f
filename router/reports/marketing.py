"""The report's marketing part: CSAT from survey answers, conversions per offer (pure).

Definitions:

* **CSAT** per survey question: the mean digit answered and how many
  answers, per tier, per queue (the one the caller was served from, for
  post-call surveys) and per agent. The agent is not in the answer: it is
  joined from the period's call records by the call's uniqueid, so only
  answers of calls whose record is known have one (the rest count under
  ``(unknown)``).
* **Offers**: per offer id, how many times it was *presented* (heard to a
  decision: taken, passed over, or let time out), *accepted* (a
  conversion) and the **conversion rate** = accepted / presented.

The figures reach ``tierline report`` as one
:class:`~router.reports.sections.Section`, so every format prints them the
way it prints any other section (no marketing code in the renderers).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

from router.ami.records import CallRecord
from router.reports.sections import Section, Table

__all__ = ["CsatRow", "MarketingSection", "OfferRow", "build_marketing", "marketing_section"]

UNKNOWN = "(unknown)"
_Group = Callable[[Mapping[str, str]], str]  # an answer's tier, queue or agent


@dataclass(frozen=True, slots=True)
class CsatRow:
    question: str
    group: str  # tier, queue or agent
    answers: int
    mean: float


@dataclass(frozen=True, slots=True)
class OfferRow:
    offer: str
    presented: int
    accepted: int
    conversion: float


@dataclass(frozen=True, slots=True)
class MarketingSection:
    by_tier: list[CsatRow] = field(default_factory=list)
    by_queue: list[CsatRow] = field(default_factory=list)
    by_agent: list[CsatRow] = field(default_factory=list)
    offers: list[OfferRow] = field(default_factory=list)


def build_marketing(
    answers: Iterable[Mapping[str, str]],
    offer_events: Iterable[Mapping[str, str]],
    records: Sequence[CallRecord] = (),
) -> MarketingSection:
    """Aggregate survey-stream and offers-stream entries (their flat string fields)."""
    agents = {r.uniqueid: r.agent for r in records if r.agent}
    rows = [a for a in answers if a.get("answer", "").isdigit()]
    return MarketingSection(
        by_tier=_csat(rows, lambda a: a.get("tier", "")),
        by_queue=_csat(rows, lambda a: a.get("queue", "")),
        by_agent=_csat(rows, lambda a: agents.get(a.get("uniqueid", ""), "")),
        offers=_offers(offer_events),
    )


def _csat(rows: list[Mapping[str, str]], group_of: _Group) -> list[CsatRow]:
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for a in rows:
        acc = sums[(a.get("question", ""), group_of(a) or UNKNOWN)]
        acc[0] += 1
        acc[1] += int(a["answer"])
    return [
        CsatRow(question, group, n, total / n)
        for (question, group), (n, total) in sorted(sums.items())
    ]


def _offers(events: Iterable[Mapping[str, str]]) -> list[OfferRow]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for e in events:
        kind = e.get("event", "")
        if kind in ("presented", "accepted"):
            counts[e.get("offer", "")][kind == "accepted"] += 1
    out = [
        OfferRow(offer, shown, taken, taken / shown if shown else 0.0)
        for offer, (shown, taken) in counts.items()
    ]
    return sorted(out, key=lambda r: (-r.accepted, -r.presented, r.offer))


def marketing_section(section: MarketingSection | None) -> Section | None:
    """The figures as a report section (none when nothing was surveyed or offered)."""
    if section is None:
        return None
    out: list[Table] = []
    for title, head, rows in (
        ("CSAT by tier", "tier", section.by_tier),
        ("CSAT by queue", "queue", section.by_queue),
        ("CSAT by agent", "agent", section.by_agent),
    ):
        if rows:
            body = tuple((r.question, r.group, str(r.answers), f"{r.mean:.2f}") for r in rows)
            out.append(Table(title, ("question", head, "answers", "mean"), body))
    if section.offers:
        body = tuple(
            (r.offer, str(r.presented), str(r.accepted), f"{100 * r.conversion:.1f}")
            for r in section.offers
        )
        out.append(Table("Offers", ("offer", "presented", "accepted", "conversion %"), body))
    if not out:
        return None
    return Section("marketing", "CSAT and offers", tuple(out), data=asdict(section))
