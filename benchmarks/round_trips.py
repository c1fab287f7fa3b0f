"""Round-trip budget of the call path on the shipped flows: exact counts, not timings.

For each sample path, one call through the production handler (``CallRouter``
wired as ``tierline serve`` wires it, on ``ivr_flows/``) and a real Redis,
counted from the environment written to the route reaching Asterisk (the
``MSet`` carrying ``TIERLINE_QUEUE``): AGI commands, Redis round trips (each
write to Redis that then waits for its replies, on the shared pipelined
connection or through redis-py's pool) and Redis commands. What happens
after the route (the IVR path write) is counted apart.

The split is exact: Asterisk's side, the router and the Redis client share
one event loop, and the counters are read when the environment is written
and when the route line arrives. ``tests/agi/test_round_trips.py`` asserts these counts.

    python benchmarks/round_trips.py [--redis URL]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redis.asyncio import BlockingConnectionPool, Redis

from router.agi import AGIServer
from router.agi.double import environment
from router.ami.store import RedisQueueState
from router.call_inputs import RedisInputs
from router.calls import CallRouter
from router.customers.model import Customer, CustomerList
from router.customers.store import RedisCustomerStore
from router.flows.registry import FlowRegistry
from router.ivr_paths import GATHER_S
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
    after_route_redis_round_trips: int = 0


@dataclass
class Sent:
    """Writes to Redis (each then waits for its replies) and the commands they carried."""

    round_trips: int = 0
    commands: int = 0


Probe = Callable[[], tuple[int, int]]


def counting_client(url: str, sent: Sent) -> Redis:
    """A call-path client counting every write to Redis through redis-py's pool."""

    class Counting(CallPathConnection):
        def pack_command(self, *args: Any) -> list[bytes]:
            sent.commands += 1
            return cast(list[bytes], super().pack_command(*args))

        async def send_packed_command(
            self, command: bytes | str | Iterable[bytes], check_health: bool = True
        ) -> None:
            sent.round_trips += 1
            await super().send_packed_command(command, check_health)

    pool = BlockingConnectionPool.from_url(
        url, max_connections=POOL, timeout=1.0, decode_responses=True, connection_class=Counting
    )
    return Redis(connection_pool=pool)


class Asterisk(asyncio.Protocol):
    """Asterisk's side of one call: the environment, then a 200 reply to each command.

    ``probe`` reads the Redis counters when the environment is written and
    when the route arrives: all in one event loop, so the split is exact.
    """

    def __init__(self, path: SamplePath, probe: Probe) -> None:
        self.path, self.probe = path, probe
        self.digits = list(path.digits)
        self.buf = b""
        self.ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.agi: list[str] = []
        self.at_env = self.at_route = (0, 0)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        env = environment(self.path.caller, dnis=self.path.dnis, script=self.path.script)
        self.at_env = self.probe()
        tail = b"HANGUP\n" if self.path.hangup_with_env else b""
        self.transport.write("\n".join(env).encode() + b"\n" + tail)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while b"\n" in self.buf:
            line, _, self.buf = self.buf.partition(b"\n")
            text = line.decode()
            if self.at_route == (0, 0):
                self.agi.append(_verb(text))
                if "TIERLINE_QUEUE=" in text:
                    self.at_route = self.probe()
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

    def budget(self, at_end: tuple[int, int]) -> Budget:
        route = self.at_route if self.at_route != (0, 0) else at_end
        return Budget(
            self.agi,
            route[0] - self.at_env[0],
            route[1] - self.at_env[1],
            at_end[0] - route[0],
        )


def _verb(line: str) -> str:
    """``EXEC MSet``, ``GET DATA``, ``ANSWER``: the command without its arguments."""
    words = line.split(" ")
    return " ".join(words[:2]) if words[0] in ("EXEC", "GET", "STREAM", "WAIT") else words[0]


@asynccontextmanager
async def production_router(url: str) -> AsyncIterator[tuple[int, Redis, Probe]]:
    """The shipped flows and routing behind a FastAGI server: its port, client and counters."""
    sent = Sent()
    client = counting_client(url, sent)
    await warm_pool(client, POOL)  # no connection handshake inside a measured call
    store = RedisCustomerStore(client)
    await store.upsert_many(CUSTOMERS)
    policy = TieredPolicy(load_routing(IVR / "routing.yaml"))
    flows = FlowRegistry(IVR, policy.services)
    router = CallRouter(
        store, policy, flows, RedisCallbackStore(client), policy.default_queue,
        RedisQueueState(client), client,
    )  # fmt: skip
    pipe = router.inputs.pipe if isinstance(router.inputs, RedisInputs) else None

    def probe() -> tuple[int, int]:
        shared = (pipe.writes, pipe.commands) if pipe is not None else (0, 0)
        return sent.round_trips + shared[0], sent.commands + shared[1]

    server = AGIServer({"inbound": router, NO_FLOW: router}, port=0)
    await server.start()
    try:
        yield server.port, client, probe
    finally:
        await server.stop(drain_s=1.0)
        await router.aclose()
        await client.aclose()
        await client.connection_pool.disconnect()


async def one_call(port: int, path: SamplePath, probe: Probe) -> Budget:
    loop = asyncio.get_running_loop()
    transport, side = await loop.create_connection(lambda: Asterisk(path, probe), "127.0.0.1", port)
    async with asyncio.timeout(5):
        await side.ended
    transport.close()
    await asyncio.sleep(GATHER_S + 0.05)  # the path write after the route is done
    return side.budget(probe())


async def measure(url: str) -> dict[str, Budget]:
    """One call per sample path, after one unmeasured call (Redis caches our scripts)."""
    out: dict[str, Budget] = {}
    async with production_router(url) as (port, client, probe):
        await one_call(port, PATHS[2], probe)  # a flow call: the path script is loaded too
        for path in PATHS:
            if path.scripts_flushed:
                await client.script_flush()
            out[path.name] = await one_call(port, path, probe)
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
