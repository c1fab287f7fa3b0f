"""Campaigns and callbacks dialled end to end against a fake AMI replaying the captures."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis

from router.customers.model import Customer, CustomerList
from router.dialer.callbacks import CallbackFeeder
from router.dialer.config import DialerConfig
from router.dialer.model import CampaignState, Contact, DialMode
from router.dialer.service import Dialer
from router.dialer.store import DialerStore
from router.flows.callbacks import CallbackRequest
from router.storage import keys
from router.storage.callback_stream import RedisCallbackStore
from router.types import QueueSnapshot
from tests.dialer.fake_ami import ReplayAMI
from tests.dialer.harness import (
    SECRET,
    Customers,
    LiveStub,
    attempts,
    loose,
    make_dialer,
    member,
    refusals,
    routes,
    wait_for,
)
from tests.dialer.helpers import config


@pytest.fixture
def cfg() -> DialerConfig:
    base = config()
    return replace(base, limits=loose(base.limits))


@pytest.fixture
async def ami(shared_dir: Path) -> AsyncIterator[ReplayAMI]:
    fake = ReplayAMI(routes(shared_dir), SECRET)
    fake.queue_status = [member("agent1"), member("agent2"), member("agent3", paused=True)]
    await fake.start()
    yield fake
    await fake.close()


@contextlib.asynccontextmanager
async def running(dialer: Dialer) -> AsyncIterator[Dialer]:
    await dialer.start()
    try:
        yield dialer
    finally:
        await dialer.stop()


async def add(redis: Redis, cfg: DialerConfig, campaign: str, *numbers: str) -> None:
    store = DialerStore(redis, cfg.limits)
    contacts = [Contact(f"{campaign}:{n}", campaign, n, customer_id=f"C{n[-2:]}") for n in numbers]
    await store.add_contacts(contacts, cfg.lanes())
    await store.set_campaign(campaign, CampaignState.RUNNING)


async def state(redis: Redis, contact_id: str) -> str:
    return str(await redis.hget(keys.dialer_contact_key(contact_id), "state"))


class TestCampaign:
    async def test_every_outcome_recorded(
        self, redis_client: Redis, cfg: DialerConfig, ami: ReplayAMI
    ) -> None:
        """Six customers, six captured outcomes: each attempt recorded, each contact moved on."""
        numbers = [
            "13900000042",
            "13900000001",
            "13900000002",
            "13900000003",
            "13900000004",
            "13900000005",
        ]
        await add(redis_client, cfg, "remind", *numbers)
        async with running(make_dialer(redis_client, cfg, ami, LiveStub())):
            await wait_for(lambda: _count(redis_client, 6))
        recs = {r["contact"]: r for r in await attempts(redis_client)}
        got = {c.split(":")[1]: (r["result"], r["state"]) for c, r in recs.items()}
        assert got == {
            "13900000042": ("answered", "done"),
            "13900000001": ("busy", "pending"),
            "13900000002": ("no_answer", "exhausted"),  # 'remind' retries busy only
            "13900000003": ("answered", "done"),
            "13900000004": ("congestion", "exhausted"),
            "13900000005": ("failed", "exhausted"),
        }
        talk = recs["remind:13900000042"]
        assert (talk["talk_s"], talk["hold_s"], talk["instant_hangup"]) == ("6", "1", "0")
        assert recs["remind:13900000003"]["instant_hangup"] == "1"
        assert len(ami.originates()) == 6
        assert len({o["ChannelId"] for o in ami.originates()}) == 6
        assert await state(redis_client, "remind:13900000001") == "pending"
        due = await redis_client.zscore(
            keys.dialer_due_key("remind|outbound_q|0"), "remind:13900000001"
        )
        assert due is not None
        assert due > datetime.now(UTC).timestamp() + 30

    async def test_one_call_per_free_agent(
        self, redis_client: Redis, cfg: DialerConfig, ami: ReplayAMI
    ) -> None:
        """With two free agents (one paused) and calls held open, exactly two Originates go out."""
        ami.hold = True
        await add(redis_client, cfg, "remind", "13900000001", "13900000002", "13900000003")
        async with running(make_dialer(redis_client, cfg, ami, LiveStub())) as d:
            await wait_for(lambda: len(ami.originates()) >= 2)
            for _ in range(10):
                await d.tick()
            assert len(ami.originates()) == 2

    async def test_paused_campaign_not_dialled(
        self, redis_client: Redis, cfg: DialerConfig, ami: ReplayAMI
    ) -> None:
        """Pause stops new attempts; resume picks up where it stopped."""
        await add(redis_client, cfg, "remind", "13900000042")
        store = DialerStore(redis_client, cfg.limits)
        await store.set_campaign("remind", CampaignState.PAUSED)
        async with running(make_dialer(redis_client, cfg, ami, LiveStub())) as d:
            await wait_for(lambda: d.link.connected)
            for _ in range(5):
                await d.tick()
            assert ami.originates() == []
            await store.set_campaign("remind", CampaignState.RUNNING)
            await wait_for(lambda: _count(redis_client, 1))

    async def test_inbound_rise_stops_outbound(
        self, redis_client: Redis, cfg: DialerConfig, ami: ReplayAMI
    ) -> None:
        """A caller waiting in the guarded inbound lane: no Originate until it clears."""
        live = LiveStub()
        live.queues["vip"] = QueueSnapshot("vip", waiting=1, agents_logged_in=4)
        await add(redis_client, cfg, "remind", "13900000042")
        async with running(make_dialer(redis_client, cfg, ami, live)) as d:
            await wait_for(lambda: d.link.connected)
            for _ in range(5):
                await d.tick()
            assert ami.originates() == []
            live.queues["vip"] = QueueSnapshot("vip", waiting=0, agents_logged_in=4)
            await wait_for(lambda: len(ami.originates()) == 1)

    async def test_preview_rings_each_free_agent_once(
        self, redis_client: Redis, cfg: DialerConfig, ami: ReplayAMI
    ) -> None:
        """Preview: the agent is dialled first, each free agent at most once, paused ones never."""
        ami.hold = True
        promo = replace(cfg.campaigns["promo"], mode=DialMode.PREVIEW)
        cfg = replace(cfg, campaigns={**cfg.campaigns, "promo": promo})
        await add(redis_client, cfg, "promo", "13900000001", "13900000002", "13900000003")
        async with running(make_dialer(redis_client, cfg, ami, LiveStub())) as d:
            await wait_for(lambda: len(ami.originates()) >= 2)
            for _ in range(10):
                await d.tick()
        sent = ami.originates()
        assert sorted(o["Channel"] for o in sent) == [
            "Local/agent1@agents/n",
            "Local/agent2@agents/n",
        ]
        assert {o["Context"] for o in sent} == {"tierline-preview"}
        assert {o["Exten"] for o in sent} < {"13900000001", "13900000002", "13900000003"}


class TestRules:
    async def test_dnc_and_black_list_refused(
        self, redis_client: Redis, cfg: DialerConfig, ami: ReplayAMI
    ) -> None:
        """A DNC number and a black-listed customer get no call; each refusal is recorded."""
        store = DialerStore(redis_client, cfg.limits)
        await store.dnc_add(["13900000001"])
        people = Customers({"C02": Customer("C02", list=CustomerList.BLACK)})
        await add(redis_client, cfg, "promo", "13900000001", "13900000002")
        async with running(make_dialer(redis_client, cfg, ami, LiveStub(), customers=people)):
            await wait_for(lambda: _refused(redis_client, 2))
        assert ami.originates() == []
        assert sorted(r["reason"] for r in await refusals(redis_client)) == ["black_list", "dnc"]
        assert await state(redis_client, "promo:13900000001") == "refused"
        assert await state(redis_client, "promo:13900000002") == "refused"

    async def test_two_dialers_never_call_one_customer_twice(
        self, redis_client: Redis, cfg: DialerConfig, ami: ReplayAMI
    ) -> None:
        """Two dialer processes, one customer in two campaigns, calls held open: one Originate."""
        ami.hold = True
        ami.queue_status = [member(f"agent{n}") for n in range(6)]
        store = DialerStore(redis_client, cfg.limits)
        for campaign in ("promo", "remind"):
            await store.add_contacts(
                [Contact(f"{campaign}:x", campaign, "13900000042", customer_id="C42")], cfg.lanes()
            )
            await store.set_campaign(campaign, CampaignState.RUNNING)
        a = make_dialer(redis_client, cfg, ami, LiveStub(), name="A")
        b = make_dialer(redis_client, cfg, ami, LiveStub(), name="B")
        async with running(a), running(b):
            await wait_for(lambda: len(ami.originates()) >= 1)
            for _ in range(10):
                await asyncio.gather(a.tick(), b.tick())
        assert len(ami.originates()) == 1
        reasons = {r["reason"] for r in await refusals(redis_client)}
        assert reasons <= {"in_flight"}


class TestFaults:
    async def test_ami_down_nothing_dialled_then_resumes(
        self, redis_client: Redis, cfg: DialerConfig, shared_dir: Path
    ) -> None:
        """With Asterisk unreachable nothing is claimed or dialled; after it comes up, it is."""
        fake = ReplayAMI(routes(shared_dir), SECRET)
        fake.queue_status = [member("agent1")]
        await fake.start()
        port = fake.port
        await fake.close()
        await add(redis_client, cfg, "remind", "13900000042")
        d = make_dialer(redis_client, cfg, fake, LiveStub())
        async with running(d):
            for _ in range(5):
                assert await d.tick() == 0
            assert await state(redis_client, "remind:13900000042") == "pending"
            assert await redis_client.exists(keys.dialer_who_key("c:C42")) == 0
            fake.port = port
            await fake.start()
            await wait_for(lambda: _count(redis_client, 1))
        await fake.close()
        assert len(fake.originates()) == 1

    async def test_link_dies_mid_originate_never_resent(
        self, redis_client: Redis, cfg: DialerConfig, ami: ReplayAMI
    ) -> None:
        """An Originate in flight at the disconnect is counted unknown and not sent again."""
        ami.hold = True
        await add(redis_client, cfg, "promo", "13900000042")
        async with running(make_dialer(redis_client, cfg, ami, LiveStub())) as d:
            await wait_for(lambda: len(ami.originates()) == 1)
            await ami.drop()
            await wait_for(lambda: _count(redis_client, 1))
            await wait_for(lambda: d.link.connected)
            for _ in range(10):
                await d.tick()
        (rec,) = await attempts(redis_client)
        assert (rec["result"], rec["state"]) == ("unknown", "pending")
        assert len(ami.originates()) == 1

    async def test_killed_dialer_resumes_without_double_call(
        self, redis_client: Redis, cfg: DialerConfig, ami: ReplayAMI
    ) -> None:
        """Kill mid-call, restart: the in-flight contact closes unknown, the rest dialled once."""
        ami.hold = True
        await add(redis_client, cfg, "remind", "13900000042")
        first = make_dialer(redis_client, cfg, ami, LiveStub(), name="A")
        await first.start()
        await wait_for(lambda: len(ami.originates()) == 1)
        for task in first._tasks:  # a kill: no closing of anything
            task.cancel()
        await first.link.stop()
        assert await state(redis_client, "remind:13900000042") == "in_flight"
        ami.hold = False
        await add(redis_client, cfg, "remind", "13900000003")
        async with running(make_dialer(redis_client, cfg, ami, LiveStub(), name="B")):
            await wait_for(lambda: _count(redis_client, 2))
        recs = {r["contact"]: r["result"] for r in await attempts(redis_client)}
        assert recs == {"remind:13900000042": "unknown", "remind:13900000003": "answered"}
        dialled = [o["Channel"] for o in ami.originates()]
        assert dialled.count("Local/13900000042@callee") == 1


class TestCallbacks:
    async def test_red_list_callback_first(
        self, redis_client: Redis, cfg: DialerConfig, ami: ReplayAMI
    ) -> None:
        """Callbacks are dialled, a red-list one before a normal one, and their wait recorded."""
        ami.queue_status = [member("agent1")]
        people = Customers(
            {
                "C01": Customer("C01", tier="normal"),
                "C42": Customer("C42", tier="normal", list=CustomerList.RED),
            }
        )
        stream = RedisCallbackStore(redis_client)
        at = datetime.now(UTC)
        for cid, number in (("C01", "13900000003"), ("C42", "13900000042")):
            await stream.add(
                CallbackRequest(number, cid, "normal", "billing", at, f"u-{cid}", "telecom")
            )
        store = DialerStore(redis_client, cfg.limits)
        feeder = CallbackFeeder(redis_client, store, cfg, people)
        await feeder.ensure_group()
        assert await feeder.pump() == 0  # no backlog of this consumer
        assert await feeder.pump(block_ms=10) == 2
        async with running(make_dialer(redis_client, cfg, ami, LiveStub(), customers=people)):
            await wait_for(lambda: _count(redis_client, 2))
        order = [o["Channel"] for o in ami.originates()]
        assert order == ["Local/13900000042@callee", "Local/13900000003@callee"]
        recs = await attempts(redis_client)
        assert all(r["campaign"] == "callbacks" and r["state"] == "done" for r in recs)
        assert all(r["waited_s"] != "" for r in recs)
        pending = await redis_client.xpending(keys.CALLBACKS, keys.DIALER_CALLBACK_GROUP)
        assert pending["pending"] == 0

    async def test_undiallable_callback_reported(
        self, redis_client: Redis, cfg: DialerConfig
    ) -> None:
        """A request with no usable number ends refused with a reason, never dropped."""
        stream = RedisCallbackStore(redis_client)
        await stream.add(CallbackRequest("", "", "normal", "billing", datetime.now(UTC), "u1", "f"))
        feeder = CallbackFeeder(redis_client, DialerStore(redis_client, cfg.limits), cfg)
        await feeder.ensure_group()
        await feeder.pump()
        await feeder.pump(block_ms=10)
        (ref,) = await refusals(redis_client)
        assert ref["reason"] == "no_number"
        assert await state(redis_client, ref["contact"]) == "refused"

    async def test_unacknowledged_requests_reread_after_crash(
        self, redis_client: Redis, cfg: DialerConfig
    ) -> None:
        """A request read but not acknowledged (dialer killed) is read again on restart."""
        stream = RedisCallbackStore(redis_client)
        await stream.add(
            CallbackRequest("13900000003", "C01", "normal", "billing", datetime.now(UTC), "u", "f")
        )
        await redis_client.xgroup_create(keys.CALLBACKS, keys.DIALER_CALLBACK_GROUP, id="0")
        await redis_client.xreadgroup(keys.DIALER_CALLBACK_GROUP, "dialer-1", {keys.CALLBACKS: ">"})
        feeder = CallbackFeeder(redis_client, DialerStore(redis_client, cfg.limits), cfg)
        await feeder.ensure_group()
        assert await feeder.pump() == 1
        assert await redis_client.scard(keys.dialer_campaign_contacts_key("callbacks")) == 1


async def _count(redis: Redis, n: int) -> bool:
    return await redis.xlen(keys.DIALER_ATTEMPTS_STREAM) >= n


async def _refused(redis: Redis, n: int) -> bool:
    return await redis.xlen(keys.DIALER_REFUSALS_STREAM) >= n
