"""Who may connect (TIERLINE_AGI_ALLOW), and warnings a flood of bad peers can cause."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from router import service
from router.agi import AGIServer, AGISession
from router.agi.caller import place_call
from router.agi.double import environment
from router.agi.peers import LOOPBACK, PeerFilter, allow_list, parse_allow
from router.errors import ConfigError
from router.logs import get_logger
from router.ratelimit import RateLimitedLog
from router.settings import Settings
from router.types import CallInfo
from tests.agi.conftest import LogCapture


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def mark(session: AGISession, call: CallInfo) -> None:
    await session.set_var("SERVED", "1")


async def refused_or_closed(port: int, host: str = "127.0.0.1") -> bytes:
    """Send an environment; what comes back before the router hangs up (b"" or a reset)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write("".join(f"{x}\n" for x in environment("13800138000")).encode())
        return await asyncio.wait_for(reader.read(), 3)
    except ConnectionResetError:
        return b""
    finally:
        writer.close()


class TestAllowList:
    def test_entries_are_normalised(self) -> None:
        """Addresses become /32 or /128 networks; host bits are allowed; blanks skipped."""
        assert parse_allow(" 10.0.0.5, 10.1.0.9/24,,::1 ") == (
            "10.0.0.5/32",
            "10.1.0.0/24",
            "::1/128",
        )

    def test_bad_entry_names_the_variable(self) -> None:
        """A typo is a start-up error that names TIERLINE_AGI_ALLOW and the entry."""
        with pytest.raises(ConfigError, match=r"TIERLINE_AGI_ALLOW.*'10\.0\.0\.300'"):
            parse_allow("10.0.0.1,10.0.0.300")

    def test_loopback_listener_defaults_to_loopback(self) -> None:
        """Unset on 127.0.0.1 or ::1: only this host's processes may connect."""
        assert allow_list("127.0.0.1", "") == LOOPBACK
        assert allow_list("::1", "") == LOOPBACK

    def test_network_listener_must_name_its_peers(self) -> None:
        """0.0.0.0 with no list refuses to start rather than serve the whole network."""
        with pytest.raises(ConfigError, match="TIERLINE_AGI_ALLOW"):
            allow_list("0.0.0.0", "")
        assert allow_list("0.0.0.0", "10.0.0.5") == ("10.0.0.5/32",)

    @pytest.mark.parametrize(
        ("host", "allowed"),
        [
            ("127.0.0.1", False),
            ("10.0.0.5", True),
            ("10.0.0.6", False),
            ("::ffff:10.0.0.5", True),
            ("fe80::1%eth0", True),
            ("fe80::2", False),
            ("not-an-address", False),
        ],
    )
    def test_filter(self, host: str, allowed: bool) -> None:
        """IPv4-mapped IPv6 peers match IPv4 entries; a scope id is ignored."""
        peers = PeerFilter(["10.0.0.5", "fe80::1"])
        assert peers.allows(host) is allowed
        assert peers.allows(host) is allowed  # cached answer is the same


class TestAcceptOverTCP:
    async def test_peer_outside_the_list_is_closed_before_any_call(self, logs: LogCapture) -> None:
        """A loopback peer against a 10.0.0.0/8 list: closed, no handler, counted, logged."""
        seen: list[CallInfo] = []

        async def spy(session: AGISession, call: CallInfo) -> None:
            seen.append(call)

        server = AGIServer({"inbound": spy}, port=0, allow=["10.0.0.0/8"])
        await server.start()
        try:
            assert await refused_or_closed(server.port) == b""
        finally:
            await server.stop(drain_s=1.0)
        assert seen == []
        assert server.stats["refused_peers"] == 1
        assert server.stats["calls"] == 0
        [line] = logs.events("agi.peer_refused")
        assert str(line["peer"]).startswith("127.0.0.1:")

    async def test_default_admits_loopback(self) -> None:
        """With no list the router's own host is served as before."""
        server = AGIServer({"inbound": mark}, port=0)
        await server.start()
        try:
            record = await place_call("127.0.0.1", server.port, environment("2000"), max_s=5)
        finally:
            await server.stop(drain_s=1.0)
        assert record.variables["SERVED"] == "1"
        assert server.stats["refused_peers"] == 0

    async def test_ipv6_loopback_is_admitted_by_default(self) -> None:
        """::1 is in the default list (skipped where the host has no IPv6)."""
        if not socket.has_ipv6:
            pytest.skip("no IPv6 on this host")
        server = AGIServer({"inbound": mark}, host="::1", port=0)
        try:
            await server.start()
        except OSError as exc:
            pytest.skip(f"cannot bind ::1: {exc}")
        try:
            record = await place_call("::1", server.port, environment("2000"), max_s=5)
        finally:
            await server.stop(drain_s=1.0)
        assert record.variables["SERVED"] == "1"

    async def test_service_on_a_network_address_needs_a_list(
        self, tmp_path: Path, redis_url: str
    ) -> None:
        """``tierline serve`` on 0.0.0.0 without TIERLINE_AGI_ALLOW stops with a clear error."""
        settings = Settings(agi_host="0.0.0.0", agi_port=0, flows_dir=tmp_path)
        with pytest.raises(ConfigError, match="TIERLINE_AGI_ALLOW"):
            await service.run(settings, redis_url)


class TestFlood:
    async def test_a_flood_of_refused_peers_is_a_few_lines_and_a_count(
        self, logs: LogCapture
    ) -> None:
        """50 refused peers: 3 lines, then one summary saying 47 more were left out."""
        clock = FakeClock()
        limited = RateLimitedLog(get_logger("test"), burst=3, window_s=10.0, clock=clock)
        server = AGIServer({"inbound": mark}, port=0, allow=["10.0.0.0/8"], warnings=limited)
        await server.start()
        try:
            for _ in range(50):
                await refused_or_closed(server.port)
            for _ in range(100):  # connection_lost runs a loop turn after the abort
                if server.stats["refused_peers"] == 50:
                    break
                await asyncio.sleep(0.01)
            assert len(logs.events("agi.peer_refused")) == 3
            assert logs.events("log.suppressed") == []
            clock.now = 10.0
            await asyncio.sleep(0.3)  # the sweeper flushes windows that are over
            [summary] = logs.events("log.suppressed")
        finally:
            await server.stop(drain_s=1.0)
        assert summary["suppressed_event"] == "agi.peer_refused"
        assert summary["suppressed"] == 47
        assert limited.seen == {"agi.peer_refused": 50}
        assert limited.suppressed == {"agi.peer_refused": 47}
        assert server.stats["refused_peers"] == 50


class TestRateLimitedLog:
    def test_each_event_has_its_own_budget_and_windows_restart(self, logs: LogCapture) -> None:
        """Budgets are per event name; a new window logs again and summarises the old one."""
        clock = FakeClock()
        limited = RateLimitedLog(get_logger("test"), burst=2, window_s=5.0, clock=clock)
        results = [limited.warning("a", i=i) for i in range(4)] + [limited.warning("b")]
        assert results == [True, True, False, False, True]
        clock.now = 5.0
        assert limited.warning("a", i=4) is True  # the old window's summary comes first
        names = [(e["event"], e.get("suppressed")) for e in logs.events()]
        assert names == [("a", None), ("a", None), ("b", None), ("log.suppressed", 2), ("a", None)]
        limited.flush(force=True)
        assert len(logs.events("log.suppressed")) == 1  # nothing dropped since: no new line
