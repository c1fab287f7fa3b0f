"""Each routed call's IVR path and its one log line, kept after the call has left us.

Why: Asterisk's ``AGI()`` returns only when we close the socket, so any
work between sending the route and closing (a Redis ``SET`` of the path,
two log lines) was set-up time the caller spent in silence. The router now
hands the finished walk to a :class:`PathKeeper` and returns at once; the
keeper logs them and writes the paths of all calls that ended within
``GATHER_S`` in one pipeline, from a task that runs after the sockets are
closed.

A walk that ends the call in the IVR (``hangup``, ``callback``) is the
exception: the dialplan hangs up the moment ``AGI()`` returns and the
listener writes the call's record at that ``Hangup``, so its path is written
before the socket closes (:meth:`PathKeeper.keep_final`). Written later it
missed the record (seen live on Asterisk 22.10.1: every self-service call had
an empty path, so containment read 0 % and no exit point was ever shown).

Bounded: at most ``limit`` walks wait; beyond that a walk's path is dropped
(counted and logged) rather than letting a dead Redis grow the router's
memory. The task ends when nothing waits, so nothing outlives the calls.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from router.ami.store import record_ivr_paths
from router.flows.walk import FlowWalk
from router.logs import get_logger
from router.storage import keys

__all__ = ["IVR_ENDINGS", "PathKeeper", "path_json"]

log = get_logger("tierline.calls")

WRITE_DEADLINE_S = 0.5
BATCH = 256
GATHER_S = 0.1
"""How long the first waiting walk waits for others to share its write (the listener needs
the path only at the call's hangup, seconds later)."""
IVR_ENDINGS = frozenset({"hangup", "callback"})
"""Walk outcomes after which the dialplan hangs up at once (``TIERLINE_ACTION``)."""


def path_json(record: FlowWalk) -> str:
    """The call's path in the shape the AMI listener merges into its record."""
    doc: dict[str, Any] = record.as_dict()
    doc["steps"] = [{"node": s.node, "choice": s.choice, "flow": s.flow} for s in record.path]
    del doc["path"]
    return orjson.dumps(doc, default=str).decode()


class PathKeeper:
    """Logs each finished walk and leaves its path in Redis for the AMI listener."""

    def __init__(self, redis: Redis | None, limit: int = 10_000) -> None:
        self._redis = redis
        self._limit = limit
        self._waiting: list[tuple[FlowWalk, bool]] = []
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def keep(self, record: FlowWalk, *, resumed: bool) -> None:
        """Queue a walk; never waits (the caller's socket closes right after)."""
        if len(self._waiting) >= self._limit:
            self.dropped += 1
            log.warning("call.path_dropped", uniqueid=record.uniqueid, dropped=self.dropped)
            return
        self._waiting.append((record, resumed))
        if self._task is None:
            # A fresh context: the ids bound to this call must not tag the others' lines.
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._drain(), context=contextvars.Context())

    async def keep_final(self, record: FlowWalk, *, resumed: bool) -> None:
        """Log and write a walk now, with this call's walks still waiting (a resumed
        call's earlier walk, so they join); the caller's socket closes only after this.

        Costs the caller nothing audible: its route is set and its last prompt played.
        """
        # Only this call's own walks: the others stay with the background drain, so a
        # caller never waits on a backlog of other calls' paths.
        mine = [w for w in self._waiting if w[0].uniqueid == record.uniqueid]
        self._waiting = [w for w in self._waiting if w[0].uniqueid != record.uniqueid]
        await self._flush([*mine, (record, resumed)])

    async def aclose(self) -> None:
        """Wait for the walks already handed over (at shutdown, before Redis closes)."""
        if self._task is not None:
            await self._task

    async def _drain(self) -> None:
        try:
            await asyncio.sleep(GATHER_S)
            while self._waiting:
                batch, self._waiting = self._waiting[:BATCH], self._waiting[BATCH:]
                await self._flush(batch)
        finally:
            self._task = None

    async def _flush(self, batch: list[tuple[FlowWalk, bool]]) -> None:
        """Log each walk of ``batch``, then write their paths in one go."""
        for record, _ in batch:
            _log_done(record)
        if self._redis is not None:
            await self._write(self._redis, batch)

    async def _write(self, redis: Redis, batch: list[tuple[FlowWalk, bool]]) -> None:
        try:
            async with asyncio.timeout(WRITE_DEADLINE_S):
                texts = await _texts(redis, batch)
                await record_ivr_paths(redis, list(texts.items()))
        except (TimeoutError, RedisError, OSError) as exc:
            log.warning("call.path_not_kept", calls=len(batch), error=repr(exc)[:200])


async def _texts(redis: Redis, batch: list[tuple[FlowWalk, bool]]) -> dict[str, str]:
    """Each call's path text; a resumed call's joined to its walk before the queue
    (kept in Redis, or earlier in this very batch)."""
    again = [r.uniqueid for r, resumed in batch if resumed]
    stored: dict[str, bytes | str | None] = {}
    if again:
        found = await redis.mget([keys.ivr_path_key(u) for u in again])
        stored = dict(zip(again, found, strict=True))
    texts: dict[str, str] = {}
    for record, resumed in batch:
        text = path_json(record)
        uid = record.uniqueid
        texts[uid] = _joined(texts.get(uid) or stored.get(uid), text) if resumed else text
    return texts


def _log_done(record: FlowWalk) -> None:
    log.info(
        "call.done",
        uniqueid=record.uniqueid,
        flow=record.flow,
        version=record.flow_version,
        flowset_version=record.flowset_version,
        outcome=record.outcome,
        steps=len(record.path),
        elapsed_ms=round(record.duration_ms, 2),
    )


def _joined(before: bytes | str | None, after: str) -> str:
    """A resumed call's path: the steps before the queue, then the ones after it."""
    if not before:
        return after
    doc = orjson.loads(after)
    doc["steps"] = [*orjson.loads(before).get("steps", []), *doc["steps"]]
    return orjson.dumps(doc).decode()
