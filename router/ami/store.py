"""Redis adapter for the live state: the writer and the ``QueueState`` reader.

The listener owns the truth in memory (:class:`router.ami.state.LiveState`)
and mirrors the queues a batch of events touched into Redis in one
pipeline. Routers on any host read every queue back in ONE round trip (a
Lua script over the ``{q}`` family), so a routing decision costs one
network hop for the whole queue picture.

Layout (all under the ``{q}`` hash tag, see ``router.storage.keys``):

* ``queue_key(q)`` HASH: ``waiting``, ``oldest_join`` (epoch s, 0 = none),
  ``logged_in``, ``available``, ``paused``, ``aht`` (s), ``updated_at``;
* ``queue_callers_key(q)`` HASH: uniqueid -> JSON of the waiting caller
  (``tier``, ``joined_at``, ``priority``, ``base_priority``, ``channel``);
* ``QUEUE_INDEX`` SET of queue names.

Longest wait and EWT are computed at read time from these inputs, so they
are as fresh as the reader's clock, not the last event.

Call records go to ``CALLS_STREAM`` through ONE script per batch that also
consumes the IVR paths (GET + DEL + XADD together: a Redis failure can no
longer eat a path between two pipelines). The stream entry keeps the
calling number masked; the full number sits in ``callers_key(day)`` (stream
id -> number), so :func:`pseudonymise_caller` can erase it without editing
stream entries, which Redis cannot do in place.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from redis.asyncio import Redis

from router.ami.records import CallRecord, to_fields
from router.ami.state import Delta, LiveState, expected_wait
from router.logs import mask_number
from router.storage import keys
from router.types import QueueSnapshot

__all__ = [
    "RedisQueueState",
    "RedisStateWriter",
    "pseudonymise_caller",
    "record_ivr_path",
    "record_ivr_paths",
]

_DAY_S = 86400
_CHUNK = 500  # records per script call: keeps each one short for Redis

# KEYS: stream, path index, written (this bucket), written (the one before), then
#       (path key, callers key) per record.
# ARGV: maxlen, trim MINID ('0' = none), callers TTL s (0 = none), record count,
#       bucket length s, then per record: uniqueid, full caller, field count, field/value pairs.
# A record whose uniqueid is in either "written" hash is skipped: a retry after
# a timed-out call that Redis did run must not write the records twice.
_APPEND_LUA = """
local function write_one(pathkey, callers, uid, caller, fields, n, ttl)
  local stored = redis.call('GET', pathkey)
  if stored then
    for i = 1, n, 2 do
      if fields[i] == 'path' and fields[i + 1] == '' then fields[i + 1] = stored end
    end
  end
  -- XADD first: a script is not rolled back, so a failed XADD must find the path intact.
  local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(fields))
  redis.call('HSET', KEYS[3], uid, 1)
  if stored then
    redis.call('DEL', pathkey)
    redis.call('ZREM', KEYS[2], pathkey)
  end
  if caller ~= '' then
    redis.call('HSET', callers, id, caller)
    if ttl > 0 then redis.call('EXPIRE', callers, ttl) end
  end
end
local ttl = tonumber(ARGV[3])
local a, k = 6, 5
for _ = 1, tonumber(ARGV[4]) do
  local pathkey, callers = KEYS[k], KEYS[k + 1]
  local uid, caller, n = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  local fields = {}
  for i = 1, n do fields[i] = ARGV[a + 2 + i] end
  k, a = k + 2, a + 3 + n
  if redis.call('HEXISTS', KEYS[3], uid) == 0 and redis.call('HEXISTS', KEYS[4], uid) == 0 then
    write_one(pathkey, callers, uid, caller, fields, n, ttl)
  end
end
redis.call('EXPIRE', KEYS[3], 2 * tonumber(ARGV[5]))
if ARGV[2] ~= '0' then redis.call('XTRIM', KEYS[1], 'MINID', ARGV[2]) end
return 1
"""

# KEYS: path key, path index. ARGV: path, ttl s, now, cap.
_PATH_LUA = """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], KEYS[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (tonumber(ARGV[3]) - tonumber(ARGV[2])))
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if over > 0 then
  local old = redis.call('ZPOPMIN', KEYS[2], over)
  for i = 1, #old, 2 do redis.call('DEL', old[i]) end
