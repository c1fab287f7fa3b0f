"""The FastAGI server over real TCP: normal calls, hostile peers, hangups, drain."""

from __future__ import annotations

import asyncio
import time

import pytest

from router.agi import AGIServer
from router.agi.caller import CallTranscript, place_call
from router.agi.double import CallerScript, environment
from router.agi.protocol import DEAD_CHANNEL_COMMANDS, command_verb, parse_args
from tests.agi.conftest import LogCapture

SPEED = 20.0


async def normal_call(srv: AGIServer, **env: str) -> tuple[CallTranscript, float]:
    started = time.perf_counter()
    record = await place_call(
        "127.0.0.1", srv.port, environment("13800138000", dnis="4008001234", **env), max_s=5
    )
    return record, time.perf_counter() - started


async def raw(srv: AGIServer, payload: bytes, *, close: bool = True) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
    writer.write(payload)
    if close:
        writer.write_eof()
    data = await asyncio.wait_for(reader.read(), 3)
    writer.close()
    return data


class TestNormalCall:
    async def test_inbound_call_is_routed_and_closed_by_the_server(
        self, server: AGIServer, logs: LogCapture
    ) -> None:
        """A known caller gets every route variable in one command; the server closes."""
        record, _ = await normal_call(server)
        commands = [line for _, who, line in record.exchange if who == "S"]
        assert commands[0].startswith("EXEC MSet ")
        assert len(commands) == 1
        assert record.closed_by_server
        assert record.variables["TIERLINE_PRIO"] == "10"
        assert record.variables["TIERLINE_QUEUE"] == "general"
        assert record.variables["TIERLINE_OFFERS"] == '5G, unlimited|roam "asia"|x\\y(1)'
        assert logs.events("agi.bad_session") == []

    async def test_concurrent_commands_are_serialised(self, server: AGIServer) -> None:
        """Two commands issued at once never pipeline: both get their own reply."""

        async def both(session, call):  # type: ignore[no-untyped-def]
            await asyncio.gather(session.set_var("A", "1"), session.set_var("B", "2"))
            assert await session.get_var("A") == "1"

        server.route("both", both)
        record = await place_call(
            "127.0.0.1", server.port, environment("2000", script="both"), max_s=5
        )
        assert record.variables["A"] == "1"
        assert record.variables["B"] == "2"

    async def test_query_and_args_reach_the_handler(self, server: AGIServer) -> None:
        """``echo?lang=zh`` routes to ``echo``; agi_arg_1 arrives as params['arg1']."""
        env = environment("2000", name="x", script="echo?lang=zh", args=("a b,c",))
        record = await place_call("127.0.0.1", server.port, env, max_s=5)
        assert record.variables["ARG1"] == "a b,c"


class TestHostileCallerText:
    @pytest.mark.parametrize(
        "name",
        ['Doe, John; "JJ" O\'Neil', 'Back\\slash "Q" a;b,c', "张三", 'x" NOOP\\', "(a[b,c"],
    )
    async def test_caller_name_round_trips_exactly(self, server: AGIServer, name: str) -> None:
        """Quotes, backslashes, commas, brackets and UTF-8 come back byte for byte."""
        env = environment("13900001111", name=name, script="echo")
        record = await place_call("127.0.0.1", server.port, env, max_s=5)
        assert record.variables["NAME1"] == name
        assert record.variables["NAME2"] == name
        assert record.variables["NAME3"] == name
        assert len([1 for _, who, _ in record.exchange if who == "S"]) == 4

    async def test_newline_in_environment_is_one_bad_session(
        self, server: AGIServer, logs: LogCapture
    ) -> None:
        """A caller name carrying a raw newline cannot inject: the session is refused."""
        env = environment("2000", name="evil\nGET VARIABLE X", script="echo")
        payload = "".join(f"{line}\n" for line in env).encode()
        concurrent = asyncio.create_task(normal_call(server))
        assert await raw(server, payload) == b""
        _, took = await concurrent
        assert took < 1.0
        bad = logs.events("agi.bad_session")
        assert len(bad) == 1
        assert "not an AGI environment line" in str(bad[0]["reason"])


