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
    "RecordAnswer",
    "RecordOffer",
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
    """Look up the account the caller typed; answer with ``Verified``."""

    account: str


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
    destination: str


@dataclass(frozen=True, slots=True)
class RequestCallback:
    service: str


@dataclass(frozen=True, slots=True)
class VoicemailTo:
    mailbox: str


@dataclass(frozen=True, slots=True)
class HangUp:
    reason: str = "flow"


@dataclass(frozen=True, slots=True)
class RecordOffer:
    """Not blocking: an offer was ``presented`` (answered or let time out), ``accepted``,
    or is ``unknown`` to the catalogue (skipped; the adapter logs it, stores nothing)."""

    event: str
    offer: str
    position: int = 0  # 1-based rank among the offers this call heard


@dataclass(frozen=True, slots=True)
class RecordAnswer:
    """Not blocking: one survey answer (a digit in the question's range)."""

    survey: str
    question: str
    answer: str


Action = (
    Play
    | Collect
    | Verify
    | SetVars
    | Route
    | TransferTo
    | RequestCallback
    | VoicemailTo
    | HangUp
    | RecordOffer
    | RecordAnswer
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
