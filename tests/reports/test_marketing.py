"""CSAT and conversions in ``tierline report``: exact figures from the two streams."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import redis
from click.testing import CliRunner

from router.ami.records import CallRecord, to_fields
from router.cli import cli
from router.reports.marketing import CsatRow, OfferRow, build_marketing, marketing_section
from router.storage import keys

SH = ZoneInfo("Asia/Shanghai")


def answer(uid: str, question: str, value: str, tier: str, queue: str) -> dict[str, str]:
    return {"uniqueid": uid, "flow": "telecom", "survey": "csat", "question": question,
            "answer": value, "tier": tier, "queue": queue, "at": "2026-11-22T02:00"}  # fmt: skip


def offer(event: str, name: str, uid: str) -> dict[str, str]:
    return {"event": event, "offer": name, "position": "1", "customer_id": "C1", "tier": "high",
            "flow": "telecom", "flow_version": "0123456789ab", "uniqueid": uid,
            "at": "2026-11-22T02:00:00+00:00"}  # fmt: skip


ANSWERS = [
    answer("a", "csat", "5", "vip", "vip_desk"),
    answer("b", "csat", "2", "vip", "vip_desk"),
    answer("c", "csat", "4", "normal", "support"),
    answer("c", "resolved", "1", "normal", "support"),
    answer("d", "csat", "x", "normal", "support"),  # not a digit: never counted
]
OFFERS = [
    offer("presented", "Cloud storage 2TB", "a"),
    offer("accepted", "Cloud storage 2TB", "a"),
    offer("presented", "Cloud storage 2TB", "b"),
    offer("presented", "Cloud storage 2TB", "c"),
    offer("presented", "Roaming pack Asia", "b"),
    offer("unknown", "Bogus", "b"),  # the adapter never stores these; ignored if present
]
RECORDS = [CallRecord("a", agent="agent1"), CallRecord("b", agent="agent2")]


class TestBuildMarketing:
    def test_csat_mean_and_count_per_tier_queue_agent(self) -> None:
        """Means and counts per group; an answer of a call with no known record: (unknown)."""
        s = build_marketing(ANSWERS, [], RECORDS)
        assert s.by_tier == [
            CsatRow("csat", "normal", 1, 4.0),
            CsatRow("csat", "vip", 2, 3.5),
            CsatRow("resolved", "normal", 1, 1.0),
        ]
        assert [(r.question, r.group, r.answers) for r in s.by_queue] == [
            ("csat", "support", 1), ("csat", "vip_desk", 2), ("resolved", "support", 1),
        ]  # fmt: skip
        assert s.by_agent == [
            CsatRow("csat", "(unknown)", 1, 4.0),
            CsatRow("csat", "agent1", 1, 5.0),
            CsatRow("csat", "agent2", 1, 2.0),
            CsatRow("resolved", "(unknown)", 1, 1.0),
        ]

    def test_conversions_per_offer(self) -> None:
        """Presented, accepted and accepted/presented per offer, most conversions first."""
        assert build_marketing([], OFFERS).offers == [
            OfferRow("Cloud storage 2TB", 3, 1, 1 / 3),
            OfferRow("Roaming pack Asia", 1, 0, 0.0),
        ]

    def test_nothing_surveyed_or_offered_prints_nothing(self) -> None:
        """No section at all rather than empty tables."""
        assert marketing_section(None) is None
        assert marketing_section(build_marketing([], [])) is None


def at(day: int, hour: int) -> float:
    return datetime(2026, 11, day, hour, tzinfo=SH).timestamp()


def store(url: str) -> None:
    """Calls a, b on the 22nd (local); their answers and offers then; one answer on the 23rd."""
    client = redis.Redis.from_url(url)
    for seq, uid in enumerate(("a", "b")):
        rec = CallRecord(uid, tier="vip", queue="vip_desk", agent=f"agent{seq + 1}",
                         started_at=at(22, 10), ended_at=at(22, 10) + 60)  # fmt: skip
        client.xadd(keys.CALLS_STREAM, to_fields(rec), id=f"{int(rec.ended_at * 1000)}-{seq}")  # type: ignore[arg-type]
    for seq, fields in enumerate(ANSWERS[:2]):
        client.xadd(keys.SURVEYS_STREAM, fields, id=f"{int(at(22, 10) * 1000) + 61_000}-{seq}")  # type: ignore[arg-type]
    client.xadd(keys.SURVEYS_STREAM, ANSWERS[2], id=f"{int(at(23, 10) * 1000)}-0")  # type: ignore[arg-type]
    for seq, fields in enumerate(OFFERS[:3]):
        client.xadd(keys.OFFERS_STREAM, fields, id=f"{int(at(22, 10) * 1000) + 5_000}-{seq}")  # type: ignore[arg-type]


def run(url: str, fmt: str) -> str:
    day = ["--period", "day", "--date", "2026-11-22", "--tz", "Asia/Shanghai"]
    res = CliRunner().invoke(cli, ["report", *day, "--format", fmt, "--redis", url])
    assert res.exit_code == 0, res.output
    return res.output


class TestMarketingInTheReport:
    def test_text_report_has_csat_and_offers(self, redis_url: str) -> None:
        """The day's two answers (agents joined from the call records) and its offers only."""
        store(redis_url)
        text = run(redis_url, "table")
        agents = text[text.index("CSAT by agent") : text.index("Offers")].splitlines()[3:5]
        assert [line.split() for line in agents] == [
            ["csat", "agent1", "1", "5.00"], ["csat", "agent2", "1", "2.00"],
        ]  # fmt: skip
        assert "support" not in text[text.index("CSAT by tier") :]  # the 23rd's answer
        offers = text[text.index("Offers") :].splitlines()
        assert offers[3].split() == ["Cloud", "storage", "2TB", "2", "1", "50.0"]

    @pytest.mark.parametrize("fmt", ["csv", "html"])
    def test_csv_and_html_carry_the_same_tables(self, redis_url: str, fmt: str) -> None:
        """CSV: a block per table after the interval view; HTML: a table per section table."""
        store(redis_url)
        out = run(redis_url, fmt)
        if fmt == "html":
            assert "<h2>CSAT and offers</h2>" in out
            assert out.count("<h3>CSAT by") == 3
            assert "<h3>Offers</h3>" in out
            return
        rows = list(csv.reader(io.StringIO(out)))
        start = rows.index(["CSAT and offers: Offers"])
        assert rows[start + 1 : start + 3] == [
            ["offer", "presented", "accepted", "conversion %"],
            ["Cloud storage 2TB", "2", "1", "50.0"],
        ]
