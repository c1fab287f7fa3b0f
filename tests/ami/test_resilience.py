"""The listener over real TCP when Redis hangs or dies, after a disconnect,
without app_queue, and with several routers sharing one AMI user."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from structlog.testing import capture_logs

from router.ami.aging import PriorityAger
from router.ami.election import LeaderLock
from router.ami.listener import AMIListener
from router.ami.pump import PumpConfig
from router.ami.records import CallRecord, from_fields
from router.ami.state import Delta
from router.ami.store import RedisStateWriter, record_ivr_path
from router.policy import StarvationGuard
from router.storage import keys
from tests.ami.fake_ami import FakeAMI
from tests.ami.redis_proxy import RedisProxy
from tests.ami.test_listener import config, until
from tests.redis_server import RedisProcess

FAST = PumpConfig(write_timeout_s=0.5, backoff_initial_s=0.05, backoff_max_s=0.4)


def _call(uid: str, channel: str, **extra: str) -> list[dict[str, str]]:
    """A routed caller joining 'support' and hanging up while waiting (real event names)."""
    base = {"Channel": channel, "Uniqueid": uid, "CallerIDNum": "13800138000", **extra}
    return [
        {"Event": "Newchannel", **base, "Exten": "4008001234"},
        {"Event": "QueueCallerJoin", **base, "Queue": "support", "Position": "1", "Count": "1"},
        {"Event": "QueueCallerAbandon", **base, "Queue": "support", "Position": "1"},
        {"Event": "Hangup", **base, "Cause": "16"},
    ]


ROUTED = {"ChanVariable(PJSIP/t-1)": "TIERLINE_TIER=vip"}


@pytest.fixture
async def fake() -> AsyncIterator[FakeAMI]:
    server = await FakeAMI().start()
    yield server
    await server.close()


@pytest.fixture
async def proxy(redis_proc: RedisProcess, redis_url: str) -> AsyncIterator[RedisProxy]:
    p = await RedisProxy(redis_proc.port).start()
    yield p
    await p.close()


async def _listener(fake: FakeAMI, redis: Redis, pump: PumpConfig = FAST) -> AMIListener:
    lst = AMIListener(config(fake.port), RedisStateWriter(redis), rng=random.Random(2), pump=pump)
    await lst.start()
    await lst.wait_connected(3.0)
    return lst


class TestRedisSlowOrDown:
    async def test_hung_redis_does_not_freeze_the_live_state(
        self, fake: FakeAMI, proxy: RedisProxy, redis_client: Redis
    ) -> None:
        """Redis stops answering (30 s socket timeout): events still reach the state at once,
        and the record is written once Redis answers again."""
        hung = Redis.from_url(proxy.url, decode_responses=True, socket_timeout=30)
        lst = await _listener(fake, hung)
        try:
            proxy.freeze()
            frames = _call("7.1", "PJSIP/t-1", **ROUTED)
            for f in frames[:2]:
                await fake.push(f)
            await until(lambda: "7.1" in {w.uniqueid for w in lst.state.waiting_calls()})
            for f in frames[2:]:
                await fake.push(f)
            # The caller left: the starvation guard must not see it any more.
            await until(lambda: not lst.state.waiting_calls() and not lst.state.calls)
            assert await redis_client.xlen(keys.CALLS_STREAM) == 0, "Redis is hung"
            proxy.resume()
            await until(lambda: lst.drained, within=5.0)
            [(_, fields)] = await redis_client.xrange(keys.CALLS_STREAM)
            assert (fields["uniqueid"], fields["outcome"]) == ("7.1", "abandoned")
        finally:
            proxy.resume()
            await lst.stop()
            await hung.aclose()

    async def test_redis_down_backs_off_holds_bounded_records_and_counts_drops(
        self, fake: FakeAMI, proxy: RedisProxy, redis_client: Redis
    ) -> None:
        """Redis killed: one warning then growing retry delays (no flood), at most
        ``max_held_records`` kept, the rest counted; the kept ones land when Redis is back."""
        down = Redis.from_url(proxy.url, decode_responses=True, socket_timeout=1)
        lst = await _listener(fake, down, PumpConfig(0.5, 0.05, 0.4, max_held_records=2))
        try:
            with capture_logs() as logs:
                await proxy.kill()
                for n in range(3):
                    chan = f"PJSIP/t-{n}"
                    for f in _call(
                        f"8.{n}", chan, **{f"ChanVariable({chan})": "TIERLINE_TIER=vip"}
                    ):
                        await fake.push(f)
                await until(lambda: lst.pump.failures >= 4, within=5.0)
            proxy.resume()
            await until(lambda: lst.drained, within=5.0)
            ids = [f["uniqueid"] for _, f in await redis_client.xrange(keys.CALLS_STREAM)]
        finally:
            proxy.resume()
            await lst.stop()
            await down.aclose()
        events = [e["event"] for e in logs]
        assert events.count("ami_sink_failed") == 1, "one warning per outage, not per retry"
        delays = [e["seconds"] for e in logs if e["event"] == "ami_sink_retry_in"]
        assert len(delays) >= 3
        assert delays == sorted(delays), "exponential backoff"
        assert lst.pump.records_dropped == 1
        assert ids == ["8.1", "8.2"], "the oldest record was dropped and counted"


class TestCallsAcrossADisconnect:
    async def test_hangup_after_reconnect_makes_a_record(
        self, fake: FakeAMI, redis_client: Redis
    ) -> None:
        """A call that started while AMI was down: its Hangup (routed headers) plus the
        stored IVR path still give a record; a Hangup with no TIERLINE_* headers is counted."""
        lst = await _listener(fake, redis_client)
        try:
            await record_ivr_path(redis_client, "1795348027.1", '["main:1","billing"]')
            await fake.drop()  # disconnect; the call starts meanwhile
            await until(lambda: lst.connections >= 2)
            await fake.push(
                {
                    "Event": "Hangup",
                    "Channel": "PJSIP/t-9",
                    "Uniqueid": "1795348027.1",
                    "CallerIDNum": "13800138000",
                    "Exten": "h",
                    "ChanVariable(PJSIP/t-9)": "TIERLINE_TIER=vip",
                    "Cause": "16",
                }
            )
            await fake.push({"Event": "Hangup", "Channel": "PJSIP/x-1", "Uniqueid": "1.9"})
            await until(lambda: lst.drained and bool(lst.state.counters))
            await until(lambda: lst.drained)
            entries = await redis_client.xrange(keys.CALLS_STREAM)
        finally:
            await lst.stop()
        [(_, fields)] = entries
        rec = from_fields(fields)
        assert (rec.uniqueid, rec.tier, rec.started_at) == ("1795348027.1", "vip", 1795348027.0)
        assert (rec.path, rec.outcome) == ('["main:1","billing"]', "unknown")
        assert lst.state.counters == {"records_rebuilt": 1, "hangups_not_rebuilt": 1}


class TestNoAppQueue:
    async def test_queuestatus_error_finishes_the_resync(
        self, fake: FakeAMI, redis_client: Redis
    ) -> None:
        """app_queue not loaded: QueueStatus gets an Error; the listener stays connected
        (no reconnect loop) and routed calls still become records."""
        fake.unknown_actions = {"QueueStatus"}
        lst = await _listener(fake, redis_client)
        try:
            chan = "PJSIP/t-1"
            await fake.push({"Event": "Newchannel", "Channel": chan, "Uniqueid": "3.1"})
            await fake.push(
                {"Event": "Hangup", "Channel": chan, "Uniqueid": "3.1", **ROUTED, "Cause": "16"}
            )
            await until(lambda: lst.drained and not lst.state.calls)
            await until(lambda: fake.count("Ping") >= 3)  # several watchdog rounds later
            assert (lst.connections, fake.logins) == (1, 1)
            assert await redis_client.xlen(keys.CALLS_STREAM) == 1
        finally:
            await lst.stop()


class TestOneListenerPerSite:
    async def test_second_router_stands_by_then_takes_over(
        self, fake: FakeAMI, redis_client: Redis
    ) -> None:
        """Two routers, one AMI user: only the lock holder logs in; the other takes over
        when the holder stops (manager.conf allowmultiplelogin=no)."""

        def router(name: str) -> AMIListener:
            lock = LeaderLock(redis_client, "site-a", ttl_s=0.6, token=name)
            return AMIListener(config(fake.port), RedisStateWriter(redis_client), elector=lock)

        first, second = router("r1"), router("r2")
        await first.start()
        await first.wait_connected(3.0)
        await second.start()
        try:
            await asyncio.sleep(0.5)  # several claim rounds of the stand-by
            assert (fake.logins, second.connected) == (1, False)
            assert await redis_client.get(keys.ami_leader_key("site-a")) == "r1"
            await first.stop()  # releases the lock
            await second.wait_connected(3.0)
            assert fake.logins == 2
            assert await redis_client.get(keys.ami_leader_key("site-a")) == "r2"
        finally:
            await first.stop()
            await second.stop()

    async def test_leader_steps_down_when_another_holds_the_lock(
        self, fake: FakeAMI, redis_client: Redis
    ) -> None:
        """If the lock is found with another token (it expired meanwhile), the old leader
        closes its AMI session instead of fighting over the login."""
        lock = LeaderLock(redis_client, "site-b", ttl_s=0.6, token="r1")
        lst = AMIListener(config(fake.port), RedisStateWriter(redis_client), elector=lock)
        await lst.start()
        try:
            await lst.wait_connected(3.0)
            await redis_client.set(keys.ami_leader_key("site-b"), "r2", px=60_000)
            await until(lambda: not lst.connected)
            assert not lock.is_leader
        finally:
            await lst.stop()


class TestAgingNeverLowers:
    async def test_unknown_priority_is_asked_for_not_assumed_zero(
        self, fake: FakeAMI, redis_client: Redis
    ) -> None:
        """A caller queued by the dialplan fallback (QUEUE_PRIO=10, no TIERLINE_PRIO) on an
        AMI user without QUEUE_PRIO in channelvars: the guard asks QueueStatus and ages from
        10, never sending 2 or 4."""
        lst = AMIListener(config(fake.port), RedisStateWriter(redis_client), clock=lambda: 1000.0)
        await lst.start()
        try:
            await lst.wait_connected(3.0)
            chan = "PJSIP/t-1"
            empty = {f"ChanVariable({chan})": "TIERLINE_TIER="}
            join = {"Channel": chan, "Uniqueid": "4.1", "Queue": "support", "Position": "1"}
            await fake.push({"Event": "QueueCallerJoin", **join, **empty, "Priority": "3"})
            await until(lambda: bool(lst.state.waiting_calls()))
            fake.queue_status = [
                {"Event": "QueueEntry", **join, "Wait": "0", "Priority": "10"},
            ]
            guard = StarvationGuard(
                top_priority=20, wait_cap_s={"normal": 100.0}, lowest_tier="normal"
            )
            ager = PriorityAger(lst, guard.due_changes, interval_s=0.05, clock=lambda: 1030.0)
            for _ in range(3):
                await ager.tick()
                await until(lambda: lst.drained)
        finally:
            await lst.stop()
        sent = [
            int(a["Priority"]) for a in fake.actions if a["Action"] == "QueueChangePriorityCaller"
        ]
        assert fake.count("QueueStatus") >= 2, "resync, then the priority query"
        assert sent == [13], "aged from the real 10 (30 s of a 100 s cap), sent once"


class TestStopWritesWhatIsHeld:
    async def test_drain_writes_pending_records_at_stop(self, redis_client: Redis) -> None:
        """Records still held when the router stops get one last write instead of vanishing."""
        lst = AMIListener(config(1), RedisStateWriter(redis_client))
        lst.pump.add(Delta(finished=[CallRecord("6.1", ended_at=1000.0)]))
        await lst.stop()  # never started: only the drain runs
        [(_, fields)] = await redis_client.xrange(keys.CALLS_STREAM)
        assert fields["uniqueid"] == "6.1"
