"""The flow file format as typed models: the one source for loading and for the editors' schema.

The loader validates each parsed file with :class:`FlowFile` (unknown keys
rejected, YAML types kept: ``interruptible: 'no'`` is text, not a yes),
then compiles the validated models into :mod:`router.flows.model`;
``ivr_flows/flow.schema.json`` is generated from the same classes
(:func:`schema_text`), so the schema editors use cannot drift from what
the loader accepts. What one field cannot say alone (a node name that
exists, a known service or prompt) is checked when compiling.
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Strict,
    StringConstraints,
    Tag,
    model_validator,
)
from pydantic_core import PydanticCustomError

from router.flows.expr import closest
from router.flows.hours import known_calendar, parse_day_spec, parse_ranges, subdivisions
from router.flows.people import DEST_RE

__all__ = [
    "NODE_MODELS",
    "Branch",
    "Callback",
    "Case",
    "ExprValue",
    "Fetch",
    "FlowFile",
    "FromCustomer",
    "Hangup",
    "Hours",
    "Input",
    "Menu",
    "NodeSpec",
    "Notify",
    "OfferKeys",
    "OfferNode",
    "Play",
    "Queue",
    "Return",
    "Say",
    "SayItem",
    "SecondFactor",
    "Serves",
    "SetVars",
    "SubFlow",
    "Survey",
    "SurveyQuestion",
    "Transfer",
    "Voicemail",
    "schema",
    "schema_text",
]

SCHEMA_ID = "https://tierline.example/ivr_flows/flow.schema.json"
VAR_RE = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
# What the dialplan lets through (asterisk_conf/extensions.conf FILTERs the same sets and
# refuses a value that loses a character): a number or extension@context; a mailbox.
_DEST_RE = DEST_RE
_MAILBOX_RE = re.compile(r"[0-9A-Za-z_-]{1,64}(@[0-9A-Za-z_-]{1,64})?")


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        hint = closest(name, _zones())
        raise PydanticCustomError(
            "time_zone", "unknown time zone '{zone}'{hint}", {"zone": name, "hint": _paren(hint)}
        ) from None
    return name


def _calendar(code: str) -> str:
    if code and not known_calendar(code):
        raise PydanticCustomError(
            "holiday_calendar",
            "unknown holiday calendar '{code}' (use a country code such as CN)",
            {"code": code},
        )
    return code


def _pattern(source: str) -> str:
    try:
        re.compile(source)
    except re.error as exc:
        raise PydanticCustomError(
            "pattern", "pattern does not compile: {error}", {"error": str(exc)}
        ) from None
    return source


def _matching(regex: re.Pattern[str], what: str) -> Any:
    def check(value: str) -> str:
        if not regex.fullmatch(value):
            raise PydanticCustomError("dialplan_value", "'{value}' " + what, {"value": value})
        return value

    return AfterValidator(check)


def _paren(hint: str) -> str:
    return f" ({hint})" if hint else ""


def _as_expression(value: Any) -> Any:
    """``when: true`` and ``priority: 8`` are expressions too; YAML reads them as bool/int."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return value


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _day_spec(spec: str) -> str:
    parse_day_spec(spec)  # raises ValueError with the operator's words
    return spec


def _ranges(text: str) -> str:
    parse_ranges(text)
    return text


Name = Annotated[str, StringConstraints(min_length=1)]
NodeRef = Annotated[str, StringConstraints(min_length=1), Field(description="a node of this flow")]
OptionalRef = Annotated[str, Field(description="a node of this flow")]
PromptName = Annotated[str, Field(description="a prompt of prompts.yaml")]
Expression = Annotated[
    str,
    BeforeValidator(_as_expression, json_schema_input_type=str | bool | int),
    StringConstraints(min_length=1),
    Field(description="a CEL expression (see ivr_flows/README.md, Conditions)"),
]
VarName = Annotated[str, StringConstraints(pattern=VAR_RE)]
TimeZone = Annotated[str, AfterValidator(_zone), Field(description="an IANA time zone")]
Seconds = Annotated[float, Field(ge=1, le=60)]
Retries = Annotated[int, Field(ge=0, le=9)]
Day = Annotated[date, Strict(False)]
DayName = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# A YAML list is read into a tuple (strict mode alone takes tuples only).
Days = Annotated[tuple[Day, ...], Strict(False)]
Names = Annotated[tuple[Name, ...], Strict(False)]
DaySpec = Annotated[str, AfterValidator(_day_spec), Field(description="mon-fri, sat, sat,sun")]
Ranges = Annotated[str, AfterValidator(_ranges), Field(description='"08:00-12:00, 13:00-20:00"')]


