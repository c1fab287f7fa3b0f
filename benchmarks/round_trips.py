"""Round-trip budget of the call path on the shipped flows: exact counts, not timings.

For each sample path, one call through the production handler (``CallRouter``
wired as ``tierline serve`` wires it, on ``ivr_flows/``) and a real Redis,
counted from the environment written to the route reaching Asterisk (the
``MSet`` carrying ``TIERLINE_QUEUE``): AGI commands, Redis round trips (each
write to Redis that then waits for its replies) and Redis commands. What
happens after the route (the IVR path write) is counted apart.

The event order is exact: Asterisk's side, the router and the Redis client
share one event loop, so a Redis write before the route is seen before the
route line arrives. ``tests/agi/test_round_trips.py`` asserts these counts.

    python benchmarks/round_trips.py [--redis URL]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redis.asyncio import BlockingConnectionPool, Redis

from router.agi import AGIServer
from router.agi.double import environment
from router.ami.store import RedisQueueState
from router.calls import CallRouter
from router.customers.model import Customer, CustomerList
from router.customers.store import RedisCustomerStore
from router.flows.registry import FlowRegistry
from router.logs import configure_logging
from router.policy import TieredPolicy, load_routing
from router.storage.callback_stream import RedisCallbackStore
from router.storage.client import CallPathConnection, warm_pool

POOL = 4
IVR = Path(__file__).resolve().parents[1] / "ivr_flows"
TELECOM = "10086"  # served by ivr_flows/telecom.yaml
UNSERVED = "9999"
NO_FLOW = "noflow"  # telecom serves every number of the inbound script: another script has none
CUSTOMERS = (
    Customer("C-RED", tier="vip", list=CustomerList.RED, phones=("13800000001",)),
    Customer("C-BLACK", tier="normal", list=CustomerList.BLACK, phones=("13800000002",)),
    Customer("C-NORMAL", tier="mid", phones=("13800000003",)),
)


@dataclass(frozen=True)
class SamplePath:
    name: str
    caller: str
    dnis: str
    digits: tuple[str, ...] = ()
    hangup_with_env: bool = False
    script: str = "inbound"
    scripts_flushed: bool = False  # Redis restarted: its script cache is empty


PATHS = (
    SamplePath("no flow, known caller", "13800000003", UNSERVED, script=NO_FLOW),
    SamplePath("no flow, anonymous caller", "", UNSERVED, script=NO_FLOW),
    SamplePath("telecom, red-list caller routed at once", "13800000001", TELECOM),
    SamplePath("telecom, black-list caller through one menu", "13800000002", TELECOM, ("2",)),
    SamplePath("caller gone with the environment", "13800000003", TELECOM, hangup_with_env=True),
    SamplePath(
        "red-list caller, Redis just restarted", "13800000001", TELECOM, scripts_flushed=True
    ),
)


@dataclass
class Budget:
    """One call's counts: before the route (the critical path) and after it."""

    agi: list[str] = field(default_factory=list)
    redis_round_trips: int = 0
    redis_commands: int = 0
    routed: bool = False
    after_route_redis_round_trips: int = 0


def counting_client(url: str, trace: list[tuple[str, str]]) -> Redis:
    """The call-path client, with every write to Redis noted in ``trace``."""

    class Counting(CallPathConnection):
        packed = 0

        def pack_command(self, *args: Any) -> list[bytes]:
            self.packed += 1
            return cast(list[bytes], super().pack_command(*args))

        async def send_packed_command(
            self, command: bytes | str | Iterable[bytes], check_health: bool = True
        ) -> None:
            trace.append(("redis", str(self.packed)))
            self.packed = 0
            await super().send_packed_command(command, check_health)

    pool = BlockingConnectionPool.from_url(
        url, max_connections=POOL, timeout=1.0, decode_responses=True, connection_class=Counting
    )
    return Redis(connection_pool=pool)


