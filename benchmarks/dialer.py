"""Dialer speed: rule decisions per second, and agent free -> Originate latency.

    python benchmarks/dialer.py [--contacts 100000] [--batch 1000] [--rounds 300] [--redis URL]

Without --redis (or $REDIS_URL) an embedded Valkey is started in a temp dir
(the benchmark writes ``tl:{d}:*`` keys: point --redis at a scratch server).

1. Decisions/s (issue 14 target >= 10,000/s): 100,000 pending contacts in
   two campaigns (a payment reminder and a telemarketing offer) over 50,000
   customers, 1 % of numbers on the DNC list and 2 % of customers
   black-listed. ``Screen.screen`` decides batches of due contacts with every
   rule (calling window, standing rules, then the one-EVALSHA history check:
   DNC, in-flight lock, per-day, marketing and per-campaign caps), exactly as
   the dialling loop does. Baseline, same run and server: the same number of
   pipelined EVALSHA calls of a script that only returns (the floor of one
   script call per decision).
2. Agent free -> Originate sent (target p99 <= 50 ms): a real ``Dialer``
   against a fake AMI on loopback; the fake marks the agent busy, then free
   (QueueMemberStatus as in ami/13), and times the Originate's arrival.
   Baseline: an AMI Ping round trip on the same link.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path

# As a script, this folder is first on sys.path and its simulator.py would
# shadow the simulator package (pacing uses simulator.theory).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from router.ami.listener import ListenerConfig
from router.customers.model import Customer, CustomerList
from router.customers.store import RedisCustomerStore
from router.dialer.config import DialerConfig, parse_config
from router.dialer.model import CampaignState, Contact
from router.dialer.screen import Screen
from router.dialer.service import Dialer
from router.dialer.store import DialerStore, dialer_client
from router.eventloop import tune_gc
from router.logs import configure_logging
from router.storage import keys
from router.storage.client import bulk_client
from router.storage.embedded import embedded_store
from router.types import QueueSnapshot

ALWAYS = '{timezone: UTC, weekly: {mon-sun: "00:00-24:00"}}'
CONFIG = f"""
limits: {{per_day: 1, marketing_max: 1, campaign_attempts: 3}}
callbacks: {{lane: outbound_q, hours: {ALWAYS}}}
campaigns:
  remind: {{kind: payment_reminder, lane: outbound_q, hours: {ALWAYS}}}
  promo: {{kind: telemarketing, lane: outbound_q, hours: {ALWAYS}}}
