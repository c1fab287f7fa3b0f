"""The calls stream in Redis: IVR paths consumed atomically and bounded, retention,
masked callers with the full numbers beside them, and erasure of a customer's numbers."""

from __future__ import annotations

import time

import pytest
from redis.asyncio import Redis

from router.ami.records import CallRecord
from router.ami.state import Delta, LiveState
from router.ami.store import RedisStateWriter, pseudonymise_caller, record_ivr_path
from router.storage import keys

NOW = time.time()


def _delta(*records: CallRecord) -> Delta:
    return Delta(finished=list(records))


async def _everything(redis: Redis) -> str:
    """Every stream entry and every callers hash, as one text to search numbers in."""
    parts = [str(fields) for _, fields in await redis.xrange(keys.CALLS_STREAM)]
    async for key in redis.scan_iter(match=f"{keys.CALLERS_KEY_PREFIX}*"):
        parts.append(str(await redis.hgetall(key)))
    return "\n".join(parts)


class TestIvrPathAtomic:
    async def test_failed_append_keeps_the_path_for_the_retry(self, redis_client: Redis) -> None:
        """The append fails after the path was read (XADD refused): the path is not lost,
        and the retry writes the record with it."""
        await record_ivr_path(redis_client, "9.1", '["main:2"]')
        await redis_client.set(keys.CALLS_STREAM, "not a stream")  # XADD -> WRONGTYPE
        writer, rec = RedisStateWriter(redis_client), CallRecord("9.1", ended_at=NOW)
        delta = _delta(rec)
        with pytest.raises(Exception, match="WRONGTYPE"):
            await writer.write(LiveState(), delta, NOW)
        await redis_client.delete(keys.CALLS_STREAM)
        await writer.write(LiveState(), _delta(rec), NOW)
        [(_, fields)] = await redis_client.xrange(keys.CALLS_STREAM)
        assert fields["path"] == '["main:2"]'
        assert not await redis_client.exists(keys.ivr_path_key("9.1"))
        assert await redis_client.zcard(keys.IVR_PATH_INDEX) == 0


class TestIvrPathBounded:
    async def test_paths_nobody_consumes_are_capped_and_expire(
        self, redis_client: Redis, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With no listener consuming them, at most IVR_PATH_CAP paths wait (newest kept),
        each with a TTL no longer than IVR_PATH_TTL_S (2 h)."""
        monkeypatch.setattr(keys, "IVR_PATH_CAP", 3)
        for n in range(5):
            await record_ivr_path(redis_client, f"1.{n}", '["main"]')
        kept = [n for n in range(5) if await redis_client.exists(keys.ivr_path_key(f"1.{n}"))]
        assert kept == [2, 3, 4]
        assert await redis_client.zcard(keys.IVR_PATH_INDEX) == 3
        ttl = await redis_client.ttl(keys.ivr_path_key("1.4"))
        assert 0 < ttl <= keys.IVR_PATH_TTL_S <= 2 * 3600


class TestRetentionAndErasure:
    async def test_records_older_than_retention_are_trimmed(self, redis_client: Redis) -> None:
        """TIERLINE_RECORDS_RETENTION_DAYS: entries older than that go at the next write,
        and the full numbers' hashes expire with them."""
        old = int((NOW - 3 * 86400) * 1000)
        await redis_client.xadd(keys.CALLS_STREAM, {"uniqueid": "old"}, id=f"{old}-0")
        writer = RedisStateWriter(redis_client, retention_days=1)
        await writer.write(LiveState(), _delta(CallRecord("new", caller="13800138000")), NOW)
        ids = [f["uniqueid"] for _, f in await redis_client.xrange(keys.CALLS_STREAM)]
        assert ids == ["new"]
        [hkey] = [k async for k in redis_client.scan_iter(match=f"{keys.CALLERS_KEY_PREFIX}*")]
        assert 0 < await redis_client.ttl(hkey) <= 3 * 86400

    async def test_pseudonymise_removes_every_number_of_the_customer(
        self, redis_client: Redis
    ) -> None:
        """Erasure: no full number of the customer remains (new records and records written
        in clear before masking existed); other callers keep theirs; time order is kept."""
        legacy_id = f"{int((NOW - 60) * 1000)}-0"
        await redis_client.xadd(
            keys.CALLS_STREAM, {"uniqueid": "0.1", "caller": "13800138000"}, id=legacy_id
        )
        writer = RedisStateWriter(redis_client)
        await writer.write(
            LiveState(),
            _delta(
                CallRecord("1.1", caller="13800138000", customer="C42", ended_at=NOW),
                CallRecord("1.2", caller="+86 139 0000 1111", customer="C42", ended_at=NOW),
                CallRecord("1.3", caller="13700000000", customer="C7", ended_at=NOW),
            ),
            NOW,
        )
        before = await _everything(redis_client)
        assert "13800138000" in before
        assert "13900001111" in before.replace(" ", "")
        changed = await pseudonymise_caller(redis_client, ["+8613800138000"], "C42")
        after = await _everything(redis_client)
        assert changed == 3  # the legacy entry, 1.1 by number, 1.2 by customer id
        assert "13800138000" not in after
        assert "0000 1111" not in after
        assert "13700000000" in after, "another customer's number stays"
        ids = [e for e, _ in await redis_client.xrange(keys.CALLS_STREAM)]
        assert len(ids) == 3, "legacy entry gone, the rest untouched"
        assert ids == sorted(ids)


class TestRetryIdempotent:
    async def test_a_batch_written_twice_gives_one_record(self, redis_client: Redis) -> None:
        """The pump gives up on a write after its timeout and retries; if Redis did run the
        first script, the retry must not add the same calls again."""
        writer = RedisStateWriter(redis_client)
        # the retry lands in the next dedup window (10 s before its end, then 20 s later):
        # where a retry comes from the pump's backoff (at most 30 s), whatever time it is now
        first = (NOW // keys.WRITTEN_BUCKET_S + 1) * keys.WRITTEN_BUCKET_S - 10
        rec = CallRecord("2.1", caller="13800138000", ended_at=first)
        await writer.write(LiveState(), _delta(rec), first)
        again = _delta(rec, CallRecord("2.2", ended_at=first))
        await writer.write(LiveState(), again, first + 20)
        ids = [f["uniqueid"] for _, f in await redis_client.xrange(keys.CALLS_STREAM)]
        assert ids == ["2.1", "2.2"]
