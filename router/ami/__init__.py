"""AMI side of the router: framing, live queue state, call records, listener.

Pure: ``framing`` (bytes -> frames), ``state`` (reducer), ``calls`` and
``records`` (call records). Adapters: ``protocol`` (panoramisk fed by our
framing), ``listener`` (connection supervision), ``store`` (Redis),
``aging`` (starvation-guard timer), ``service`` (wiring).
"""

from __future__ import annotations

from router.ami.aging import PriorityAger
from router.ami.framing import FrameSplitter, parse_frame
from router.ami.listener import AMIListener, ListenerConfig
from router.ami.records import CallRecord
from router.ami.service import start_listener
from router.ami.state import LiveState, apply, expected_wait, resync
from router.ami.store import RedisQueueState, RedisStateWriter, record_ivr_path

__all__ = [
    "AMIListener",
    "CallRecord",
    "FrameSplitter",
    "ListenerConfig",
    "LiveState",
    "PriorityAger",
    "RedisQueueState",
    "RedisStateWriter",
    "apply",
    "expected_wait",
    "parse_frame",
    "record_ivr_path",
    "resync",
    "start_listener",
]
