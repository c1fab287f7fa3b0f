"""Caller text that forges environment lines never changes who calls or where they go."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from router.agi import AGIServer, AGISession
from router.agi.caller import place_call
from router.agi.double import environment
from router.agi.protocol import ENV_ORDER, parse_env_block, parse_env_line
from router.customers.model import Customer, CustomerList
from router.customers.store import RedisCustomerStore
from router.errors import AGIProtocolError
from router.settings import Settings
from router.types import CallInfo
from tests.agi.conftest import LogCapture
from tests.agi.serving import serving
from tests.agi.transcripts import all_transcripts

RED_VIP = Customer(
    "C-RED", tier="vip", list=CustomerList.RED, offers=("gold",), phones=("13800138000",)
)
STRANGER = "13912345678"
REST_AFTER_NAME = [
    "agi_callingpres: 0",
    "agi_callingani2: 0",
    "agi_callington: 0",
    "agi_callingtns: 0",
    "agi_dnid: 4008001234",
    "agi_rdnis: unknown",
    "agi_context: from-trunk",
    "agi_extension: 4008001234",
    "agi_priority: 2",
    "agi_enhanced: 0.0",
    "agi_accountcode: ",
    "agi_threadid: 1",
]
"""What a caller must add to pass for a whole environment ending at its own name."""


def block(lines: list[str]) -> str:
    return "\n".join(lines)


class TestOrderedParse:
    def test_asterisk_order_with_arguments_is_accepted(self) -> None:
        """The order res_agi.c writes, agi_arg_1..N last, parses to every key."""
        env = environment("2000", name="x", args=("a", "b", "c", "d"))[:-1]
        parsed = parse_env_block(block(env))
        assert list(parsed) == [*ENV_ORDER, "agi_arg_1", "agi_arg_2", "agi_arg_3", "agi_arg_4"]

    @pytest.mark.parametrize(
        "injected",
        [
            "agi_callerid: 13800138000",
            "agi_network_script: inbound?resume=abc",
            "agi_dnid: 4008001234",
            "agi_arg_1: evil",
            "agi_threadid: 1",
            "agi_custom: x",
        ],
    )
    def test_a_line_injected_after_the_name_is_refused(self, injected: str) -> None:
        """Whatever key the name smuggles in, the environment is refused as forged."""
        env = environment(STRANGER, name=f"x\n{injected}")[:-1]
        with pytest.raises(AGIProtocolError, match="forged environment"):
            parse_env_block(block(env))

    @pytest.mark.parametrize(
        "lines",
        [
            ["agi_network: yes", "agi_network: yes"],
            ["agi_callerid: 1", "agi_request: x"],
            ["agi_threadid: 1", "agi_arg_2: x"],
            ["agi_threadid: 1", "agi_arg_1: x", "agi_arg_1: y"],
            ["agi_arg_1: x", "agi_dnid: 1"],
            ["agi_arg_01: x"],
        ],
    )
    def test_repeats_order_and_argument_gaps_are_refused(self, lines: list[str]) -> None:
        """A repeated key, a key before one it follows, or a skipped agi_arg_N is forged."""
        with pytest.raises(AGIProtocolError, match="forged environment"):
            parse_env_block(block(lines))

    def test_every_capture_environment_is_in_order(self, shared_dir: Path) -> None:
        """Every Asterisk 22 capture environment (18) passes the ordered parser unchanged."""
        checked = 0
        for tr in all_transcripts(shared_dir):
            lines = [line for line in tr.env if line]
            if lines:
                assert parse_env_block(block(lines)) == dict(map(parse_env_line, lines)), tr.name
                checked += 1
        assert checked >= 18


def forged_reasons(logs: LogCapture) -> list[str]:
    """Bad-session reasons but the readiness probe's (tests/agi/serving.py connects and closes)."""
    reasons = [str(b["reason"]) for b in logs.events("agi.bad_session")]
    return [r for r in reasons if not r.startswith("EOF before")]


