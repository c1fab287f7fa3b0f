"""Hot reload: compile off the event loop, swap the whole flow set atomically, or keep the old one.

A call takes ``registry.current`` once and keeps that FlowSet to the end,
so a reload never changes a call mid-way. A rejected edit (any problem, or
any exception while reading and compiling the folder) is logged and the
previous version keeps serving; the watcher and the SIGHUP handler live on
until ``stop``, because once the handler is gone a SIGHUP ends the process.
Compiling a large flow takes long enough to stall every call in flight, so
the live router compiles in a worker thread and only swaps on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from pathlib import Path

from watchfiles import Change, awatch

from router.errors import FlowError
from router.flows.engine import Stack
from router.flows.loader import is_editor_file, load_flows
from router.flows.model import Flow, FlowSet
from router.flows.resume import Resume, overflow_of, stack_of
from router.logs import get_logger

__all__ = ["KEEP_VERSIONS", "WATCH_RETRY_S", "FlowRegistry"]

KEEP_VERSIONS = 8
"""Flow-set versions kept for resumed calls (a reload a minute keeps 8 minutes)."""
WATCH_RETRY_S = 1.0
"""Pause before watching the folder again after the file watcher itself failed."""

log = get_logger(__name__)

Compiled = tuple[FlowSet | None, tuple[str, ...]]


class FlowRegistry:
    """The flow set currently served from one directory."""

    def __init__(
        self, directory: Path, known_queues: Callable[[], frozenset[str]] | frozenset[str]
    ) -> None:
        self.directory = directory
        self._queues = known_queues if callable(known_queues) else (lambda: known_queues)
        self._current = load_flows(directory, self._queues())  # fail fast at start-up
        self.last_errors: tuple[str, ...] = ()
        # Recent versions, so a call resumed after a queue timeout keeps its version.
        self._recent: dict[str, FlowSet] = {self._current.version: self._current}
        self._asked = self._served = 0  # reload requests made / covered by a compile
        self._lock: asyncio.Lock | None = None  # made on the loop that first uses it
        self._tasks: set[asyncio.Task[bool]] = set()

    @property
    def current(self) -> FlowSet:
        return self._current

    def reload(self) -> bool:
        """Load again on this thread; True when a new version is now served. Never raises."""
        return self._swap(*self._compile())

    async def reload_async(self) -> bool:
        """Load again in a worker thread, then swap on the loop; never raises.

        Requests that arrive while a compile runs are folded into one more
        compile, so a burst of saves costs at most two.
        """
        self._asked += 1
        wanted = self._asked
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._served >= wanted:
                return False  # a compile that started after this request covered it
            self._served = self._asked
            fresh, errors = await asyncio.to_thread(self._compile)
            return self._swap(fresh, errors)

    def _compile(self) -> Compiled:
        """The folder compiled, or None and the problems; runs on any thread."""
        try:
            return load_flows(self.directory, self._queues()), ()
        except FlowError as exc:
            return None, tuple(str(p) for p in exc.problems)
        except Exception as exc:  # any failure is a rejected edit, never a crash
            return None, (f"{self.directory}: cannot load: {type(exc).__name__}: {exc}",)

    def _swap(self, fresh: FlowSet | None, errors: tuple[str, ...]) -> bool:
        self.last_errors = errors
        if fresh is None:
            log.error("flows_rejected", serving=self._current.version, problems=list(errors))
            return False
        if fresh.version == self._current.version:
            return False
        old, self._current = self._current.version, fresh  # one reference swap: atomic
        self._recent[fresh.version] = fresh
        while len(self._recent) > KEEP_VERSIONS:
            del self._recent[next(iter(self._recent))]
        log.info("flows_reloaded", old=old, new=fresh.version, flows=sorted(fresh.flows))
        return True

    def resume_point(self, token: str) -> tuple[FlowSet, Flow, str, int, Stack] | None:
        """Where a call comes back after ``Queue()`` gave up: (flow set, flow, node, hops, stack).

        The flow set the call started on while it is still held, else the
        current one (logged); None (logged) for a token that is not ours or
        a queue node that no longer has an overflow.
        """
        resume = Resume.parse(token)
        if resume is None:
            log.warning("flow_resume_rejected", token=token[:80])
            return None
        flows = self._recent.get(resume.version)
        if flows is None:
            flows = self._current
            log.info("flow_resume_version_gone", wanted=resume.version, using=flows.version)
        target = overflow_of(flows, resume)
        stack = stack_of(flows, resume)
        if not target or stack is None:
            log.warning("flow_resume_no_overflow", flow=resume.flow, node=resume.node)
            return None
        log.info("flow_resumed", flow=resume.flow, node=resume.node, overflow=target)
        return flows, flows.flows[resume.flow], target, resume.hops, stack

    def request_reload(self) -> asyncio.Task[bool]:
        """Start a reload in the background (the SIGHUP handler); the task is kept alive."""
        task = asyncio.get_running_loop().create_task(self.reload_async())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def watch(self, stop: asyncio.Event | None = None, *, files: bool = True) -> None:
        """Reload on file changes (unless ``files`` is False) and on SIGHUP until ``stop``."""
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGHUP, self.request_reload)
        try:
            while files and not stop.is_set():
                await self._watch_files(stop)
            await stop.wait()
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGHUP)
            for task in tuple(self._tasks):
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _watch_files(self, stop: asyncio.Event) -> None:
        """One watching session; a failure of the watcher itself is logged and retried."""
        try:
            async for _changes in awatch(
                self.directory, stop_event=stop, debounce=200, watch_filter=_flow_change
            ):
                await self.reload_async()
        except Exception as exc:  # the folder may vanish; keep watching
            log.error("flows_watch_failed", directory=str(self.directory), error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), WATCH_RETRY_S)


def _flow_change(_change: Change, path: str) -> bool:
    """Editors' lock and swap files never trigger a reload."""
    return not is_editor_file(Path(path).name)