class TestRobustness:
    @pytest.mark.parametrize(
        ("payload", "reason"),
        [
            (b"agi_network: yes\nagi_network_script: inbound\n", "EOF before the environment"),
            (b"\x00\xff\x13garbage\x80\n\n", "not an AGI environment line"),
            (b"agi_network: " + b"x" * 20000, "line longer than"),
            (b"".join(b"agi_x%d: " % i + b"y" * 4000 + b"\n" for i in range(5)), "larger than"),
        ],
    )
    async def test_bad_peer_gets_one_log_line_and_others_are_served(
        self, server: AGIServer, logs: LogCapture, payload: bytes, reason: str
    ) -> None:
        """Half an env, garbage, an over-long line: one log line; a normal call meanwhile."""
        concurrent = asyncio.create_task(normal_call(server))
        await raw(server, payload)
        record, took = await concurrent
        assert record.variables["TIERLINE_PRIO"] == "10"
        assert took < 1.0
        await asyncio.sleep(0.05)
        bad = logs.events("agi.bad_session")
        assert len(bad) == 1
        assert reason in str(bad[0]["reason"])

    async def test_environment_timeout_closes_a_silent_peer(
        self, server: AGIServer, logs: LogCapture
    ) -> None:
        """A peer that sends part of an environment and stalls is dropped after env_s."""
        started = time.perf_counter()
        assert await raw(server, b"agi_network: yes\n", close=False) == b""
        assert 0.9 < time.perf_counter() - started < 2.0
        assert "not complete within" in str(logs.events("agi.bad_session")[0]["reason"])

    async def test_two_thousand_idle_connections(self, server: AGIServer, logs: LogCapture) -> None:
        """2000 idle sockets neither block a real call nor outlive the env timeout."""
        idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(2000)]
        record, took = await normal_call(server)
        assert record.closed_by_server
        assert took < 1.0
        closed = await asyncio.gather(*(asyncio.wait_for(r.read(), 3) for r, _ in idle))
        assert all(data == b"" for data in closed)
        for _, writer in idle:
            writer.close()
        assert server.stats["bad_sessions"] == 2000  # every one counted...
        assert len(logs.events("agi.bad_session")) == server.warnings.burst  # ...few logged
        server.warnings.flush(force=True)
        [summary] = logs.events("log.suppressed")
        assert summary["suppressed"] == 2000 - server.warnings.burst

    async def test_slow_asterisk_hits_our_command_deadline(
        self, server: AGIServer, logs: LogCapture
    ) -> None:
        """A reply slower than command_s ends the session with one log line and a close."""
        env = environment("2000", script="echo")
        record = await place_call(
            "127.0.0.1", server.port, env, CallerScript(reply_delay_ms=2000), max_s=5
        )
        assert record.closed_by_server
        bad = logs.events("agi.bad_session")
        assert len(bad) == 1
        assert "timed out" in str(bad[0]["reason"])


class TestHangup:
    @pytest.mark.parametrize("at_ms", [0.0, 700.0, 2000.0, 3800.0, 4300.0, 9000.0])
    async def test_hangup_in_every_state(
        self, server: AGIServer, logs: LogCapture, at_ms: float
    ) -> None:
        """Before, during each media command, during EXEC, after: clean end, server closes."""
        script = CallerScript(hangup_at_ms=at_ms, digits=[(2600.0, "4"), (2900.0, "2")])
        env = environment("2000", script="ivr")
        record = await place_call("127.0.0.1", server.port, env, script, speed=SPEED, max_s=5)
        assert record.closed_by_server
        assert logs.events("agi.bad_session") == []
        lines = [(who, line) for _, who, line in record.exchange]
        if ("A", "HANGUP") in lines:
            after = lines[lines.index(("A", "HANGUP")) :]
            sent = [command_verb(parse_args(line)) for who, line in after if who == "S"]
            # One command may cross the HANGUP line on the wire; none after that.
            live = [verb for verb in sent if verb not in DEAD_CHANNEL_COMMANDS]
            assert len(live) <= 1, sent
        if at_ms > 5000:
            assert record.variables["DIGITS"] == "42"
        else:
            ends = [x for who, x in lines if who == "A" and x.startswith(("200 result=-1", "511"))]
            assert ends, "the hangup never reached the server"
            assert ("DONE" in record.variables) == (at_ms >= 4300)


class TestDrain:
    async def test_stop_lets_calls_in_flight_finish(self, server: AGIServer) -> None:
        """stop() refuses new connections but lets a running call end normally."""
        env = environment("2000", script="ivr")
        script = CallerScript(digits=[(2600.0, "4"), (2900.0, "2")])
        call = asyncio.create_task(
            place_call("127.0.0.1", server.port, env, script, speed=SPEED, max_s=5)
        )
        await asyncio.sleep(0.05)
        await server.stop(drain_s=3.0)
        record = await call
        assert record.variables["DONE"] == "1"
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", server.port)
