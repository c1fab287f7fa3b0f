"""The sample backend answers exactly what the shipped flows fetch and notify."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from router.backend_demo import balance_of, demo_app, load_customers, order_of
from router.backend_http import HttpBackends
from router.customers.model import Customer, CustomerList
from router.flows import actions as a
from router.flows.engine import Engine
from router.flows.loader import load_flows
from router.flows.model import FlowSet
from router.flows.services import known_services
from router.flows.trace import SimplePolicy, trace_call
from tests.flows.helpers import call

ROOT = Path(__file__).resolve().parents[2]
IVR = ROOT / "ivr_flows"


@pytest.fixture(scope="module")
def shipped() -> FlowSet:
    return load_flows(IVR, known_services(IVR, ""))


@pytest.fixture
async def client() -> AsyncIterator[HttpBackends]:
    app = demo_app(load_customers(ROOT / "samples" / "customers.csv"))
    http = HttpBackends(transport=httpx.ASGITransport(app=app))
    yield http
    await http.aclose()


def first(flows: FlowSet, flow: str, customer: Customer | None, digits: list[str]) -> a.Action:
    """The first data action the sample flow emits for these key presses."""
    engine = Engine(flows, SimplePolicy())
    state, out = engine.start(flow, engine.facts(call(dnis="10086"), customer, {}))
    while not isinstance(out[-1], a.Fetch | a.Notify):
        event = a.Digits(digits.pop(0)) if isinstance(out[-1], a.Collect) else a.PlayDone()
        state, out = engine.step(state, event)
    return out[-1]


class TestDemoData:
    def test_balance_is_repeatable_text(self) -> None:
        """One customer always gets the same balance, as text with two decimals."""
        assert balance_of("C00003", 47.38) == balance_of("C00003", 47.38)
        assert str(balance_of("C00003", 47.38)["balance"]).count(".") == 1
        assert re.fullmatch(r"-?[0-9]+\.[0-9]{2}", str(balance_of("C00003", 47.38)["balance"]))

    def test_orders_starting_with_9_are_unknown(self) -> None:
        """Order numbers: 6-10 digits; a leading 9 is an unknown order."""
        assert order_of("12345678") is not None
        assert order_of("91234567") is None
        assert order_of("12a45") is None


class TestShippedFlows:
    async def test_telecom_balance_and_sms(self, shipped: FlowSet, client: HttpBackends) -> None:
        """The telecom self-service fetch gets a balance; its SMS is accepted."""
        black = Customer("C00003", tier="normal", list=CustomerList.BLACK)
        fetch = first(shipped, "telecom", black, ["1"])
        assert isinstance(fetch, a.Fetch)
        got = await client.fetch(fetch, shipped.backends.backends[fetch.backend], 2.0)
        assert got.ok
        assert set(got.values) == {"balance"}
        sms = a.Notify("sms_balance", "sms", "/sms", "sms", "13900002222", "hi", 300)
        assert (await client.notify(sms, shipped.backends.backends["sms"], 2.0)).ok

    async def test_unknown_customer_takes_failed(
        self, shipped: FlowSet, client: HttpBackends
    ) -> None:
        """A customer the CRM does not know is a 404: the fetch fails."""
        nobody = Customer("C99999", tier="normal", list=CustomerList.BLACK)
        fetch = first(shipped, "telecom", nobody, ["1"])
        assert isinstance(fetch, a.Fetch)
        got = await client.fetch(fetch, shipped.backends.backends[fetch.backend], 2.0)
        assert got == a.Fetched("status")

    async def test_electronics_order_status(self, shipped: FlowSet, client: HttpBackends) -> None:
        """The typed order number reaches the order system; status and eta come back."""
        engine = Engine(shipped, SimplePolicy())
        state, out = engine.start("electronics", engine.facts(call(dnis="4008202020"), None, {}))
        state, out = engine.step(state, a.Digits("4"))
        state, out = engine.step(state, a.Digits("12345678"))
        fetch = out[-1]
        assert isinstance(fetch, a.Fetch)
        assert fetch.path == "/12345678"
        got = await client.fetch(fetch, shipped.backends.backends[fetch.backend], 2.0)
        assert got.ok
        assert got.values["status"] in {"processing", "shipped", "delivered"}
        assert got.values["eta"].startswith("2026-12-")

    async def test_main_menu_key_4_fetches_the_balance(
        self, shipped: FlowSet, client: HttpBackends
    ) -> None:
        """A known normal caller pressing 4 at the main menu gets the balance fetch."""
        normal = Customer("C00003", tier="normal")
        fetch = first(shipped, "telecom", normal, ["4"])
        assert isinstance(fetch, a.Fetch)
        assert fetch.path == "/customers/C00003/balance"
        got = await client.fetch(fetch, shipped.backends.backends[fetch.backend], 2.0)
        assert got.ok

    def test_main_menu_key_4_says_and_texts_the_balance(self, shipped: FlowSet) -> None:
        """Key 4: fetch, say, SMS, the sent prompt, goodbye (the self-service ending)."""
        normal = Customer("C00003", tier="normal")
        t = trace_call(shipped, "telecom", call(dnis="10086"), normal, ["4"])
        path = [v.node for v in t.state.path]
        assert path[path.index("main_menu") :] == [
            "main_menu", "balance_check", "self_service", "say_balance",
            "sms_balance", "sms_sent", "goodbye",
        ]  # fmt: skip
        assert t.answers == (("self_service", "ok"), ("sms_balance", "ok"))

    def test_main_menu_key_4_identifies_an_unknown_caller(self, shipped: FlowSet) -> None:
        """An unknown caller pressing 4 is asked for an account before any fetch."""
        t = trace_call(shipped, "telecom", call(dnis="10086"), None, ["4"])
        path = [v.node for v in t.state.path]
        assert path[path.index("main_menu") :][:3] == ["main_menu", "balance_check", "identify"]
        assert not any(isinstance(x, a.Fetch) for x in t.actions)


class TestBesideTheRouter:
    async def test_a_busy_port_leaves_the_router_serving(self) -> None:
        """serve --demo with 8600 taken: one warning, and the router's coroutine runs to its end."""
        import asyncio
        import socket

        from router.backend_demo import beside

        taken = socket.create_server(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        finished: list[str] = []

        async def router() -> None:
            await asyncio.sleep(0.2)  # long enough for the backend to try its port
            finished.append("router")

        try:
            await beside(router(), ROOT / "samples" / "customers.csv", port=port)
        finally:
            taken.close()
        assert finished == ["router"]

    async def test_a_free_port_serves_the_backend_while_the_router_runs(self) -> None:
        """The backend answers a balance while the router runs, and stops with it."""
        import asyncio
        import socket

        from router.backend_demo import beside

        probe = socket.create_server(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        answers: list[int] = []

        async def router() -> None:
            async with httpx.AsyncClient() as http:
                for _ in range(100):  # until uvicorn is listening
                    try:
                        got = await http.get(
                            f"http://127.0.0.1:{port}/crm/customers/C00001/balance"
                        )
                    except httpx.ConnectError:
                        await asyncio.sleep(0.05)
                        continue
                    answers.append(got.status_code)
                    return

        await beside(router(), ROOT / "samples" / "customers.csv", port=port)
        assert answers == [200]
