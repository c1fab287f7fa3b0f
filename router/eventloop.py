"""Run the router's event loop: uvloop when installed and wanted, else asyncio.

uvloop runs the FastAGI server ~30% faster per CPU-second (its transports
and call scheduling are in C), which is the router's whole hot path. It is a
dependency on Linux and macOS; ``TIERLINE_UVLOOP=0`` falls back to the
standard loop (to rule uvloop out when chasing a bug, or where it is absent).

``tune_gc`` trims the other source of latency spikes on that path: cyclic
garbage collections over the whole start-up heap.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["GC_GEN0_THRESHOLD", "loop_name", "run", "tune_gc"]

T = TypeVar("T")

GC_GEN0_THRESHOLD = 50_000
"""Allocations between young collections (CPython's default is 700)."""


def loop_name(want_uvloop: bool = True) -> str:
    """``"uvloop"`` if ``run(..., want_uvloop)`` would use it, else ``"asyncio"``."""
    if want_uvloop and importlib.util.find_spec("uvloop") is not None:
        return "uvloop"
    return "asyncio"


def run(main: Coroutine[Any, Any, T], want_uvloop: bool = True) -> T:
    """``asyncio.run(main)`` on uvloop when available and ``want_uvloop``."""
    if loop_name(want_uvloop) == "uvloop":
        import uvloop  # noqa: PLC0415 - optional (absent on Windows or when built without it)

        return uvloop.run(main)
    return asyncio.run(main)


def tune_gc() -> None:
    """Freeze the start-up heap and collect the young generation less often.

    Call once the service is set up. Modules, settings, flows and the policy
    then stay out of every later collection (``gc.freeze``), and a young
    collection runs every 50,000 allocations instead of 700. Each call still
    leaves its cycles (futures, tracebacks) to the collector, which now runs
    less often over a smaller heap: in ``benchmarks/agi_calls.py`` this cut
    the decision p99 at 500 calls in progress from ~3-4 ms to ~2 ms.
    """
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)
