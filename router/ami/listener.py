"""The AMI listener: connection supervision around panoramisk.

One connection at a time, owned by a supervised loop:

connect (timeout) -> banner -> Login -> ``QueueStatus`` resync -> watchdog
until the connection dies -> fail unanswered actions -> back off
(exponential, jittered, capped) -> connect again.

* **Watchdog.** Every ``ping_interval_s`` a ``Ping`` must be answered
  within ``ping_timeout_s``, else the transport is aborted. A half-open
  connection (peer gone, no FIN/RST) never raises on its own; panoramisk's
  pinger only sends pings and never checks they were answered.
* **Resync.** After every (re)connect, ``QueueStatus`` rebuilds the queue
  state; events missed while disconnected cannot be replayed.
* **No duplicate side effects.** An action in flight when the connection
  dies fails with ``AMIError``; nothing is re-sent (an ``Originate`` would
  dial twice). Actions sent while disconnected fail at once.
* **Supervision.** Events go into one in-order inbox drained by a single
  consumer task; every task the listener runs is restarted and logged if it
  crashes (panoramisk fires and forgets callback tasks).
* **Redis off the fold.** The consumer never awaits Redis: changes go to a
  :class:`~router.ami.pump.SinkPump`, which writes them on its own task with
  a timeout and backoff, so a hung or dead Redis never freezes the state.
* **One listener per site.** With a :class:`~router.ami.election.LeaderLock`
  the listener connects only while it holds the site's lock; the other
  routers stand by (manager.conf ``allowmultiplelogin=no``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from panoramisk.actions import Action

from router.ami.election import LeaderLock
from router.ami.framing import Frame
from router.ami.protocol import FramedAMIProtocol, open_session
from router.ami.pump import PumpConfig, SinkPump, StateSink, jittered_backoff
from router.ami.secret import read_secret
from router.ami.state import Delta, LiveState, apply, resync
from router.errors import AMIError, ConfigError
from router.logs import get_logger
from router.settings import Settings

__all__ = ["AMIListener", "ListenerConfig"]

_log = get_logger(__name__)

STOP_TIMEOUT_S = 5.0
"""How long stop() waits for cancelled tasks before giving up on them."""
_BATCH = 2000  # events folded before the loop gets a turn


@dataclass(frozen=True, slots=True)
class ListenerConfig:
    """Connection and supervision settings (credentials come from the environment)."""

    host: str = "127.0.0.1"
    port: int = 5038
    username: str = ""
    secret: str = ""
    connect_timeout_s: float = 5.0
    ping_interval_s: float = 5.0
    ping_timeout_s: float = 3.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    action_timeout_s: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ListenerConfig:
        """Read the secret from ``TIERLINE_AMI_SECRET_FILE`` (:mod:`router.ami.secret`)."""
        if not settings.ami_username or settings.ami_secret_file is None:
            raise ConfigError(
                "AMI credentials missing: set TIERLINE_AMI_USERNAME and TIERLINE_AMI_SECRET_FILE"
            )
        secret = read_secret(Path(settings.ami_secret_file))  # the file manager.conf includes
        return cls(
            host=settings.ami_host,
            port=settings.ami_port,
            username=settings.ami_username,
            secret=secret,
            **overrides,
        )

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Delay before reconnect ``attempt`` (0-based): exponential, jittered 50-100 %."""
        return jittered_backoff(self.backoff_initial_s, self.backoff_max_s, attempt, rng)