class Asterisk(asyncio.Protocol):
    """Asterisk's side of one call: the environment, then a 200 reply to each command."""

    def __init__(self, path: SamplePath, trace: list[tuple[str, str]]) -> None:
        self.path, self.trace = path, trace
        self.digits = list(path.digits)
        self.buf = b""
        self.ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        env = environment(self.path.caller, dnis=self.path.dnis, script=self.path.script)
        self.trace.append(("env", ""))
        tail = b"HANGUP\n" if self.path.hangup_with_env else b""
        self.transport.write("\n".join(env).encode() + b"\n" + tail)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while b"\n" in self.buf:
            line, _, self.buf = self.buf.partition(b"\n")
            text = line.decode()
            self.trace.append(("agi", text))
            assert self.transport is not None
            self.transport.write(self.reply(text).encode() + b"\n")

    def reply(self, line: str) -> str:
        if line.startswith("GET DATA"):
            return f"200 result={self.digits.pop(0)}" if self.digits else "200 result= (timeout)"
        if line.startswith("STREAM FILE"):
            return "200 result=0 endpos=8000"
        return "200 result=0"

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ended.done():
            self.ended.set_result(None)


def budget_of(trace: list[tuple[str, str]]) -> Budget:
    """Split one call's trace at the route line."""
    out = Budget()
    for kind, what in trace:
        if kind == "redis":
            if out.routed:
                out.after_route_redis_round_trips += 1
            else:
                out.redis_round_trips += 1
                out.redis_commands += int(what)
        elif kind == "agi" and not out.routed:
            out.agi.append(_verb(what))
            out.routed = "TIERLINE_QUEUE=" in what
    return out


def _verb(line: str) -> str:
    """``EXEC MSet``, ``GET DATA``, ``ANSWER``: the command without its arguments."""
    words = line.split(" ")
    return " ".join(words[:2]) if words[0] in ("EXEC", "GET", "STREAM", "WAIT") else words[0]


@asynccontextmanager
async def production_router(
    url: str, trace: list[tuple[str, str]]
) -> AsyncIterator[tuple[int, Redis]]:
    """The shipped flows and routing behind a FastAGI server; yields its port."""
    client = counting_client(url, trace)
    await warm_pool(client, POOL)  # no connection handshake inside a measured call
    store = RedisCustomerStore(client)
    await store.upsert_many(CUSTOMERS)
    policy = TieredPolicy(load_routing(IVR / "routing.yaml"))
    flows = FlowRegistry(IVR, policy.services)
    router = CallRouter(
        store, policy, flows, RedisCallbackStore(client), policy.default_queue,
        RedisQueueState(client), client,
    )  # fmt: skip
    server = AGIServer({"inbound": router, NO_FLOW: router}, port=0)
    await server.start()
    try:
        yield server.port, client
    finally:
        await server.stop(drain_s=1.0)
        await router.aclose()
        await client.aclose()
        await client.connection_pool.disconnect()


async def one_call(port: int, path: SamplePath, trace: list[tuple[str, str]]) -> None:
    loop = asyncio.get_running_loop()
    transport, side = await loop.create_connection(lambda: Asterisk(path, trace), "127.0.0.1", port)
    async with asyncio.timeout(5):
        await side.ended
    transport.close()
    await asyncio.sleep(0.05)  # let the path write after the route happen


async def measure(url: str) -> dict[str, Budget]:
    """One call per sample path, after one unmeasured call (Redis caches our scripts)."""
    trace: list[tuple[str, str]] = []
    out: dict[str, Budget] = {}
    async with production_router(url, trace) as (port, client):
        await one_call(port, PATHS[0], trace)
        for path in PATHS:
            if path.scripts_flushed:
                await client.script_flush()
            trace.clear()
            await one_call(port, path, trace)
            out[path.name] = budget_of(list(trace))
    return out


def report(budgets: dict[str, Budget]) -> str:
    lines = [
        f"{'sample path':<46} {'AGI before route':>16} {'Redis RT':>9} {'cmds':>5} "
        f"{'Redis RT after':>14}  AGI commands"
    ]
    for name, b in budgets.items():
        lines.append(
            f"{name:<46} {len(b.agi):>16} {b.redis_round_trips:>9} {b.redis_commands:>5} "
            f"{b.after_route_redis_round_trips:>14}  {', '.join(b.agi) or '-'}"
        )
    return "\n".join(lines)


async def main(url: str) -> None:
    configure_logging("error")
    if url:
        print(report(await measure(url)))
        return
    from router.storage.embedded import embedded_store

    with tempfile.TemporaryDirectory() as tmp, embedded_store(Path(tmp)) as embedded:
        print(report(await measure(embedded)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="", help="default: an embedded Valkey")
    asyncio.run(main(parser.parse_args().redis))
