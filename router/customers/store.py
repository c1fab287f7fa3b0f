"""The customer store on Redis: one-round-trip lookup, atomic (un)linking.

Every write that touches a number index and a customer hash runs as one Lua
script, so a number is never left pointing at a customer that does not list
it (or at two customers). The lookup is one EVALSHA: number -> id -> hash,
under a hard deadline, and it degrades to "unknown caller" on any failure:
a slow or dead Redis must never hold up or drop a call.

All keys of the customer family share the ``{c}`` hash tag (see
``router.storage.keys``), so the scripts are valid on Redis Cluster; the family then
lives on one slot, which comfortably holds tens of millions of numbers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from router.customers.codec import SEP, decode, encode_rec, factor_of
from router.customers.model import Customer, LookupResult
from router.customers.phone import HOME_COUNTRY_CODE, normalise_or_none
from router.customers.staging import BUSY, bulk, evalsha_packed, settle
from router.errors import NumberConflictError, StoreError
from router.storage import keys

__all__ = [
    "Conflict",
    "EncodedRecord",
    "RedisCustomerStore",
    "encode_record",
    "lookup_result",
    "miss",
    "packed_record",
]

_CUST_PREFIX = keys.customer_key("")
_NUM_PREFIX = keys.number_key("")

# KEYS: number key, IMPORT_LIVE.  ARGV: customer prefix, number.
# While a published import is being merged (``staging``), its staged keys
# win over the live ones ('' marks a number the import dropped).
_LOOKUP = """
local live = redis.call('GET', KEYS[2])
local id = live and redis.call('GET', live .. 'num:' .. ARGV[2])
if id == '' then return false end
if not id then id = redis.call('GET', KEYS[1]) end
if not id then return false end
if live then
  local r = redis.call('HMGET', live .. 'cust:' .. id, 'rec', 'phones')
  if r[1] then return r end
end
return redis.call('HMGET', ARGV[1] .. id, 'rec', 'phones')
"""

# KEYS: customer hash, IMPORT_LIVE.  ARGV: id.
_BY_ID = """
local live = redis.call('GET', KEYS[2])
if live then
  local r = redis.call('HMGET', live .. 'cust:' .. ARGV[1], 'rec', 'phones')
  if r[1] then return r end
end
return redis.call('HMGET', KEYS[1], 'rec', 'phones')
"""

# Every admin write starts so: it waits for a pending import merge (the
# caller finishes it and retries) and bumps the version an import checks
# before publishing. KEYS[1], KEYS[2] of each admin script: IMPORT_LIVE, version.
_GUARD = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.error_reply('BUSYIMPORT a published import is still being merged')
end
redis.call('INCR', KEYS[2])
"""

# One call writes a whole batch: a script call per record cost a client
# round of encoding each, which dominated bulk imports. Each record is three
# arguments: id, phones joined with ';', and the ``rec`` JSON. A record whose
# number belongs to another customer is skipped whole and reported back.
# Number keys and the id set are written once per batch (MSET / SADD in
# slices, under Lua's unpack limit): half the server calls per record.
# ``claimed`` makes a number taken earlier in the batch count as taken.
# KEYS: live, version, ids set.  ARGV: customer prefix, number prefix, (id, phones, rec)...
_UPSERT = (
    _GUARD
    + """
local out, sets, ids, claimed = {}, {}, {}, {}
local function flush(cmd, key, list)
  for s = 1, #list, 1000 do
    local e = math.min(s + 999, #list)
    if key then
      redis.call(cmd, key, unpack(list, s, e))
    else
      redis.call(cmd, unpack(list, s, e))
    end
  end
end
for i = 3, #ARGV, 3 do
  local id, phones, ck = ARGV[i], ARGV[i + 1], ARGV[1] .. ARGV[i]
  local clash = nil
  local keep = {}
  for p in string.gmatch(phones, '[^;]+') do
    keep[p] = true
    local owner = claimed[p] or redis.call('GET', ARGV[2] .. p)
    if owner and owner ~= id then clash = {id, p, owner} break end
  end
  if clash then
    table.insert(out, clash)
  else
    local old = redis.call('HGET', ck, 'phones')
    if old then
      for p in string.gmatch(old, '[^;]+') do
        if not keep[p] and redis.call('GET', ARGV[2] .. p) == id then
          redis.call('DEL', ARGV[2] .. p)
        end
      end
    end
    for p in pairs(keep) do
      claimed[p] = id
      sets[#sets + 1] = ARGV[2] .. p
      sets[#sets + 1] = id
    end
    redis.call('HSET', ck, 'rec', ARGV[i + 2], 'phones', phones)
    ids[#ids + 1] = id
  end
end
flush('MSET', nil, sets)
flush('SADD', KEYS[3], ids)
return out
"""
)

