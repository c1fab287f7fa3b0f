"""Mirror the live state to its sink without ever holding up the event fold.

The listener folds AMI events into memory at once; this pump writes the
accumulated :class:`Delta` to Redis on its own task. A slow or dead Redis
therefore only delays the mirror: the in-memory state (which the starvation
guard acts on) stays current. Failed writes keep their change set, are
retried with exponential backoff, and finished calls are held (bounded, the
oldest dropped and counted) until Redis is back.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from router.ami.state import Delta, LiveState
from router.logs import get_logger

__all__ = ["PumpConfig", "SinkPump", "StateSink", "jittered_backoff"]

_log = get_logger(__name__)


class StateSink(Protocol):
    async def write(self, state: LiveState, delta: Delta, now: float) -> None: ...


@dataclass(frozen=True, slots=True)
class PumpConfig:
    """How long one write may take, how to back off, how much to hold."""

    write_timeout_s: float = 5.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    max_held_records: int = 50_000

    def backoff(self, attempt: int, rng: random.Random) -> float:
        return jittered_backoff(self.backoff_initial_s, self.backoff_max_s, attempt, rng)


def jittered_backoff(initial_s: float, max_s: float, attempt: int, rng: random.Random) -> float:
    """Delay before retry ``attempt`` (0-based): exponential, capped, jittered 50-100 %."""
    return min(max_s, initial_s * 2.0**attempt) * rng.uniform(0.5, 1.0)


class SinkPump:
    """Pending changes for ``sink`` and the task that writes them."""

    def __init__(
        self,
        sink: StateSink | None,
        state: Callable[[], LiveState],
        clock: Callable[[], float],
        config: PumpConfig | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config or PumpConfig()
        self.records_dropped = 0
        self.failures = 0  # failed writes so far
        self.pending = Delta()
        self._sink = sink
        self._state = state
        self._clock = clock
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()

    def add(self, delta: Delta) -> None:
        """Queue ``delta`` for the next write (never blocks)."""
        if not delta:
            return
        self.pending.merge(delta)
        self._bound()
        self._idle.clear()
        self._wake.set()

    def mark(self, queue: str) -> None:
        self.add(Delta(queues={queue}))

    @property
    def idle(self) -> bool:
        """Nothing pending and no write in flight."""
        return self._idle.is_set()

    def _bound(self) -> None:
        held = self.pending.finished
        extra = len(held) - self.config.max_held_records
        if extra > 0:
            del held[:extra]
            self.records_dropped += extra
            _log.error("ami_records_dropped", count=extra, total=self.records_dropped)

    async def run(self) -> None:
        """Write pending changes forever (a supervised task)."""
        attempt = 0
        while True:
            await self._wake.wait()
            self._wake.clear()
            delta, self.pending = self.pending, Delta()
            if not delta or self._sink is None:
                self._idle.set()
                continue
            if await self._write(delta, attempt):
                if attempt:
                    _log.info("ami_sink_recovered", failed_attempts=attempt)
                attempt = 0
                if not self.pending:
                    self._idle.set()
                continue
            delay = self.config.backoff(attempt, self._rng)
            attempt += 1
            _log.info("ami_sink_retry_in", seconds=round(delay, 3), attempt=attempt)
            await asyncio.sleep(delay)
            self._wake.set()

    async def drain(self, within_s: float) -> bool:
        """One last write of what is pending (at shutdown); True if nothing is left."""
        if not self.pending or self._sink is None:
            return True
        delta, self.pending = self.pending, Delta()
        try:
            async with asyncio.timeout(within_s):
                await self._sink.write(self._state(), delta, self._clock())
        except Exception as exc:  # shutting down: say what is lost, never raise
            _log.error("ami_records_lost_at_stop", count=len(delta.finished), error=repr(exc))
            return False
        return True

    async def _write(self, delta: Delta, attempt: int) -> bool:
        assert self._sink is not None
        try:
            async with asyncio.timeout(self.config.write_timeout_s):
                await self._sink.write(self._state(), delta, self._clock())
        except asyncio.CancelledError:
            delta.merge(self.pending)  # stop(): keep them for drain()
            self.pending = delta
            raise
        except Exception as exc:  # any sink failure: keep the changes, retry later
            self.failures += 1
            if attempt == 0:
                _log.warning("ami_sink_failed", error=str(exc) or type(exc).__name__)
            # Newer changes arrived meanwhile: keep them after the held ones.
            delta.merge(self.pending)
            self.pending = delta
            self._bound()
            return False
        return True
