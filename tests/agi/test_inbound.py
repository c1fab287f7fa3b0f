"""The inbound route: one MSet with the route, and the default route on any failure."""

from __future__ import annotations

import pytest

from router.agi import AGIServer, route_variables
from router.agi.caller import place_call
from router.agi.double import environment
from router.types import RouteDecision
from tests.agi.conftest import VIP, LogCapture, MemoryStore

DEFAULT = {
    "TIERLINE_CUSTOMER": "",
    "TIERLINE_TIER": "",
    "TIERLINE_LIST": "",
    "TIERLINE_LIFECYCLE": "",
    "TIERLINE_QUEUE": "general",
    "TIERLINE_PRIO": "0",
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
        """Unknown, anonymous and junk caller ids all get the default route."""
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
        """A slow (past the 50 ms deadline) or failing store: default route, a warning."""
        store.delay_s, store.fail = delay_s, fail
        got, _ = await route_of(server, "13800138000")
        assert got == DEFAULT
        assert len(logs.events("inbound.default_route")) == 1

    async def test_broken_chooser_still_routes(self, server: AGIServer) -> None:
        """A routing bug (the chooser raises) still sends the default route."""
        route = server.routes["inbound"]

        def broken(customer, call):  # type: ignore[no-untyped-def]
            raise ZeroDivisionError

        route.choose = broken  # type: ignore[attr-defined]
        got, _ = await route_of(server, "13800138000")
        assert got == DEFAULT


class TestRouteVariables:
    def test_values_are_capped(self) -> None:
        """Every value is capped so the MSet line stays under Asterisk's 2047 bytes."""
        long = VIP.__class__(customer_id="x" * 5000, offers=("y" * 5000,))
        got = route_variables(long, RouteDecision("q" * 5000, 3, "t"))
        assert max(len(v) for v in got.values()) == 120
