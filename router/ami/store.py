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
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson
from redis.asyncio import Redis

from router.ami.records import CallRecord, to_fields
from router.ami.state import Delta, LiveState, expected_wait
from router.storage import keys
from router.types import QueueSnapshot

__all__ = ["RedisQueueState", "RedisStateWriter", "record_ivr_path"]

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
    """Mirror a :class:`Delta` into Redis and append finished calls to the stream."""

    def __init__(self, redis: Redis, maxlen: int = keys.CALLS_STREAM_MAXLEN) -> None:
        self._redis = redis
        self._maxlen = maxlen

    async def write(self, state: LiveState, delta: Delta, now: float) -> None:
        """One pipeline for the queues; a second one only when calls ended."""
        pipe = self._redis.pipeline(transaction=False)
        for name in delta.queues:
            live = state.queues.get(name)
            if live is not None:
                _queue_commands(pipe, state, name, now)
        for name in delta.removed:
            pipe.delete(keys.queue_key(name), keys.queue_callers_key(name))
            pipe.srem(keys.QUEUE_INDEX, name)
        first = len(pipe)
        for rec in delta.finished:
            pipe.getdel(keys.ivr_path_key(rec.uniqueid))
        results = await pipe.execute() if len(pipe) else []
        if delta.finished:
            await self._append(delta.finished, results[first:])

    async def _append(self, records: Sequence[CallRecord], paths: Sequence[Any]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for rec, stored in zip(records, paths, strict=True):
            fields = to_fields(rec)
            if stored and not rec.path:
                fields["path"] = stored.decode() if isinstance(stored, bytes) else str(stored)
            pipe.xadd(keys.CALLS_STREAM, fields, maxlen=self._maxlen, approximate=True)  # type: ignore[arg-type]
        await pipe.execute()


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
    as channel variable ``TIERLINE_PATH`` wins over this one.
    """
    await redis.set(keys.ivr_path_key(uniqueid), path_json, ex=keys.IVR_PATH_TTL_S)
