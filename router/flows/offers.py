"""The offers catalogue (``ivr_flows/offers.yaml``): what an offer id means to the IVR.

Customers carry ranked offer ids (``offers`` in the customer store, set by
the marketing system); the catalogue says, per id, which prompt presents
it, which service an accept is routed to, and when it may be presented.
The prompt is a name of ``prompts.yaml``, which already holds its text in
every language of the catalogue (Asterisk picks the language directory
itself, see :class:`~router.flows.model.PromptCatalog`), so one name is
the offer's prompt in zh, en and yue alike.

Validated once at load like the flows (strict models, ``file:line:col``
problems); an id a customer carries that the catalogue does not know is
skipped at run time (and logged by the adapter), never a failed call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints, ValidationError

from router.errors import Problem
from router.flows.expr import Facts, closest
from router.flows.section import Items, Pos, Section

__all__ = [
    "OFFERS_FILE",
    "Offer",
    "OfferCatalog",
    "OfferSpec",
    "OffersFile",
    "call_day",
    "check_catalog",
    "offers_for_call",
    "parse_catalog",
]

OFFERS_FILE = "offers.yaml"
Day = Annotated[date, Strict(False)]
OfferId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class OfferSpec(BaseModel):
    """One offer of the catalogue."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    prompt: str = Field(min_length=1, description="a prompt of prompts.yaml presenting it")
    service: str = Field(min_length=1, description="the service (routing.yaml) an accept goes to")
    description: str = ""
    valid_from: Day | None = Field(None, description="first day it may be presented")
    valid_until: Day | None = Field(None, description="last day it may be presented")


class OffersFile(BaseModel):
    """``offers.yaml``: offer id (as the customer store holds it) -> offer."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    offers: dict[OfferId, OfferSpec] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Offer:
    id: str
    prompt: str
    service: str
    description: str = ""
    valid_from: str = ""  # ISO dates: compared with call.date, "" = open-ended
    valid_until: str = ""

    def valid_on(self, day: str) -> bool:
        """Within the validity window on ``day`` (ISO date in the flow's time zone)."""
        return (not self.valid_from or day >= self.valid_from) and (
            not self.valid_until or day <= self.valid_until
        )


@dataclass(frozen=True, slots=True)
class OfferCatalog:
    offers: Mapping[str, Offer] = field(default_factory=dict)
    file: str = ""
    positions: Mapping[str, Pos] = field(default_factory=dict)


def parse_catalog(raw: Any, file: str, problems: list[Problem]) -> OfferCatalog:
    """The positioned YAML of ``offers.yaml`` -> catalogue; problems located, none raised."""
    if not isinstance(raw, Section):
        problems.append(Problem(file, 1, 1, "expected a mapping with offers:"))
        return OfferCatalog(file=file)
    try:
        spec = OffersFile.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            line, col = _where(raw, err["loc"])
            problems.append(Problem(file, line, col, _message(err)))
        return OfferCatalog(file=file)
    table = raw.get("offers")
    positions = dict(table.key_pos) if isinstance(table, Section) else {}
    offers = {
        oid: Offer(
            oid,
            o.prompt,
            o.service,
            o.description,
            o.valid_from.isoformat() if o.valid_from else "",
            o.valid_until.isoformat() if o.valid_until else "",
        )
        for oid, o in spec.offers.items()
    }
    for oid, o in offers.items():
        if o.valid_from and o.valid_until and o.valid_until < o.valid_from:
            line, col = positions.get(oid, (1, 1))
            problems.append(
                Problem(file, line, col, f"offer {oid!r}: valid_until before valid_from")
            )
    return OfferCatalog(offers, file, positions)


def check_catalog(
    catalog: OfferCatalog, prompts: Mapping[str, object], known_queues: frozenset[str]
) -> list[Problem]:
    """Every offer's prompt and service exist (when a prompt catalogue / queues are known)."""
    out: list[Problem] = []
    for oid, offer in catalog.offers.items():
        line, col = catalog.positions.get(oid, (1, 1))
        if prompts and offer.prompt not in prompts:
            hint = closest(offer.prompt, prompts)
            out.append(
                Problem(
                    catalog.file, line, col, f"offer {oid!r}: unknown prompt {offer.prompt!r}", hint
                )
            )
        if known_queues and offer.service not in known_queues:
            hint = closest(offer.service, known_queues)
            out.append(
                Problem(
                    catalog.file,
                    line,
                    col,
                    f"offer {oid!r}: unknown service {offer.service!r}",
                    hint,
                )
            )
    return out


def offers_for_call(
    catalog: OfferCatalog,
    ranked: Sequence[str],
    only: frozenset[str],
    limit: int,
    day: Callable[[], str],
) -> tuple[tuple[Offer, ...], tuple[str, ...]]:
    """(offers to present in rank order, ids the catalogue does not know).

    An offer outside its validity window, or not in the node's ``offers:``
    list (when it has one), is left out silently: that is the operator's
    choice. An unknown id is returned apart so the adapter can log it.
    ``day`` (the call's date) is asked only for an offer with a window.
    """
    shown: list[Offer] = []
    unknown: list[str] = []
    today = ""
    for oid in dict.fromkeys(ranked):
        offer = catalog.offers.get(oid)
        if offer is None:
            unknown.append(oid)
            continue
        if len(shown) >= limit or (only and oid not in only):
            continue
        if offer.valid_from or offer.valid_until:
            today = today or day()
            if not offer.valid_on(today):
                continue
        shown.append(offer)
    return tuple(shown), tuple(unknown)


def call_day(facts: Facts, flow: str) -> str:
    """The call's date in the flow's time zone, as validity windows compare it."""
    return str(facts.lookup(flow, "call__date"))


def _where(raw: Section, loc: Sequence[Any]) -> Pos:
    here: Any = raw
    pos = raw.pos
    for step in loc:
        if isinstance(here, Section) and str(step) in here:
            pos, here = here.at(str(step)), here[str(step)]
        elif isinstance(here, Items) and isinstance(step, int) and step < len(here):
            pos, here = here.item_pos[step], here[step]
    return pos


def _message(err: Any) -> str:
    loc = ".".join(str(p) for p in err["loc"] if p != "[key]")
    if err["type"] == "extra_forbidden":
        return f"unknown key {str(err['loc'][-1])!r}" + (f" (in {loc})" if loc else "")
    if err["type"] == "missing":
        return f"missing required key {str(err['loc'][-1])!r}"
    return f"{loc}: {err['msg']}"
