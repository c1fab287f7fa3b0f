"""Reports: path parsing, aggregation figures, the stream source, renderers, CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import orjson
import pytest
import redis
from click.testing import CliRunner
from redis.asyncio import Redis

from router.ami.records import CallRecord, to_fields
from router.cli import cli
from router.reports import build_report, parse_path, read_records, render
from router.reports import source as source_mod
from router.reports.paths import Step
from router.storage import keys

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC).timestamp()


def call(
    uid: str,
    *,
    tier: str = "vip",
    queue: str = "vip",
    outcome: str = "answered",
    wait: float = 10.0,
    path: str = "",
    dnis: str = "4001",
    start: float = 60.0,
) -> CallRecord:
    """A record starting ``start`` s after T0 that waited ``wait`` s in ``queue``."""
    s = T0 + start
    joined = s + 5 if queue else 0.0
    return CallRecord(
        uid,
        caller="13800138000",
        dnis=dnis,
        tier=tier,
        queue=queue,
        path=path,
        outcome=outcome,
        started_at=s,
        joined_at=joined,
        answered_at=joined + wait if outcome == "answered" else 0.0,
        abandoned_at=joined + wait if outcome == "abandoned" else 0.0,
        left_at=joined + wait if queue else 0.0,
        ended_at=s + 300,
    )


CALLS = [
    call("1", wait=5, path="main:1>sales"),
    call("2", wait=30, path='[{"node": "main", "choice": "1"}, {"node": "sales"}]'),
    call("3", outcome="abandoned", wait=50),
    call("4", tier="normal", queue="general", wait=15, dnis="4002"),
    call("5", tier="", queue="", outcome="ivr", path="main:3>balance:1>bye", dnis="4002"),
    call("6", tier="", queue="", outcome="ivr", path='["main:3", "balance"]'),
    call("7", tier="normal", queue="general", outcome="unanswered", wait=100),
    call("8", start=-10.0),  # before the period
]


class TestPaths:
    def test_formats(self) -> None:
        """JSON objects, JSON strings and the compact string all give the same steps."""
        want = [Step("main", "2"), Step("billing", "")]
        assert parse_path('[{"node": "main", "digit": 2}, {"node": "billing"}]') == want
        assert parse_path('["main:2", "billing"]') == want
        assert parse_path("main:2>billing") == want
        assert parse_path('{"steps": ["main:2", "billing"]}') == want

    def test_garbage_gives_no_steps(self) -> None:
        """Unreadable paths are ignored instead of failing the report."""
        assert parse_path("") == parse_path("[broken") == parse_path("[1, null]") == []


class TestAggregation:
    def test_tier_figures(self) -> None:
        """vip: 3 offered, 2 answered (one within 20 s), 1 abandoned; ASA (5+30)/2; longest 50."""
        r = build_report(CALLS, T0, T0 + 3600, sl_seconds=20)
        vip = next(g for g in r.tiers if g.name == "vip")
        assert (vip.offered, vip.answered, vip.abandoned) == (3, 2, 1)
        assert vip.answer_rate == pytest.approx(2 / 3)
        assert vip.service_level == pytest.approx(1 / 3)
        assert vip.abandon_rate == pytest.approx(1 / 3)
        assert vip.asa_s == pytest.approx(17.5)
        assert vip.longest_wait_s == pytest.approx(50)
        general = next(g for g in r.queues if g.name == "general")
        assert (general.offered, general.answered, general.abandoned) == (2, 1, 0)
        assert general.longest_wait_s == pytest.approx(100)
        assert r.calls == 7, "the call before the period is left out"
        assert [g.name for g in r.tiers] == ["vip", "normal"], "highest tier first"

    def test_ivr_containment_and_hot_spots(self) -> None:
        """4 calls with a path, 2 ended in the IVR; main:1 and main:3 chosen twice each."""
        r = build_report(CALLS, T0, T0 + 3600, top_n=3)
        assert (r.ivr_calls, r.contained, r.containment) == (4, 2, 0.5)
        assert {(n, c): k for n, c, k in r.top_choices} == {
            ("main", "1"): 2,
            ("main", "3"): 2,
            ("balance", "1"): 1,
        }
        assert dict(r.exit_points) == {"bye": 1, "balance": 1}
        assert r.by_dnis[0] == ("4001", 5, 2)
        assert r.outcomes["ivr"] == 2

    def test_empty_period(self) -> None:
        """No calls: zero figures, no division by zero."""
        r = build_report([], T0, T0 + 1)
        assert (r.calls, r.tiers, r.containment) == (0, [], 0.0)


class TestSourceAndRender:
    async def test_read_records_pages_through_stream(
        self, redis_client: Redis, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Records are read back page by page within the time window."""
        monkeypatch.setattr(source_mod, "_PAGE", 2)
        for seq, rec in enumerate(sorted(CALLS, key=lambda c: c.ended_at)):
            await redis_client.xadd(
                keys.CALLS_STREAM, to_fields(rec), id=f"{int(rec.ended_at * 1000)}-{seq}"
            )  # type: ignore[arg-type]
        got = await read_records(redis_client, T0, T0 + 3600, max_call_s=600)
        assert sorted(r.uniqueid for r in got) == ["1", "2", "3", "4", "5", "6", "7", "8"]
        assert got[0] == next(c for c in CALLS if c.uniqueid == got[0].uniqueid)
        assert await read_records(redis_client, T0 + 7200, T0 + 7300) == []

    def test_renderers(self) -> None:
        """Table, JSON and HTML (with PNG charts, escaped text) all carry the figures."""
        evil = call("9", path='[{"node": "<script>x</script>", "choice": "1"}]')
        table = render(build_report(CALLS, T0, T0 + 3600), "table")
        for figure in ("vip", "66.7", "17.5"):
            assert figure in table
        r = build_report([*CALLS, evil], T0, T0 + 3600)
        data = json.loads(render(r, "json"))
        assert data["containment"] == pytest.approx(2 / 5)
        html = render(r, "html")
        assert html.count("data:image/png;base64,") == 3
        assert "<script>x" not in html
        assert "&lt;script&gt;" in html


