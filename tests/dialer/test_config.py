"""The dialer's configuration and contact rows: every mistake located, nothing half-loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.dialer.config import load_config, parse_config
from router.dialer.model import CampaignKind, DialResult
from router.dialer.rows import read_contacts
from router.errors import CampaignDataError
from tests.dialer.helpers import config

A = "campaigns:\n  a:\n    kind: telemarketing\n    lane: q\n"
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "dialer.yaml"


class TestConfig:
    def test_sample_loads(self) -> None:
        """The shipped sample is valid and builds every campaign plus callbacks."""
        cfg = load_config(SAMPLE)
        assert cfg.campaigns["winter_offer"].kind is CampaignKind.TELEMARKETING
        assert cfg.campaigns["callbacks"].kind is CampaignKind.CALLBACK
        assert cfg.campaigns["payment_reminder"].retry[DialResult.BUSY].gap_s == 20 * 60
        assert cfg.pacing_for("outbound").forecast is not None

    @pytest.mark.parametrize(
        ("text", "where", "message"),
        [
            ("campaigns:\n  a:\n    kind: nope\n    lane: q\n", ":3:", "campaigns.a.kind"),
            (
                A + "    hours: {timezone: Mars/Base}\n",
                ":5:",
                "unknown time zone",
            ),
            (
                A + "    hours: {holidays: XX}\n",
                ":5:",
                "unknown holiday calendar",
            ),
            (
                A + "    retry: {ringing: {count: 1, gap_minutes: 1}}\n",
                ":5:",
                "retry.ringing",
            ),
            ("campaigns:\n  callbacks:\n    kind: telemarketing\n    lane: q\n", ":3:", "reserved"),
            ("limits: {per_day: 0}\n", ":1:", "limits.per_day"),
            ("dial: {customer_channel: 'Local/x@y'}\n", ":1:", "dial.customer_channel"),
        ],
    )
    def test_mistakes_located(self, text: str, where: str, message: str) -> None:
        """Each mistake names its file:line and what is wrong."""
        with pytest.raises(CampaignDataError) as exc:
            parse_config(text, "d.yaml")
        assert f"d.yaml{where}" in str(exc.value)
        assert message in str(exc.value)

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(CampaignDataError, match="cannot read"):
            load_config(tmp_path / "none.yaml")


class TestRows:
    def test_jsonl_rows_and_errors(self, tmp_path: Path) -> None:
        """JSON Lines: a broken line and an unknown field are both reported with their line."""
        f = tmp_path / "c.jsonl"
        f.write_text(
            '{"campaign": "promo", "number": "13900000001"}\n'
            "{not json\n"
            '{"campaign": "promo", "number": "13900000002", "colour": "red"}\n'
        )
        with pytest.raises(CampaignDataError) as exc:
            read_contacts(f, config().campaigns)
        lines = [str(p) for p in exc.value.problems]
        assert lines[0].startswith(f"{f}:2: json:")
        assert lines[1] == f"{f}:3: colour: unknown field"

    def test_callbacks_not_importable(self, tmp_path: Path) -> None:
        """Callback contacts come only from the callbacks stream."""
        f = tmp_path / "c.csv"
        f.write_text("campaign,number\ncallbacks,13900000001\n")
        with pytest.raises(CampaignDataError, match="unknown campaign 'callbacks'"):
            read_contacts(f, config().campaigns)

    def test_naive_times_in_customer_zone(self, tmp_path: Path) -> None:
        """A naive due time is the customer's local time."""
        f = tmp_path / "c.csv"
        f.write_text(
            "campaign,number,due_from,timezone\npromo,13900000001,2026-12-03T09:00,Asia/Shanghai\n"
        )
        (contact,) = read_contacts(f, config().campaigns)
        assert contact.due_from is not None
        assert contact.due_from.utcoffset() is not None
        assert contact.due_from.isoformat() == "2026-12-03T09:00:00+08:00"

    def test_shares_the_customer_readers_complaints(self, tmp_path: Path) -> None:
        """Unreadable rows are reported as the customer import reports them, all at once."""
        f = tmp_path / "c.csv"
        f.write_text("campaign,number\npromo,13900000001,extra\npromo,not-a-number\n")
        with pytest.raises(CampaignDataError) as exc:
            read_contacts(f, config().campaigns)
        assert [str(p) for p in exc.value.problems] == [
            f"{f}:2: row: expected 2 fields, found 3",
            f"{f}:3: number: 'not-a-number' is not a valid phone number",
        ]

    def test_gbk_file_named(self, tmp_path: Path) -> None:
        """A campaign file saved as GBK gets the customer import's encoding hint."""
        f = tmp_path / "c.csv"
        f.write_bytes("campaign,number,offer\npromo,13900000001,流量包\n".encode("gb18030"))
        with pytest.raises(CampaignDataError, match=r"c\.csv:2: encoding: .*gb18030"):
            read_contacts(f, config().campaigns)

    def test_unknown_column_in_header(self, tmp_path: Path) -> None:
        """A CSV column the import does not know is one problem on line 1."""
        f = tmp_path / "c.csv"
        f.write_text("campaign,number,colour\npromo,13900000001,red\n")
        with pytest.raises(CampaignDataError) as exc:
            read_contacts(f, config().campaigns)
        assert [str(p) for p in exc.value.problems] == [f"{f}:1: header: unknown columns: colour"]
