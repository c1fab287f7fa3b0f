"""Redis adapter: queue mirror, snapshot in one round trip, the calls stream."""

from __future__ import annotations

import asyncio
import math
import random
from pathlib import Path

import orjson
import pytest
from redis.asyncio import Redis

from router.ami.framing import parse_frame
from router.ami.listener import AMIListener
from router.ami.records import CallRecord, export, from_fields, to_fields
from router.ami.state import LiveState, apply
from router.ami.store import RedisQueueState, RedisStateWriter, record_ivr_path
from router.storage import keys
from tests.ami.fake_ami import FakeAMI
from tests.ami.test_listener import config, until
from tests.ami.transcripts import load


def _frames(text: str) -> list[dict[str, str]]:
    return [parse_frame(block.encode()) for block in text.strip().split("\n\n")]


ROUTED_CALL = """Event: Newchannel
Channel: PJSIP/trunk-1
Uniqueid: 9.1
CallerIDNum: 13800138000
Exten: 4008001234

Event: VarSet
Channel: PJSIP/trunk-1
Uniqueid: 9.1
Variable: TIERLINE_TIER
Value: vip

Event: VarSet
Channel: PJSIP/trunk-1
Uniqueid: 9.1
Variable: TIERLINE_CUSTOMER
Value: C42

Event: QueueCallerJoin
Channel: PJSIP/trunk-1
Uniqueid: 9.1
Queue: vip
ChanVariable: TIERLINE_PRIO=10

Event: Hangup
Channel: PJSIP/trunk-1
Uniqueid: 9.1
Cause: 16"""


class TestQueueMirror:
    async def test_snapshot_reads_every_queue(self, redis_client: Redis) -> None:
        """Both written queues come back as QueueSnapshots; EWT is inf with no agent."""
        state, writer = LiveState(), RedisStateWriter(redis_client)
        delta = apply(state, parse_frame(b"Event: QueueParams\nQueue: empty"), 10.0)
        for frame in _frames(ROUTED_CALL)[:4]:
            apply(state, frame, 100.0, delta)
        await writer.write(state, delta, 100.0)
        snaps = await RedisQueueState(redis_client, clock=lambda: 130.0).snapshot()
        assert set(snaps) == {"empty", "vip"}
        vip = snaps["vip"]
        assert (vip.waiting, vip.longest_wait, vip.open) == (1, 30.0, True)
        assert math.isinf(vip.ewt)
        assert snaps["empty"].waiting == 0
        waiting = await redis_client.hgetall(keys.queue_callers_key("vip"))
        assert orjson.loads(waiting["9.1"])["tier"] == "vip"
        assert orjson.loads(waiting["9.1"])["priority"] == 10

    async def test_snapshot_is_one_round_trip(self, redis_client: Redis) -> None:
        """snapshot() issues exactly one command (EVALSHA) however many queues exist."""
        state, writer = LiveState(), RedisStateWriter(redis_client)
        delta = apply(state, parse_frame(b"Event: QueueParams\nQueue: a"), 1.0)
        for name in "bcdefg":
            apply(state, parse_frame(f"Event: QueueParams\nQueue: {name}".encode()), 1.0, delta)
        await writer.write(state, delta, 1.0)
        reader = RedisQueueState(redis_client)
        await reader.snapshot()  # loads the script
        sent: list[object] = []
        original = redis_client.execute_command

        async def counting(*args: object, **kw: object) -> object:
            sent.append(args[0])
            return await original(*args, **kw)

        redis_client.execute_command = counting  # type: ignore[method-assign]
        assert len(await reader.snapshot()) == 7
        assert sent == ["EVALSHA"]

    async def test_removed_queue_disappears(self, redis_client: Redis) -> None:
        """A queue gone from a resync is deleted from Redis and from the index."""
        state, writer = LiveState(), RedisStateWriter(redis_client)
        await writer.write(
            state, apply(state, parse_frame(b"Event: QueueParams\nQueue: old"), 1.0), 1.0
        )
        from router.ami.state import resync

        await writer.write(state, resync(state, [], 2.0), 2.0)
        assert await RedisQueueState(redis_client).snapshot() == {}
        assert not await redis_client.exists(keys.queue_key("old"))


