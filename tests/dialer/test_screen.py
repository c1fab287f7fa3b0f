"""The batch screen: calling windows decided once per batch, moves written together."""

from __future__ import annotations

from datetime import UTC, datetime

from redis.asyncio import Redis

from router.dialer.model import Contact
from router.dialer.screen import Screen
from router.dialer.store import DialerStore, slot_of
from router.storage import keys
from tests.dialer.helpers import config

OFFICE = '{timezone: UTC, weekly: {mon-fri: "09:00-17:00"}}'
CONFIG = f"""
campaigns:
  remind: {{kind: payment_reminder, lane: q, hours: {OFFICE}}}
"""
SATURDAY_NOON = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
MONDAY_NINE = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class TestWindow:
    async def test_closed_hours_move_and_expiry_ends(self, redis_client: Redis) -> None:
        """On a Saturday nothing is claimed: one contact waits for Monday 09:00, one whose
        window ended on Friday is expired, one in Asia/Shanghai waits for its own Monday."""
        cfg = config(CONFIG)
        store = DialerStore(redis_client, cfg.limits)
        contacts = [
            Contact("remind:1", "remind", "13900000001"),
            Contact(
                "remind:2", "remind", "13900000002", due_until=datetime(2026, 12, 4, tzinfo=UTC)
            ),
            Contact("remind:3", "remind", "13900000003", timezone="Asia/Shanghai"),
        ]
        await store.add_contacts(contacts, cfg.lanes())
        slot = slot_of("remind", "q", 0)
        due = [(slot, c.contact_id) for c in contacts]
        assert await Screen(cfg, store).screen(due, SATURDAY_NOON.timestamp()) == []
        score = await redis_client.zscore(keys.dialer_due_key(slot), "remind:1")
        assert score == MONDAY_NINE.timestamp()
        assert await redis_client.zscore(keys.dialer_due_key(slot), "remind:2") is None
        state = await redis_client.hget(keys.dialer_contact_key("remind:2"), "state")
        assert state == "expired"
        shanghai_monday_nine = datetime(2026, 12, 7, 1, 0, tzinfo=UTC).timestamp()
        assert (
            await redis_client.zscore(keys.dialer_due_key(slot), "remind:3") == shanghai_monday_nine
        )


class TestContactRead:
    async def test_core_and_older_hashes_read_alike(self, redis_client: Redis) -> None:
        """A contact stored before the packed ``core`` field is read as one stored with it."""
        cfg = config(CONFIG)
        store = DialerStore(redis_client, cfg.limits)
        contact = Contact(
            "remind:1", "remind", "13900000001", "C1", "5G", due_until=MONDAY_NINE,
            priority=2, tier="vip", timezone="Asia/Shanghai",
        )  # fmt: skip
        await store.add_contacts([contact], cfg.lanes())
        await redis_client.hset(keys.dialer_contact_key("remind:1"), "attempts", "2")
        (fresh,) = await store.due_contacts(["remind:1", "remind:none"])
        await redis_client.hdel(keys.dialer_contact_key("remind:1"), "core")
        (older,) = await store.due_contacts(["remind:1"])
        assert fresh == older
        assert (fresh.attempts, fresh.lane, fresh.due_until) == (2, "q", MONDAY_NINE)
