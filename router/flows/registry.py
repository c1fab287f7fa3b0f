"""Hot reload: swap the whole flow set atomically, or keep the old one.

A call takes ``registry.current`` once and keeps that FlowSet to the end,
so a reload never changes a call mid-way. A broken edit is logged with
every ``file:line`` problem and the previous version keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from pathlib import Path

from watchfiles import awatch

from router.errors import FlowError
from router.flows.engine import Stack
from router.flows.loader import load_flows
from router.flows.model import Flow, FlowSet
from router.flows.resume import Resume, overflow_of, stack_of
from router.logs import get_logger

__all__ = ["KEEP_VERSIONS", "FlowRegistry"]

KEEP_VERSIONS = 8
"""Flow-set versions kept for resumed calls (a reload a minute keeps 8 minutes)."""

log = get_logger(__name__)


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

    @property
    def current(self) -> FlowSet:
        return self._current

    def reload(self) -> bool:
        """Load again; True when a new version is now served."""
        try:
            fresh = load_flows(self.directory, self._queues())
        except FlowError as exc:
            self.last_errors = tuple(str(p) for p in exc.problems)
            log.error(
                "flows_rejected", serving=self._current.version, problems=list(self.last_errors)
            )
            return False
        self.last_errors = ()
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

    async def watch(self, stop: asyncio.Event | None = None, *, files: bool = True) -> None:
        """Reload on file changes (unless ``files`` is False) and on SIGHUP until ``stop``."""
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGHUP, self.reload)
        try:
            if not files:
                await stop.wait()
                return
            async for _changes in awatch(self.directory, stop_event=stop, debounce=200):
                self.reload()
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGHUP)
