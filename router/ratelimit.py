"""Warnings a peer can trigger at will, logged at a bounded rate and counted.

A port scanner or a misconfigured Asterisk can open thousands of bad
connections a minute; one warning each buried a real incident under 109,000
lines in nine minutes (issue 11.11). Each event name gets ``burst`` lines per
``window_s``; the rest are counted, and once the window is over one
``log.suppressed`` line says how many of which event were left out. The
counters (``seen``, ``suppressed``) are plain totals for a metrics exporter.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["BURST", "WINDOW_S", "RateLimitedLog"]

BURST = 10
"""Lines per event name per window."""
WINDOW_S = 10.0


@dataclass(slots=True)
class _Window:
    start: float
    logged: int = 0
    dropped: int = 0


class RateLimitedLog:
    """``warning(event, **fields)`` with at most ``burst`` lines per event per window."""

    def __init__(
        self,
        logger: Any,
        burst: int = BURST,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self.burst = burst
        self.window_s = window_s
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self.seen: dict[str, int] = {}
        """Every warning asked for, by event name, logged or not."""
        self.suppressed: dict[str, int] = {}
        """Warnings left out of the log, by event name."""

    def warning(self, event: str, **fields: Any) -> bool:
        """Log ``event`` unless its window is full; True when a line was written."""
        now = self._clock()
        window = self._windows.get(event)
        if window is None or now - window.start >= self.window_s:
            if window is not None:
                self._summarise(event, window)
            window = self._windows[event] = _Window(now)
        self.seen[event] = self.seen.get(event, 0) + 1
        if window.logged < self.burst:
            window.logged += 1
            self._log.warning(event, **fields)
            return True
        window.dropped += 1
        self.suppressed[event] = self.suppressed.get(event, 0) + 1
        return False

    def flush(self, *, force: bool = False) -> None:
        """Summarise every window that is over (all of them with ``force``, at shutdown)."""
        now = self._clock()
        for event, window in list(self._windows.items()):
            if force or now - window.start >= self.window_s:
                self._summarise(event, window)
                del self._windows[event]

    def _summarise(self, event: str, window: _Window) -> None:
        if window.dropped:
            self._log.warning(
                "log.suppressed",
                suppressed_event=event,
                suppressed=window.dropped,
                window_s=self.window_s,
            )
