"""The small interfaces the pure core is written against.

Live calls implement them with Redis, AGI and AMI; the simulator and unit
tests implement them with in-memory objects. Keeping them in one place is
what lets the simulator run the very same flow engine and routing policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from router.customers.model import Customer, LookupResult

__all__ = [
    "CallInfo",
    "CallInputs",
    "CallSession",
    "CustomerStore",
    "DigitsResult",
    "InputReader",
    "QueueSnapshot",
    "QueueState",
    "RouteDecision",
    "RoutingPolicy",
    "WaitingCaller",
]


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """Live state of one Asterisk queue, as routing conditions see it.

    Times are seconds. ``ewt`` is the expected wait of a caller joining now.
    """

    name: str
    waiting: int = 0
    longest_wait: float = 0.0
    agents_logged_in: int = 0
    agents_available: int = 0
    agents_paused: int = 0
    ewt: float = 0.0
    open: bool = True


@dataclass(frozen=True, slots=True)
class WaitingCaller:
    """A caller in a queue as the AMI listener tracks it and the starvation guard reads it.

    ``base_priority`` is the priority the router decided (QUEUE_PRIO at
    join), ``priority`` the one Asterisk has now; ``joined_at`` is the epoch
    second of QueueCallerJoin. Frozen: a priority change replaces the entry.
    """

    uniqueid: str
    channel: str
    queue: str
    tier: str
    base_priority: int
    priority: int
    joined_at: float


@dataclass(frozen=True, slots=True)
class CallInfo:
    """What is known about a call before any IVR step.

    ``caller`` is the normalised calling number ("" when anonymous or
    unusable); ``caller_raw`` is exactly what Asterisk sent and must be
    treated as hostile text.
    """

    uniqueid: str
    caller: str
    dnis: str
    at: datetime
    caller_raw: str = ""
    caller_name: str = ""
    language: str = ""
    script: str = "inbound"
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RouteDecision:
    """Where a call goes: the queue (lane), its QUEUE_PRIO, and why.

    ``reason`` is a short machine-readable tag (``red_list``, ``tier_lane``,
    ``overflow:ewt``, ``default``...) recorded with the call for reports.
    """

    queue: str
    priority: int
    reason: str
    max_wait_s: int = 0  # 0 = no limit; the dialplan passes it to Queue()'s timeout


class RoutingPolicy(Protocol):
    def decide(
        self,
        service: str,
        customer: Customer | None,
        call: CallInfo,
        queues: Mapping[str, QueueSnapshot],
    ) -> RouteDecision:
        """Pure: pick lane and priority for a call asking for ``service``."""
        ...


class CustomerStore(Protocol):
    async def lookup(self, number: str) -> LookupResult:
        """Everything routing needs about the caller; never raises."""
        ...

    async def link(self, number: str, customer_id: str) -> None:
        """Attach a number to a customer (raises NumberConflictError)."""
        ...


class QueueState(Protocol):
    async def snapshot(self) -> Mapping[str, QueueSnapshot]:
        """Current state of every known queue; empty when unknown."""
        ...


@dataclass(frozen=True, slots=True)
class CallInputs:
    """What a routing decision reads before it is made: the caller and the live queues.

    ``queues_reason`` is ``"ok"``, ``"none"`` (no live state configured) or
    why the picture is missing (``"timeout"``, ``"store_down"``...): the
    decision then goes on as if every queue were unknown.
    """

    lookup: LookupResult
    queues: Mapping[str, QueueSnapshot] = field(default_factory=dict)
    queues_reason: str = "ok"


class InputReader(Protocol):
    async def read(self, number: str) -> CallInputs:
        """The caller's record and the queue picture under ONE deadline; never raises."""
        ...


@dataclass(frozen=True, slots=True)
class DigitsResult:
    """Digits a caller typed; ``timed_out`` when input ended by timeout."""

    digits: str
    timed_out: bool


class CallSession(Protocol):
    """One live call, as the flow runner drives it.

    A hangup is signalled by raising ``router.errors.CallHungUp`` (a control
    signal, so no flow step can forget to check for it); protocol failures
    raise ``router.errors.AGIError`` subclasses. Times are milliseconds.
    """

    @property
    def uniqueid(self) -> str: ...

    async def answer(self) -> None: ...

    async def play(self, prompts: Sequence[str], escape_digits: str = "") -> str:
        """Play prompts in order; returns the digit that interrupted, or ""."""
        ...

    async def get_digits(self, prompt: str, timeout_ms: int, max_digits: int) -> DigitsResult: ...

    async def wait_digit(self, timeout_ms: int) -> str:
        """One digit, or "" on timeout."""
        ...

    async def set_var(self, name: str, value: str) -> None: ...

    async def set_vars(self, values: Mapping[str, str]) -> None:
        """Set several channel variables in ONE AGI round trip (EXEC MSet)."""
        ...

    async def get_var(self, name: str) -> str | None: ...

    async def exec(self, app: str, args: Sequence[str] = ()) -> int: ...

    async def hangup(self) -> None: ...