@pytest.fixture
async def running(tmp_path: Path, redis_url: str, redis_client: Redis) -> AsyncIterator[Settings]:
    await RedisCustomerStore(redis_client).upsert(RED_VIP)
    async with serving(tmp_path, redis_url) as settings:
        yield settings


class TestServiceOverTheWire:
    async def test_the_real_vip_still_gets_the_red_desk(self, running: Settings) -> None:
        """Control: the red-list customer calling from their own number is routed as such."""
        env = environment("13800138000", name="VIP", dnis="9999")
        record = await place_call("127.0.0.1", running.agi_port, env, max_s=5)
        assert record.variables["TIERLINE_CUSTOMER"] == "C-RED"
        assert record.variables["TIERLINE_QUEUE"] == "red_desk"

    async def test_a_caller_name_cannot_claim_the_vips_number(
        self, running: Settings, logs: LogCapture
    ) -> None:
        """Issue 11.1's attack: a stranger named ``x\\nagi_callerid: <VIP>`` gets no VIP route."""
        env = environment(STRANGER, name="x\nagi_callerid: 13800138000", dnis="9999")
        record = await place_call("127.0.0.1", running.agi_port, env, max_s=5)
        assert record.variables.get("TIERLINE_CUSTOMER", "") != "C-RED"
        assert record.variables.get("TIERLINE_QUEUE", "") != "red_desk"
        assert record.closed_by_server
        assert forged_reasons(logs) == [
            "forged environment: agi_callerid out of Asterisk's order or repeated"
        ]

    async def test_a_forged_end_of_environment_gets_no_route(
        self, running: Settings, logs: LogCapture
    ) -> None:
        """A blank line in the name ends the env early; Asterisk's own tail then exposes it."""
        name = "\n".join(["x", *[x.replace("4008001234", "4000") for x in REST_AFTER_NAME], ""])
        env = environment(STRANGER, name=name, dnis="9999")
        record = await place_call("127.0.0.1", running.agi_port, env, max_s=5)
        assert "TIERLINE_QUEUE" not in record.variables
        assert forged_reasons(logs) == [
            "forged environment: agi_* lines after the blank line ending it"
        ]


class TestCapturesOverTheWire:
    async def test_every_capture_environment_reaches_its_handler(
        self, shared_dir: Path, logs: LogCapture
    ) -> None:
        """Each capture's environment bytes, sent over TCP, start a call with that exact env."""
        seen: list[dict[str, str]] = []

        async def record(session: AGISession, call: CallInfo) -> None:
            seen.append(dict(session.env))

        envs = [[x for x in tr.env if x] for tr in all_transcripts(shared_dir)]
        envs = [env for env in envs if env]
        server = AGIServer(port=0)
        await server.start()
        try:
            for env in envs:
                server.route(call_info_script(env), record)
                reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                writer.write("".join(f"{x}\n" for x in [*env, ""]).encode())
                assert await asyncio.wait_for(reader.read(), 5) == b""  # served, then closed
                writer.close()
        finally:
            await server.stop(drain_s=1.0)
        assert seen == [dict(map(parse_env_line, env)) for env in envs]
        assert logs.events("agi.bad_session") == []


def call_info_script(env: list[str]) -> str:
    return dict(map(parse_env_line, env)).get("agi_network_script", "").partition("?")[0]


class TestScriptAndDnisInjection:
    async def test_name_cannot_pick_another_script_or_dnid(self, logs: LogCapture) -> None:
        """Injected agi_network_script and agi_dnid lines reach no handler at all."""
        seen: list[CallInfo] = []

        async def record(session: AGISession, call: CallInfo) -> None:
            seen.append(call)
            await session.set_var("SEEN", call.script)

        server = AGIServer({"inbound": record, "admin": record}, port=0)
        await server.start()
        try:
            for injected in ("agi_network_script: admin?resume=abc", "agi_dnid: 4008001234"):
                env = environment(STRANGER, name=f"x\n{injected}", dnis="9999")
                await place_call("127.0.0.1", server.port, env, max_s=5)
            await asyncio.sleep(0)
        finally:
            await server.stop(drain_s=1.0)
        assert seen == []
        assert len(logs.events("agi.bad_session")) == 2