class AMIListener:
    """Keeps :attr:`state` in step with one Asterisk and mirrors it to ``sink``."""

    def __init__(
        self,
        config: ListenerConfig,
        sink: StateSink | None = None,
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        pump: PumpConfig | None = None,
        elector: LeaderLock | None = None,
    ) -> None:
        self.config = config
        self.state = LiveState()
        self.last_event_at = 0.0  # when events were last folded (for ``/metrics``)
        self.connections = 0  # successful logins so far
        self._clock = clock
        self._rng = rng or random.Random()
        self.pump = SinkPump(sink, lambda: self.state, clock, pump, self._rng)
        self._elector = elector
        self._proto: FramedAMIProtocol | None = None
        self._inbox: deque[Frame] = deque()
        self._wake = asyncio.Event()
        self._resync_id: str | None = None
        self._resync_frames: list[Frame] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._up = asyncio.Event()
        self._resynced = asyncio.Event()
        self._stopping = False

    # -- lifecycle ---------------------------------------------------------
    async def start(self) -> None:
        """Start the connection loop and the event consumer; returns at once."""
        self.supervise("ami-connection", self._connection_loop)
        self.supervise("ami-consumer", self._consume)
        self.supervise("ami-sink", self.pump.run)
        if self._elector is not None:
            self.supervise("ami-election", self._elector.run)

    async def stop(self) -> None:
        """Cancel every task and close the connection."""
        # redis-py can swallow a cancellation inside a pipeline; the flag
        # makes the consumer leave its loop even then.
        self._stopping = True
        self._wake.set()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # A shutdown must never hang on a task that swallowed its cancellation.
            _, stuck = await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT_S)
            if stuck:
                _log.error("ami_stop_stuck", tasks=sorted(t.get_name() for t in stuck))
        self._tasks.clear()
        if self._proto is not None:
            self._proto.close()
        await self.pump.drain(STOP_TIMEOUT_S)
        if self._elector is not None:
            await self._elector.release()

    async def wait_connected(self, within_s: float) -> None:
        """Until logged in and resynced (raises TimeoutError)."""
        await asyncio.wait_for(self._up.wait(), within_s)

    @property
    def connected(self) -> bool:
        return self._up.is_set()

    def supervise(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        """Run ``factory()`` as a task that is logged and restarted if it crashes."""
        self._tasks.append(asyncio.create_task(self._supervised(name, factory), name=name))

    async def _supervised(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        while True:
            try:
                await factory()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                _log.exception("ami_task_crashed", task=name)
                await asyncio.sleep(1.0)

    # -- actions -----------------------------------------------------------
    async def action(
        self,
        fields: Mapping[str, str],
        *,
        as_list: bool | None = None,
        reply_within_s: float | None = None,
    ) -> Any:
        """Send one action and await its reply (a list for event-list replies).

        Raises:
            AMIError: not connected, no reply in time, or the connection died
                before the reply. The action is never re-sent.
            AMIActionError: Asterisk answered ``Response: Error``.
        """
        proto = self._proto
        if proto is None or proto.closed or not self._up.is_set():
            raise AMIError(f"AMI not connected; {fields.get('Action')} not sent")
        return await self._send(proto, fields, as_list, reply_within_s)

    async def _send(
        self,
        proto: FramedAMIProtocol,
        fields: Mapping[str, str],
        as_list: bool | None,
        within_s: float | None,
    ) -> Any:
        return await proto.request(fields, as_list, within_s or self.config.action_timeout_s)

    # -- connection --------------------------------------------------------
    async def _connection_loop(self) -> None:
        attempt = 0
        while True:
            if self._elector is not None and not self._elector.is_leader:
                _log.info("ami_standby", site=self._elector.site)
                await self._elector.wait_leader()
                attempt = 0
            try:
                await self._session()
                attempt = 0
            except (OSError, TimeoutError, AMIError) as exc:
                _log.warning("ami_connect_failed", error=str(exc) or type(exc).__name__)
            finally:
                self._up.clear()
                if self._proto is not None:
                    self._proto.close()
            delay = self.config.backoff(attempt, self._rng)
            attempt += 1
            _log.info("ami_reconnect_in", seconds=round(delay, 3))
            await asyncio.sleep(delay)

    async def _session(self) -> None:
        cfg = self.config
        proto, banner = await open_session(
            cfg.host, cfg.port, cfg.username, cfg.secret, self._on_frame, cfg.connect_timeout_s
        )
        self._proto = proto
        self.connections += 1
        _log.info("ami_logged_in", banner=banner, connections=self.connections)
        await self._resync(proto)
        self._up.set()
        await self._watch(proto)

    async def _resync(self, proto: FramedAMIProtocol) -> None:
        # as_list=None: an event list on success, a single reply on error.
        act = Action({"Action": "QueueStatus"}, as_list=None)
        self._resync_id, self._resync_frames = act.id, []
        self._resynced.clear()
        future = proto.send(act, as_list=None)
        try:
            async with asyncio.timeout(self.config.action_timeout_s):
                reply = await future
            if not isinstance(reply, list) and reply.get("Response") == "Error":
                # app_queue not loaded: no queues, but calls still need records.
                _log.warning("ami_resync_no_queues", message=reply.get("Message", ""))
                self._on_frame({"Event": "QueueStatusComplete", "ActionID": act.id})
            # The reply is complete; wait until the consumer has folded it in.
            async with asyncio.timeout(self.config.action_timeout_s):
                await self._resynced.wait()
        except TimeoutError:
            raise AMIError("no QueueStatus reply for the resync") from None

    async def _watch(self, proto: FramedAMIProtocol) -> None:
        """Return when the connection is lost or a Ping goes unanswered."""
        cfg = self.config
        while not proto.lost.done():
            done, _ = await asyncio.wait({proto.lost}, timeout=cfg.ping_interval_s)
            if done:
                break
            if self._elector is not None and not self._elector.is_leader:
                _log.warning("ami_leadership_lost", site=self._elector.site)
                return
            try:
                await self._send(proto, {"Action": "Ping"}, None, cfg.ping_timeout_s)
            except AMIError:
                if proto.lost.done():
                    break
                _log.warning("ami_watchdog_timeout", seconds=cfg.ping_timeout_s)
                return
        _log.warning("ami_connection_lost")

    # -- events ------------------------------------------------------------
    def _on_frame(self, frame: Frame) -> None:
        self._inbox.append(frame)
        self._wake.set()
        if frame.get("Event") == "Shutdown":
            # Refuse new actions now; the EOF (or the watchdog) ends the session.
            self._up.clear()
            _log.warning("ami_asterisk_shutdown", how=frame.get("Shutdown", ""))

    async def _consume(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            while self._inbox and not self._stopping:
                self._fold_batch()
                await asyncio.sleep(0)  # a long backlog must not starve the loop

    @property
    def backlog(self) -> int:
        """Frames read from the socket and not folded yet (for ``/metrics``)."""
        return len(self._inbox)

    def _fold_batch(self) -> None:
        inbox, delta, now = self._inbox, Delta(), self._clock()
        self.last_event_at = now
        for _ in range(min(len(inbox), _BATCH)):
            frame = inbox.popleft()
            if self._resync_id is not None and frame.get("ActionID") == self._resync_id:
                self._collect_resync(frame, now, delta)
            else:
                apply(self.state, frame, now, delta)
        self.pump.add(delta)

    def _collect_resync(self, frame: Frame, now: float, delta: Delta) -> None:
        if frame.get("Event") != "QueueStatusComplete":
            self._resync_frames.append(frame)
            return
        delta.merge(resync(self.state, self._resync_frames, now))
        _log.info("ami_resynced", queues=len(self.state.queues))
        self._resync_frames, self._resync_id = [], None
        self._resynced.set()

    def mark_dirty(self, queue: str) -> None:
        """Have ``queue`` rewritten to the sink at the next write."""
        self.pump.mark(queue)

    @property
    def drained(self) -> bool:
        """Every event read so far is folded in and written to the sink."""
        return not self._inbox and self.pump.idle
