"""Listener against a fake AMI server over real TCP: resync, failures, aging."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from structlog.testing import capture_logs

from router.ami.aging import PriorityAger
from router.ami.listener import AMIListener, ListenerConfig
from router.ami.service import start_listener
from router.ami.state import Delta, LiveState
from router.ami.store import RedisQueueState, RedisStateWriter
from router.errors import AMIError, ConfigError
from router.settings import Settings
from router.types import WaitingCaller
from tests.ami.fake_ami import FakeAMI

QUEUE_STATUS = [
    {"Event": "QueueParams", "Queue": "support", "TalkTime": "120", "Holdtime": "5"},
    {
        "Event": "QueueMember",
        "Queue": "support",
        "Name": "Agent1",
        "Location": "PJSIP/a1",
        "Status": "2",
        "Paused": "0",
        "InCall": "1",
    },
    {
        "Event": "QueueEntry",
        "Queue": "support",
        "Position": "1",
        "Channel": "PJSIP/in-1",
        "Uniqueid": "1.1",
        "Wait": "7",
        "Priority": "3",
    },
]


async def until(cond: Callable[[], bool], within: float = 3.0) -> None:
    """Poll ``cond`` (state changes come from another task's socket reads)."""
    async with asyncio.timeout(within):
        while not cond():  # noqa: ASYNC110 - polling a plain predicate
            await asyncio.sleep(0.01)


def config(port: int, **kw: Any) -> ListenerConfig:
    base = dict(
        port=port,
        username="router",
        secret="s3cret",
        connect_timeout_s=1.0,
        ping_interval_s=0.2,
        ping_timeout_s=0.5,
        backoff_initial_s=0.05,
        backoff_max_s=0.2,
        action_timeout_s=1.0,
    )
    base.update(kw)
    return ListenerConfig(**base)  # type: ignore[arg-type]


@pytest.fixture
async def fake() -> AsyncIterator[FakeAMI]:
    server = FakeAMI()
    server.queue_status = QUEUE_STATUS
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def listener(fake: FakeAMI, redis_client: Redis) -> AsyncIterator[AMIListener]:
    lst = AMIListener(
        config(fake.port),
        RedisStateWriter(redis_client),
        clock=lambda: 1000.0,
        rng=random.Random(1),
    )
    await lst.start()
    await lst.wait_connected(3.0)
    yield lst
    await lst.stop()


class TestConnectAndResync:
    async def test_resync_state_reaches_redis_and_snapshot(
        self, listener: AMIListener, redis_client: Redis
    ) -> None:
        """After login, QueueStatus fills the state; snapshot() reads it back in one call."""
        reader = RedisQueueState(redis_client, clock=lambda: 1010.0)
        assert "1.1" in listener.state.queues["support"].waiting, "connected means resynced"
        async with asyncio.timeout(3):  # the consumer's Redis write follows the fold
            while "support" not in (snaps := await reader.snapshot()):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        snap = snaps["support"]
        assert (snap.waiting, snap.agents_logged_in, snap.agents_available) == (1, 1, 0)
        assert snap.longest_wait == pytest.approx(17.0)  # joined at 1000-7, read at 1010
        assert snap.ewt == pytest.approx(2 * 120.0)  # (1 waiting + 1) * aht / 1 agent

    async def test_utf8_name_split_across_tcp_writes(
        self, fake: FakeAMI, listener: AMIListener
    ) -> None:
        """A member name 张三 cut inside a character between two writes arrives whole."""
        event = {
            "Event": "QueueMemberAdded",
            "Queue": "support",
            "MemberName": "张三",
            "Interface": "PJSIP/zs",
            "Status": "1",
            "Paused": "0",
        }
        cut = len(b"Event: QueueMemberAdded\r\nQueue: support\r\nMemberName: ") + 1
        await fake.push(event, split=cut)
        await until(lambda: "PJSIP/zs" in listener.state.queues["support"].members)
        assert listener.state.queues["support"].members["PJSIP/zs"].name == "张三"

    def test_credentials_come_from_env_and_secret_file(self, tmp_path: Path) -> None:
        """The secret is read from TIERLINE_AMI_SECRET_FILE; a missing one is a ConfigError."""
        secret = tmp_path / "ami.secret"
        secret.write_text("pw\n")
        env = {"TIERLINE_AMI_USERNAME": "router", "TIERLINE_AMI_SECRET_FILE": str(secret)}
        cfg = ListenerConfig.from_settings(Settings.from_env(env))
        assert (cfg.username, cfg.secret) == ("router", "pw")
        with pytest.raises(ConfigError, match="TIERLINE_AMI_SECRET_FILE"):
            ListenerConfig.from_settings(
                Settings.from_env({**env, "TIERLINE_AMI_SECRET_FILE": str(tmp_path / "no")})
            )
        with pytest.raises(ConfigError, match="TIERLINE_AMI_USERNAME"):
            ListenerConfig.from_settings(Settings.from_env({}))

    def test_backoff_grows_and_is_capped(self) -> None:
        """Reconnect delays double from the initial value, jittered 50-100 %, up to the cap."""
        cfg = ListenerConfig(backoff_initial_s=1.0, backoff_max_s=8.0)
        rng = random.Random(0)
        delays = [cfg.backoff(n, rng) for n in range(6)]
        for n, d in enumerate(delays):
            top = min(8.0, 2.0**n)
            assert top / 2 <= d <= top


class TestFailures:
    async def test_disconnect_reconnects_and_resyncs(
        self, fake: FakeAMI, listener: AMIListener
    ) -> None:
        """A dropped link is re-established with a fresh login and a fresh QueueStatus."""
        await fake.drop()
        await until(lambda: fake.logins >= 2 and fake.count("QueueStatus") >= 2)
        await listener.wait_connected(3.0)
        assert listener.connections == fake.logins
        assert fake.count("QueueStatus") == fake.logins, "every login is followed by a resync"

    async def test_half_open_connection_is_closed_by_watchdog(
        self, fake: FakeAMI, listener: AMIListener
    ) -> None:
        """The server stops answering (no FIN): an unanswered Ping closes and reconnects."""
        fake.mute = True
        with capture_logs() as logs:
            await until(lambda: any(e["event"] == "ami_watchdog_timeout" for e in logs), 2.0)
            fake.mute = False
            await until(lambda: fake.logins >= 2, 3.0)

    async def test_asterisk_restart(self, fake: FakeAMI, listener: AMIListener) -> None:
        """Shutdown event, EOF, refused connects while down, then banner/login/resync."""
        with capture_logs() as logs:
            await fake.restart(down_s=0.4)
            await until(lambda: fake.logins >= 2, 4.0)
            await listener.wait_connected(3.0)
        names = [e["event"] for e in logs]
        assert "ami_asterisk_shutdown" in names
        assert "ami_connect_failed" in names  # refused while down
        assert fake.count("QueueStatus") == fake.logins

    async def test_originate_is_never_resent(self, fake: FakeAMI, listener: AMIListener) -> None:
        """An Originate in flight when the link dies fails; it is not sent again after reconnect."""
        fake.drop_on = {"Originate"}
        with pytest.raises(AMIError, match="connection lost"):
            await listener.action(
                {"Action": "Originate", "Channel": "Local/s@x", "Application": "Wait"}
            )
        fake.drop_on = set()
        await until(lambda: fake.logins >= 2)
        await listener.wait_connected(3.0)
        await asyncio.sleep(0.3)
        assert fake.count("Originate") == 1

    async def test_action_while_disconnected_fails_at_once(self, fake: FakeAMI) -> None:
        """Nothing is queued for later: an action with no connection raises immediately."""
        lst = AMIListener(config(fake.port))
        with pytest.raises(AMIError, match="not connected"):
            await lst.action({"Action": "Originate"})

    async def test_wrong_secret_keeps_retrying(self, fake: FakeAMI) -> None:
        """A refused login is logged and retried with backoff; the task does not die."""
        lst = AMIListener(config(fake.port, secret="wrong"), rng=random.Random(2))
        await lst.start()
        try:
            await until(lambda: fake.count("Login") >= 3)
            assert not lst.connected
        finally:
            await lst.stop()

    async def test_sink_failure_is_retried(self, fake: FakeAMI) -> None:
        """A failing Redis write keeps its change set and is retried; the consumer survives."""

        class Flaky:
            def __init__(self) -> None:
                self.calls: list[set[str]] = []

            async def write(self, state: LiveState, delta: Delta, now: float) -> None:
                self.calls.append(set(delta.queues))
                if len(self.calls) == 1:
                    raise ConnectionError("redis down")

        sink = Flaky()
        lst = AMIListener(config(fake.port), sink)
        await lst.start()
        try:
            await until(lambda: len(sink.calls) >= 2)
            assert sink.calls[1] >= {"support"}
        finally:
            await lst.stop()


class TestAgingTimer:
    async def test_due_change_is_sent_and_recorded(
        self, fake: FakeAMI, listener: AMIListener
    ) -> None:
        """The rule's change goes out as QueueChangePriorityCaller; the new priority is kept."""
        await until(lambda: bool(listener.state.waiting_calls()))

        def rule(waiting: Sequence[WaitingCaller], now: float) -> list[tuple[str, str, int]]:
            return [(w.channel, w.queue, 9) for w in waiting if w.priority < 9]

        ager = PriorityAger(listener, rule, interval_s=0.05, clock=lambda: 1000.0)
        assert await ager.tick() == 1
        sent = [a for a in fake.actions if a["Action"] == "QueueChangePriorityCaller"]
        assert [(a["Queue"], a["Caller"], a["Priority"]) for a in sent] == [
            ("support", "PJSIP/in-1", "9")
        ]
        assert listener.state.queues["support"].waiting["1.1"].priority == 9
        assert await ager.tick() == 0, "a change is sent once"

    async def test_failed_change_is_dropped(self, fake: FakeAMI, listener: AMIListener) -> None:
        """An error reply (the caller left) is logged and not retried; priority stays."""
        await until(lambda: bool(listener.state.waiting_calls()))
        ager = PriorityAger(listener, lambda w, now: [("PJSIP/gone", "nope", 5)])
        fake.queue_status = []
        orig = fake._reply
        fake._reply = lambda a: (
            orig({**a, "Action": "Bad"}) if a["Action"] == "QueueChangePriorityCaller" else orig(a)
        )  # type: ignore[method-assign]
        assert await ager.tick() == 0


class TestStartListener:
    async def test_wired_listener_runs_the_aging_timer(
        self, fake: FakeAMI, redis_client: Redis, tmp_path: Path
    ) -> None:
        """start_listener() connects with env credentials and its timer sends due changes."""
        secret = tmp_path / "secret"
        secret.write_text("s3cret")
        settings = Settings.from_env(
            {
                "TIERLINE_AMI_PORT": str(fake.port),
                "TIERLINE_AMI_USERNAME": "router",
                "TIERLINE_AMI_SECRET_FILE": str(secret),
            }
        )

        def rule(waiting: Sequence[WaitingCaller], now: float) -> list[tuple[str, str, int]]:
            return [(w.channel, w.queue, w.priority + 1) for w in waiting if w.priority < 5]

        lst = await start_listener(settings, redis_client, rule, aging_interval_s=0.05)
        try:
            await until(lambda: fake.count("QueueChangePriorityCaller") >= 2)
            await until(lambda: listener_prio(lst) == 5)
            await asyncio.sleep(0.2)
            assert fake.count("QueueChangePriorityCaller") == 2  # 3 -> 4 -> 5, then nothing
        finally:
            await lst.stop()

    async def test_shutdown_event_refuses_actions(
        self, fake: FakeAMI, listener: AMIListener
    ) -> None:
        """After Event: Shutdown, actions fail at once instead of waiting for a dying Asterisk."""
        fake.mute = True
        await fake.push({"Event": "Shutdown", "Shutdown": "Cleanly", "Restart": "False"})
        await until(lambda: not listener.connected)
        with pytest.raises(AMIError, match="not connected"):
            await listener.action({"Action": "Originate"})


def listener_prio(lst: AMIListener) -> int:
    return lst.state.queues["support"].waiting["1.1"].priority
