"""Events the engine consumes and actions it emits: frozen values, no I/O.

An adapter (the AGI runner, the simulator, ``flows trace``) executes the
actions in order. When the last action is a *blocking* one (``Play``,
``Collect``, ``Verify``, ``Fetch``, ``Notify``) the adapter answers with the matching event; when
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
    "Fetch",
    "Fetched",
    "HangUp",
    "HungUp",
    "Notified",
    "Notify",
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
    """Look up the account the caller typed; answer with ``Verified``.

    With ``factor_kind`` the account counts only if ``factor`` (the typed
    PIN or ID digits) matches the secret registered under that kind; the
    digits are kept out of ``repr`` so no trace or log line shows them.
    """

    account: str
    factor: str = field(default="", repr=False)
    factor_kind: str = ""


@dataclass(frozen=True, slots=True)
class Fetch:
    """Call backend ``backend`` (``path`` already filled and URL-encoded); answer ``Fetched``.

    ``fields`` maps each flow variable to its JSON path; the adapter reads
    them from the answer, so the event carries text only.
    """

    node: str
    backend: str
    method: str
    path: str
    body: Mapping[str, str] | None
    fields: Mapping[str, tuple[str, ...]]
    timeout_ms: int


@dataclass(frozen=True, slots=True)
class Notify:
    """Post ``text`` for ``to`` to gateway ``backend``; answer ``Notified``."""

    node: str
    backend: str
    path: str
    channel: str
    to: str
    text: str
    timeout_ms: int


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
    | Fetch
    | Notify
    | SetVars
    | Route
    | TransferTo
    | RequestCallback
    | VoicemailTo
    | HangUp
    | RecordOffer
    | RecordAnswer
)
BLOCKING: tuple[type, ...] = (Play, Collect, Verify, Fetch, Notify)
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
class Fetched:
    """A fetch's answer: ``outcome`` "ok" with the variables, or why it failed.

    Outcomes: ok, timeout, error (connection), status (not 2xx), type (not
    JSON), too_big, bad_json, missing (a mapped field absent), budget (the
    call's data budget was spent), no_backend.
    """

    outcome: str
    values: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


@dataclass(frozen=True, slots=True)
class Notified:
    """A notify's answer: "ok" once the gateway took the message, else why not."""

    outcome: str

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


@dataclass(frozen=True, slots=True)
class HungUp:
    pass


Event = Start | PlayDone | Digits | Verified | Fetched | Notified | HungUp
