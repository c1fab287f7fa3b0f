"""A live FastAGI server on a free port, a log capture, and an in-memory store."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from router.agi import AGIServer, AGISession, AGITimeouts
from router.calls import CallRouter
from router.customers.model import Customer, CustomerList, Lifecycle, LookupResult
from router.flows.callbacks import MemoryCallbackStore
from router.flows.registry import FlowRegistry
from router.flows.trace import SimplePolicy
from router.logs import configure_logging
from router.types import CallInfo


@dataclass
class MemoryStore:
    """CustomerStore in memory; ``delay_s``/``fail`` simulate a sick Redis."""

    customers: dict[str, Customer] = field(default_factory=dict)
    delay_s: float = 0.0
    fail: bool = False

    async def lookup(self, number: str) -> LookupResult:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail:
            raise ConnectionError("redis down")
        customer = self.customers.get(number)
        return LookupResult(number, customer, "found" if customer else "unknown")

    async def link(self, number: str, customer_id: str) -> None:
        raise NotImplementedError


VIP = Customer(
    customer_id="C-001",
    name="Zhang San",
    tier="vip",
    list=CustomerList.RED,
    lifecycle=Lifecycle.AT_RISK,
    offers=("5G, unlimited", 'roam "asia"', "x\\y(1)"),
    phones=("13800138000",),
)


class LogCapture:
    def __init__(self) -> None:
        self.buf = io.StringIO()

    def events(self, name: str | None = None) -> list[dict[str, object]]:
        rows = [json.loads(x) for x in self.buf.getvalue().splitlines() if x.startswith("{")]
        return [r for r in rows if name is None or r.get("event") == name]


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    cap = LogCapture()
    configure_logging("debug", cap.buf)
    yield cap
    configure_logging("info")


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore({"13800138000": VIP})


async def ivr(session: AGISession, call: CallInfo) -> None:
    """A small IVR touching every media command, then one MSet."""
    await session.answer()
    await session.play(["hello-world"], "12")
    got = await session.get_digits("beep", 2000, 2)
    await session.wait_digit(1000)
    await session.exec("Wait", ["0.5"])
    await session.set_vars({"DIGITS": got.digits, "DONE": "1"})


async def echo(session: AGISession, call: CallInfo) -> None:
    """Writes hostile caller text back with both SET VARIABLE and MSet."""
    await session.set_var("NAME1", call.caller_name)
    await session.set_vars({"NAME2": call.caller_name, "ARG1": call.params.get("arg1", "")})
    await session.set_var("NAME3", await session.get_var("NAME1") or "")


def no_flow_router(store: MemoryStore, flows_dir: Path) -> CallRouter:
    """The production handler with no flow: every call goes straight to the policy."""
    flows = FlowRegistry(flows_dir, frozenset())
    return CallRouter(store, SimplePolicy(), flows, MemoryCallbackStore(), "general")


@pytest.fixture
async def server(logs: LogCapture, store: MemoryStore, tmp_path: Path) -> AsyncIterator[AGIServer]:
    srv = AGIServer(
        {"inbound": no_flow_router(store, tmp_path), "ivr": ivr, "echo": echo},
        host="127.0.0.1",
        port=0,
        timeouts=AGITimeouts(env_s=1.0, command_s=0.5),
    )
    await srv.start()
    yield srv
    await srv.stop(drain_s=2.0)
