"""AMI events/s: bytes framed, parsed, folded into queue state and written to Redis.

    python benchmarks/ami_events.py [--calls 5000] [--redis URL]

Generates the AMI byte stream of N queue calls (about 20 frames per call
with the header mix of a real Asterisk 22 stream: Newchannel, VarSets,
Newexten, QueueCallerJoin, AgentCalled, QueueMemberStatus, AgentConnect,
AgentComplete, Hangup...; a quarter of the callers abandon) and measures,
in one process, what the listener does with it:

1. parse only: FrameSplitter + parse_frame over 64 KiB reads;
2. parse + reducer (``apply``);
3. parse + reducer + Redis writes as the listener batches them (one
   pipeline per 2,000 events, call records XADDed to the stream);
4. the real ``AMIListener`` end to end: a separate process plays Asterisk
   on loopback TCP (banner, Login, QueueStatus, then the whole stream) and
   the clock runs until the last call record is in the Redis stream.

Baseline, same run: a plain pipelined HSET per event in batches of 2,000
(the least any "write each event to Redis" design costs). The target is
>= 20,000 events/s/process for (3) and (4).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from router.ami.framing import FrameSplitter, parse_frame
from router.ami.listener import AMIListener, ListenerConfig
from router.ami.state import Delta, LiveState, apply
from router.ami.store import RedisStateWriter
from router.storage.client import bulk_client
from router.storage.embedded import embedded_store

TARGET = 20_000
BATCH = 2_000
READ = 65_536
QUEUES = ("vip", "high", "mid", "normal")


def _frame(fields: list[tuple[str, str]]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in fields).encode() + b"\r\n"


def _chan(uid: str, chan: str, caller: str) -> list[tuple[str, str]]:
    return [
        ("Privilege", "call,all"),
        ("Channel", chan),
        ("ChannelState", "6"),
        ("ChannelStateDesc", "Up"),
        ("CallerIDNum", caller),
        ("CallerIDName", "张三"),
        ("ConnectedLineNum", caller),
        ("ConnectedLineName", "张三"),
        ("Language", "zh"),
        ("AccountCode", ""),
        ("Context", "router"),
        ("Exten", "4008001234"),
        ("Priority", "3"),
        ("Uniqueid", uid),
        ("Linkedid", uid),
    ]


def _call(i: int) -> list[bytes]:
    uid, q = f"1795348000.{i}", QUEUES[i % 4]
    chan, caller = f"PJSIP/trunk-{i:08x}", f"138{i:08d}"
    base = _chan(uid, chan, caller)
    ev = [("Event", "Newchannel"), *base]
    out = [_frame(ev)]
    for var, val in (
        ("TIERLINE_TIER", q),
        ("TIERLINE_CUSTOMER", f"C{i}"),
        ("TIERLINE_PRIO", "5"),
        ("TIERLINE_PATH", "main:1>sales"),
        ("QUEUEPOSITION", "1"),
        ("ANSWEREDTIME", ""),
    ):
        out.append(_frame([("Event", "VarSet"), *base, ("Variable", var), ("Value", val)]))
    for name in ("Newexten", "Newexten", "NewConnectedLine", "DeviceStateChange"):
        out.append(_frame([("Event", name), *base, ("Application", "Queue"), ("AppData", q)]))
    out.append(
        _frame(
            [("Event", "QueueCallerJoin"), *base, ("Queue", q), ("Position", "1"), ("Count", "1")]
        )
    )
    member = [
        ("Queue", q),
        ("MemberName", f"Agent{i % 50}"),
        ("Interface", f"PJSIP/agent{i % 50}"),
        ("StateInterface", f"PJSIP/agent{i % 50}"),
        ("Membership", "dynamic"),
        ("Penalty", "0"),
        ("CallsTaken", "3"),
        ("LastCall", "0"),
        ("LastPause", "0"),
        ("LoginTime", "1795340000"),
        ("InCall", "1"),
        ("Status", "2"),
        ("Paused", "0"),
        ("PausedReason", ""),
        ("Ringinuse", "0"),
    ]
    out.append(_frame([("Event", "AgentCalled"), *base, *member[:3]]))
    out.append(_frame([("Event", "QueueMemberStatus"), ("Privilege", "agent,all"), *member]))
    if i % 4 == 3:
        out.append(
            _frame(
                [
                    ("Event", "QueueCallerAbandon"),
                    *base,
                    ("Queue", q),
                    ("Position", "1"),
                    ("OriginalPosition", "1"),
                    ("HoldTime", "12"),
                ]
            )
        )
        out.append(_frame([("Event", "QueueCallerLeave"), *base, ("Queue", q), ("Count", "0")]))
    else:
        out.append(_frame([("Event", "QueueCallerLeave"), *base, ("Queue", q), ("Count", "0")]))
        out.append(
            _frame(
                [
                    ("Event", "AgentConnect"),
                    *base,
                    *member[:3],
                    ("HoldTime", "8"),
                    ("RingTime", "2"),
                ]
            )
        )
        out.append(
            _frame(
                [
                    ("Event", "AgentComplete"),
                    *base,
                    *member[:3],
                    ("HoldTime", "8"),
                    ("TalkTime", "95"),
                    ("Reason", "agent"),
                ]
            )
        )
    out.append(
        _frame([("Event", "Hangup"), *base, ("Cause", "16"), ("Cause-txt", "Normal Clearing")])
    )
    out.append(
        _frame([("Event", "Cdr"), ("Privilege", "cdr,all"), ("Source", caller), ("UniqueID", uid)])
    )
    return out


def stream(calls: int) -> bytes:
    """Calls interleaved 8 at a time, so several callers wait at once as in production."""
    parts = [b"Asterisk Call Manager/11.0.0\r\n"]
    for group in range(0, calls, 8):
        frames = [_call(i) for i in range(group, min(calls, group + 8))]
        for step in range(max(len(f) for f in frames)):
            parts.extend(f[step] for f in frames if step < len(f))
    return b"".join(parts)


def _reads(data: bytes) -> list[bytes]:
    return [data[i : i + READ] for i in range(0, len(data), READ)]


def parse_only(data: bytes) -> tuple[int, float]:
    splitter, n, t = FrameSplitter(), 0, time.perf_counter()
    for chunk in _reads(data):
        for raw in splitter.feed(chunk):
            parse_frame(raw)
            n += 1
    return n, time.perf_counter() - t


def parse_apply(data: bytes) -> tuple[int, float]:
    splitter, state, n, t = FrameSplitter(), LiveState(), 0, time.perf_counter()
    delta = Delta()
    for chunk in _reads(data):
        for raw in splitter.feed(chunk):
            apply(state, parse_frame(raw), 1.0, delta)
            n += 1
    return n, time.perf_counter() - t


async def parse_apply_write(data: bytes, url: str) -> tuple[int, float, int]:
    client = bulk_client(url)
    writer = RedisStateWriter(client)
    splitter, state, n = FrameSplitter(), LiveState(), 0
    delta, pending = Delta(), 0
    t = time.perf_counter()
    for chunk in _reads(data):
        for raw in splitter.feed(chunk):
            apply(state, parse_frame(raw), time.time(), delta)
            n += 1
            pending += 1
            if pending >= BATCH:
                await writer.write(state, delta, time.time())
                delta, pending = Delta(), 0
    await writer.write(state, delta, time.time())
    elapsed = time.perf_counter() - t
    records = await client.xlen("tl:calls")
    await client.flushall()
    await client.aclose()
    return n, elapsed, records


async def baseline(url: str, events: int) -> float:
    client = bulk_client(url)
    t = time.perf_counter()
    for base in range(0, events, BATCH):
        pipe = client.pipeline(transaction=False)
        for i in range(base, min(events, base + BATCH)):
            pipe.hset(f"bench:{i % 64}", "f", i)
        await pipe.execute()
    elapsed = time.perf_counter() - t
    await client.flushall()
    await client.aclose()
    return events / elapsed


_SERVER = r"""
import socket, sys
data = open(sys.argv[1], "rb").read()
srv = socket.create_server(("127.0.0.1", 0))
print(srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
conn.sendall(data[: data.index(b"\r\n") + 2])
buf = b""
def action():
    global buf
    while b"\r\n\r\n" not in buf:
        buf += conn.recv(65536)
    raw, buf = buf.split(b"\r\n\r\n", 1)
    return dict(l.split(": ", 1) for l in raw.decode().split("\r\n") if ": " in l)
a = action()
conn.sendall(f"Response: Success\r\nActionID: {a['ActionID']}\r\nMessage: ok\r\n\r\n".encode())
a = action()
aid = a["ActionID"]
head = f"Response: Success\r\nActionID: {aid}\r\nEventList: start\r\n\r\n"
tail = f"Event: QueueStatusComplete\r\nActionID: {aid}\r\nEventList: Complete\r\n\r\n"
conn.sendall((head + tail).encode())
conn.sendall(data[data.index(b"\r\n") + 2 :])
sys.stdin.read()
"""


async def listener_tcp(data_file: Path, url: str, calls: int, frames: int) -> float:
    proc = subprocess.Popen(  # noqa: ASYNC220 - set-up, before the clock starts
        [sys.executable, "-c", _SERVER, str(data_file)],
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    client = bulk_client(url)
    cfg = ListenerConfig(port=port, username="bench", secret="x", ping_interval_s=60)
    listener = AMIListener(cfg, RedisStateWriter(client))
    t = time.perf_counter()
    await listener.start()
    try:
        while await client.xlen("tl:calls") < calls:  # noqa: ASYNC110 - polling Redis
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - t
    finally:
        await listener.stop()
        proc.kill()
        proc.wait()
        await client.flushall()
        await client.aclose()
    return frames / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=5000)
    ap.add_argument("--redis", help="Redis URL (default: $REDIS_URL, else embedded Valkey)")
    args = ap.parse_args()
    data = stream(args.calls)
    with ExitStack() as stack:
        url = args.redis or stack.enter_context(
            embedded_store(Path(stack.enter_context(tempfile.TemporaryDirectory())))
        )
        n, t_parse = parse_only(data)
        _, t_apply = parse_apply(data)
        _, t_write, records = asyncio.run(parse_apply_write(data, url))
        base = asyncio.run(baseline(url, n))
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "stream.ami"
        tmp.write_bytes(data)
        tcp = asyncio.run(listener_tcp(tmp, url, args.calls, n))
    full = n / t_write
    size = len(data) / 1e6
    print(f"stream: {args.calls} calls, {n} frames, {size:.1f} MB; {records} call records written")
    print(f"parse only            : {n / t_parse:>10,.0f} events/s")
    print(f"parse + apply         : {n / t_apply:>10,.0f} events/s")
    verdict = "met" if full >= TARGET else "MISSED"
    print(f"parse + apply + Redis : {full:>10,.0f} events/s   (target {TARGET:,}: {verdict})")
    print(f"AMIListener over TCP  : {tcp:>10,.0f} events/s   (login, resync, reads included)")
    print(f"baseline: pipelined HSET per event: {base:>10,.0f} ops/s")
    print(f"ratio (full path / baseline): {full / base:.2f}")


if __name__ == "__main__":
    main()
