"""A bulk import as one transaction: staged, published by one switch, merged.

Writing an import straight onto the live keys in batches let a reader (a
call) see half a file, and a killed import left half of it written. A
single script writing a whole file would block Redis (and every call's
lookup) for seconds. So an import goes through three steps:

1. **Stage**: every record, number and dropped number (an empty-string
   tombstone) is written under ``keys.import_prefix(id)``, invisible to
   readers. Staging holds a lease (``IMPORT_LEASE``) renewed while it runs.
2. **Publish**: one short script checks that nothing else wrote to the store
   since staging began (``CUSTOMER_VERSION``) and sets ``IMPORT_LIVE`` to the
   prefix. From then on the lookup script reads a staged key before the
   live one, so every reader sees the whole new file at once.
3. **Merge**: staged keys are renamed onto the live ones in small scripts,
   walking the list of staged keys that staging kept (no keyspace scan).
   A reader sees the same data whichever side a key is on, so the merge may
   take its time; ``IMPORT_LIVE`` is cleared when nothing is left.

A crash before publishing leaves only staged keys, which the next import
(or ``recover``) deletes; a crash after publishing leaves a merge that
anyone can finish, because every merge step is idempotent. Admin writes
(link, unlink, upsert, erase) refuse to run while a merge is pending
(``BUSYIMPORT``) and finish it first, so they never write under a staged key.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, RedisError, ResponseError

from router.errors import StoreError
from router.storage import keys

__all__ = [
    "BUSY",
    "ImportTransaction",
    "PublishOutcome",
    "bulk",
    "evalsha_packed",
    "recover",
    "settle",
]

BUSY = "BUSYIMPORT"  # error prefix of an admin script met by a pending merge
MERGE_KEYS = 1000  # staged keys moved per merge script (a few ms of server time at most)

# KEYS: lease, state.  ARGV: id, lease ms.
_BEGIN = """
local holder = redis.call('GET', KEYS[1])
if holder then return {'running', holder} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local prior = redis.call('HMGET', KEYS[2], 'id', 'state')
return {'ok', prior[1] or '', prior[2] or ''}
"""

# KEYS: lease.  ARGV: id, lease ms (0: release).
_RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then redis.call('DEL', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
"""

# Stage a batch. Ownership reads the staged key first ('' = dropped by this
# import, so free), then the live one. A record whose number belongs to
# someone else is skipped and reported, as the direct upsert did. Every
# staged key's suffix is listed in ``<prefix>keys`` (in the same script, so
# the list is complete even after a crash): merge and discard walk it
# instead of scanning the whole keyspace. A number that already points at
# its customer is not staged (re-imports mostly restate numbers).
# KEYS: lease.  ARGV: id, live root, staging prefix, (id, phones, rec)...
_STAGE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('LOSTLEASE') end
local root, pre = ARGV[2], ARGV[3]
local out, sets, ids, staged, claimed = {}, {}, {}, {}, {}
local function owner(p)
  if claimed[p] then return claimed[p] end
  local v = redis.call('GET', pre .. 'num:' .. p)
  if v then
    if v == '' then return false end
    return v
  end
  return redis.call('GET', root .. 'num:' .. p)
