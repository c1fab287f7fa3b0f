"""Callback hours in the caller's own zone, told from the number."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from router.dialer.callbacks import callback_contact
from router.dialer.model import CALLBACK_CAMPAIGN
from router.dialer.retry import next_open
from router.dialer.zones import caller_zone, country_zones
from tests.dialer.helpers import config

pytestmark = pytest.mark.skipif(not country_zones(), reason="no zone.tab in the tz database")

DAY_HOURS = """
callbacks:
  lane: outbound_q
  hours: {timezone: Asia/Shanghai, weekly: {mon-sun: "09:00-20:00"}}
"""


class TestCallerZone:
    @pytest.mark.parametrize(
        ("number", "centre", "zone"),
        [
            ("13900000001", "Asia/Shanghai", "Asia/Shanghai"),  # home numbers are national
            ("13900000001", "UTC", "Asia/Shanghai"),
            ("+85221234567", "Asia/Shanghai", "Asia/Hong_Kong"),
            ("+442079460000", "Asia/Shanghai", "Europe/London"),
            ("+14155550123", "Asia/Shanghai", "America/New_York"),  # principal zone
            ("+14155550123", "America/Los_Angeles", "America/Los_Angeles"),  # centre's country
        ],
    )
    def test_zone_of_number(self, number: str, centre: str, zone: str) -> None:
        """The number's country gives the zone; a centre in that country keeps its own."""
        assert caller_zone(number, centre) == zone

    def test_unknown_country(self) -> None:
        """A number of no known country: no zone, the configured hours' zone applies."""
        assert caller_zone("+999123", "Asia/Shanghai") == ""


class TestCallbackHours:
    def test_london_caller_rung_in_london_daytime(self) -> None:
        """At 21:00 in Shanghai a London caller (13:00 there) may be called back at once."""
        cfg = config(DAY_HOURS)
        at = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
        fields = {"number": "+44 20 7946 0000", "requested_at": at.isoformat()}
        contact = callback_contact("1-0", fields, None, cfg)
        assert contact.timezone == "Europe/London"
        hours = cfg.campaigns[CALLBACK_CAMPAIGN].hours
        assert next_open(hours, at, contact.timezone) == at
        assert next_open(hours, at) == datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # centre's 09:00

    def test_home_caller_waits_for_morning(self) -> None:
        """A home caller asking at 21:00 Shanghai time is called back at 09:00 there."""
        cfg = config(DAY_HOURS)
        at = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
        contact = callback_contact("1-0", {"number": "13900000001"}, None, cfg)
        hours = cfg.campaigns[CALLBACK_CAMPAIGN].hours
        assert next_open(hours, at, contact.timezone) == datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