"""
NOOP_LUA = "return {'ok', '0'}"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def seed(url: str, cfg: DialerConfig, contacts: int) -> None:
    raw = bulk_client(url)
    await raw.flushdb()
    people = contacts // 2
    rng = random.Random(14)
    custs = [
        Customer(
            f"C{i:06d}",
            list=CustomerList.BLACK if rng.random() < 0.02 else CustomerList.NONE,
            phones=(f"139{i:08d}",),
        )
        for i in range(people)
    ]
    store = RedisCustomerStore(raw)
    for start in range(0, people, 5000):
        await store.upsert_many(custs[start : start + 5000])
    await raw.aclose()
    text = dialer_client(url, 60.0)
    dstore = DialerStore(text, cfg.limits)
    rows = [
        Contact(f"{camp}:{c.customer_id}", camp, c.phones[0], customer_id=c.customer_id)
        for camp in ("remind", "promo")
        for c in custs
    ]
    for start in range(0, len(rows), 5000):
        await dstore.add_contacts(rows[start : start + 5000], cfg.lanes())
    await dstore.dnc_add(c.phones[0] for c in custs if rng.random() < 0.01)
    await text.aclose()


async def decisions(url: str, cfg: DialerConfig, batch: int) -> tuple[int, float, dict[str, int]]:
    tune_gc()  # as `tierline serve` and `tierline dialer run` do once started
    text = dialer_client(url, 60.0)
    store = DialerStore(text, cfg.limits)
    screen = Screen(cfg, store, name="bench")
    slots = await store.slots()
    now = time.time()
    decided = claimed = 0
    elapsed = 0.0
    while True:
        start = time.perf_counter()
        due = (await store.due(slots, now, batch))[:batch]
        if not due:
            break
        ready = await screen.screen(due, now)
        elapsed += time.perf_counter() - start
        decided += len(due)
        claimed += len(ready)
        if ready:  # the calls end at once (not timed): free the customers' locks
            pipe = text.pipeline(transaction=False)
            for r in ready:
                pipe.hdel(keys.dialer_who_key(r.who), "lock", "lock_at")
            await pipe.execute()
    await text.aclose()
    return decided, elapsed, {"ok": claimed, **screen.refused}


async def baseline(url: str, n: int, batch: int) -> float:
    text = dialer_client(url, 60.0)
    script = text.register_script(NOOP_LUA)
    ks = [
        keys.dialer_due_key("x"),
        keys.DNC,
        keys.dialer_who_key("x"),
        keys.dialer_contact_key("x"),
        keys.DIALER_REFUSALS_STREAM,
        keys.DIALER_CAMPAIGNS,
    ]
    start = time.perf_counter()
    for done in range(0, n, batch):
        pipe = text.pipeline(transaction=False)
        for i in range(min(batch, n - done)):
            await script(
                keys=ks, args=[f"c{i}", "1", "w", "a", "1", 1, 1, 1, 1, 1, 0, 0, 1, 1], client=pipe
            )
        await pipe.execute()
    elapsed = time.perf_counter() - start
    await text.aclose()
    return n / elapsed


class FakeAsterisk:
    """Just enough AMI: Login, QueueStatus (one free agent), Ping, Originate (busy)."""

    def __init__(self) -> None:
        self.writer: asyncio.StreamWriter | None = None
        self.originated = asyncio.Event()
        self.originate_at = 0.0
        self.port = 0

    async def start(self) -> None:
        server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]

    @staticmethod
    def frame(fields: Mapping[str, str]) -> bytes:
        return b"".join(f"{k}: {v}\r\n".encode() for k, v in fields.items()) + b"\r\n"

    def member(self, status: str) -> bytes:
        return self.frame(
            {
                "Event": "QueueMemberStatus",
                "Queue": "outbound_q",
                "MemberName": "A1",
                "Interface": "Local/a1@agents/n",
                "Status": status,
                "Paused": "0",
            }
        )

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        while True:
            try:
                raw = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            act = dict(ln.split(": ", 1) for ln in raw.decode().split("\r\n") if ": " in ln)
            aid = act.get("ActionID", "")
            if act.get("Action") == "Originate":
                self.originate_at = time.perf_counter()
                self.originated.set()
                writer.write(self.member("2"))  # the call takes the agent (ami/12)
                writer.write(
                    self.frame(
                        {
                            "Response": "Success",
                            "ActionID": aid,
                            "Message": "Originate successfully queued",
                        }
                    )
                )
                writer.write(
                    self.frame(
                        {
                            "Event": "OriginateResponse",
                            "ActionID": aid,
                            "Response": "Failure",
                            "Reason": "5",
                            "Uniqueid": "<unknown>",
                        }
                    )
                )
            elif act.get("Action") == "QueueStatus":
                writer.write(
                    self.frame({"Response": "Success", "ActionID": aid, "EventList": "start"})
                )
                writer.write(
                    self.frame(
                        {
                            "Event": "QueueMember",
                            "Queue": "outbound_q",
                            "Name": "A1",
                            "Location": "Local/a1@agents/n",
                            "Status": "2",
                            "Paused": "0",
                            "ActionID": aid,
                        }
                    )
                )
                writer.write(
                    self.frame(
                        {
                            "Event": "QueueStatusComplete",
                            "ActionID": aid,
                            "EventList": "Complete",
                            "ListItems": "1",
                        }
                    )
                )
            else:
                writer.write(self.frame({"Response": "Success", "ActionID": aid}))
            await writer.drain()


class Live:
    async def snapshot(self) -> Mapping[str, QueueSnapshot]:
        return {}


async def free_to_originate(
    url: str, cfg: DialerConfig, rounds: int
) -> tuple[list[float], list[float], list[float]]:
    text = dialer_client(url)
    await text.flushdb()
    store = DialerStore(text, cfg.limits)
    await store.add_contacts(
        [Contact(f"remind:{i}", "remind", f"1390000{i:04d}") for i in range(rounds)], cfg.lanes()
    )
    await store.set_campaign("remind", CampaignState.RUNNING)
    fake = FakeAsterisk()
    await fake.start()
    dialer = Dialer(
        cfg, store, Live(), ListenerConfig(port=fake.port, ping_interval_s=60), tick_s=0.2
    )
    await dialer.start()
    await dialer.link.wait_up(5)
    await asyncio.sleep(0.3)
    wire, pings = [], []
    for _ in range(rounds):
        fake.originated.clear()
        assert fake.writer is not None
        await asyncio.sleep(0.01)
        t0 = time.perf_counter()
        fake.writer.write(fake.member("1"))
        await fake.writer.drain()
        await asyncio.wait_for(fake.originated.wait(), 5)
        wire.append(fake.originate_at - t0)
        await asyncio.sleep(0.01)
        p0 = time.perf_counter()
        await dialer.link.action({"Action": "Ping"})
        pings.append(time.perf_counter() - p0)
    internal = list(dialer.free_to_originate)
    await dialer.stop()
    await text.aclose()
    return wire, internal, pings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contacts", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--redis", default=os.environ.get("REDIS_URL"))
    args = ap.parse_args()
    configure_logging("warning")  # one JSON line per Originate would time the terminal
    cfg = parse_config(CONFIG, "bench.yaml")
    with ExitStack() as stack:
        url = args.redis or stack.enter_context(
            embedded_store(Path(stack.enter_context(tempfile.TemporaryDirectory())))
        )
        asyncio.run(seed(url, cfg, args.contacts))
        n, elapsed, verdicts = asyncio.run(decisions(url, cfg, args.batch))
        floor = asyncio.run(baseline(url, n, args.batch))
        print(
            f"decisions: {n} contacts decided in {elapsed:.2f} s = {n / elapsed:,.0f}/s "
            f"(target >= 10,000/s); baseline no-op EVALSHA pipelined: {floor:,.0f}/s"
        )
        print(f"  verdicts: {dict(sorted(verdicts.items()))}")
        wire, internal, pings = asyncio.run(free_to_originate(url, cfg, args.rounds))
    ms = [w * 1000 for w in wire]
    print(
        f"agent free -> Originate on the wire ({len(ms)} rounds): p50 {pct(ms, 50):.2f} ms, "
        f"p99 {pct(ms, 99):.2f} ms (target p99 <= 50 ms)"
    )
    if internal:
        ims = [i * 1000 for i in internal]
        print(
            f"  dialer's own measure (event parsed -> written): p50 {pct(ims, 50):.2f} ms, "
            f"p99 {pct(ims, 99):.2f} ms"
        )
    pms = [p * 1000 for p in pings]
    print(
        f"  baseline AMI Ping round trip: p50 {pct(pms, 50):.2f} ms, p99 {pct(pms, 99):.2f} ms, "
        f"mean {statistics.fmean(pms):.2f} ms"
    )


if __name__ == "__main__":
    main()
