"""Follow each Originate to its end through AMI events (pure).

What the Asterisk 22 captures (ami/09, ami/11, ami/12) say, and how it is
handled here:

* ``OriginateResponse`` has no fixed place among the call's events (before,
  between or after the Hangups), so events are matched as they come and an
  attempt ends only when everything it needs has arrived.
* A failed ``OriginateResponse`` carries ``Uniqueid: <unknown>``: it is
  matched by ``ActionID``. Everything else is matched by the ids the dialer
  chose itself (``ChannelId`` = the attempt id for the customer's ``;1``
  half, ``OtherChannelId`` = attempt id + ``-b`` for ``;2``), which
  Asterisk uses as ``Uniqueid``/``Linkedid`` of the call's channels.
* ``Reason`` 4 only means answered: an instant hang-up is an answered call
  whose ``Cdr`` has ``BillableSeconds: 0``. Reason 0 covers every other
  failure (bad number, unknown technology, nonexistent context).
* A successful attempt ends with the ``Hangup`` of its ``;1`` half (the
  queue caller), after ``AgentComplete`` gave talk and hold time;
  ``AgentConnect`` (same ``Uniqueid``) says when an agent took it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from router.dialer.model import AttemptResult, DialResult

__all__ = ["OTHER_SUFFIX", "AttemptTracker", "classify_reason"]

OTHER_SUFFIX = "-b"
DISPOSITION_VAR = "TIERLINE_DISPOSITION"
OFFER_VAR = "TIERLINE_OFFER_ACCEPTED"

_REASONS = {
    "4": DialResult.ANSWERED,
    "3": DialResult.NO_ANSWER,
    "5": DialResult.BUSY,
    "8": DialResult.CONGESTION,
}


def classify_reason(reason: str) -> DialResult:
    """OriginateResponse ``Reason`` -> result; 0 and anything unseen are failures."""
    return _REASONS.get(reason.strip(), DialResult.FAILED)


@dataclass(slots=True)
class _Open:
    attempt_id: str
    action_id: str
    started: float
    deadline: float
    response: str = ""
    reason: str = ""
    hung_up: bool = False
    cause: str = ""
    talk_s: float = 0.0
    hold_s: float = 0.0
    billable: float | None = None
    disposition: str = ""
    offer: bool | None = None
    at_agent: bool = False

    def result(self, outcome: DialResult) -> AttemptResult:
        return AttemptResult(
            attempt_id=self.attempt_id,
            result=outcome,
            reason_code=self.reason,
            hangup_cause=self.cause,
            talk_s=self.talk_s,
            hold_s=self.hold_s,
            disposition=self.disposition,
            offer_accepted=self.offer,
            instant_hangup=outcome is DialResult.ANSWERED and self.billable == 0,
        )


class AttemptTracker:
    """Open attempts, keyed by ActionID and by the channel ids they chose."""

    def __init__(self) -> None:
        self._by_action: dict[str, _Open] = {}
        self._by_id: dict[str, _Open] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def start(self, attempt_id: str, action_id: str, now: float, deadline_s: float) -> None:
        """Register an Originate before it is written, so no event can outrun it."""
        entry = _Open(attempt_id, action_id, now, now + deadline_s)
        self._by_action[action_id] = entry
        self._by_id[attempt_id] = entry

    def rejected(self, attempt_id: str, message: str) -> AttemptResult | None:
        """``Response: Error`` to the Originate (``Invalid channel``, ...): failed at once."""
        entry = self._by_id.get(attempt_id)
        if entry is None:
            return None
        entry.reason = message[:80]
        return self._finish(entry, DialResult.FAILED)

    def feed(self, frame: Mapping[str, str]) -> AttemptResult | None:
        """Fold one event in; the attempt it finished, if any."""
        event = frame.get("Event", "")
        if event == "OriginateResponse":
            entry = self._by_action.get(frame.get("ActionID", ""))
            return self._response(entry, frame) if entry else None
        entry = self._owner(frame)
        if entry is None:
            return None
        return self._call_event(entry, event, frame)

    def at_agent(self, attempt_id: str) -> bool:
        """True once the queue connected the customer to an agent (``AgentConnect``).

        From then on the call holds an agent the member book already counts
        as busy, so pacing must not count it as in flight a second time.
        """
        entry = self._by_id.get(attempt_id)
        return entry is not None and entry.at_agent

    def lost(self) -> list[AttemptResult]:
        """The AMI link died: close what cannot be followed any more (never re-sent)."""
        return [self._finish(e, self._unresolved(e)) for e in list(self._by_id.values())]

    def expire(self, now: float) -> list[AttemptResult]:
        """Attempts past their deadline with no outcome: counted as unknown."""
        late = [e for e in self._by_id.values() if now >= e.deadline]
        return [self._finish(e, self._unresolved(e)) for e in late]

    @staticmethod
    def _unresolved(entry: _Open) -> DialResult:
        return DialResult.ANSWERED if entry.response == "Success" else DialResult.UNKNOWN

    def _owner(self, frame: Mapping[str, str]) -> _Open | None:
        by_id = self._by_id
        for key in ("Uniqueid", "UniqueID", "DestUniqueid", "Linkedid"):
            uid = frame.get(key)
            if uid:
                if uid.endswith(OTHER_SUFFIX) and uid[: -len(OTHER_SUFFIX)] in by_id:
                    return by_id[uid[: -len(OTHER_SUFFIX)]]
                if uid in by_id:
                    return by_id[uid]
        return None

    def _response(self, entry: _Open, frame: Mapping[str, str]) -> AttemptResult | None:
        entry.response = frame.get("Response", "")
        entry.reason = frame.get("Reason", "")
        if entry.response != "Success":
            return self._finish(entry, classify_reason(entry.reason))
        if entry.hung_up:
            return self._finish(entry, DialResult.ANSWERED)
        return None

    def _call_event(
        self, entry: _Open, event: str, frame: Mapping[str, str]
    ) -> AttemptResult | None:
        own = frame.get("Uniqueid") == entry.attempt_id
        if event == "Hangup" and own:
            entry.hung_up, entry.cause = True, frame.get("Cause", "")
            if entry.response == "Success":
                return self._finish(entry, DialResult.ANSWERED)
        elif event == "AgentConnect" and own:
            entry.at_agent = True
        elif event == "AgentComplete" and own:
            entry.talk_s = _num(frame.get("TalkTime"))
            entry.hold_s = _num(frame.get("HoldTime"))
        elif event == "Cdr" and frame.get("UniqueID") == entry.attempt_id:
            entry.billable = _num(frame.get("BillableSeconds"))
        elif event == "VarSet":
            self._variable(entry, frame.get("Variable", ""), frame.get("Value", ""))
        return None

    @staticmethod
    def _variable(entry: _Open, name: str, value: str) -> None:
        if name == DISPOSITION_VAR:
            entry.disposition = value[:40]
        elif name == OFFER_VAR:
            entry.offer = value.strip().lower() in {"1", "yes", "true", "accepted"}

    def _finish(self, entry: _Open, outcome: DialResult) -> AttemptResult:
        self._by_id.pop(entry.attempt_id, None)
        self._by_action.pop(entry.action_id, None)
        return entry.result(outcome)


def _num(value: str | None) -> float:
    try:
        return float(value or 0)
    except ValueError:
        return 0.0