class TestCli:
    def test_report_command(self, redis_url: str) -> None:
        """tierline report --from/--to --format json reads the stream and prints figures."""
        client = redis.Redis.from_url(redis_url)
        # Entry ids carry the end time, as the listener's would; an automatic id would be
        # "now" and the test would depend on the day it runs.
        for seq, rec in enumerate(sorted(CALLS, key=lambda c: c.ended_at)):
            entry = f"{int(rec.ended_at * 1000)}-{seq}"
            client.xadd(keys.CALLS_STREAM, to_fields(rec), id=entry)  # type: ignore[arg-type]
        start = datetime.fromtimestamp(T0, UTC).isoformat()
        end = datetime.fromtimestamp(T0 + 3600, UTC).replace(tzinfo=None).isoformat()
        res = CliRunner().invoke(
            cli,
            [
                "report",
                "--from",
                start,
                "--to",
                end,
                "--tz",
                "UTC",
                "--format",
                "json",
                "--redis",
                redis_url,
            ],
        )
        assert res.exit_code == 0, res.output
        assert orjson.loads(res.output)["calls"] == 7

    def test_bad_times_are_rejected(self) -> None:
        """A non-ISO time or an empty period is a usage error (exit 2)."""
        runner = CliRunner()
        bad = runner.invoke(
            cli, ["report", "--from", "yesterday", "--to", "2026-01-01", "--redis", "redis://x"]
        )
        assert bad.exit_code == 2
        assert "ISO 8601" in bad.output
        empty = runner.invoke(
            cli, ["report", "--from", "2026-01-02", "--to", "2026-01-01", "--redis", "redis://x"]
        )
        assert empty.exit_code == 2