class TestCallsStream:
    async def test_record_with_ivr_path_written_by_router(self, redis_client: Redis) -> None:
        """record_ivr_path() before hangup ends up in the call's stream entry."""
        state, writer = LiveState(), RedisStateWriter(redis_client)
        path = orjson.dumps([{"node": "main", "choice": "2"}, {"node": "billing"}]).decode()
        await record_ivr_path(redis_client, "9.1", path)
        for frame in _frames(ROUTED_CALL):
            delta = apply(state, frame, 100.0)
            await writer.write(state, delta, 100.0)
        [(entry, fields)] = await redis_client.xrange(keys.CALLS_STREAM)
        rec = from_fields(fields)
        [day] = [k async for k in redis_client.scan_iter(match=f"{keys.CALLERS_KEY_PREFIX}*")]
        assert await redis_client.hget(day, entry) == "13800138000", "full number beside it"
        assert (rec.caller, rec.dnis, rec.customer, rec.tier, rec.priority) == (
            "138****8000",
            "4008001234",
            "C42",
            "vip",
            10,
        )
        assert (rec.queue, rec.outcome, rec.path) == ("vip", "unanswered", path)
        assert not await redis_client.exists(keys.ivr_path_key("9.1")), "path key consumed"

    async def test_path_from_channel_variable(self, redis_client: Redis) -> None:
        """TIERLINE_PATH set as a channel variable is recorded; the call never queued -> ivr."""
        state = LiveState()
        frames = _frames(ROUTED_CALL)
        frames[1] = {**frames[1], "Variable": "TIERLINE_PATH", "Value": "main:1>balance"}
        del frames[3]
        delta = apply(state, frames[0], 1.0)
        for frame in frames[1:]:
            apply(state, frame, 2.0, delta)
        [rec] = delta.finished
        assert (rec.path, rec.outcome, rec.queue) == ("main:1>balance", "ivr", "")

    def test_fields_round_trip_and_export_masks(self) -> None:
        """to_fields/from_fields round-trip; export() masks the calling number."""
        rec = CallRecord("1.2", caller="13800138000", tier="vip", joined_at=1.5, ended_at=9.25)
        assert from_fields(to_fields(rec)) == rec
        assert export(rec)["caller"] == "138****8000"
        assert from_fields({"uniqueid": "x", "ended_at": "bad"}).ended_at == 0.0

    @pytest.mark.shared
    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("02", [("support", "answered", "10")]),
            ("03", [("sales", "abandoned", "0")]),
            (
                "04",
                [
                    ("support", "answered", "10"),
                    ("support", "answered", "0"),
                    ("support", "answered", "0"),
                ],
            ),
            ("10", [("support", "answered", "10")]),
        ],
    )
    async def test_capture_over_tcp_lands_in_stream(
        self, shared_dir: Path, redis_client: Redis, name: str, expected: list[tuple[str, ...]]
    ) -> None:
        """Capture bytes sent by a fake Asterisk give the expected records in the Redis stream."""
        fake = FakeAMI()
        await fake.start()
        lst = AMIListener(config(fake.port), RedisStateWriter(redis_client), rng=random.Random(3))
        await lst.start()
        try:
            await lst.wait_connected(3.0)
            path = next((shared_dir / "ami").glob(f"{name}-*.txt"))
            capture = bytes(load(path)[0].server)
            body = capture[capture.index(b"\r\n\r\n") + 4 :]  # skip banner + its login reply
            await fake.push_raw(body, chunk=777)
            async with asyncio.timeout(5):
                while await redis_client.xlen(keys.CALLS_STREAM) < len(expected):  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
            await until(lambda: _drained(lst))
            await asyncio.sleep(0.1)  # nothing more may arrive
            entries = await redis_client.xrange(keys.CALLS_STREAM)
        finally:
            await lst.stop()
            await fake.close()
        got = [(f["queue"], f["outcome"], f["priority"]) for _, f in entries]
        assert sorted(got) == sorted(expected)
        assert [f["answered_at"] for _, f in entries] == sorted(
            f["answered_at"] for _, f in entries
        )


def _drained(lst: AMIListener) -> bool:
    return not lst.state.calls and not any(q.waiting for q in lst.state.queues.values())
