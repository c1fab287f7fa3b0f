"""The dialer's own AMI connection (adapter).

The dialer needs every event of the calls it places (OriginateResponse,
Hangup, Cdr, VarSet, queue member events) and the right to send
``Originate``; the listener needs neither, so the dialer logs in as its
own AMI user (``asterisk_conf/manager_dialer.conf``) with its own link.

Framing and reply futures are the listener's (``FramedAMIProtocol``): an
action in flight when the connection dies fails with ``AMIError`` and is
never re-sent, so an Originate can never be dialled twice by the link.
The link reconnects with a capped, jittered backoff and tells its owner
about every (re)connect and every loss, so in-flight attempts are resolved
and agent state is resynced.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from router.ami.framing import Frame
from router.ami.listener import ListenerConfig
from router.ami.protocol import FramedAMIProtocol, open_session
from router.errors import AMIError
from router.logs import get_logger

__all__ = ["DialerLink"]

_log = get_logger(__name__)


class DialerLink:
    """One supervised AMI session at a time; events go to ``on_frame`` in order."""

    def __init__(
        self,
        config: ListenerConfig,
        on_frame: Callable[[Frame], None],
        on_up: Callable[[], Any],
        on_lost: Callable[[], None],
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self._on_frame = on_frame
        self._on_up = on_up
        self._on_lost = on_lost
        self._rng = rng or random.Random()
        self._proto: FramedAMIProtocol | None = None
        self._up = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.sessions = 0
        self.last_write = 0.0  # perf_counter() when the last action was written

    @property
    def connected(self) -> bool:
        return self._up.is_set() and self._proto is not None and not self._proto.closed

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="dialer-ami")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._proto is not None:
            self._proto.close()

    async def wait_up(self, within_s: float) -> None:
        await asyncio.wait_for(self._up.wait(), within_s)

    async def action(self, fields: Mapping[str, Any], as_list: bool | None = None) -> Any:
        """Send one action, await its reply; never re-sent.

        Raises:
            AMIError: not connected, no reply in time, connection lost.
            AMIActionError: ``Response: Error`` (its Message is the text).
        """
        proto = self._proto
        if proto is None or proto.closed or not self._up.is_set():
            raise AMIError(f"AMI not connected; {fields.get('Action')} not sent")
        return await self._send(proto, fields, as_list)

    async def _send(
        self, proto: FramedAMIProtocol, fields: Mapping[str, Any], as_list: bool | None
    ) -> Any:
        self.last_write = time.perf_counter()
        return await proto.request(fields, as_list, self.config.action_timeout_s)

    async def _loop(self) -> None:
        attempt = 0
        while True:
            try:
                await self._session()
                attempt = 0
            except (OSError, TimeoutError, AMIError) as exc:
                _log.warning("dialer_ami_failed", error=str(exc) or type(exc).__name__)
            finally:
                was_up = self._up.is_set()
                self._up.clear()
                if self._proto is not None:
                    self._proto.close()
                if was_up:
                    self._on_lost()
            delay = self.config.backoff(attempt, self._rng)
            attempt += 1
            await asyncio.sleep(delay)

    async def _session(self) -> None:
        cfg = self.config
        proto, _ = await open_session(
            cfg.host, cfg.port, cfg.username, cfg.secret, self._on_frame, cfg.connect_timeout_s
        )
        self._proto = proto
        self.last_write = time.perf_counter()
        self.sessions += 1
        self._up.set()
        _log.info("dialer_ami_up", sessions=self.sessions)
        result = self._on_up()
        if asyncio.iscoroutine(result):
            await result
        await self._watch(proto)

    async def _watch(self, proto: FramedAMIProtocol) -> None:
        while not proto.lost.done():
            done, _ = await asyncio.wait({proto.lost}, timeout=self.config.ping_interval_s)
            if done:
                return
            try:
                await self._send(proto, {"Action": "Ping"}, None)
            except AMIError:
                return
