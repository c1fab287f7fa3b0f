"""Callers' key presses per menu, and callback uptake, from recorded IVR paths (pure).

Paths record the *name* of the option taken at a menu, never the digit
(``router.flows.walk``: a renumbered menu keeps its meaning, and typed
digits never reach the records). The scenario's caller model speaks in
keys, so each name is mapped back to its key through the operator's flow
file, the same file the router ran; the recording side stays as it is.

A path also shows only how each visit of a menu *ended*: an option, a
hang-up, or (after the last retry) a timeout or an invalid key. The caller
model draws one answer per *attempt*, so the shares are inverted through
the retries: with ``A`` attempts and ``q`` the chance an attempt fails
(timeout or invalid key),

* a visit falls back with probability ``q**A`` (split by the last failure),
* it ends on option ``o`` with ``p_o (1 + q + ... + q**(A-1))``,

which gives ``q`` from the fallback share and then every ``p_o`` exactly.

Callback uptake: a menu *offers* a callback when one of its options leads
(through plays and variable settings) to a ``callback`` node; uptake is
the share of its visits that end on such an option.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from router.flows.model import Callback, FlowSet, Menu, Play, SetVars
from router.flows.walk import INVALID, TIMEOUT

__all__ = [
    "IvrCalibration",
    "MenuKeys",
    "Uptake",
    "calibrate_ivr",
    "callers_section",
    "flows_twin",
    "per_attempt",
]

HANGUP_KEY, TIMEOUT_KEY = "hangup", "timeout"  # as the scenario's caller model names them
_SPARE_KEYS = "1234567890*#"
_HOPS = 8  # plays / sets followed from an option to find a callback node


@dataclass(frozen=True, slots=True)
class MenuKeys:
    """One menu: how its recorded visits ended, and the per-attempt key probabilities."""

    where: str  # flow.node, as the scenario's ``ivr.callers`` keys it
    visits: int
    ended: dict[str, int]  # option name / timeout / invalid / hangup -> visits
    keys: dict[str, float]  # key (or timeout / hangup) -> probability per attempt


@dataclass(frozen=True, slots=True)
class Uptake:
    """Callback offers at one menu and how many callers took them."""

    where: str
    offered: int
    accepted: int

    @property
    def share(self) -> float:
        return self.accepted / self.offered if self.offered else 0.0


@dataclass(frozen=True, slots=True)
class IvrCalibration:
    menus: dict[str, MenuKeys]
    uptake: dict[str, Uptake]
    unreadable: int  # paths that name no flow node the flow file knows

    @property
    def callback_uptake(self) -> float | None:
        """All offers together; None when no caller was offered a callback."""
        offered = sum(u.offered for u in self.uptake.values())
        return sum(u.accepted for u in self.uptake.values()) / offered if offered else None


Walk = tuple[str, tuple[tuple[str, str, str], ...]]
"""A recorded walk without its per-call fields: outcome, then (flow, node, choice) per step."""


def _walk(raw: str) -> Walk | None:
    """The walk of one recorded path (JSON as the router stores it), or None if unreadable.

    A live path also holds the call's id and timings, so no two are equal as
    text; reduced to its steps, a million calls are a few hundred walks.
    """
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    steps = doc.get("steps") if isinstance(doc, dict) else None
    if not isinstance(steps, list):
        return None
    flow = str(doc.get("flow") or "")
    try:
        return str(doc.get("outcome") or ""), tuple(
            (str(s.get("flow") or flow), str(s["node"]), str(s.get("choice") or "")) for s in steps
        )
    except (AttributeError, KeyError, TypeError):  # a step that is not {node, choice, flow}
        return None


def _ending(choice: str, last: bool, outcome: str, menu: Menu) -> str | None:
    """How one menu visit ended, in the caller model's words; None when the path cannot tell."""
    if last and outcome == "caller_hangup":
        return HANGUP_KEY  # whatever an earlier attempt noted, the caller left here
    if choice == TIMEOUT:
        return TIMEOUT_KEY
    if choice == INVALID:
        return INVALID
    return choice if choice in menu.options.values() else None


def _count(paths: Iterable[str], flows: FlowSet) -> tuple[dict[str, Counter[str]], int]:
    """Endings per menu, each distinct walk classified once and counted as often as seen."""
    walks: Counter[Walk] = Counter()
    unreadable = 0
    for raw in paths:
        if not raw:
            continue
        walk = _walk(raw)
        if walk is None:
            unreadable += 1
        else:
            walks[walk] += 1
    counts: dict[str, Counter[str]] = {}
    for (outcome, steps), seen in walks.items():
        for i, (flow, name, choice) in enumerate(steps):
            node = flows.flows[flow].nodes.get(name) if flow in flows.flows else None
            if not isinstance(node, Menu):
                continue
            ended = _ending(choice, i == len(steps) - 1, outcome, node)
            if ended is not None:
                counts.setdefault(f"{flow}.{name}", Counter())[ended] += seen
    return counts, unreadable


