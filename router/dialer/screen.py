"""Every contact rule for a batch of due contacts (adapter over the pure rules).

Per batch: one pipelined read of the contacts, one of their customers, the
pure checks (calling window, standing rules) in Python, then one pipeline
of claim scripts, each deciding every history rule for its contact
atomically. So a decision costs well under one Redis round trip, and the
same code serves the dialling loop (a handful of free agents a tick) and a
bulk run (benchmarks/dialer.py).

Only contacts that will be dialled now are claimed: the caller passes at
most as many due contacts as it has agents for.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from router.customers.model import Customer
from router.dialer.claim import ClaimArgs
from router.dialer.config import DialerConfig
from router.dialer.model import Attempt, Campaign, CampaignKind, Contact, ContactState, DialMode
from router.dialer.retry import next_open
from router.dialer.rules import Refusal, standing_refusal
from router.dialer.store import DialerStore

__all__ = ["CustomerSource", "Ready", "Screen", "who"]


class CustomerSource(Protocol):
    async def customers(self, ids: Sequence[str]) -> Mapping[str, Customer]:
        """The records of these customer ids (unknown ids are left out)."""
        ...


@dataclass(frozen=True, slots=True)
class Ready:
    """A contact that passed every rule and is claimed: dial it now."""

    attempt: Attempt
    campaign: Campaign
    slot: str
    who: str
    customer: Customer | None
    claim: ClaimArgs


def who(contact: Contact) -> str:
    """Whom the frequency caps and the in-flight lock count: the customer, else the number."""
    return f"c:{contact.customer_id}" if contact.customer_id else f"n:{contact.number}"


class _Window:
    """Calling hours and expiry for one batch decided at ``at``; writes gathered, not made.

    Contacts outside their window are common in bulk (a night, a zone
    still asleep), so their moves are written together in one pipeline, and
    the opening time is worked out once per (hours, zone) rather than once
    per contact.
    """

    def __init__(self, at: datetime) -> None:
        self.at = at
        self.later: list[tuple[str, str, float]] = []  # slot, contact id, next opening
        self.ended: list[tuple[str, str]] = []  # slot, contact id: expired
        self._opens: dict[tuple[int, str], datetime | None] = {}

    def outside(self, contact: Contact, campaign: Campaign, slot: str) -> bool:
        """Past its expiry: ended. Outside calling hours: moved to the next opening."""
        at = self.at
        ends = [t for t in (campaign.expires_at, contact.due_until) if t is not None]
        if any(at >= end for end in ends):
            self.ended.append((slot, contact.contact_id))
            return True
        key = (id(campaign.hours), contact.timezone)
        if key not in self._opens:
            self._opens[key] = next_open(campaign.hours, at, contact.timezone)
        opens = self._opens[key]
        if opens == at:
            return False
        if opens is None or any(opens >= end for end in ends):
            self.ended.append((slot, contact.contact_id))
        else:
            self.later.append((slot, contact.contact_id, opens.timestamp()))
        return True


class Screen:
    """Decides, for due contacts, which may be dialled now; records every refusal."""

    def __init__(
        self,
        config: DialerConfig,
        store: DialerStore,
        customers: CustomerSource | None = None,
        name: str = "",
    ) -> None:
        self.config = config
        self.store = store
        self.customers: CustomerSource = customers or store
        self.name = name or uuid.uuid4().hex[:8]
        self._seq = itertools.count(1)
        self._run = uuid.uuid4().hex[:6]  # a restarted dialer of the same name never reuses an id
        self.refused: dict[str, int] = {}
        self._refusals: list[tuple[str, str, bool, dict[str, str]]] = []

    async def screen(
        self, due: Sequence[tuple[str, str]], now: float, agents: Sequence[str] = ()
    ) -> list[Ready]:
        """Claim the contacts of ``due`` (slot, contact id) that pass every rule."""
        rows = await self.store.due_contacts([cid for _, cid in due])
        slots = dict((cid, slot) for slot, cid in due)
        people = await self.customers.customers(
            sorted({c.customer_id for c in rows if c.customer_id})
        )
        window = _Window(datetime.fromtimestamp(now, UTC))
        pending: list[tuple[ClaimArgs, Contact, Campaign, Customer | None]] = []
        for contact in rows:
            slot = slots[contact.contact_id]
            campaign = self.config.campaigns.get(contact.campaign)
            if campaign is None or window.outside(contact, campaign, slot):
                continue
            customer = people.get(contact.customer_id)
            args = self._standing(contact, campaign, customer, slot, now)
            if args is not None:
                pending.append((args, contact, campaign, customer))
        await self.store.move_many(window.later, window.ended, ContactState.EXPIRED)
        await self.flush()  # standing refusals before the claims: nothing lost if they fail
        verdicts = await self.store.claim_many([p[0] for p in pending])
        ready = []
        free = list(agents)
        for (args, contact, campaign, customer), (verdict, _) in zip(
            pending, verdicts, strict=True
        ):
            if verdict == "ok":
                ready.append(self._ready(args, contact, campaign, customer, free))
            elif verdict != "taken":  # recorded by the claim script itself
                self.refused[verdict] = self.refused.get(verdict, 0) + 1
        return ready

    def _standing(
        self, contact: Contact, campaign: Campaign, customer: Customer | None, slot: str, now: float
    ) -> ClaimArgs | None:
        number = contact.number or (customer.phones[0] if customer and customer.phones else "")
        standing = standing_refusal(campaign, customer, self.config.limits, contact.lane)
        if standing is not None or not number:
            self.refuse(contact, standing or Refusal.NO_NUMBER, slot, True, now)
            return None
        attempt_id = f"{self.name}-{self._run}-{next(self._seq)}"
        return ClaimArgs(
            slot,
            contact.contact_id,
            number,
            who(contact),
            contact.campaign,
            attempt_id,
            now,
            campaign.kind.marketing,
            campaign.kind is CampaignKind.CALLBACK,
        )

    @staticmethod
    def _ready(
        args: ClaimArgs,
        contact: Contact,
        campaign: Campaign,
        customer: Customer | None,
        free: list[str],
    ) -> Ready:
        agent = free.pop(0) if free and campaign.mode is DialMode.PREVIEW else ""
        c = contact
        dialled = Contact(
            c.contact_id, c.campaign, args.number, c.customer_id, c.offer, c.due_from,
            c.due_until, c.attempts + 1, c.priority, c.requested_at, c.tier, c.timezone, c.lane,
        )  # fmt: skip
        attempt = Attempt(args.attempt_id, dialled, dialled.attempts, args.attempt_id, agent)
        return Ready(attempt, campaign, args.slot, args.who, customer, args)

    def refuse(self, contact: Contact, reason: Refusal, slot: str, final: bool, now: float) -> None:
        """Queue a refusal with its reason (written with the batch, see ``flush``)."""
        self.refused[reason.value] = self.refused.get(reason.value, 0) + 1
        record = {
            "campaign": contact.campaign,
            "contact": contact.contact_id,
            "customer": contact.customer_id,
            "reason": reason.value,
            "final": str(int(final)),
            "at": repr(now),
        }
        self._refusals.append((contact.contact_id, slot, final, record))

    async def flush(self) -> None:
        """Write the queued refusals in one pipeline."""
        batch, self._refusals = self._refusals, []
        await self.store.refuse_many(batch)
