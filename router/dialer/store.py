"""Dialer state in Redis: contacts, due times, campaign states, DNC, outcomes.

Everything the dialer needs to resume after a kill lives here, never only
in memory: a contact is ``pending`` in a due ZSET, ``in_flight`` while its
attempt runs (its customer's in-flight lock held, with a TTL so a crashed
dialer cannot block a customer forever), or in a final state. Attempts and
refusals are appended to Redis Streams for reports.

Layout (``router.storage.keys``, ``{d}`` hash tag): contact hashes, due
ZSETs per ``campaign|lane|priority`` slot (indexed in ``DIALER_DUE_INDEX``),
the DNC set, in-flight locks, per-customer attempt history ZSETs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from router.customers.codec import decode
from router.customers.model import Customer
from router.dialer.claim import (
    CLAIM_LUA,
    RELEASE_LUA,
    UNCLAIM_LUA,
    ClaimArgs,
    claim_batch,
    unclaim_call,
)
from router.dialer.contact_hash import (
    FIELDS,
    SCREEN_FIELDS,
    contact_from_core,
    contact_from_values,
    contact_to_hash,
)
from router.dialer.model import AttemptResult, CampaignState, Contact, ContactState
from router.dialer.rules import ContactLimits
from router.storage import keys

__all__ = ["DialerStore", "dialer_client", "slot_of"]


_HMGET_LUA = """
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HMGET', key, unpack(ARGV)) end
return out
"""
_RECORDS_LUA = """
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HMGET', key, 'rec', 'phones') end
return out
"""

Refused = tuple[str, str, bool, Mapping[str, str]]
"""A refusal to record: contact id, due slot, final or not, the stream record."""


def dialer_client(url: str, timeout_s: float = 5.0) -> Redis:
    """A text client (every reply a str) with bounded waits."""
    return Redis.from_url(
        url, decode_responses=True, socket_connect_timeout=timeout_s, socket_timeout=timeout_s
    )


def slot_of(campaign: str, lane: str, priority: int) -> str:
    return f"{campaign}|{lane}|{priority}"


class DialerStore:
    """Every Redis read and write of the dialer (a ``decode_responses`` client)."""

    def __init__(self, redis: Redis, limits: ContactLimits | None = None) -> None:
        self.redis: Any = redis  # decode_responses client: every reply is str
        self.limits = limits or ContactLimits()
        self._claim = redis.register_script(CLAIM_LUA)
        self._release = redis.register_script(RELEASE_LUA)
        self._unclaim = redis.register_script(UNCLAIM_LUA)
        self._hmget = redis.register_script(_HMGET_LUA)
        self._records = redis.register_script(_RECORDS_LUA)

    # -- contacts ------------------------------------------------------------
    async def add_contacts(self, contacts: Sequence[Contact], lanes: Mapping[str, str]) -> int:
        """Write new contacts as pending; ones already known keep their state. Returns new count."""
        pipe = self.redis.pipeline(transaction=False)
        for c in contacts:
            pipe.exists(keys.dialer_contact_key(c.contact_id))
        known = await pipe.execute()
        pipe = self.redis.pipeline(transaction=True)
        added = 0
        for c, exists in zip(contacts, known, strict=True):
            if exists:
                continue
            added += 1
            lane = c.lane or lanes[c.campaign]
            slot = slot_of(c.campaign, lane, c.priority)
            pipe.hset(
                keys.dialer_contact_key(c.contact_id),
                mapping=contact_to_hash(c, lane, ContactState.PENDING),
            )
            pipe.sadd(keys.dialer_campaign_contacts_key(c.campaign), c.contact_id)
            pipe.zadd(
                keys.dialer_due_key(slot),
                {c.contact_id: (c.due_from or c.requested_at or _now()).timestamp()},
            )
            pipe.sadd(keys.DIALER_DUE_INDEX, slot)
        await pipe.execute()
        return added

    async def contacts(self, ids: Sequence[str]) -> list[tuple[Contact, dict[str, str]]]:
        """Contacts by id in one EVALSHA (missing ones are left out)."""
        if not ids:
            return []
        rows = await self._hmget(keys=[keys.dialer_contact_key(cid) for cid in ids], args=FIELDS)
        out = []
        for cid, values in zip(ids, rows, strict=True):
            if values[0] is not None:  # every contact has a campaign: None means no hash
                v = [x or "" for x in values]
                out.append((contact_from_values(cid, v), dict(zip(FIELDS, v, strict=True))))
        return out

    async def due_contacts(self, ids: Sequence[str]) -> list[Contact]:
        """The screen's read: only the fields a decision needs (the hot path, one EVALSHA)."""
        if not ids:
            return []
        script_keys = [keys.dialer_contact_key(cid) for cid in ids]
        rows = await self._hmget(keys=script_keys, args=SCREEN_FIELDS)
        out, older = [], []
        for cid, (core, attempts, campaign) in zip(ids, rows, strict=True):
            if core:
                out.append(contact_from_core(cid, core, attempts))
            elif campaign is not None:  # stored before ``core`` existed
                older.append(cid)
        return out + [contact for contact, _ in await self.contacts(older)]

    async def due(self, slots: Sequence[str], now: float, limit: int) -> list[tuple[str, str]]:
        """Up to ``limit`` due (slot, contact id) pairs from each slot, slots in the given order."""
        pipe = self.redis.pipeline(transaction=False)
        for slot in slots:
            pipe.zrangebyscore(keys.dialer_due_key(slot), "-inf", now, start=0, num=limit)
        rows = await pipe.execute()
        return [(slot, cid) for slot, ids in zip(slots, rows, strict=True) for cid in ids]

    async def slots(self) -> list[str]:
        return sorted(await self.redis.smembers(keys.DIALER_DUE_INDEX))

    # -- the atomic rule check ----------------------------------------------
    async def claim(self, args: ClaimArgs) -> tuple[str, float]:
        """One contact: every history rule checked and the attempt recorded, or refused."""
        return (await self.claim_many([args]))[0]

    async def claim_many(self, batch: Sequence[ClaimArgs]) -> list[tuple[str, float]]:
        """A batch in one EVALSHA (one round trip); refusals are recorded by the script."""
        if not batch:
            return []
        script_keys, argv = claim_batch(batch, self.limits, batch[0].now)
        flat = await self._claim(keys=script_keys, args=argv)
        return [(str(v), float(t)) for v, t in zip(flat[::2], flat[1::2], strict=True)]

    async def unclaim(self, args: ClaimArgs) -> None:
        """Give back a claim whose Originate was never sent (counts and lock undone)."""
        script_keys, argv = unclaim_call(args)
        await self._unclaim(keys=script_keys, args=argv)

    async def release(self, who: str, attempt_id: str) -> bool:
        """Free ``who``'s in-flight lock, only if ``attempt_id`` still holds it."""
        return bool(await self._release(keys=[keys.dialer_who_key(who)], args=[attempt_id]))

    async def who_state(self, who: str) -> dict[str, str]:
        """One customer's lock, attempt times and per-campaign counts (tests, support)."""
        return dict(await self.redis.hgetall(keys.dialer_who_key(who)))

    async def customers(self, ids: Sequence[str]) -> dict[str, Customer]:
        """Customer records by id in one EVALSHA over the ``{c}`` family."""
        if not ids:
            return {}
        rows = await self._records(keys=[keys.customer_key(cid) for cid in ids])
        out: dict[str, Customer] = {}
        for cid, (rec, phones) in zip(ids, rows, strict=True):
            if rec:
                try:
                    out[cid] = decode(rec, phones or "")
                except (KeyError, ValueError, TypeError):
                    continue  # a corrupt record: dialled as an unknown customer
        return out

    async def mark_in_flight(self, contact_id: str, attempt_id: str, attempts: int) -> None:
        await self.redis.hset(
            keys.dialer_contact_key(contact_id),
            mapping={
                "state": ContactState.IN_FLIGHT.value,
                "attempt": attempt_id,
                "attempts": attempts,
            },
        )

    async def finish(  # noqa: PLR0917 - one attempt's closing facts, written together
        self,
        contact: Contact,
        who: str,
        outcome: AttemptResult,
        state: ContactState,
        due: float | None,
        slot: str,
        record: Mapping[str, str],
    ) -> None:
        """Close an attempt: release the lock, set the contact's state, append the record."""
        ckey = keys.dialer_contact_key(contact.contact_id)
        results = await self.redis.hget(ckey, "results") or ""
        pipe = self.redis.pipeline(transaction=True)
        await self._release(keys=[keys.dialer_who_key(who)], args=[outcome.attempt_id], client=pipe)
        pipe.hset(
            ckey,
            mapping={
                "state": state.value,
                "last_result": outcome.result.value,
                "results": (results + "," if results else "") + outcome.result.value,
            },
        )
        if state is ContactState.PENDING and due is not None:
            pipe.zadd(keys.dialer_due_key(slot), {contact.contact_id: due})
        pipe.xadd(
            keys.DIALER_ATTEMPTS_STREAM,
            dict(record),
            maxlen=keys.DIALER_STREAM_MAXLEN,
            approximate=True,
        )
        await pipe.execute()

    async def refuse_many(
        self, refusals: Sequence[tuple[str, str, bool, Mapping[str, str]]]
    ) -> None:
        """Record refusals ``(contact id, slot, final, record)`` in one pipeline.

        A final one ends its contact in the reported ``refused`` state.
        """
        if not refusals:
            return
        pipe = self.redis.pipeline(transaction=False)
        for contact_id, slot, final, record in refusals:
            if final:
                pipe.zrem(keys.dialer_due_key(slot), contact_id)
                pipe.hset(
                    keys.dialer_contact_key(contact_id),
                    mapping={"state": ContactState.REFUSED.value, "refusal": record["reason"]},
                )
            pipe.xadd(
                keys.DIALER_REFUSALS_STREAM,
                dict(record),
                maxlen=keys.DIALER_STREAM_MAXLEN,
                approximate=True,
            )
        await pipe.execute()

    async def move_many(
        self,
        later: Sequence[tuple[str, str, float]],
        ended: Sequence[tuple[str, str]],
        state: ContactState,
    ) -> None:
        """In one pipeline: ``later`` (slot, id, due) get a new due time, ``ended`` the state."""
        if not later and not ended:
            return
        pipe = self.redis.pipeline(transaction=False)
        for slot, contact_id, at in later:
            pipe.zadd(keys.dialer_due_key(slot), {contact_id: at}, xx=True)
        for slot, contact_id in ended:
            pipe.zrem(keys.dialer_due_key(slot), contact_id)
            pipe.hset(keys.dialer_contact_key(contact_id), "state", state.value)
        await pipe.execute()

    async def in_flight_contacts(self) -> list[tuple[str, str]]:
        """(contact id, attempt id) of every contact left in flight, for a restart."""
        out: list[tuple[str, str]] = []
        async for key in self.redis.scan_iter(match=keys.dialer_contact_key("*"), count=1000):
            state, attempt = await self.redis.hmget(key, ["state", "attempt"])
            if state == ContactState.IN_FLIGHT.value:
                out.append((key.removeprefix(keys.dialer_contact_key("")), attempt or ""))
        return out

    # -- campaigns -------------------------------------------------------------
    async def campaign_states(self) -> dict[str, CampaignState]:
        raw = await self.redis.hgetall(keys.DIALER_CAMPAIGNS)
        return {
            k: CampaignState(v) for k, v in raw.items() if v in CampaignState._value2member_map_
        }

    async def set_campaign(self, name: str, state: CampaignState) -> None:
        await self.redis.hset(keys.DIALER_CAMPAIGNS, name, state.value)

    async def stop_campaign(self, name: str) -> int:
        """Stop: every pending contact ends in the reported ``stopped`` state."""
        await self.set_campaign(name, CampaignState.STOPPED)
        ids = sorted(await self.redis.smembers(keys.dialer_campaign_contacts_key(name)))
        rows = await self.contacts(ids)
        stopped = 0
        pipe = self.redis.pipeline(transaction=False)
        for contact, h in rows:
            if h.get("state") == ContactState.PENDING.value:
                slot = slot_of(name, h.get("lane", ""), contact.priority)
                pipe.zrem(keys.dialer_due_key(slot), contact.contact_id)
                pipe.hset(
                    keys.dialer_contact_key(contact.contact_id), "state", ContactState.STOPPED.value
                )
                stopped += 1
        await pipe.execute()
        return stopped

    async def campaign_counts(self, name: str) -> dict[str, int]:
        ids = sorted(await self.redis.smembers(keys.dialer_campaign_contacts_key(name)))
        pipe = self.redis.pipeline(transaction=False)
        for cid in ids:
            pipe.hget(keys.dialer_contact_key(cid), "state")
        counts: dict[str, int] = {}
        for state in await pipe.execute():
            counts[state or "missing"] = counts.get(state or "missing", 0) + 1
        return counts

    # -- do not call -----------------------------------------------------------
    async def dnc_add(self, numbers: Iterable[str]) -> int:
        items = list(numbers)
        return int(await self.redis.sadd(keys.DNC, *items)) if items else 0

    async def dnc_remove(self, numbers: Iterable[str]) -> int:
        items = list(numbers)
        return int(await self.redis.srem(keys.DNC, *items)) if items else 0

    async def dnc_check(self, number: str) -> bool:
        return bool(await self.redis.sismember(keys.DNC, number))

    async def records(self, stream: str, count: int = 1_000_000) -> list[dict[str, str]]:
        rows: Any = await self.redis.xrange(stream, count=count)
        return [dict(fields) for _, fields in rows]


def _now() -> datetime:
    return datetime.now(UTC)
