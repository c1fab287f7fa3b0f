"""The campaign section of `tierline report`: the period's attempts and refusals, every format."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import orjson
import redis
from click.testing import CliRunner

from router.cli import cli
from router.storage import keys

SH = ZoneInfo("Asia/Shanghai")
DAY = ("--period", "day", "--date", "2026-11-22", "--tz", "Asia/Shanghai")


def at(day: int, hour: int) -> str:
    """A stream id at that local time (ids are the time an attempt closed)."""
    return f"{int(datetime(2026, 11, day, hour, tzinfo=SH).timestamp() * 1000)}-0"


def attempt(campaign: str, **fields: str) -> dict[str, str]:
    return {"campaign": campaign, "kind": "telemarketing", "result": "answered", **fields}


def store(url: str) -> None:
    sale = attempt("winter_offer", offer="5G", offer_accepted="1", talk_s="90")
    cb = {"campaign": "callbacks", "kind": "callback", "result": "answered", "state": "done"}
    refusal = {"campaign": "winter_offer", "reason": "marketing_cap"}
    attempts = [
        (at(21, 14), {**cb, "waited_s": "5"}),  # the day before
        (at(22, 9), sale),
        (at(22, 10), attempt("winter_offer", offer="5G")),
        (at(22, 11), attempt("winter_offer", offer="5G", instant_hangup="1")),
        (at(22, 12), attempt("winter_offer", result="busy")),
        (at(22, 13), {**cb, "waited_s": "300"}),
        (at(22, 14), {**cb, "waited_s": "900"}),
    ]
    refusals = [(at(22, 15), refusal), (at(23, 1), {**refusal, "reason": "dnc"})]
    r = redis.Redis.from_url(url)
    for stream, entries in ((keys.DIALER_ATTEMPTS_STREAM, attempts),
                            (keys.DIALER_REFUSALS_STREAM, refusals)):  # fmt: skip
        for entry_id, fields in entries:
            r.xadd(stream, fields, id=entry_id)  # type: ignore[arg-type]


def run(*args: str) -> str:
    res = CliRunner().invoke(cli, ["report", *args])
    assert res.exit_code == 0, res.output
    return res.output


class TestCampaignSection:
    def test_table_counts_only_the_period(self, redis_url: str) -> None:
        """The local day's attempts, conversions, refusals and callback waits; none from the day
        before or after."""
        store(redis_url)
        rows = [line.split() for line in run(*DAY, "--redis", redis_url).splitlines()]
        assert ["winter_offer", "4", "3", "2", "50.0", "1", "1", "1.5"] in rows
        assert ["winter_offer", "5G", "2", "1", "50.0"] in rows  # 1 sale in 2 right-party
        assert ["winter_offer", "marketing_cap", "1"] in rows
        assert ["winter_offer", "dnc", "1"] not in rows  # refused the next day
        assert ["2", "600", "600", "900"] in rows  # completed callbacks: mean, median, max

    def test_json_carries_the_figures(self, redis_url: str) -> None:
        """--format json has the section's figures under its name."""
        store(redis_url)
        doc = orjson.loads(run(*DAY, "--format", "json", "--redis", redis_url))
        (section,) = doc["sections"]
        assert section["name"] == "campaigns"
        offer = section["data"]["campaigns"]["winter_offer"]
        assert (offer["conversions"], offer["refusals"]) == ({"5G": 1}, {"marketing_cap": 1})
        assert section["data"]["callbacks"]["completed"] == 2

    def test_csv_block_after_the_intervals(self, redis_url: str) -> None:
        """CSV: the interval view first, then each campaign table as a titled block."""
        store(redis_url)
        text = run(*DAY, "--interval", "60", "--format", "csv", "--redis", redis_url)
        rows = list(csv.reader(io.StringIO(text)))
        title = rows.index(["Outbound campaigns: Conversions per offer"])
        assert rows[title - 1] == []
        assert rows[title + 1 : title + 3] == [
            ["campaign", "offer", "right-party contacts", "conversions", "conversion %"],
            ["winter_offer", "5G", "2", "1", "50.0"],
        ]
        assert rows[0][:2] == ["interval", "group"]

    def test_html_section(self, redis_url: str) -> None:
        """HTML: the section's heading and tables, escaped like the rest."""
        store(redis_url)
        page = run(*DAY, "--format", "html", "--redis", redis_url)
        assert "<h2>Outbound campaigns</h2>" in page
        assert "<h3>Refusals by rule</h3>" in page
        assert '<td>winter_offer</td><td class="n">marketing_cap</td>' in page

    def test_no_dialer_activity_no_section(self, redis_url: str) -> None:
        """A centre without outbound calls sees the report it always had."""
        assert "Outbound campaigns" not in run(*DAY, "--redis", redis_url)
