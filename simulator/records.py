"""Simulated calls as call records, in the shape the AMI listener writes.

The bridge that lets the simulator be checked against the centre: a
backtest compares simulated and recorded figures through the same report
code, and calibration is validated on records generated from a scenario
whose true parameters are known.

A log simulated with ``keep_paths`` gives each record its IVR path in the
router's own shape (``router.ivr_paths.path_json``: steps with the option
*name* chosen, never the digits typed), so calibration reads simulated and
live paths with the same code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson

from router.ami.records import CallRecord
from router.flows.model import FlowSet
from router.flows.walk import PathStep
from simulator.engine import ABANDONED, ANSWERED, IVR_ENDED, TIMED_OUT, CallLog
from simulator.model import IVR_ENDINGS, SimModel

__all__ = ["log_to_records"]

_IVR_OUTCOMES = {"transfer": "transfer", "voicemail": "voicemail"}


def log_to_records(log: CallLog, model: SimModel, tag: str = "sim") -> list[CallRecord]:
    """One record per finished call, timed from the scenario's ``start``."""
    t0 = datetime.fromisoformat(model.start)
    if t0.tzinfo is None:
        raise ValueError("the scenario start needs a UTC offset to become epoch times")
    origin = t0.timestamp()
    queues = [q.name for q in model.queues]
    engine = getattr(model.ivr, "engine", None)
    flows: FlowSet | None = engine.flows if engine is not None else None
    out = []
    for i in range(log.arrive.size):
        rec = _record(log, model, i, origin, queues, tag)
        if rec is not None and flows is not None and log.paths and log.paths[i]:
            rec = replace(rec, path=path_of(flows, log.paths[i], _walk_outcome(log, i)))
        if rec is not None:
            out.append(rec)
    return out


def path_of(flows: FlowSet, visits: Sequence[Any], outcome: str) -> str:
    """The path as the router stores it for a call: steps with choices, then the outcome."""
    steps = [PathStep.of(flows, v.flow, v.node, v.digits, 0.0) for v in visits]
    doc = {
        "flow": steps[0].flow if steps else "",
        "outcome": outcome,
        "steps": [{"node": s.node, "choice": s.choice, "flow": s.flow} for s in steps],
    }
    return orjson.dumps(doc).decode()


def _walk_outcome(log: CallLog, i: int) -> str:
    """The walk's outcome as ``FlowWalk.outcome`` names it (``queue`` when routed)."""
    ending = int(log.ivr_ending[i])
    return IVR_ENDINGS[ending] if ending >= 0 else "queue"


def _record(  # noqa: PLR0917 - the parts of one row
    log: CallLog, model: SimModel, i: int, origin: float, queues: list[str], tag: str
) -> CallRecord | None:
    stream = model.streams[int(log.stream[i])]
    start = origin + float(log.arrive[i])
    outcome = int(log.outcome[i])
    base = CallRecord(f"{tag}.{i}", dnis=stream.dnis, tier=stream.tier, started_at=start)
    if outcome == IVR_ENDED:
        ending = IVR_ENDINGS[int(log.ivr_ending[i])]
        end = start + float(log.ivr_time[i])
        return replace(base, ended_at=end, outcome=_IVR_OUTCOMES.get(ending, "ivr"))
    wait = float(log.wait[i])
    if math.isnan(wait):  # still waiting when the run ended: no record yet
        return None
    joined = origin + float(log.enqueue[i])
    left = joined + wait
    queue = queues[int(log.queue[i])]
    if outcome == ANSWERED:
        end = left + float(log.service[i])
        return replace(base, queue=queue, joined_at=joined, answered_at=left,
                       left_at=left, ended_at=end, outcome="answered")  # fmt: skip
    kind = {ABANDONED: "abandoned", TIMED_OUT: "unanswered"}[outcome]
    abandoned = left if outcome == ABANDONED else 0.0
    return replace(base, queue=queue, joined_at=joined, abandoned_at=abandoned,
                   left_at=left, ended_at=left, outcome=kind)  # fmt: skip
