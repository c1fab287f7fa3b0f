"""Shutdown (issue 10.6): a call still in the IVR after TIERLINE_DRAIN_S leaves with a route."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from redis.asyncio import Redis

from router.agi import AGIServer, AGISession, Handler
from router.agi.double import environment
from router.agi.protocol import parse_args, separate_app_args
from router.customers.model import Customer, CustomerList
from router.customers.store import RedisCustomerStore
from router.settings import Settings
from router.types import CallInfo
from tests.agi import test_service
from tests.agi.conftest import LogCapture
from tests.agi.serving import serving

flows_dir = test_service.flows_dir  # the fixture: a hotline flow whose menu holds the caller
RED_VIP = Customer("C-RED", tier="vip", list=CustomerList.RED, phones=("13800138000",))
MEDIA = ("GET DATA", "STREAM FILE", "WAIT FOR DIGIT")


class Asterisk:
    """Asterisk's side of one call, by hand: answers until a prompt plays, then holds it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def call(cls, port: int, caller: str, dnis: str) -> Asterisk:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        env = environment(caller, dnis=dnis)
        writer.write("".join(f"{line}\n" for line in env).encode())
        return cls(reader, writer)

    async def line(self) -> str:
        return (await asyncio.wait_for(self.reader.readline(), 10)).decode().rstrip("\n")

    async def until_prompt(self) -> str:
        """Reply 200 to everything until a media command: the caller is now in the IVR."""
        while True:
            command = await self.line()
            if command.startswith(MEDIA) or not command:
                return command
            self.writer.write(b"200 result=0\n")

    async def route_then_eof(self) -> dict[str, str]:
        """The next command must be the route's MSet (the prompt gets no reply: agi/13)."""
        argv = parse_args(await self.line())
        assert argv[:2] == ["EXEC", "MSet"], argv
        self.writer.write(b"200 result=0\n")
        assert await asyncio.wait_for(self.reader.read(), 10) == b""  # then the router hangs up
        self.writer.close()
        return dict(pair.partition("=")[::2] for pair in separate_app_args(argv[2]))


class TestServiceDrain:
    async def test_ivr_call_cut_by_shutdown_leaves_with_its_screen_pop(
        self, flows_dir: Path, redis_url: str, redis_client: Redis, logs: LogCapture
    ) -> None:
        """SIGTERM with the VIP mid-menu: after the drain the call gets red_desk and its pop."""
        await RedisCustomerStore(redis_client).upsert(RED_VIP)
        async with serving(flows_dir, redis_url, drain_s=0.2) as settings:
            asterisk = await Asterisk.call(settings.agi_port, "13800138000", "4008001234")
            assert (await asterisk.until_prompt()).startswith(MEDIA)
            os.kill(os.getpid(), signal.SIGTERM)  # the service's own handler takes it
            route = await asterisk.route_then_eof()
        assert route["TIERLINE_CUSTOMER"] == "C-RED"
        assert route["TIERLINE_LIST"] == "red"
        assert (route["TIERLINE_QUEUE"], route["TIERLINE_PRIO"]) == ("red_desk", "60")
        [cut] = logs.events("agi.drain_cut")
        assert (cut["outcome"], cut["queue"], cut["script"]) == ("route_set", "red_desk", "inbound")
        assert cut["uniqueid"] == "1795348509.9"
        assert cut["caller"] == "138****8000"

    async def test_drain_setting_is_read_from_the_environment(self) -> None:
        """TIERLINE_DRAIN_S sets the drain; a bad value names the variable."""
        assert Settings.from_env({"TIERLINE_DRAIN_S": "2.5"}).drain_s == 2.5
        assert Settings.from_env({}).drain_s == 10.0
        with pytest.raises(Exception, match="TIERLINE_DRAIN_S"):
            Settings.from_env({"TIERLINE_DRAIN_S": "-1"})


async def cut_while_prompting(handler: Handler) -> AGIServer:
    """Serve one call until its prompt plays, stop with a tiny drain; the router then hangs up."""
    server = AGIServer({"inbound": handler}, port=0)
    await server.start()
    asterisk = await Asterisk.call(server.port, "2000", "9999")
    assert (await asterisk.until_prompt()).startswith("STREAM FILE")
    await server.stop(drain_s=0.05)
    assert await asyncio.wait_for(asterisk.reader.read(), 10) == b""
    asterisk.writer.close()
    return server


class TestServerCut:
    async def test_a_handler_without_a_cut_route_is_logged_and_closed(
        self, logs: LogCapture
    ) -> None:
        """No route registered: nothing is set (the dialplan falls back) but the cut is logged."""

        async def ivr(session: AGISession, call: CallInfo) -> None:
            await session.play(["long-prompt"])

        server = await cut_while_prompting(ivr)
        [cut] = logs.events("agi.drain_cut")
        assert cut["outcome"] == "no_route"
        assert server.stats["cut_calls"] == 1
        assert logs.events("agi.bad_session") == []

    async def test_the_latest_registered_route_wins(self, logs: LogCapture) -> None:
        """A handler may refine its cut route as the IVR learns more."""

        async def ivr(session: AGISession, call: CallInfo) -> None:
            session.on_cut(lambda: {"TIERLINE_QUEUE": "support"})
            session.on_cut(lambda: {"TIERLINE_QUEUE": "billing", "TIERLINE_PRIO": "20"})
            await session.get_digits("menu", 5000, 1)

        server = AGIServer({"inbound": ivr}, port=0)
        await server.start()
        asterisk = await Asterisk.call(server.port, "2000", "9999")
        assert (await asterisk.until_prompt()).startswith("GET DATA")
        stopping = asyncio.create_task(server.stop(drain_s=0.05))
        route = await asterisk.route_then_eof()
        await stopping
        assert route == {"TIERLINE_QUEUE": "billing", "TIERLINE_PRIO": "20"}
        assert logs.events("agi.drain_cut")[0]["outcome"] == "route_set"

    async def test_a_failing_route_builder_still_closes_the_call(self, logs: LogCapture) -> None:
        """A bug in the registered builder is logged as the cut's outcome; the socket closes."""

        def broken() -> dict[str, str]:
            raise RuntimeError("bug")

        async def ivr(session: AGISession, call: CallInfo) -> None:
            session.on_cut(broken)
            await session.play(["long-prompt"])

        await cut_while_prompting(ivr)
        assert logs.events("agi.drain_cut")[0]["outcome"] == "failed: RuntimeError"
