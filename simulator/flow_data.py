"""The scenario's ``ivr.data`` section: how each fetch/notify node's backend behaves.

```yaml
ivr:
  data:
    telecom.self_service: {ok: 0.97, latency_s: 0.12, values: {balance: "35.20"}}
    electronics.order_lookup: {ok: 0.9, values: {status: shipped, eta: "2026-12-05"}}
```

Unlisted nodes answer ok 99 % of the time in 0.1 s; a failure costs the
node's whole deadline. Kept apart from :mod:`simulator.ivr` so the caller
model's key presses and the backends' behaviour each have one home. The
behaviour is a distribution (:class:`simulator.answers.Answers`), never a
draw: :meth:`simulator.flow_ivr.CallerModel.answers` hands it to the
sampled walk and to the exact split alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from router.flows import actions as a
from router.flows.model import Fetch, FlowSet, Notify
from simulator.answers import Answers
from simulator.problems import Collector

__all__ = ["DataChoice", "data_choices"]


@dataclass(frozen=True, slots=True)
class DataChoice:
    """How a fetch or notify node's backend behaves: success chance, latency, values.

    A failure is modelled as the node's deadline running out (the caller
    waits it in silence, the worst case); a fetch's variables hold
    ``values`` (others "0").
    """

    ok: float = 0.99
    latency_s: float = 0.1
    values: Mapping[str, str] = field(default_factory=dict)

    def answers(self, action: a.Fetch | a.Notify) -> Answers:
        """The backend's answer to ``action``: ok after its latency, else failed at the deadline."""
        deadline = action.timeout_ms / 1000
        done: a.Event
        failed: a.Event
        if isinstance(action, a.Notify):
            done, failed = a.Notified("ok"), a.Notified("timeout")
        else:
            done = a.Fetched("ok", {v: self.values.get(v, "0") for v in action.fields})
            failed = a.Fetched("timeout")
        wait = min(self.latency_s, deadline)
        return Answers.of(((self.ok, wait, done), (1.0 - self.ok, deadline, failed)))


def data_choices(ctx: Collector, raw: Any, flows: FlowSet) -> dict[str, DataChoice]:
    """``flow.node`` -> behaviour; problems located at the scenario's keys."""
    out: dict[str, DataChoice] = {}
    if raw is None:
        return out
    if not isinstance(raw, dict):
        ctx.bad(("ivr", "data"), "must map flow.node to {ok, latency_s, values}")
        return out
    for where, spec in raw.items():
        path = ("ivr", "data", str(where))
        flow, _, name = str(where).partition(".")
        node = flows.flows[flow].nodes.get(name) if flow in flows.flows else None
        if not isinstance(node, Fetch | Notify):
            ctx.bad(path, "no fetch or notify node of that name", "write it as flow.node")
            continue
        given = spec if isinstance(spec, dict) else {}
        values = given.get("values") or {}
        if not isinstance(values, dict):
            ctx.bad((*path, "values"), "must map variables to text")
            values = {}
        out[str(where)] = DataChoice(
            ctx.num(given, "ok", path, 0.99, hi=1.0),
            ctx.num(given, "latency_s", path, 0.1, hi=60.0),
            {str(k): str(v) for k, v in values.items()},
        )
    return out