class Hours(_Spec):
    """A named timetable: weekly hours, a public-holiday calendar, the operator's own dates.

    A make-up working day (the calendar's ``weekend_workdays``, e.g. China's
    adjusted Saturdays) and every date under ``open`` get the weekly hours of
    ``workday_hours``; ``closed`` wins over everything, ``open`` over the calendar.
    """

    timezone: TimeZone = "UTC"
    holidays: Annotated[str, AfterValidator(_calendar)] = Field(
        "", description="country code of the public holidays (holidays package), e.g. CN"
    )
    subdivision: str = Field("", description="a subdivision of that country, e.g. a province")
    weekly: dict[DaySpec, Ranges] = Field(default_factory=dict)
    closed: Days = Field((), description="extra closed dates")
    open: Days = Field((), description="open although a holiday or weekend")
    workday_hours: DayName = Field(
        "mon", description="whose weekly hours make-up working days and open dates keep"
    )

    @model_validator(mode="after")
    def _known_subdivision(self) -> Hours:
        if self.subdivision and self.subdivision not in subdivisions(self.holidays):
            raise PydanticCustomError(
                "subdivision",
                "unknown subdivision '{sub}' of holiday calendar '{code}'{hint}",
                {
                    "sub": self.subdivision,
                    "code": self.holidays or "(none)",
                    "hint": _paren(closest(self.subdivision, subdivisions(self.holidays))),
                },
            )
        return self


class Serves(_Spec):
    """Which calls run this flow."""

    dnis: Names = Field((), description='dialled numbers; quote them: ["010086"]')
    script: str = Field("", description="the AGI script name (fallback when no DNIS matches)")


class _Node(_Spec):
    note: str = Field("", description="free text")


class Play(_Node):
    """Play prompts in order; ``interruptible``: a digit skips the rest, answers the next menu."""

    type: Literal["play"]
    prompts: Annotated[
        tuple[PromptName, ...],
        Strict(False),
        BeforeValidator(_one_or_many, json_schema_input_type=list[str]),
        Field(min_length=1),
    ]
    next: NodeRef
    interruptible: bool = False


class Menu(_Node):
    """Prompt, then digit -> node; retries with invalid/timeout prompts, then ``fallback``."""

    type: Literal["menu"]
    prompt: PromptName = ""
    options: dict[Annotated[str, StringConstraints(pattern=r"^[0-9*#]$")], NodeRef] = Field(
        min_length=1, description="digit -> node"
    )
    fallback: NodeRef
    timeout_s: Seconds = 5.0
    retries: Retries = 2
    invalid_prompt: PromptName = ""
    timeout_prompt: PromptName = ""


class SecondFactor(_Spec):
    """Asked after the account number; the account links only if it matches the registered one."""

    kind: Literal["pin", "id_last4"] = Field(
        description="pin: the customer's PIN; id_last4: the last digits of their ID"
    )
    prompt: PromptName
    pattern: Annotated[str, AfterValidator(_pattern)] = Field(
        r"\d{4,8}", description="regular expression the whole input must match"
    )
    max_digits: Annotated[int, Field(ge=1, le=16)] = 8
    timeout_s: Seconds = 8.0


class Input(_Node):
    """Collect digits matching ``pattern``; ``verify`` looks the account up and links the caller."""

    type: Literal["input"]
    prompt: PromptName = ""
    pattern: Annotated[str, AfterValidator(_pattern)] = Field(
        r"\d{4,12}", description="regular expression the whole input must match"
    )
    next: NodeRef
    fallback: NodeRef
    max_digits: Annotated[int, Field(ge=1, le=32)] = 12
    timeout_s: Seconds = 8.0
    retries: Retries = 2
    invalid_prompt: PromptName = ""
    variable: Annotated[str, StringConstraints(pattern=VAR_RE + "|^$")] = ""
    verify: bool = False
    account_prefix: Annotated[str, StringConstraints(max_length=16)] = ""
    """Put before the typed digits to make the account id (``C`` + ``00001``)."""
    sensitive: bool = Field(
        False, description="typed digits are never kept, logged or reported in clear"
    )
    second_factor: SecondFactor | None = Field(
        None, description="with verify: a PIN or ID digits asked before the account links"
    )


class Case(_Spec):
    when: Expression
    goto: NodeRef


class Branch(_Node):
    """The first case whose condition holds wins; else ``default``."""

    type: Literal["branch"]
    cases: Annotated[tuple[Case, ...], Strict(False)] = ()
    default: NodeRef


class ExprValue(_Spec):
    expr: Expression


def _value_kind(value: Any) -> str:
    return "expr" if isinstance(value, dict) else "text"