end
return 1
"""

_SNAPSHOT_LUA = """
local names = redis.call('SMEMBERS', KEYS[1])
local out = {}
for _, name in ipairs(names) do
  out[#out + 1] = name
  out[#out + 1] = redis.call('HGETALL', ARGV[1] .. name)
end
return out
"""


class RedisStateWriter:
    """Mirror a :class:`Delta` into Redis and append finished calls to the stream.

    ``retention_days`` > 0 trims stream entries older than that (``XTRIM
    MINID``) on every write, and the full numbers expire with them.
    """

    def __init__(
        self,
        redis: Redis,
        maxlen: int = keys.CALLS_STREAM_MAXLEN,
        retention_days: float = 0.0,
    ) -> None:
        self._redis = redis
        self._maxlen = maxlen
        self._retention_s = max(0.0, retention_days) * _DAY_S
        self._append = redis.register_script(_APPEND_LUA)
        self._masked_since_set = False

    async def write(self, state: LiveState, delta: Delta, now: float) -> None:
        """One pipeline for the queues, then the records (one script per chunk)."""
        pipe = self._redis.pipeline(transaction=False)
        for name in delta.queues:
            if name in state.queues:
                _queue_commands(pipe, state, name, now)
        for name in delta.removed:
            pipe.delete(keys.queue_key(name), keys.queue_callers_key(name))
            pipe.srem(keys.QUEUE_INDEX, name)
        if len(pipe):
            await pipe.execute()
        while delta.finished:
            chunk = delta.finished[:_CHUNK]
            await self._append_records(chunk, now)
            # Written: a retry after a later failure must not write them twice.
            del delta.finished[: len(chunk)]

    async def _append_records(self, records: Sequence[CallRecord], now: float) -> None:
        if not self._masked_since_set:
            await self._redis.set(keys.MASKED_SINCE, f"{int(now * 1000)}-0", nx=True)
            self._masked_since_set = True
        ttl = int(self._retention_s + 2 * _DAY_S) if self._retention_s else 0
        minid = f"{int((now - self._retention_s) * 1000)}-0" if self._retention_s else "0"
        bucket = int(now // keys.WRITTEN_BUCKET_S)
        key_list: list[str] = [
            keys.CALLS_STREAM,
            keys.IVR_PATH_INDEX,
            keys.written_key(bucket),
            keys.written_key(bucket - 1),
        ]
        args: list[Any] = [self._maxlen, minid, ttl, len(records), keys.WRITTEN_BUCKET_S]
        for rec in records:
            fields = to_fields(rec)
            fields["caller"] = mask_number(rec.caller) if rec.caller else ""
            key_list += [keys.ivr_path_key(rec.uniqueid), keys.callers_key(_day(rec.ended_at))]
            args += [rec.uniqueid, rec.caller, len(fields) * 2]
            args += [x for kv in fields.items() for x in kv]
        await self._append(keys=key_list, args=args)


def _day(at: float) -> str:
    return datetime.fromtimestamp(at or time.time(), UTC).strftime("%Y%m%d")


def _queue_commands(pipe: Any, state: LiveState, name: str, now: float) -> None:
    live = state.queues[name]
    logged, avail, paused = live.counts()
    waiting = live.waiting
    oldest = min((w.joined_at for w in waiting.values()), default=0.0)
    qkey, wkey = keys.queue_key(name), keys.queue_callers_key(name)
    pipe.hset(
        qkey,
        mapping={
            "waiting": len(waiting),
            "oldest_join": oldest,
            "logged_in": logged,
            "available": avail,
            "paused": paused,
            "aht": live.aht,
            "updated_at": now,
        },
    )
    pipe.expire(qkey, keys.QUEUE_STATE_TTL_S)
    pipe.delete(wkey)
    if waiting:
        pipe.hset(wkey, mapping={uid: _caller_json(w) for uid, w in waiting.items()})
        pipe.expire(wkey, keys.QUEUE_STATE_TTL_S)
    pipe.sadd(keys.QUEUE_INDEX, name)


def _caller_json(w: Any) -> bytes:
    return orjson.dumps(
        {
            "tier": w.tier,
            "joined_at": w.joined_at,
            "priority": w.priority,
            "base_priority": w.base_priority,
            "channel": w.channel,
        }
    )


class RedisQueueState:
    """``router.types.QueueState`` backed by the listener's Redis mirror."""

    def __init__(self, redis: Redis, clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._clock = clock
        self._script = redis.register_script(_SNAPSHOT_LUA)

    async def snapshot(self) -> Mapping[str, QueueSnapshot]:
        """Every known queue, read in one round trip (EVALSHA)."""
        return self.parse(await self._script(keys=[keys.QUEUE_INDEX], args=[keys.QUEUE_KEY_PREFIX]))

    @property
    def client(self) -> Redis:
        return self._redis

    def command(self) -> tuple[str, ...]:
        """The snapshot as one ``EVALSHA``, for a caller pipelining it with other reads."""
        return ("EVALSHA", self._script.sha, "1", keys.QUEUE_INDEX, keys.QUEUE_KEY_PREFIX)

    @property
    def script(self) -> tuple[str, str]:
        """The snapshot script's SHA1 and text (a pipeline falls back to EVAL on NOSCRIPT)."""
        return self._script.sha, _SNAPSHOT_LUA

    def parse(self, raw: Any) -> dict[str, QueueSnapshot]:
        """The script's reply as snapshots, as fresh as this reader's clock."""
        now = self._clock()
        out: dict[str, QueueSnapshot] = {}
        for name, flat in zip(raw[::2], raw[1::2], strict=True):
            text = _text(name)
            out[text] = _snapshot(text, _pairs(flat), now)
        return out


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _pairs(flat: Iterable[Any]) -> dict[str, str]:
    items = [_text(v) for v in flat]
    return dict(zip(items[::2], items[1::2], strict=True))


def _snapshot(name: str, h: Mapping[str, str], now: float) -> QueueSnapshot:
    def num(key: str) -> float:
        try:
            return float(h.get(key, 0) or 0)
        except ValueError:
            return 0.0

    waiting, avail = int(num("waiting")), int(num("available"))
    logged, paused = int(num("logged_in")), int(num("paused"))
    oldest = num("oldest_join")
    return QueueSnapshot(
        name=name,
        waiting=waiting,
        longest_wait=max(0.0, now - oldest) if waiting and oldest else 0.0,
        agents_logged_in=logged,
        agents_available=avail,
        agents_paused=paused,
        ewt=expected_wait(waiting, avail, logged, paused, num("aht")),
        open=bool(h),
    )


async def record_ivr_path(redis: Redis, uniqueid: str, path_json: str) -> None:
    """Attach the IVR path to a call still in progress (the router calls this).

    The listener merges it into the call's record at hangup. A path also set
    as channel variable ``TIERLINE_PATH`` wins over this one. Paths wait at
    most ``IVR_PATH_TTL_S`` and at most ``IVR_PATH_CAP`` of them at once
    (oldest evicted), so they cannot pile up when no listener consumes them.
    """
    await record_ivr_paths(redis, [(uniqueid, path_json)])


async def record_ivr_paths(redis: Redis, paths: Sequence[tuple[str, str]]) -> None:
    """``record_ivr_path`` for several calls in one pipeline (the router batches them)."""
    script = redis.register_script(_PATH_LUA)
    now = time.time()
    pipe = redis.pipeline(transaction=False)
    for uniqueid, path_json in paths:
        key = keys.ivr_path_key(uniqueid)
        args: list[str | int | float] = [path_json, keys.IVR_PATH_TTL_S, now, keys.IVR_PATH_CAP]
        await script(keys=[key, keys.IVR_PATH_INDEX], args=args, client=pipe)  # queued
    await pipe.execute()


async def pseudonymise_caller(redis: Redis, numbers: Iterable[str], customer_id: str) -> int:
    """Erase a customer's calling numbers from the call records; returns records changed.

    Stream entries cannot be edited in place, and re-adding them would
    break time order, so records never hold the full number: the entry has
    it masked and ``callers_key(day)`` maps the entry id to the number.
    Erasing deletes those hash fields for every record of ``numbers`` or of
    ``customer_id`` (a number the customer no longer lists included).
    Records written before masking existed hold the number in clear; those
    are deleted (XDEL). Cost: one pass over the stream and the hashes.
    """
    wanted = {d for d in (_digits(n) for n in numbers) if d}
    by_customer, legacy = await _scan_stream(redis, wanted, customer_id)
    changed = len(legacy)
    if legacy:
        await redis.xdel(keys.CALLS_STREAM, *legacy)
    async for hkey in redis.scan_iter(match=f"{keys.CALLERS_KEY_PREFIX}*", count=1000):
        doomed = [
            _text(entry)
            async for entry, number in redis.hscan_iter(hkey, count=1000)
            if _text(entry) in by_customer or _matches(_digits(_text(number)), wanted)
        ]
        if doomed:
            changed += int(await redis.hdel(hkey, *doomed))
    return changed


async def _scan_stream(
    redis: Redis, wanted: set[str], customer_id: str
) -> tuple[set[str], list[str]]:
    """(ids of the customer's records, ids of clear-number records to delete)."""
    since = _text(await redis.get(keys.MASKED_SINCE) or "+")
    by_customer: set[str] = set()
    legacy: list[str] = []
    low = "-"
    while True:
        page: list[Any] = await redis.xrange(keys.CALLS_STREAM, min=low, count=5000) or []
        for raw_id, raw in page:
            entry, fields = _text(raw_id), {_text(k): _text(v) for k, v in raw.items()}
            if customer_id and fields.get("customer") == customer_id:
                by_customer.add(entry)
            if _clear_number_of(fields.get("caller", ""), entry, since, by_customer, wanted):
                legacy.append(entry)
        if len(page) < 5000:
            return by_customer, legacy
        low = "(" + _text(page[-1][0])


def _clear_number_of(
    caller: str, entry: str, since: str, by_customer: set[str], wanted: set[str]
) -> bool:
    """A record written before masking whose clear number must go."""
    if not caller or "*" in caller or not _before(entry, since):
        return False
    return entry in by_customer or _matches(_digits(caller), wanted)


def _before(entry: str, since: str) -> bool:
    if since == "+":
        return True
    a, _, b = entry.partition("-")
    c, _, d = since.partition("-")
    return (int(a), int(b or 0)) < (int(c), int(d or 0))


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def _matches(digits: str, wanted: set[str]) -> bool:
    """Same number, also national vs international form (one ends the other, >= 7 digits)."""
    if not digits:
        return False
    for want in wanted:
        short, long_ = sorted((digits, want), key=len)
        if short == long_ or (len(short) >= 7 and long_.endswith(short)):
            return True
    return False
