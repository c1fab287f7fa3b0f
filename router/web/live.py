"""The wallboard's heartbeat: read, count, build the board, raise alerts.

One task per web process does this every ``push_interval_s``; every open
page then gets the same board (a new version wakes the SSE streams), so ten
wall screens cost one Redis read a second, not ten.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import httpx

from router.logs import get_logger
from router.web.alerts import AlertBook, Transition
from router.web.board import Board, build_board
from router.web.config import WallboardConfig
from router.web.source import StateSource
from router.web.tally import WINDOWS_MIN, Tally, day_start

__all__ = ["Wallboard"]

log = get_logger("tierline.web")

WEBHOOK_TIMEOUT_S = 2.0


class Wallboard:
    """Latest board plus a version counter the event streams wait on."""

    def __init__(
        self,
        source: StateSource,
        config: WallboardConfig,
        tiers: Sequence[str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self.config = config
        self._tiers = tuple(tiers)
        self._clock = clock
        self._tally = Tally(config.zone, config.service_level_s)
        self._alerts = AlertBook(config.alerts)
        self._changed = asyncio.Condition()
        self._webhook_tasks: set[asyncio.Task[None]] = set()
        self.board: Board | None = None
        self.version = 0
        self.closed = False  # set when the service stops: event streams end
        self._started = False

    async def tick(self) -> Board | None:
        """One refresh; the board is rebuilt even when Redis is down (stale)."""
        now = self._clock()
        if not self._started:
            since = min(now - 60 * WINDOWS_MIN[-1], day_start(now, self.config.zone))
            self._started = True
        else:
            since = now
        self._tally.add(await self.source.new_records(since), now)
        inputs = await self.source.inputs()
        if inputs is None:
            return None
        board = build_board(inputs, self._tally, self.config, self._tiers, now)
        for change in self._alerts.update(board.lookup, now):
            self._report(change)
        board = _with(board, self._alerts, self.source)
        async with self._changed:
            self.board, self.version = board, self.version + 1
            self._changed.notify_all()
        return board

    async def run(self, stop: asyncio.Event) -> None:
        """Refresh until ``stop``; a failing tick is logged, never fatal."""
        while not stop.is_set():
            try:
                await self.tick()
            except Exception as exc:  # the wallboard must outlive any one bad read
                log.error("web.tick_failed", error=repr(exc)[:300])
            try:
                async with asyncio.timeout(self.config.push_interval_s):
                    await stop.wait()
            except TimeoutError:
                pass
        for task in list(self._webhook_tasks):
            task.cancel()
        async with self._changed:
            self.closed = True
            self._changed.notify_all()

    async def next_board(self, seen: int, timeout_s: float) -> tuple[int, Board | None]:
        """Wait for a board newer than version ``seen`` (or the timeout)."""
        async with self._changed:
            try:
                async with asyncio.timeout(timeout_s):
                    await self._changed.wait_for(lambda: self.version > seen or self.closed)
            except TimeoutError:
                pass
            return self.version, self.board

    def _report(self, change: Transition) -> None:
        a = change.alert
        log.warning(f"alert.{change.kind}", alert=a.name, scope=a.scope, metric=a.metric,
                    value=round(a.value, 4), threshold=a.threshold)  # fmt: skip
        if self.config.webhook:
            task = asyncio.create_task(_post(self.config.webhook, change))
            self._webhook_tasks.add(task)
            task.add_done_callback(self._webhook_tasks.discard)


async def _post(url: str, change: Transition) -> None:
    a = change.alert
    body = {"event": change.kind, "alert": a.name, "scope": a.scope, "metric": a.metric,
            "value": a.value, "threshold": a.threshold, "since": a.since}  # fmt: skip
    try:
        async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_S) as client:
            response = await client.post(url, json=body)
            response.raise_for_status()
    except httpx.HTTPError as exc:
        log.warning("alert.webhook_failed", alert=a.name, error=type(exc).__name__)


def _with(board: Board, alerts: AlertBook, source: StateSource) -> Board:
    notes = () if source.ok else (f"store unreachable ({source.error})",)
    return replace(board, alerts=tuple(alerts.active), source_ok=source.ok, notes=notes)