# KEYS: live, version, customer hash, number key.  ARGV: id, number.
_LINK = (
    _GUARD
    + """
if redis.call('EXISTS', KEYS[3]) == 0 then return {'no_customer'} end
local owner = redis.call('GET', KEYS[4])
if owner and owner ~= ARGV[1] then return {'conflict', owner} end
redis.call('SET', KEYS[4], ARGV[1])
local phones = redis.call('HGET', KEYS[3], 'phones') or ''
for p in string.gmatch(phones, '[^;]+') do
  if p == ARGV[2] then return {'ok'} end
end
if phones == '' then phones = ARGV[2] else phones = phones .. ';' .. ARGV[2] end
redis.call('HSET', KEYS[3], 'phones', phones)
return {'ok'}
"""
)

# KEYS: live, version, number key.  ARGV: customer prefix, number.
_UNLINK = (
    _GUARD
    + """
local owner = redis.call('GET', KEYS[3])
if not owner then return false end
redis.call('DEL', KEYS[3])
local ck = ARGV[1] .. owner
local phones = redis.call('HGET', ck, 'phones')
if phones then
  local rest = {}
  for p in string.gmatch(phones, '[^;]+') do
    if p ~= ARGV[2] then table.insert(rest, p) end
  end
  redis.call('HSET', ck, 'phones', table.concat(rest, ';'))
end
return owner
"""
)

# Erase a customer and every number still pointing at them, in one step.
# KEYS: live, version, customer hash, ids set.  ARGV: number prefix, id.
# Returns the numbers the record listed (the call records to pseudonymise).
_ERASE = (
    _GUARD
    + """
if redis.call('EXISTS', KEYS[3]) == 0 then return false end
local phones = redis.call('HGET', KEYS[3], 'phones') or ''
local listed = {}
for p in string.gmatch(phones, '[^;]+') do
  listed[#listed + 1] = p
  if redis.call('GET', ARGV[1] .. p) == ARGV[2] then redis.call('DEL', ARGV[1] .. p) end
end
redis.call('DEL', KEYS[3])
redis.call('SREM', KEYS[4], ARGV[2])
return listed
"""
)


@dataclass(frozen=True, slots=True)
class Conflict:
    """A write refused because ``number`` already belongs to ``owner``."""

    customer_id: str
    number: str
    owner: str


