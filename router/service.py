"""The long-running router process: wires adapters together and waits.

Kept apart from the CLI so tests and benchmarks can start the same service
in-process. Start-up fails fast on a broken routing file or flow directory
(a broken edit must never reach a call); afterwards flow edits are hot
reloaded and a broken one keeps the previous version serving. On
SIGTERM/SIGINT the FastAGI server stops accepting and the calls in flight
are drained for ``TIERLINE_DRAIN_S`` before Redis closes; a call still in
its IVR then leaves with its best route so far (``AGISession.on_cut``).

Under systemd (``deploy/tierline.service``) the service says ``READY=1``
once it accepts calls, ``STOPPING=1`` when the drain starts, and feeds the
watchdog from its event loop (``router.watchdog``): a frozen router is
killed, its sockets close, and Asterisk's dialplan fallback takes the calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from redis.asyncio import Redis

from router.agi import AGIServer
from router.agi.peers import allow_list
from router.ami import AMIListener, RedisQueueState, start_listener
from router.ami.aging import Rule
from router.backend_http import HttpBackends
from router.calls import CallRouter
from router.customers.store import RedisCustomerStore
from router.flows.registry import FlowRegistry
from router.logs import get_logger
from router.metrics import RouterCollector
from router.policy import TieredPolicy, WaitingCaller, load_routing
from router.settings import Settings
from router.storage.callback_stream import RedisCallbackStore
from router.storage.client import bulk_client, call_path_client, warm_pool
from router.watchdog import Notifier, feed_watchdog, watchdog_interval

if TYPE_CHECKING:
    from router.dialer.process import DialerSetup

__all__ = ["run"]

log = get_logger("tierline.service")

WARM_CONNECTIONS = 16


def _aging_rule(policy: TieredPolicy) -> Rule:
    """The policy's starvation guard in the shape the AMI timer calls."""

    def rule(waiting: Sequence[WaitingCaller], now: float) -> Iterable[Sequence[object]]:
        return policy.guard.due_changes(waiting, now)

    return rule


async def _start_ami(settings: Settings, redis: Redis, policy: TieredPolicy) -> AMIListener | None:
    if not settings.ami_username:
        log.info("ami.disabled", why="TIERLINE_AMI_USERNAME is not set")
        return None
    return await start_listener(
        settings, redis, rule=_aging_rule(policy), aging_interval_s=policy.guard.interval_s
    )


