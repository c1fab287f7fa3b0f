"""Events the engine consumes and actions it emits: frozen values, no I/O.

An adapter (the AGI runner, the simulator, ``flows trace``) executes the
actions in order. When the last action is a *blocking* one (``Play``,
``Collect``, ``Verify``) the adapter answers with the matching event; when
it is a *terminal* one the call has left the IVR.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from router.customers.model import Customer
from router.types import RouteDecision

__all__ = [
    "BLOCKING",
    "TERMINAL",
    "Action",
    "Collect",
    "Digits",
    "Event",
    "HangUp",
    "HungUp",
    "Play",
    "PlayDone",
    "RequestCallback",
    "Route",
    "SetVars",
    "Start",
    "TransferTo",
    "Verified",
    "Verify",
    "VoicemailTo",
]


@dataclass(frozen=True, slots=True)
class Play:
    prompts: tuple[str, ...]
    escape_digits: str = ""


@dataclass(frozen=True, slots=True)
class Collect:
    prompt: str
    timeout_ms: int
    max_digits: int


@dataclass(frozen=True, slots=True)
class Verify:
    """Look up the account the caller typed; answer with ``Verified``.

    With ``factor_kind`` the account counts only if ``factor`` (the typed
    PIN or ID digits) matches the secret registered under that kind; the
    digits are kept out of ``repr`` so no trace or log line shows them.
    """

    account: str
    factor: str = field(default="", repr=False)
    factor_kind: str = ""


@dataclass(frozen=True, slots=True)
class SetVars:
    values: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Route:
    """Terminal: hand the call to the dialplan's Queue() with this decision."""

    service: str
    decision: RouteDecision
    announce_position: bool = False


@dataclass(frozen=True, slots=True)
class TransferTo:
    """Terminal: ``Dial()`` the destination (``ring_s`` > 0: ring that long, else the default)."""

    destination: str
    ring_s: int = 0


@dataclass(frozen=True, slots=True)
class RequestCallback:
    service: str


@dataclass(frozen=True, slots=True)
class VoicemailTo:
    mailbox: str


@dataclass(frozen=True, slots=True)
class HangUp:
    reason: str = "flow"


Action = (
    Play | Collect | Verify | SetVars | Route | TransferTo | RequestCallback | VoicemailTo | HangUp
)
BLOCKING: tuple[type, ...] = (Play, Collect, Verify)
TERMINAL: tuple[type, ...] = (Route, TransferTo, RequestCallback, VoicemailTo, HangUp)


@dataclass(frozen=True, slots=True)
class Start:
    pass


@dataclass(frozen=True, slots=True)
class PlayDone:
    digit: str = ""


@dataclass(frozen=True, slots=True)
class Digits:
    digits: str
    timed_out: bool = False


@dataclass(frozen=True, slots=True)
class Verified:
    customer: Customer | None = field(default=None)


@dataclass(frozen=True, slots=True)
class HungUp:
    pass


Event = Start | PlayDone | Digits | Verified | HungUp
