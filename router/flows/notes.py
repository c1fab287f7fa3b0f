"""A live call's offer events and survey answers, gathered while it walks its flow.

The runner notes each ``RecordOffer`` / ``RecordAnswer`` action with who,
which flow version and when, and writes them all in one go after the route
is set: a store fault is logged, never felt by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from router.errors import StoreError
from router.flows import actions as a
from router.flows.engine import State
from router.flows.model import FlowSet
from router.flows.postcall import survey_queue
from router.flows.records import FlowRecords, OfferEvent, SurveyAnswer
from router.logs import get_logger
from router.types import CallInfo

__all__ = ["FlowNotes"]

log = get_logger(__name__)


@dataclass(slots=True)
class FlowNotes:
    offers: list[OfferEvent] = field(default_factory=list)
    answers: list[SurveyAnswer] = field(default_factory=list)

    def note(
        self, action: a.RecordOffer | a.RecordAnswer, state: State, call: CallInfo, flows: FlowSet
    ) -> None:
        """Keep one record; an offer id the catalogue does not know is only logged."""
        customer = state.customer
        tier = customer.tier if customer is not None else ""
        now = datetime.now(UTC)
        if isinstance(action, a.RecordAnswer):
            self.answers.append(
                SurveyAnswer(
                    call.uniqueid,
                    state.flow,
                    action.survey,
                    action.question,
                    action.answer,
                    tier,
                    survey_queue(call.params),
                    now,
                )
            )
        elif action.event == "unknown":
            log.warning("offer_unknown", offer=action.offer[:64], flow=state.flow)
        else:
            self.offers.append(
                OfferEvent(
                    action.event,
                    action.offer,
                    action.position,
                    customer.customer_id if customer is not None else "",
                    tier,
                    state.flow,
                    flows.flows[state.flow].version,
                    call.uniqueid,
                    now,
                )
            )

    async def write(self, sink: FlowRecords) -> None:
        if not self.offers and not self.answers:
            return
        try:
            await sink.add(self.offers, self.answers)
        except StoreError as exc:
            log.error(
                "flow_records_not_stored",
                error=str(exc)[:200],
                offers=len(self.offers),
                answers=len(self.answers),
            )