end
for i = 4, #ARGV, 3 do
  local id, phones = ARGV[i], ARGV[i + 1]
  local keep, fresh, clash = {}, {}, nil
  for p in string.gmatch(phones, '[^;]+') do
    keep[p] = true
    local o = owner(p)
    if not o then fresh[p] = true end
    if o and o ~= id then clash = {id, p, o} break end
  end
  if clash then
    out[#out + 1] = clash
  else
    local old = redis.call('HGET', pre .. 'cust:' .. id, 'phones')
      or redis.call('HGET', root .. 'cust:' .. id, 'phones') or ''
    for p in string.gmatch(old, '[^;]+') do
      if not keep[p] and owner(p) == id then
        redis.call('SET', pre .. 'num:' .. p, '')
        staged[#staged + 1] = 'num:' .. p
      end
    end
    for p in pairs(fresh) do
      claimed[p] = id
      sets[#sets + 1] = pre .. 'num:' .. p
      sets[#sets + 1] = id
      staged[#staged + 1] = 'num:' .. p
    end
    redis.call('HSET', pre .. 'cust:' .. id, 'rec', ARGV[i + 2], 'phones', phones)
    staged[#staged + 1] = 'cust:' .. id
    ids[#ids + 1] = id
  end
end
for s = 1, #sets, 1000 do redis.call('MSET', unpack(sets, s, math.min(s + 999, #sets))) end
for s = 1, #ids, 1000 do
  redis.call('SADD', pre .. 'ids', unpack(ids, s, math.min(s + 999, #ids)))
end
for s = 1, #staged, 1000 do
  redis.call('RPUSH', pre .. 'keys', unpack(staged, s, math.min(s + 999, #staged)))
end
return out
"""

# KEYS: lease, state, live, version.  ARGV: id, prefix, version seen before staging.
_PUBLISH = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'lost' end
if (redis.call('GET', KEYS[4]) or '0') ~= ARGV[3] then return 'changed' end
if redis.call('EXISTS', KEYS[3]) == 1 then return 'busy' end
redis.call('SET', KEYS[3], ARGV[2])
redis.call('HSET', KEYS[2], 'id', ARGV[1], 'state', 'published')
redis.call('INCR', KEYS[4])
return 'ok'
"""

# Move the next ``n`` listed keys onto the live ones (a tombstone deletes the
# live number), then, once the list is empty, ``n`` ids into the id set.
# Idempotent: a key already moved is skipped, so two finishers cannot clash.
# ARGV: live root, prefix, n.  Returns how much it moved (0: done).
_MERGE = """
local root, pre, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
local items = redis.call('LRANGE', pre .. 'keys', 0, n - 1)
for _, suffix in ipairs(items) do
  local k = pre .. suffix
  if string.sub(suffix, 1, 4) == 'num:' then
    local v = redis.call('GET', k)
    if v == '' then redis.call('DEL', root .. suffix, k)
    elseif v then redis.call('RENAME', k, root .. suffix) end
  elseif redis.call('EXISTS', k) == 1 then
    redis.call('RENAME', k, root .. suffix)
  end
end
if #items > 0 then
  redis.call('LTRIM', pre .. 'keys', #items, -1)
  return #items
end
local ids = redis.call('SPOP', pre .. 'ids', n)
if #ids > 0 then redis.call('SADD', root .. 'ids', unpack(ids)) end
return #ids
"""

# Delete the next ``n`` listed staged keys; then the list and id set themselves.
# ARGV: prefix, n.  Returns how many it deleted (0: done).
_DISCARD = """
local pre, n = ARGV[1], tonumber(ARGV[2])
local items = redis.call('LRANGE', pre .. 'keys', 0, n - 1)
for i = 1, #items do items[i] = pre .. items[i] end
if #items > 0 then
  redis.call('UNLINK', unpack(items))
  redis.call('LTRIM', pre .. 'keys', #items, -1)
  return #items
end
redis.call('UNLINK', pre .. 'ids', pre .. 'keys')
return 0
"""

# KEYS: state.  ARGV: id.  (A lease lost meanwhile may mean the state is another import's.)
_FORGET = """
if redis.call('HGET', KEYS[1], 'id') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""

# KEYS: live, state.  ARGV: prefix.
_FINISH = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
"""

PublishOutcome = str  # 'ok' | 'changed' (someone wrote meanwhile) | 'lost' | 'busy'


class ImportTransaction:
    """One import's staging area, lease and publication."""

    def __init__(self, client: Redis, import_id: str, lease_ms: int = keys.IMPORT_LEASE_TTL_MS):
        self.client = self._r = client
        self.id = import_id
        self.prefix = keys.import_prefix(import_id)
        self._lease_ms = lease_ms
        self._stage = client.register_script(_STAGE)
        self.published = False

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[ImportTransaction]:
        """Hold the import lease (renewed in the background); recover a dead import first."""
        reply = await self._r.eval(
            _BEGIN, 2, keys.IMPORT_LEASE, keys.IMPORT_STATE, self.id, self._lease_ms
        )
        if reply[0] == "running":
            raise StoreError(f"another import ({reply[1]}) is running; try again when it ends")
        renew = asyncio.create_task(self._renew_forever())
        try:
            await recover(self._r, prior_id=str(reply[1]), prior_state=str(reply[2]))
            await self._r.hset(keys.IMPORT_STATE, mapping={"id": self.id, "state": "staging"})
            yield self
        finally:
            renew.cancel()
            with suppress(asyncio.CancelledError):
                await renew
            await self._release()

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self._lease_ms / 3000)
            with suppress(RedisError, OSError):
                await self._r.eval(_RENEW, 1, keys.IMPORT_LEASE, self.id, self._lease_ms)

    async def _release(self) -> None:
        """Give the lease back; a crash leaves it to lapse (``IMPORT_LEASE_TTL_MS``)."""
        with suppress(RedisError, OSError):
            if not self.published:
                await discard(self._r, self.prefix)
                await self._r.eval(_FORGET, 1, keys.IMPORT_STATE, self.id)
            await self._r.eval(_RENEW, 1, keys.IMPORT_LEASE, self.id, 0)

    async def version(self) -> str:
        return str(await self._r.get(keys.CUSTOMER_VERSION) or "0")

    async def stage_packed(self, fields: bytes, count: int) -> list[tuple[str, str, str]]:
        """Stage ``count`` records in RESP form; returns (id, number, owner) of those refused."""
        if not count:
            return []
        head = [keys.IMPORT_LEASE, self.id, keys.CUSTOMER_ROOT, self.prefix]
        try:
            reply = await evalsha_packed(
                self._r, self._stage, 1, head, fields=fields, nfields=count * 3
            )
        except ResponseError as exc:
            if "LOSTLEASE" in str(exc):
                raise StoreError(
                    "the import lost its lease (paused too long?); nothing was published"
                ) from None
            raise
        return [(str(cid), str(num), str(owner)) for cid, num, owner in reply]

    async def publish(self, seen_version: str) -> PublishOutcome:
        """Show every staged key at once, if nothing was written since ``seen_version``."""
        outcome = await self._r.eval(
            _PUBLISH,
            4,
            keys.IMPORT_LEASE,
            keys.IMPORT_STATE,
            keys.IMPORT_LIVE,
            keys.CUSTOMER_VERSION,
            self.id,
            self.prefix,
            seen_version,
        )
        self.published = outcome == "ok"
        return str(outcome)

    async def discard(self) -> None:
        """Drop what was staged (before publishing), to stage again or give up."""
        await discard(self._r, self.prefix)


async def discard(client: Redis, prefix: str) -> None:
    """Delete an unpublished staging area (never the live data)."""
    while await client.eval(_DISCARD, 0, prefix, MERGE_KEYS):
        pass


async def merge(client: Redis, prefix: str) -> None:
    """Move a published import onto the live keys in short steps, then clear the switch."""
    while await client.eval(_MERGE, 0, keys.CUSTOMER_ROOT, prefix, MERGE_KEYS):
        pass
    await client.eval(_FINISH, 2, keys.IMPORT_LIVE, keys.IMPORT_STATE, prefix)


async def settle(client: Redis) -> bool:
    """Finish a published import's merge, if one is pending; True if there was one."""
    prefix = await client.get(keys.IMPORT_LIVE)
    if not prefix:
        return False
    await merge(client, prefix if isinstance(prefix, str) else prefix.decode())
    return True


async def recover(client: Redis, prior_id: str, prior_state: str) -> None:
    """Finish (published) or clean up (staging) an import that died; the caller holds the lease."""
    if not prior_id:
        return
    if prior_state == "published":
        await settle(client)
    else:
        await discard(client, keys.import_prefix(prior_id))
    await client.delete(keys.IMPORT_STATE)


def bulk(value: bytes) -> bytes:
    """One RESP bulk string."""
    return b"$%d\r\n%s\r\n" % (len(value), value)


async def evalsha_packed(
    client: Redis,
    script: AsyncScript,
    numkeys: int,
    head: Sequence[str],
    *,
    fields: bytes,
    nfields: int,
) -> Any:
    """EVALSHA with ``nfields`` arguments already in RESP form after ``head``.

    Why: a million-row import spends most of its client time in redis-py
    packing three million arguments; records packed once from the spool go
    to the socket as they are.
    """
    parts = [b"EVALSHA", script.sha.encode(), str(numkeys).encode(), *(h.encode() for h in head)]
    command = b"*%d\r\n%s%s" % (len(parts) + nfields, b"".join(map(bulk, parts)), fields)
    try:
        return await _send_packed(client, command)
    except NoScriptError:
        await client.script_load(script.script)
        return await _send_packed(client, command)


async def _send_packed(client: Redis, command: bytes) -> Any:
    pool = client.connection_pool
    conn = await pool.get_connection()  # type: ignore[no-untyped-call]
    try:
        await conn.send_packed_command(command)
        return await conn.read_response()
    except ResponseError:
        raise  # a script error leaves the connection in step
    except BaseException:
        await conn.disconnect()
        raise
    finally:
        await pool.release(conn)