SetValue = Annotated[
    Annotated[str, Tag("text")] | Annotated[ExprValue, Tag("expr")], Discriminator(_value_kind)
]


class SetVars(_Node):
    """Channel variables (screen pop) and optionally the call's language."""

    type: Literal["set"]
    vars: dict[VarName, SetValue] = Field(default_factory=dict)
    language: str = ""
    next: NodeRef


class Queue(_Node):
    """Hand the call to the routing policy for ``service``; ``overflow`` when it is hopeless."""

    type: Literal["queue"]
    service: Name
    priority: Expression | None = None
    max_wait_s: Annotated[int, Field(ge=0, le=86_400)] = 0
    overflow: OptionalRef = ""
    hours: str = ""
    closed: OptionalRef = ""
    announce_position: bool = False
    prompt: PromptName = ""


class FromCustomer(_Spec):
    """A transfer target read from the caller's customer record."""

    customer: Literal["account_manager"] = Field(
        description="the customer field naming the person (router.flows.people.PERSON_FIELDS)"
    )


def _target_kind(value: Any) -> str:
    return "customer" if isinstance(value, dict) else "text"


Target = Annotated[
    Annotated[
        str,
        _matching(
            _DEST_RE,
            "must be a number or EXTEN@CONTEXT (A-Z a-z 0-9 - _, and * # + in the number)",
        ),
        Tag("text"),
    ]
    | Annotated[FromCustomer, Tag("customer")],
    Discriminator(_target_kind),
]


class Transfer(_Node):
    """Dial a number, EXTEN@CONTEXT, or the person a customer field names (with a fallback)."""

    type: Literal["transfer"]
    to: Target
    context: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z_-]{0,64}$")] = Field(
        "", description="dial a person's id as ID@CONTEXT (a Local channel)"
    )
    fallback: OptionalRef = ""
    ring_s: Annotated[int, Field(ge=0, le=300)] = Field(
        0, description="seconds to ring (0: the dialplan's default)"
    )
    prompt: PromptName = ""


class Callback(_Node):
    type: Literal["callback"]
    service: Name
    prompt: PromptName = ""


class Voicemail(_Node):
    type: Literal["voicemail"]
    mailbox: Annotated[str, _matching(_MAILBOX_RE, "must be BOX or BOX@CONTEXT (A-Z a-z 0-9 - _)")]
    prompt: PromptName = ""


class Hangup(_Node):
    type: Literal["hangup"]
    prompt: PromptName = ""
    reason: Name = "flow"


class SubFlow(_Node):
    """Run a flow with ``subflow: true``; continue at ``next`` when it returns."""

    type: Literal["subflow"]
    flow: Name
    next: NodeRef


class Return(_Node):
    """End of a sub-flow: back to the calling flow's ``next``."""

    type: Literal["return"]


Key = Annotated[str, StringConstraints(pattern=r"^[0-9*#]$")]


class OfferKeys(_Spec):
    """The keys of an offer node (its prompts should say them)."""

    accept: Key = "1"
    next: Key = Field("2", description="hear the next offer")
    back: Key = Field("*", description="leave the offers, back to the caller's menu")

    @model_validator(mode="after")
    def _distinct(self) -> OfferKeys:
        if len({self.accept, self.next, self.back}) < 3:
            raise PydanticCustomError("offer_keys", "accept, next and back need 3 different keys")
        return self


class OfferNode(_Node):
    """The customer's ranked offers one by one (offers.yaml); an accept routes to its lane.

    No offer to present, all declined, ``back`` or silence: ``next``. Any
    other key is the caller's own menu choice and answers the menu at ``next``.
    """

    type: Literal["offer"]
    next: NodeRef
    intro: PromptName = ""
    offers: Names = Field((), description="only these offer ids of offers.yaml (default: any)")
    max_offers: Annotated[int, Field(ge=1, le=9)] = 3
    keys: OfferKeys = OfferKeys()
    timeout_s: Seconds = 5.0
    retries: Retries = 1
    timeout_prompt: PromptName = ""
    accepted_prompt: PromptName = ""
    priority: Expression | None = None


class SurveyQuestion(_Spec):
    id: VarName
    prompt: PromptName
    answers: Annotated[str, StringConstraints(pattern=r"^[0-9]-[0-9]$")] = Field(
        "1-5", description="the digit range accepted, e.g. 1-5"
    )


class Survey(_Node):
    """Questions answered with one digit each, stored per call; ``after_call``: post-call."""

    type: Literal["survey"]
    questions: Annotated[
        tuple[SurveyQuestion, ...], Strict(False), Field(min_length=1, max_length=9)
    ]
    next: NodeRef
    after_call: bool = Field(False, description="run after the agent hangs up (Queue option c)")
    intro: PromptName = ""
    thanks: PromptName = ""
    invalid_prompt: PromptName = ""
    timeout_s: Seconds = 5.0
    retries: Retries = 1


