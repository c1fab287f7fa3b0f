"""The compiled, frozen form of a flow: what the engine walks.

Built once by :mod:`router.flows.loader`; every expression is already a
compiled :class:`~router.flows.expr.Condition`, every reference resolved
and checked, so walking a call can never meet a syntax error or a typo.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from router.customers.phone import normalise_or_none
from router.flows.backends import BackendSet
from router.flows.expr import Condition, ValueExpr
from router.flows.hours import BusinessHours
from router.flows.offers import OfferCatalog
from router.flows.templates import Template

__all__ = [
    "TERMINAL_TYPES",
    "Branch",
    "Callback",
    "Case",
    "Fetch",
    "Flow",
    "FlowSet",
    "Hangup",
    "Input",
    "Menu",
    "Node",
    "Notify",
    "OfferNode",
    "Play",
    "PromptCatalog",
    "QueueNode",
    "Return",
    "Say",
    "SayPart",
    "SecondFactor",
    "SetVars",
    "SubFlow",
    "Survey",
    "SurveyQuestion",
    "Transfer",
    "VarRead",
    "Voicemail",
    "dialled_key",
]


@dataclass(frozen=True, slots=True)
class Play:
    """Play prompts in order; ``interruptible`` lets a digit skip the rest."""

    name: str
    line: int
    prompts: tuple[str, ...]
    next: str
    interruptible: bool = False


@dataclass(frozen=True, slots=True)
class Menu:
    """Prompt, then digit -> node; retries with invalid/timeout prompts, then fallback."""

    name: str
    line: int
    prompt: str
    options: Mapping[str, str]
    fallback: str
    timeout_s: float = 5.0
    retries: int = 2
    invalid_prompt: str = ""
    timeout_prompt: str = ""


@dataclass(frozen=True, slots=True)
class SecondFactor:
    """What an identifying input node asks after the account number."""

    kind: str  # pin | id_last4: which registered secret is compared
    prompt: str
    pattern: re.Pattern[str]
    max_digits: int = 8
    timeout_s: float = 8.0


@dataclass(frozen=True, slots=True)
class Input:
    """Collect digits matching ``pattern``; ``verify`` looks the account up and links the caller."""

    name: str
    line: int
    prompt: str
    pattern: re.Pattern[str]
    next: str
    fallback: str
    max_digits: int = 12
    timeout_s: float = 8.0
    retries: int = 2
    invalid_prompt: str = ""
    variable: str = ""
    verify: bool = False
    account_prefix: str = ""  # typed digits are an account's id without it (C + 00001)
    sensitive: bool = False  # typed digits never noted in the path in clear
    factor: SecondFactor | None = None  # asked after the account number (router.flows.identify)


@dataclass(frozen=True, slots=True)
class Case:
    when: Condition
    goto: str


@dataclass(frozen=True, slots=True)
class Branch:
    """First case whose condition holds wins; else ``default``."""

    name: str
    line: int
    cases: tuple[Case, ...]
    default: str


@dataclass(frozen=True, slots=True)
class SetVars:
    """Channel variables (screen pop) and optionally the call's language."""

    name: str
    line: int
    values: Mapping[str, ValueExpr]
    next: str
    language: str = ""


@dataclass(frozen=True, slots=True)
class QueueNode:
    """Ask the routing policy for a lane for ``service``; overflow when it is hopeless.

    ``priority`` (optional expression) overrides the policy's priority;
    ``max_wait_s`` (when > 0) overrides its maximum wait and sends the call
    to ``overflow`` up front when the lane's expected wait already exceeds it.
    """

    name: str
    line: int
    service: str
    priority: Condition | None = None
    max_wait_s: int = 0
    overflow: str = ""
    hours: str = ""
    closed: str = ""
    announce_position: bool = False
    prompt: str = ""


@dataclass(frozen=True, slots=True)
class Transfer:
    """Dial ``destination``, or the person a customer ``field`` names (see router.flows.people).

    ``fallback`` is where the flow goes on when that person cannot take
    the call (before dialling, or after a failed ``Dial()``).
    """

    name: str
    line: int
    destination: str
    prompt: str = ""
    field: str = ""
    context: str = ""
    fallback: str = ""
    ring_s: int = 0


@dataclass(frozen=True, slots=True)
class Callback:
    """Store a callback request (durably), confirm it, hang up."""

    name: str
    line: int
    service: str
    prompt: str = ""


@dataclass(frozen=True, slots=True)
class Voicemail:
    name: str
    line: int
    mailbox: str
    prompt: str = ""


@dataclass(frozen=True, slots=True)
class Hangup:
    name: str
    line: int
    prompt: str = ""
    reason: str = "flow"


@dataclass(frozen=True, slots=True)
class SubFlow:
    """Run another flow; when it reaches ``return`` continue at ``next``."""

    name: str
    line: int
    flow: str
    next: str


@dataclass(frozen=True, slots=True)
class Return:
    """End of a sub-flow: back to the caller flow's ``next``."""

    name: str
    line: int


@dataclass(frozen=True, slots=True)
class OfferNode:
    """The customer's ranked offers one by one; ``next`` when none is taken."""

    name: str
    line: int
    next: str
    intro: str = ""
    only: frozenset[str] = frozenset()  # offer ids this node may present ({} = any)
    max_offers: int = 3
    accept: str = "1"
    skip: str = "2"
    back: str = "*"
    timeout_s: float = 5.0
    retries: int = 1
    timeout_prompt: str = ""
    accepted_prompt: str = ""
    priority: Condition | None = None