async def run(
    settings: Settings,
    redis_url: str,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve FastAGI until SIGTERM/SIGINT (or ``stop`` is set), then drain.

    Args:
        on_ready: called once everything is loaded, just before accepting
            calls (``tierline serve`` passes ``eventloop.tune_gc``; tests
            sharing a process leave the collector alone).
    """
    stop = stop or asyncio.Event()
    allow = allow_list(settings.agi_host, settings.agi_allow)  # a bad list stops us here
    policy = TieredPolicy(load_routing(settings.routing_config))
    flows = FlowRegistry(settings.flows_dir, policy.services)
    outbound = _prepare_dialer(settings)  # a bad dialer file stops us here
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    client = call_path_client(settings, redis_url)
    background = bulk_client(redis_url)  # AMI state writes stay off the call-path pool
    store = RedisCustomerStore(client, settings.lookup_deadline_ms)
    backends = HttpBackends()  # one pooled HTTP client for every call's fetch/notify steps
    inbound = CallRouter(
        store, policy, flows, RedisCallbackStore(client), policy.default_queue,
        RedisQueueState(client), client, data=backends,
    )  # fmt: skip
    agi = AGIServer(
        {"inbound": inbound}, host=settings.agi_host, port=settings.agi_port, allow=allow
    )
    watcher = asyncio.create_task(flows.watch(stop))
    listener: AMIListener | None = None
    systemd = Notifier.from_env()
    watchdog: asyncio.Task[None] | None = None
    web: asyncio.Task[None] | None = None
    dialer: _DialerTask | None = None
    try:
        want = min(WARM_CONNECTIONS, settings.redis_pool_size)
        opened = await warm_pool(client, want)
        if opened < want:
            log.warning("store_unreachable_at_start", opened=opened, wanted=want)
        listener = await _start_ami(settings, background, policy)
        web = _start_web(settings, background, flows, listener, stop, agi)
        dialer = _DialerTask(outbound, redis_url, stop) if outbound else None
        if on_ready is not None:
            on_ready()
        await agi.start()
        log.info(
            "ready",
            store=redis_url,
            agi=f"{agi.host}:{agi.port}",
            flows=flows.current.version,
            loop=type(loop).__module__.partition(".")[0],  # uvloop or asyncio
        )
        watchdog = _tell_systemd_ready(systemd)
        await stop.wait()
        if systemd is not None:
            systemd.send("STOPPING=1")
        await agi.stop(drain_s=settings.drain_s)
        await inbound.aclose()  # the paths of the last calls, before Redis closes
    finally:
        await backends.aclose()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        stop.set()
        if dialer is not None:
            await dialer.wait_stopped()
        await _close(watchdog, systemd, watcher, web, listener, (background, client))
        log.info("stopped")


async def _close(  # noqa: PLR0917 - everything run() started, stopped in order
    watchdog: asyncio.Task[None] | None,
    systemd: Notifier | None,
    watcher: asyncio.Task[None],
    web: asyncio.Task[None] | None,
    listener: AMIListener | None,
    clients: tuple[Redis, Redis],
) -> None:
    """Stop what ``run`` started, newest first; the call-path pool closes last."""
    if watchdog is not None:
        watchdog.cancel()
    if systemd is not None:
        systemd.close()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    if web is not None:
        await asyncio.wait([web], timeout=5.0)
    if listener is not None:
        await listener.stop()
    background, client = clients
    await background.aclose()
    await client.aclose()
    # The pool was passed in explicitly, so aclose() leaves it open.
    await client.connection_pool.disconnect()


def _start_web(  # noqa: PLR0917 - what the web service reads, all from run()
    settings: Settings,
    redis: Redis,
    flows: FlowRegistry,
    listener: AMIListener | None,
    stop: asyncio.Event,
    agi: AGIServer,
) -> asyncio.Task[None] | None:
    """The web service in this process when ``TIERLINE_WEB=1`` (starlette is an extra)."""
    if not settings.web:
        return None
    from router.web.service import redis_check, web_in_router  # noqa: PLC0415 - an extra

    async def flows_loaded() -> bool:
        return flows.current is not None

    async def ami_up() -> bool:
        return listener is None or listener.connected

    checks = {"redis": redis_check(redis), "flows": flows_loaded, "ami": ami_up}
    mine = RouterCollector(agi, listener, lambda: flows.current.version)
    return web_in_router(settings, redis, stop, checks, [mine])


def _prepare_dialer(settings: Settings) -> DialerSetup | None:
    """The dialer's validated setup when ``TIERLINE_DIALER=1`` (it needs the ``sim`` extra)."""
    if not settings.dialer:
        return None
    from router.dialer.process import prepare  # noqa: PLC0415 - pacing needs scipy (sim extra)

    return prepare(settings)


class _DialerTask:
    """The outbound dialer inside the router (``TIERLINE_DIALER=1``), as one task."""

    def __init__(self, setup: DialerSetup, redis_url: str, stop: asyncio.Event) -> None:
        from router.dialer.process import run_dialer  # noqa: PLC0415 - see _prepare_dialer

        self.task = asyncio.create_task(run_dialer(setup, redis_url, stop), name="dialer")
        self.task.add_done_callback(self._ended)

    @staticmethod
    def _ended(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("dialer.crashed", error=repr(task.exception()))

    async def wait_stopped(self) -> None:
        """Let the dialer close its attempts' bookkeeping; never hang the shutdown."""
        _, stuck = await asyncio.wait([self.task], timeout=10.0)
        for task in stuck:
            task.cancel()


def _tell_systemd_ready(systemd: Notifier | None) -> asyncio.Task[None] | None:
    """READY=1, then the watchdog task when the unit has ``WatchdogSec=``."""
    if systemd is None:
        return None
    systemd.send("READY=1")
    interval = watchdog_interval()
    if interval is None:
        return None
    log.info("watchdog.fed", every_s=interval)
    return asyncio.create_task(feed_watchdog(systemd, interval))