def per_attempt(ended: Mapping[str, int], attempts: int) -> dict[str, float]:
    """Per-attempt probabilities of each ending from how visits ended (see the module doc)."""
    total = sum(ended.values())
    failed = ended.get(TIMEOUT_KEY, 0) + ended.get(INVALID, 0)
    q = (failed / total) ** (1 / attempts) if total else 0.0
    tries = float(attempts) if q >= 1.0 else (1 - q**attempts) / (1 - q)
    out = {}
    for name, n in ended.items():
        if name in (TIMEOUT_KEY, INVALID):
            share = q * n / failed if failed else 0.0
        else:
            share = n / total / tries
        out[name] = share
    return out


def _key_of(menu: Menu) -> dict[str, str]:
    """Option name -> the first key leading to it; invalid -> a key the menu does not use."""
    keys: dict[str, str] = {}
    for key, target in menu.options.items():
        keys.setdefault(target, key)
    spare = next((k for k in _SPARE_KEYS if k not in menu.options), None)
    if spare is not None:
        keys[INVALID] = spare
    return {**keys, HANGUP_KEY: HANGUP_KEY, TIMEOUT_KEY: TIMEOUT_KEY}


def _leads_to_callback(flows: FlowSet, flow: str, target: str) -> bool:
    nodes = flows.flows[flow].nodes
    for _ in range(_HOPS):
        node = nodes.get(target)
        if isinstance(node, Callback):
            return True
        if not isinstance(node, Play | SetVars):
            return False
        target = node.next
    return False


def calibrate_ivr(paths: Iterable[str], flows: FlowSet) -> IvrCalibration:
    """Key probabilities per menu node and callback uptake from recorded paths."""
    counts, unreadable = _count(paths, flows)
    menus, uptake = {}, {}
    for where, ended in sorted(counts.items()):
        flow, _, name = where.partition(".")
        menu: Menu = flows.flows[flow].nodes[name]  # type: ignore[assignment]
        key = _key_of(menu)
        probs = per_attempt(ended, menu.retries + 1)
        keys: dict[str, float] = {}
        for ending, k in key.items():  # the menu's own order: options, invalid, hang-up, timeout
            if ending in probs:
                keys[k] = round(probs[ending], 4)
        menus[where] = MenuKeys(where, sum(ended.values()), dict(ended), keys)
        offers = {t for t in menu.options.values() if _leads_to_callback(flows, flow, t)}
        if offers:
            took = sum(n for ending, n in ended.items() if ending in offers)
            uptake[where] = Uptake(where, sum(ended.values()), took)
    return IvrCalibration(menus, uptake, unreadable)


def callers_section(cal: IvrCalibration) -> dict[str, Any]:
    """The scenario's ``ivr.callers``: keys per ``flow.node`` with their probabilities."""
    return {where: {"keys": m.keys} for where, m in cal.menus.items() if m.keys}


def flows_twin(
    doc: Mapping[str, Any],
    cal: IvrCalibration,
    flows_dir: str,
    routing: str | None,
    lanes: Iterable[str] = (),
) -> dict[str, Any]:
    """The calibrated scenario walking the operator's flows with the calibrated callers.

    Replaces the per-number menus (observed queue shares) with the flows
    themselves, so menus, hours, overflows and callback offers act as they
    do live; lanes the routing can use but the records never saw are added
    unstaffed (``tierline plan`` staffs them if calls reach them).
    """
    out = dict(doc)
    out["ivr"] = {"flows": flows_dir, "callers": callers_section(cal)}
    if routing is not None:
        out["routing"] = {"factory": "router.policy:load_policy", "options": {"path": routing}}
    queues = dict(out.get("queues", {}))
    means = sorted(q["handle"].get("mean", 180.0) for q in queues.values()) or [180.0]
    for lane in sorted(set(lanes) - set(queues)):
        queues[lane] = {"handle": {"dist": "exponential", "mean": means[len(means) // 2]},
                        "agents": [0] * int(out.get("intervals", 48))}  # fmt: skip
    out["queues"] = queues
    tiers = dict(out.get("tiers", {}))
    for arrival in out.get("arrivals", []):  # callers who never queued have no patience data
        for tier in set(arrival.get("mix", {})) - set(tiers):
            who = "unknown" if tier == "unknown" else {"tier": tier}
            tiers[tier] = {"patience": "never", "customer": who}
    out["tiers"] = tiers
    return out