Template = Annotated[
    str, Field(description="text with {call.FIELD}, {customer.FIELD}, {vars.NAME} placeholders")
]
TimeoutMs = Annotated[int, Field(ge=10, le=10_000, description="hard deadline, ms")]
JsonPath = Annotated[
    str,
    StringConstraints(pattern=r"^(\$\.)?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){0,7}$"),
    Field(description="a field of the JSON answer: balance, order.status, $.items.0.name"),
]
UrlPath = Annotated[
    str,
    StringConstraints(pattern=r"^/[^?#\s]*$", max_length=512),
    Field(description="appended to the backend's base_url; placeholders are URL-encoded"),
]


class Fetch(_Node):
    """Ask a backend of backends.yaml over HTTP; JSON fields become flow variables."""

    type: Literal["fetch"]
    backend: Name
    method: Literal["GET", "POST"] = "GET"
    path: UrlPath
    body: dict[Name, Template] = Field(default_factory=dict, description="JSON object (POST)")
    set: dict[VarName, JsonPath] = Field(default_factory=dict, description="variable -> field")
    timeout_ms: TimeoutMs = 300
    next: NodeRef
    failed: OptionalRef = Field("", description="on timeout, error or a bad answer (required)")


class Notify(_Node):
    """Hand a message to an SMS/WeChat gateway (a backend of backends.yaml) by webhook."""

    type: Literal["notify"]
    backend: Name
    path: UrlPath = "/"
    channel: Literal["sms", "wechat"] = "sms"
    to: Template = "{call.caller}"
    text: Annotated[str, StringConstraints(min_length=1, max_length=1000)] = Field(
        description="the message; placeholders as in fetch"
    )
    timeout_ms: TimeoutMs = 300
    next: NodeRef
    failed: OptionalRef = Field("", description="when the gateway did not take it (required)")


class SayItem(_Spec):
    """One piece of a say node: a prompt, or a value spoken as one kind (set exactly one)."""

    prompt: PromptName = ""
    number: Expression | None = None
    digits: Expression | None = None
    money: Expression | None = None
    date: Expression | None = None
    time: Expression | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SayItem:
        given = [k for k in ("number", "digits", "money", "date", "time") if getattr(self, k)]
        if len(given) + bool(self.prompt) != 1:
            raise PydanticCustomError(
                "say_item", "give exactly one of prompt, number, digits, money, date, time", {}
            )
        return self


class Say(_Node):
    """Speak prompts and values (vars.balance as money...) in the call's language."""

    type: Literal["say"]
    items: Annotated[tuple[SayItem, ...], Strict(False), Field(min_length=1)]
    next: NodeRef
    failed: OptionalRef = Field("", description="a value that cannot be spoken (else skipped)")


NodeSpec = Annotated[
    Play
    | Menu
    | Input
    | Branch
    | SetVars
    | Queue
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
    | Say,
    Field(discriminator="type"),
]
NODE_MODELS: dict[str, type[_Node]] = {
    "play": Play,
    "menu": Menu,
    "input": Input,
    "branch": Branch,
    "set": SetVars,
    "queue": Queue,
    "transfer": Transfer,
    "callback": Callback,
    "voicemail": Voicemail,
    "hangup": Hangup,
    "subflow": SubFlow,
    "return": Return,
    "offer": OfferNode,
    "survey": Survey,
    "fetch": Fetch,
    "notify": Notify,
    "say": Say,
}


class FlowFile(_Spec):
    """One Tierline IVR flow file."""

    flow: Name = Field(description="unique flow name")
    description: str = ""
    serves: Serves = Serves()
    subflow: bool = Field(False, description="a sub-flow: no serves:, ends with return")
    timezone: TimeZone = Field("UTC", description="time zone of call.hour/weekday/date")
    hours: dict[Name, Hours] = Field(default_factory=dict, description="named timetables")
    open_hours: str = Field("", description="the hours in_hours() checks")
    language: str = Field(
        "", description="prompt language for a customer whose language prompts.yaml lacks"
    )
    start: NodeRef = Field(description="first node")
    nodes: dict[Name, NodeSpec] = Field(min_length=1)


def schema() -> dict[str, Any]:
    """The JSON Schema of a flow file, for editors (``# yaml-language-server: $schema=``)."""
    out: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
    }
    out.update(FlowFile.model_json_schema())
    out["title"] = "Tierline IVR flow"
    return out


def schema_text() -> str:
    """:func:`schema` as the committed ``ivr_flows/flow.schema.json`` holds it."""
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"