@dataclass(frozen=True, slots=True)
class SurveyQuestion:
    id: str
    prompt: str
    low: str = "1"  # answers are single digits low..high
    high: str = "5"


@dataclass(frozen=True, slots=True)
class Survey:
    """Digit-answered questions; ``after_call`` ones also run after the agent hangs up."""

    name: str
    line: int
    questions: tuple[SurveyQuestion, ...]
    next: str
    after_call: bool = False
    intro: str = ""
    thanks: str = ""
    invalid_prompt: str = ""
    timeout_s: float = 5.0
    retries: int = 1


@dataclass(frozen=True, slots=True)
class Fetch:
    """HTTP to a named backend; ``fields`` maps variables to JSON paths (split on dots)."""

    name: str
    line: int
    backend: str
    method: str
    path: Template
    body: Mapping[str, Template]
    fields: Mapping[str, tuple[str, ...]]
    timeout_ms: int
    next: str
    failed: str

    @property
    def writes(self) -> frozenset[str]:
        return frozenset(self.fields)


@dataclass(frozen=True, slots=True)
class Notify:
    """A message handed to a gateway backend; ``next`` once it took it, else ``failed``."""

    name: str
    line: int
    backend: str
    path: Template
    channel: str
    to: Template
    text: Template
    timeout_ms: int
    next: str
    failed: str


@dataclass(frozen=True, slots=True)
class SayPart:
    """A prompt (``kind`` "prompt") or a value spoken as ``kind`` (number, money...)."""

    kind: str
    prompt: str = ""
    value: Condition | None = None


@dataclass(frozen=True, slots=True)
class Say:
    """Prompts and spoken values; ``failed`` (optional) when a value cannot be spoken."""

    name: str
    line: int
    parts: tuple[SayPart, ...]
    next: str
    failed: str = ""


Node = (
    Play
    | Menu
    | Input
    | Branch
    | SetVars
    | QueueNode
    | Transfer
    | Callback
    | Voicemail
    | Hangup
    | SubFlow
    | Return
    | OfferNode
    | Survey
    | Fetch
    | Notify
    | Say
)
TERMINAL_TYPES: tuple[type, ...] = (QueueNode, Transfer, Callback, Voicemail, Hangup)


@dataclass(frozen=True, slots=True)
class VarRead:
    """A flow variable read by a node, and where (for the never-written check)."""

    node: str
    var: str
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class Flow:
    """One operator file, compiled; ``version`` is the hash of its text."""

    name: str
    file: str
    version: str
    start: str
    nodes: Mapping[str, Node]
    dnis: tuple[str, ...] = ()
    script: str = ""
    subflow: bool = False
    timezone: str = "UTC"
    hours: Mapping[str, BusinessHours] = field(default_factory=dict)
    default_hours: str = ""
    positions: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    needs: frozenset[str] = frozenset()
    reads: tuple[VarRead, ...] = ()
    language: str = ""  # prompt language when the customer's is not in the catalog

    def pos(self, key: str) -> tuple[int, int]:
        """Where ``node`` or ``node.field`` was written (for problems)."""
        return (
            self.positions.get(key) or self.positions.get(key.split(".", maxsplit=1)[0]) or (1, 1)
        )


@dataclass(frozen=True, slots=True)
class PromptCatalog:
    """Prompt names the flows may use, and in which languages each exists."""

    languages: tuple[str, ...] = ()
    prompts: Mapping[str, frozenset[str]] = field(default_factory=dict)
    sound_prefix: str = ""
    file: str = ""
    say: Mapping[str, frozenset[str]] = field(default_factory=dict)  # language -> tokens

    def path(self, prompt: str) -> str:
        """What Asterisk plays; it picks the language directory itself."""
        return self.sound_prefix + prompt


@dataclass(frozen=True, slots=True)
class FlowSet:
    """Every flow of a directory, loaded together so references can be checked."""

    flows: Mapping[str, Flow]
    prompts: PromptCatalog
    version: str
    needs: frozenset[str] = frozenset()  # every field any condition reads
    offers: OfferCatalog = field(default_factory=OfferCatalog)  # offers.yaml
    backends: BackendSet = field(default_factory=BackendSet)  # backends.yaml
    # Derived tables (the engine's plan), filled on first use and shared by
    # every call on this version; never part of equality or the repr.
    compiled: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    def for_call(self, dnis: str, script: str = "") -> Flow | None:
        """The main flow listing this dialled number; with no number, the script's flow.

        A number no flow lists gets no flow (the router's no-flow route), so
        ``serves.dnis`` alone says which flow serves a number. Numbers compare
        in normal form (:func:`dialled_key`); a ``+`` written before a number
        that flows list only in national form (a trunk's ``+4008202020``) is
        tolerated, as the dialplan always did.
        """
        if not dnis:
            found = (f for f in self.flows.values() if not f.subflow and script == f.script)
            return next(found, None) if script else None
        table = cast(dict[str, Flow] | None, self.compiled.get("@numbers"))
        if table is None:
            table = {
                dialled_key(d): f for f in self.flows.values() if not f.subflow for d in f.dnis
            }
            self.compiled["@numbers"] = table
        key = dialled_key(dnis)
        return table.get(key) or (table.get(key[1:]) if key.startswith("+") else None)


def dialled_key(number: str) -> str:
    """A dialled number in the customers' normal form (``router.customers.phone``).

    Short internal extensions and other text that is no phone number stay
    as written (stripped): they can still be listed, and never match a
    real number by accident.
    """
    return normalise_or_none(number) or number.strip()
