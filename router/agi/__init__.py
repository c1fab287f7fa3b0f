"""FastAGI: our own small server (see docs/agi.md for why not panoramisk's)."""

from __future__ import annotations

from router.agi.server import AGIServer, Handler, call_info
from router.agi.session import AGISession, AGITimeouts

__all__ = [
    "AGIServer",
    "AGISession",
    "AGITimeouts",
    "Handler",
    "call_info",
]
