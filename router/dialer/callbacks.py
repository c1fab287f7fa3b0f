"""Callback requests in, dialler contacts out (adapter).

The IVR, after-hours flows and virtual hold append requests to the
callbacks stream (``router.storage.callback_stream``). The dialer reads it
through a consumer group and acknowledges an entry only after its contact
is stored, so a dialer killed in between re-reads it (its own pending
entries come first on restart) and a duplicate is harmless: the contact id
is the stream entry id, and a known contact is never re-added.

A request that cannot be dialled (no usable number, no customer to find
one) is stored as a ``refused`` contact with the reason: reported, never
silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from redis.exceptions import ResponseError

from router.customers.model import Customer, CustomerList
from router.customers.phone import normalise_or_none
from router.dialer.config import DialerConfig
from router.dialer.model import CALLBACK_CAMPAIGN, Contact
from router.dialer.rules import Refusal
from router.dialer.screen import CustomerSource
from router.dialer.store import DialerStore, slot_of
from router.dialer.zones import caller_zone
from router.logs import get_logger
from router.storage import keys

__all__ = ["CallbackFeeder", "callback_contact"]

_log = get_logger(__name__)


def _when(text: str) -> datetime | None:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def callback_contact(
    entry_id: str,
    fields: Mapping[str, str],
    customer: Customer | None,
    config: DialerConfig,
) -> Contact:
    """The contact for one request: lane, priority (red list first), due time, caller's zone."""
    number = normalise_or_none(fields.get("number", "")) or ""
    if not number and customer is not None and customer.phones:
        number = customer.phones[0]
    tier = (customer.tier if customer else "") or fields.get("tier", "")
    prios = config.callback_priorities
    red = customer is not None and customer.list is CustomerList.RED
    priority = prios.get("red", 9) if red else prios.get(tier, 0)
    lane = config.callback_lanes.get(fields.get("service", ""), "")
    manager = config.limits.manager_lanes.get(customer.account_manager, "") if customer else ""
    if manager and (red or tier == "vip"):
        lane = manager
    requested = _when(fields.get("requested_at", ""))
    due = _when(fields.get("callback_at", "")) or requested
    hours_zone = config.campaigns[CALLBACK_CAMPAIGN].hours.timezone
    return Contact(
        contact_id=f"cb:{entry_id}",
        campaign=CALLBACK_CAMPAIGN,
        number=number,
        customer_id=fields.get("customer_id", ""),
        due_from=due,
        priority=max(0, min(9, priority)),
        requested_at=requested,
        tier=tier,
        timezone=caller_zone(number, hours_zone) if number else "",  # the caller's hours
        lane=lane or config.campaigns[CALLBACK_CAMPAIGN].lane,
    )


class CallbackFeeder:
    """Moves callback requests from the stream into the dialer's contacts."""

    def __init__(
        self,
        redis: Any,
        store: DialerStore,
        config: DialerConfig,
        customers: CustomerSource | None = None,
        consumer: str = "dialer-1",
    ) -> None:
        self.redis = redis
        self.store = store
        self.config = config
        self.customers: CustomerSource = customers or store
        self.consumer = consumer
        self._backlog = True  # first read this consumer's unacknowledged entries

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(
                keys.CALLBACKS, keys.DIALER_CALLBACK_GROUP, id="0", mkstream=True
            )
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def pump(self, block_ms: int = 1000, count: int = 100) -> int:
        """Read one batch, store it, acknowledge it; returns the requests handled."""
        start = "0" if self._backlog else ">"
        reply = await self.redis.xreadgroup(
            keys.DIALER_CALLBACK_GROUP,
            self.consumer,
            {keys.CALLBACKS: start},
            count=count,
            block=None if self._backlog else block_ms,
        )
        entries = [e for _, batch in reply or [] for e in batch]
        if self._backlog and not entries:
            self._backlog = False
            return 0
        contacts = [await self._contact(entry_id, dict(f)) for entry_id, f in entries]
        await self.store.add_contacts(contacts, self.config.lanes())
        for contact in contacts:
            if not contact.number:
                await self._refuse(contact)
        if entries:
            await self.redis.xack(
                keys.CALLBACKS, keys.DIALER_CALLBACK_GROUP, *[e for e, _ in entries]
            )
        return len(entries)

    async def _contact(self, entry_id: str, fields: dict[str, str]) -> Contact:
        customer = None
        cid = fields.get("customer_id", "")
        if cid:
            customer = (await self.customers.customers([cid])).get(cid)
        return callback_contact(entry_id, fields, customer, self.config)

    async def _refuse(self, contact: Contact) -> None:
        slot = slot_of(contact.campaign, contact.lane, contact.priority)
        record = {
            "campaign": contact.campaign,
            "contact": contact.contact_id,
            "customer": contact.customer_id,
            "reason": Refusal.NO_NUMBER.value,
            "final": "1",
        }
        await self.store.refuse_many([(contact.contact_id, slot, True, record)])
        _log.warning("dialer_callback_undiallable", contact=contact.contact_id)
