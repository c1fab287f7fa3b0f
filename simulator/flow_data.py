"""The scenario's ``ivr.data`` section: how each fetch/notify node's backend behaves.

```yaml
ivr:
  data:
    telecom.self_service: {ok: 0.97, latency_s: 0.12, values: {balance: "35.20"}}
    electronics.order_lookup: {ok: 0.9, values: {status: shipped, eta: "2026-12-05"}}
```

Unlisted nodes answer ok 99 % of the time in 0.1 s; a failure costs the
node's whole deadline. Kept apart from :mod:`simulator.ivr` so the caller
model's key presses and the backends' behaviour each have one home.
"""

from __future__ import annotations

from typing import Any

from router.flows.model import Fetch, FlowSet, Notify
from simulator.flow_ivr import DataChoice
from simulator.problems import Collector

__all__ = ["data_choices"]


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