class RedisCustomerStore:
    """``router.types.CustomerStore`` on Redis."""

    def __init__(
        self, client: Redis, deadline_ms: float = 50.0, country_code: str = HOME_COUNTRY_CODE
    ) -> None:
        self._r = client
        self._deadline = deadline_ms / 1000
        self._cc = country_code
        self._lookup = client.register_script(_LOOKUP)
        self._by_id = client.register_script(_BY_ID)
        self._upsert = client.register_script(_UPSERT)
        self._link = client.register_script(_LINK)
        self._unlink = client.register_script(_UNLINK)
        self._erase = client.register_script(_ERASE)

    @property
    def deadline_ms(self) -> float:
        """The hard deadline of one lookup."""
        return self._deadline * 1000

    @property
    def client(self) -> Redis:
        """The call-path client (``router.call_inputs`` pipelines the lookup on it)."""
        return self._r

    def lookup_command(self, number: str) -> tuple[str, tuple[str, ...]] | None:
        """The normalised number and its lookup as one ``EVALSHA`` to pipeline.

        None for a number that is not one (anonymous or junk caller id).
        """
        norm = normalise_or_none(number, self._cc)
        if norm is None:
            return None
        live = keys.IMPORT_LIVE
        return norm, (
            "EVALSHA",
            self._lookup.sha,
            "2",
            keys.number_key(norm),
            live,
            _CUST_PREFIX,
            norm,
        )

    @property
    def lookup_script(self) -> tuple[str, str]:
        """The lookup script's SHA1 and text (a pipeline falls back to EVAL on NOSCRIPT)."""
        return self._lookup.sha, _LOOKUP

    async def lookup(self, number: str) -> LookupResult:
        """Find the caller in one round trip; never raises."""
        start = time.perf_counter()
        norm = normalise_or_none(number, self._cc)
        if norm is None:
            return LookupResult(number="", reason="anonymous")
        try:
            async with asyncio.timeout(self._deadline):
                flat = await self._lookup(
                    keys=[keys.number_key(norm), keys.IMPORT_LIVE], args=[_CUST_PREFIX, norm]
                )
        except (TimeoutError, RedisTimeoutError):
            return miss(norm, "timeout", start)
        except (RedisError, OSError):
            return miss(norm, "store_down", start)
        return lookup_result(norm, flat, start)

    async def customer_by_id(self, customer_id: str) -> Customer | None:
        """The record of an account (``flows`` input nodes verify accounts with it)."""
        reply = await self._by_id(
            keys=[keys.customer_key(customer_id), keys.IMPORT_LIVE], args=[customer_id]
        )
        rec, phones = cast(list[str | None], reply)
        return decode(rec, phones or "") if rec else None

    async def factor_hash(self, customer_id: str, kind: str) -> str:
        """The salted hash of the account's second factor ``kind``; "" when none is registered."""
        reply = await self._by_id(
            keys=[keys.customer_key(customer_id), keys.IMPORT_LIVE], args=[customer_id]
        )
        rec = cast(list[str | None], reply)[0]
        return factor_of(rec, kind) if rec else ""

    async def upsert(self, customer: Customer) -> None:
        """Write one record, re-pointing its numbers; refuses to steal a number."""
        conflicts = await self.upsert_many([customer])
        if conflicts:
            c = conflicts[0]
            raise NumberConflictError(c.number, c.owner, c.customer_id)

    async def upsert_many(self, customers: Sequence[Customer]) -> list[Conflict]:
        """Write a batch in one script call; returns the records refused."""
        return await self.upsert_encoded([encode_record(c) for c in customers])

    async def upsert_encoded(self, records: Sequence[EncodedRecord]) -> list[Conflict]:
        """Like ``upsert_many`` for records already made by ``encode_record``."""
        if not records:
            return []
        args: list[str | bytes] = [_CUST_PREFIX, _NUM_PREFIX]
        for record in records:
            args.extend(record)
        reply = await self._admin(self._upsert, [keys.CUSTOMER_IDS], args)
        return [Conflict(str(cid), str(num), str(owner)) for cid, num, owner in reply]

    async def upsert_packed(self, fields: bytes, count: int) -> list[Conflict]:
        """``upsert_encoded`` for ``count`` records already in RESP form (``packed_record``)."""
        if not count:
            return []
        head = [
            keys.IMPORT_LIVE,
            keys.CUSTOMER_VERSION,
            keys.CUSTOMER_IDS,
            _CUST_PREFIX,
            _NUM_PREFIX,
        ]
        try:
            reply = await evalsha_packed(
                self._r, self._upsert, 3, head, fields=fields, nfields=3 * count
            )
        except ResponseError as exc:
            if not str(exc).startswith(BUSY):
                raise
            await settle(self._r)
            reply = await evalsha_packed(
                self._r, self._upsert, 3, head, fields=fields, nfields=3 * count
            )
        return [Conflict(str(cid), str(num), str(owner)) for cid, num, owner in reply]

    async def link(self, number: str, customer_id: str) -> None:
        norm = self._norm(number)
        reply = await self._admin(
            self._link, [keys.customer_key(customer_id), keys.number_key(norm)], [customer_id, norm]
        )
        if reply[0] == "no_customer":
            raise StoreError(f"no customer {customer_id}")
        if reply[0] == "conflict":
            raise NumberConflictError(norm, reply[1], customer_id)

    async def unlink(self, number: str) -> str | None:
        """Detach a number; returns its former owner (``None`` if it had none)."""
        norm = self._norm(number)
        owner = await self._admin(self._unlink, [keys.number_key(norm)], [_CUST_PREFIX, norm])
        return str(owner) if owner else None

    async def erase(self, customer_id: str) -> tuple[str, ...] | None:
        """Delete a customer and their numbers at once; their numbers, ``None`` if unknown."""
        listed = await self._admin(
            self._erase,
            [keys.customer_key(customer_id), keys.CUSTOMER_IDS],
            [_NUM_PREFIX, customer_id],
        )
        return None if listed is None else tuple(str(n) for n in listed)

    async def _admin(self, script: AsyncScript, more_keys: list[str], args: Sequence[Any]) -> Any:
        """Run an admin script; if an import merge is pending, finish it and run again."""
        all_keys = [keys.IMPORT_LIVE, keys.CUSTOMER_VERSION, *more_keys]
        try:
            return await script(keys=all_keys, args=args)
        except ResponseError as exc:
            if not str(exc).startswith(BUSY):
                raise
        await settle(self._r)
        return await script(keys=all_keys, args=args)

    async def owners(self, numbers: Sequence[str]) -> dict[str, str]:
        """Current owner of each normalised number that has one (one MGET)."""
        if not numbers:
            return {}
        found = cast(list[str | None], await self._r.mget([keys.number_key(n) for n in numbers]))
        return {n: o for n, o in zip(numbers, found, strict=True) if o is not None}

    async def count(self) -> int:
        await settle(self._r)
        return int(await self._r.scard(keys.CUSTOMER_IDS))

    async def iter_all(self, batch: int = 1000) -> AsyncIterator[Customer]:
        """Every customer, ordered by id (stable exports diff cleanly)."""
        await settle(self._r)
        ids = sorted(cast(set[str], await self._r.smembers(keys.CUSTOMER_IDS)))
        for chunk in _chunks(ids, batch):
            async with self._r.pipeline(transaction=False) as pipe:
                for cid in chunk:
                    pipe.hmget(keys.customer_key(cid), ["rec", "phones"])
                rows = await pipe.execute()
            for rec, phones in rows:
                if rec:
                    yield decode(rec, phones or "")

    def _norm(self, number: str) -> str:
        norm = normalise_or_none(number, self._cc)
        if norm is None:
            raise StoreError(f"not a phone number: {number!r}")
        return norm


EncodedRecord = tuple[str, str, bytes]


def encode_record(c: Customer, factors: Mapping[str, str] | None = None) -> EncodedRecord:
    """The upsert script's three arguments for one customer (with hashed second factors)."""
    return (c.customer_id, SEP.join(c.phones), encode_rec(c, factors))


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def miss(number: str, reason: str, start: float) -> LookupResult:
    """No customer for ``number``, and why (``unknown``, ``timeout``, ``store_down``...)."""
    return LookupResult(number, None, reason, _ms(start))


def lookup_result(number: str, flat: Any, start: float) -> LookupResult:
    """The lookup script's reply as a result; a corrupt record is ``bad_record``."""
    if not flat:
        return miss(number, "unknown", start)
    try:
        customer = decode(flat[0], flat[1] or "")
    except (KeyError, ValueError, TypeError, IndexError):
        return miss(number, "bad_record", start)
    return LookupResult(number, customer, "found", _ms(start))


def packed_record(customer_id: bytes, phones: bytes, rec: bytes) -> bytes:
    """One encoded record as the three RESP bulk strings ``upsert_packed`` sends."""
    return bulk(customer_id) + bulk(phones) + bulk(rec)
