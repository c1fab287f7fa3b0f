"""Run the router's event loop: uvloop when installed and wanted, else asyncio.

uvloop runs the FastAGI server ~30% faster per CPU-second (its transports
and call scheduling are in C), which is the router's whole hot path. It is a
dependency on Linux and macOS; ``TIERLINE_UVLOOP=0`` falls back to the
standard loop (to rule uvloop out when chasing a bug, or where it is absent).
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["loop_name", "run"]

T = TypeVar("T")


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
