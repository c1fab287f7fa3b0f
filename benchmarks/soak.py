"""Soak under faults: calls in progress for minutes while Redis dies, freezes and returns,
hostile connections arrive and a bad file lands in the flows folder.

    python -P benchmarks/soak.py [--minutes 3] [--concurrency 150] [--speed 20]

Runs exactly what is deployed: ``tierline serve`` as its own process on a real redis-server
with the sample customers and the shipped flows (a copy, so a bad file can be dropped in),
driven by the Asterisk double over TCP (``router.agi.caller.place_call``), IVR time run
``--speed`` times faster than the wall clock. The fault timeline (fractions of the run):

* 0.15 Redis frozen (SIGSTOP) for 5 s, then thawed;
* 0.35 Redis killed, restarted 5 s later on the same port (empty: callers become unknown);
* 0.55 2,000 hostile connections: forged environments, garbage, half environments;
* 0.70 a non-UTF-8 flow file and a dangling editor lock link, then SIGHUP (hot reload);
* 0.85 the bad files removed, SIGHUP again.

Printed: calls placed, routed by the router (by reason: lane, fallback), left to the
dialplan's fallback (the router set no route), failed connections; the router's RSS and open
file descriptors after warm-up and at the end (the baseline is the same process before the
faults). Goal (issue 11): 0 calls without a route from the router, flat memory.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from router.agi.caller import place_call
from router.agi.double import CallerScript, environment
from tests.redis_server import RedisProcess, free_port

ROOT = Path(__file__).resolve().parents[1]
NUMBERS = ["13800138000", "13900001111", "13911112222", "13700000000", "18600000001"]
DIALLED = ["10086", "4008001000", "4008202020", "4008202021", "95555"]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


class Tally:
    def __init__(self) -> None:
        self.outcomes: collections.Counter[str] = collections.Counter()

    def add(self, variables: dict[str, str] | None) -> None:
        if variables is None:
            self.outcomes["connect_failed"] += 1
        elif variables.get("TIERLINE_ACTION") in ("transfer", "voicemail", "callback", "hangup"):
            self.outcomes["ended_by_flow"] += 1  # the flow's own ending: a route too
        elif not variables.get("TIERLINE_QUEUE"):
            self.outcomes["no_route_from_router"] += 1
        else:
            reason = variables.get("TIERLINE_REASON", "")
            self.outcomes["fallback" if reason.startswith("default") else "routed"] += 1


async def one_call(port: int, rng: random.Random, speed: float, tally: Tally, n: int) -> None:
    caller = rng.choice([*NUMBERS, f"1590000{rng.randrange(10000):04d}"])
    env = environment(caller, dnis=rng.choice(DIALLED), uniqueid=f"{int(time.time())}.{n}",
                      host=f"127.0.0.1:{port}", args=())  # fmt: skip
    script = CallerScript(digits=[(3000.0, rng.choice("1230"))], queue_ms=2000.0)
    try:
        record = await place_call("127.0.0.1", port, env, script, speed=speed, max_s=60)
    except OSError:
        tally.add(None)
        return
    tally.add(record.variables)


async def hostile(port: int, count: int) -> None:
    forged = "\n".join(environment("x\nagi_callerid: 13800138000")) + "\n"
    payloads = [forged.encode(), b"\x00\xff garbage\n\n", b"agi_network: yes\n", b""]
    for i in range(count):
        with contextlib.suppress(OSError):
            _, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(payloads[i % len(payloads)])
            with contextlib.suppress(OSError):
                await w.drain()
            w.close()


async def drive(args: argparse.Namespace, port: int, tally: Tally, stop: asyncio.Event) -> None:
    rng = random.Random(1)
    sem = asyncio.Semaphore(args.concurrency)
    tasks: set[asyncio.Task[None]] = set()
    n = 0
    while not stop.is_set():
        await sem.acquire()
        n += 1
        task = asyncio.create_task(one_call(port, rng, args.speed, tally, n))
        tasks.add(task)
        task.add_done_callback(lambda t: (tasks.discard(t), sem.release()))
    await asyncio.gather(*tasks)


async def faults(args: argparse.Namespace, store: RedisProcess, router: subprocess.Popen[bytes],
                 flows: Path, port: int) -> None:  # fmt: skip
    total = args.minutes * 60
    plan = [(0.15, "freeze"), (0.35, "kill"), (0.55, "hostile"), (0.70, "bad_files"),
            (0.85, "good_files")]  # fmt: skip
    start = time.monotonic()
    for at, what in plan:
        await asyncio.sleep(max(0.0, start + at * total - time.monotonic()))
        print(f"  t={time.monotonic() - start:5.0f}s fault: {what}", flush=True)
        if what == "freeze" and store.proc is not None:
            store.proc.send_signal(signal.SIGSTOP)
            await asyncio.sleep(5)
            store.proc.send_signal(signal.SIGCONT)
        elif what == "kill" and store.proc is not None:
            store.proc.kill()
            store.proc.wait()
            await asyncio.sleep(5)
            store.start()
        elif what == "hostile":
            await hostile(port, 2000)
        elif what == "bad_files":
            (flows / "broken.yaml").write_bytes(b"flow: \xff\xfe broken\n")
            with contextlib.suppress(FileExistsError):
                (flows / ".#telecom.yaml").symlink_to("/nonexistent/lock")
            router.send_signal(signal.SIGHUP)
        elif what == "good_files":
            (flows / "broken.yaml").unlink(missing_ok=True)
            (flows / ".#telecom.yaml").unlink(missing_ok=True)
            router.send_signal(signal.SIGHUP)


async def main(args: argparse.Namespace) -> int:
    store = RedisProcess().start()
    work = Path(tempfile.mkdtemp(prefix="tl-soak-"))
    flows = work / "ivr_flows"
    shutil.copytree(ROOT / "ivr_flows", flows)
    port = free_port()
    env = {**os.environ, "REDIS_URL": store.url, "TIERLINE_FLOWS_DIR": str(flows),
           "TIERLINE_AGI_PORT": str(port), "TIERLINE_LOG_LEVEL": "warning"}  # fmt: skip
    py = [sys.executable, "-m", "router"]
    samples = str(ROOT / "samples" / "customers.csv")
    setup = [*py, "customers", "import", samples]
    subprocess.run(setup, env=env, check=True, capture_output=True)  # noqa: ASYNC221 - set-up
    log = (work / "router.log").open("wb")
    router = subprocess.Popen([*py, "serve"], env=env, stdout=log, stderr=log)  # noqa: ASYNC220
    try:
        for _ in range(300):
            with contextlib.suppress(OSError):
                _, w = await asyncio.open_connection("127.0.0.1", port)
                w.close()
                break
            await asyncio.sleep(0.1)
        tally = Tally()
        warm = asyncio.Event()
        warmer = asyncio.create_task(drive(args, port, Tally(), warm))
        await asyncio.sleep(10)
        warm.set()
        await warmer
        before = (rss_kb(router.pid), fds(router.pid))
        stop = asyncio.Event()
        driver = asyncio.create_task(drive(args, port, tally, stop))
        await faults(args, store, router, flows, port)
        await asyncio.sleep(max(0.0, args.minutes * 60 * 0.15))
        stop.set()
        await driver
        await asyncio.sleep(2)
        after = (rss_kb(router.pid), fds(router.pid))
    finally:
        router.send_signal(signal.SIGTERM)
        code = router.wait(60)
        log.close()
        store.stop()
    total = sum(tally.outcomes.values())
    print(f"calls placed: {total} ({args.concurrency} in progress, {args.minutes} min, "
          f"IVR x{args.speed})")  # fmt: skip
    for name in ("routed", "ended_by_flow", "fallback", "no_route_from_router", "connect_failed"):
        print(f"  {name:<22} {tally.outcomes[name]:>7}")
    print(f"router RSS  {before[0] / 1024:6.1f} MB -> {after[0] / 1024:6.1f} MB "
          f"(x{after[0] / max(before[0], 1):.2f})")  # fmt: skip
    print(f"router fds  {before[1]:6d}    -> {after[1]:6d}")
    print(f"router exit {code} after SIGTERM; log: {work / 'router.log'}")
    return 0 if tally.outcomes["no_route_from_router"] == 0 else 1


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--concurrency", type=int, default=150)
    ap.add_argument("--speed", type=float, default=20.0)
    sys.exit(asyncio.run(main(ap.parse_args())))
