"""The campaign section of ``tierline report`` (and of ``tierline campaigns report``).

The figures are :func:`router.dialer.report.summarise`'s, over the dialer's
attempts and refusals streams; this module only reads the period's entries
and lays the figures out as a :class:`~router.reports.sections.Section`, so
both commands print the same tables. Stream ids are the time an attempt
closed (or a refusal was decided), so a period holds what was finished in it.
"""

from __future__ import annotations

import statistics

from redis.asyncio import Redis

from router.dialer.report import CampaignFigures, DialerReport, summarise
from router.reports.sections import Section, Table
from router.reports.source import stream_entries
from router.storage import keys

__all__ = ["campaign_section", "read_campaign_section"]


async def read_campaign_section(redis: Redis, start: float, end: float) -> Section | None:
    """The section for ``[start, end)``; None when the dialer did nothing in it."""
    attempts = await stream_entries(redis, keys.DIALER_ATTEMPTS_STREAM, start, end)
    refusals = await stream_entries(redis, keys.DIALER_REFUSALS_STREAM, start, end)
    if not attempts and not refusals:
        return None
    return campaign_section(summarise(attempts, refusals))


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}" if whole else "-"


def campaign_section(report: DialerReport) -> Section:
    """Attempts, contacts, right-party contacts, conversions, refusals, callbacks."""
    camps = sorted(report.campaigns.items())
    by_campaign = Table(
        "By campaign",
        ("campaign", "attempts", "contacts", "right-party", "right-party %", "conversions",
         "refusals", "talk min"),
        tuple(
            (name, str(f.attempts), str(f.contacts), str(f.right_party),
             _pct(f.right_party, f.attempts), str(sum(f.conversions.values())),
             str(sum(f.refusals.values())), f"{f.talk_s / 60:.1f}")
            for name, f in camps
        ),
    )  # fmt: skip
    offers = Table(
        "Conversions per offer",
        ("campaign", "offer", "right-party contacts", "conversions", "conversion %"),
        tuple(row for name, f in camps for row in _offer_rows(name, f)),
    )
    refusals = Table(
        "Refusals by rule",
        ("campaign", "rule", "refusals"),
        tuple((name, rule, str(n)) for name, f in camps for rule, n in sorted(f.refusals.items())),
    )
    return Section(
        "campaigns",
        "Outbound campaigns",
        (by_campaign, offers, refusals, _callbacks(report)),
        note="right-party: answered, not an instant hang-up, not marked wrong_party",
        data=report.as_dict(),
    )


def _offer_rows(name: str, f: CampaignFigures) -> list[tuple[str, ...]]:
    """One row per offer; contacts without an offer only when something converted."""
    rows: list[tuple[str, ...]] = []
    for offer in sorted(set(f.offered) | set(f.conversions)):
        made, won = f.offered[offer], f.conversions[offer]
        if offer != "-" or won:
            rows.append((name, offer, str(made), str(won), _pct(won, made)))
    return rows


def _callbacks(report: DialerReport) -> Table:
    waits = report.callback_waits
    row = (
        str(report.callbacks_completed),
        f"{statistics.fmean(waits):.0f}" if waits else "-",
        f"{statistics.median(waits):.0f}" if waits else "-",
        f"{max(waits):.0f}" if waits else "-",
    )
    head = ("callbacks completed", "waited mean s", "median s", "longest s")
    return Table("Callbacks (request to answered call back)", head, (row,))
