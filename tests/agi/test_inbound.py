"""The inbound route (``CallRouter``) with no flow: one MSet with the route, whatever fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from router.agi import AGIServer
from router.agi.caller import place_call
from router.agi.double import environment
from router.calls import CallRouter
from router.channel_vars import route_variables
from router.types import QueueSnapshot, RouteDecision
from tests.agi.conftest import VIP, LogCapture, MemoryStore, no_flow_router

DEFAULT = {
    "TIERLINE_CUSTOMER": "",
    "TIERLINE_TIER": "",
    "TIERLINE_LIST": "",
    "TIERLINE_LIFECYCLE": "",
    "TIERLINE_QUEUE": "general",
    "TIERLINE_PRIO": "4",  # SimplePolicy: the lowest tier's priority
    "TIERLINE_OFFERS": "",
}


async def route_of(server: AGIServer, caller: str) -> tuple[dict[str, str], list[str]]:
    record = await place_call("127.0.0.1", server.port, environment(caller), max_s=5)
    sent = [line for _, who, line in record.exchange if who == "S"]
    return {k: v for k, v in record.variables.items() if k.startswith("TIERLINE_")}, sent


class TestInboundRoute:
    async def test_known_caller_gets_screen_pop_variables(self, server: AGIServer) -> None:
        """A VIP on the red list: id, tier, list, lifecycle, prio 10, offers, one command."""
        got, sent = await route_of(server, "+86 138 0013 8000")
        assert got == {
            "TIERLINE_CUSTOMER": "C-001",
            "TIERLINE_TIER": "vip",
            "TIERLINE_LIST": "red",
            "TIERLINE_LIFECYCLE": "at_risk",
            "TIERLINE_QUEUE": "general",
            "TIERLINE_PRIO": "10",
            "TIERLINE_OFFERS": '5G, unlimited|roam "asia"|x\\y(1)',
        }
        assert len(sent) == 1

    @pytest.mark.parametrize("caller", ["13900000000", "unknown", "", "1;DROP"])
    async def test_unknown_or_unusable_caller_gets_default(
        self, server: AGIServer, caller: str
    ) -> None:
        """Unknown, anonymous and junk caller ids all get the unknown caller's route."""
        got, _ = await route_of(server, caller)
        assert got == DEFAULT

    @pytest.mark.parametrize(("delay_s", "fail"), [(0.2, False), (0.0, True)])
    async def test_store_trouble_still_routes(
        self,
        server: AGIServer,
        store: MemoryStore,
        logs: LogCapture,
        delay_s: float,
        fail: bool,
    ) -> None:
        """A slow (past the 50 ms deadline) or failing store: unknown caller's route, a warning."""
        store.delay_s, store.fail = delay_s, fail
        got, _ = await route_of(server, "13800138000")
        assert got == DEFAULT
        assert len(logs.events("call.lookup_degraded")) == 1

    async def test_broken_policy_still_routes(self, server: AGIServer) -> None:
        """A routing bug (the policy raises) still sends the default queue, priority 0."""
        route = server.routes["inbound"]

        def broken(*args: object) -> RouteDecision:
            raise ZeroDivisionError

        route.policy.decide = broken  # type: ignore[attr-defined]
        got, _ = await route_of(server, "13800138000")
        assert (got["TIERLINE_QUEUE"], got["TIERLINE_PRIO"]) == ("general", "0")
        assert got["TIERLINE_CUSTOMER"] == "C-001"


@asynccontextmanager
async def serving(router: CallRouter) -> AsyncIterator[AGIServer]:
    srv = AGIServer({"inbound": router}, port=0)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop(drain_s=1.0)


class Gate:
    """A queue state whose snapshot opens the gate the lookup waits on."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()
        self.reads = 0

    async def snapshot(self) -> Mapping[str, QueueSnapshot]:
        self.reads += 1
        self.opened.set()
        return {}


class GatedStore(MemoryStore):
    """A lookup that answers only once the queue snapshot has started."""

    gate: Gate | None = None

    async def lookup(self, number: str):  # type: ignore[no-untyped-def]
        assert self.gate is not None
        await self.gate.opened.wait()
        return await super().lookup(number)


class TestOneDecisionRead:
    async def test_lookup_and_snapshot_run_together(self, tmp_path: Path) -> None:
        """The snapshot is not held back until the lookup returns (one deadline for both)."""
        store = GatedStore({"13800138000": VIP})
        store.gate = gate = Gate()
        router = no_flow_router(store, tmp_path)
        router.queues = gate
        router.__post_init__()
        async with serving(router) as srv, asyncio.timeout(3):  # in series: waits forever
            got, _ = await route_of(srv, "13800138000")
        assert got["TIERLINE_CUSTOMER"] == "C-001"
        assert gate.reads == 1

    async def test_caller_gone_after_env_costs_no_read(self, tmp_path: Path) -> None:
        """A call whose HANGUP arrives with its environment reads nothing and sets nothing."""
        store = CountingStore({"13800138000": VIP})
        gate = Gate()
        router = no_flow_router(store, tmp_path)
        router.queues = gate
        router.__post_init__()
        async with serving(router) as srv:
            reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
            env = "\n".join(environment("13800138000")) + "\n"
            writer.write(env.encode() + b"HANGUP\n")
            sent = await asyncio.wait_for(reader.read(), 3)  # the server closes
            writer.close()
        assert sent == b""
        assert (store.lookups, gate.reads) == (0, 0)


class CountingStore(MemoryStore):
    lookups = 0
    started: asyncio.Event | None = None

    async def lookup(self, number: str):  # type: ignore[no-untyped-def]
        self.lookups += 1
        if self.started is not None:
            self.started.set()
        return await super().lookup(number)


class TestEarlyStart:
    async def test_lookup_starts_once_the_caller_id_is_in(self, tmp_path: Path) -> None:
        """Asterisk writes the environment a line at a time: the lookup starts at
        agi_callerid, before the blank line, and that one read serves the call."""
        store = CountingStore({"13800138000": VIP})
        store.started = asyncio.Event()
        async with serving(no_flow_router(store, tmp_path)) as srv:
            reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
            lines = environment("13800138000")
            cut = next(i for i, x in enumerate(lines) if x.startswith("agi_callerid")) + 1
            writer.write(("\n".join(lines[:cut]) + "\n").encode())
            async with asyncio.timeout(3):  # the rest of the environment is not sent yet
                await store.started.wait()
            writer.write(("\n".join(lines[cut:]) + "\n").encode())
            route = await asyncio.wait_for(reader.readline(), 3)
            writer.write(b"200 result=0\n")
            assert await asyncio.wait_for(reader.read(), 3) == b""  # the server closed
            writer.close()
        assert route.startswith(b"EXEC MSet ")
        assert b"TIERLINE_CUSTOMER=C-001" in route
        assert store.lookups == 1


class TestRouteVariables:
    def test_values_are_capped(self) -> None:
        """Every value is capped so the MSet line stays under Asterisk's 2047 bytes."""
        long = VIP.__class__(customer_id="x" * 5000, offers=("y" * 5000,))
        got = route_variables(long, RouteDecision("q" * 5000, 3, "t"))
        assert max(len(v) for v in got.values()) == 120
