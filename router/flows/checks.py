"""Whole-flow static checks that need the complete node graph.

Per-field problems (unknown references, bad expressions, dead ends from a
missing ``next``) are found while building; here we look at the graph:
unreachable nodes, loops a caller can never leave, sub-flow references,
``return`` outside a sub-flow, a dialled number served twice, and (in
:mod:`router.flows.bounds`) sub-flow recursion, loops that take no key
press and paths longer than the engine's step guard.
"""

from __future__ import annotations

from router.errors import Problem
from router.flows import model as m
from router.flows.bounds import (
    components,
    guard_problems,
    recursion_problems,
    silent_loop_problems,
    takes_input,
)
from router.flows.expr import closest
from router.flows.resume import NAME_RE, resumable
from router.flows.variables import variable_problems

__all__ = ["after_call_surveys", "check_flowset", "successors"]


def successors(node: m.Node) -> tuple[str, ...]:
    """Nodes a caller can reach next from ``node`` (within its flow)."""
    match node:
        case m.Play() | m.SetVars() | m.SubFlow() | m.OfferNode() | m.Survey():
            out: tuple[str, ...] = (node.next,)
        case m.Menu():
            out = (*node.options.values(), node.fallback)
        case m.Input():
            out = (node.next, node.fallback)
        case m.Branch():
            out = (*(c.goto for c in node.cases), node.default)
        case m.QueueNode():
            out = (node.overflow, node.closed)
        case m.Fetch() | m.Notify() | m.Say():
            out = (node.next, node.failed)
        case m.Transfer():
            out = (node.fallback,)
        case _:
            out = ()
    return tuple(dict.fromkeys(t for t in out if t))


def _exits(node: m.Node) -> bool:
    return isinstance(node, (*m.TERMINAL_TYPES, m.Return))


def check_flowset(flowset: m.FlowSet, catalog_file: str = "") -> list[Problem]:
    problems: list[Problem] = []
    served: dict[str, str] = {}
    recursion = recursion_problems(flowset.flows)
    keyed = takes_input(flowset.flows)
    for flow in flowset.flows.values():
        problems += _unreachable(flow)
        problems += _closed_loops(flow)
        problems += silent_loop_problems(flow, successors, keyed)
        problems += _flow_refs(flow, flowset)
        problems += _resumable(flow)
        problems += _post_call(flow)
        for dnis in map(m.dialled_key, flow.dnis):  # 4008202020 and +86 400 820 2020 are one
            if dnis in served:
                line, col = flow.positions.get("@dnis", (1, 1))
                problems.append(
                    Problem(
                        flow.file,
                        line,
                        col,
                        f"DNIS {dnis} is already served by flow {served[dnis]!r}",
                    )
                )
            served[dnis] = flow.name
    if recursion:
        return problems + recursion
    problems += variable_problems(flowset.flows, successors)
    return problems + guard_problems(flowset.flows, successors)


def _reachable(flow: m.Flow) -> set[str]:
    seen: set[str] = set()
    todo = [flow.start, *after_call_surveys(flow)]  # those also start after the agent hangs up
    while todo:
        name = todo.pop()
        if name in seen or name not in flow.nodes:
            continue
        seen.add(name)
        todo.extend(successors(flow.nodes[name]))
    return seen


def _unreachable(flow: m.Flow) -> list[Problem]:
    if flow.start not in flow.nodes:
        return []  # already reported as an unknown start node
    seen = _reachable(flow)
    out = []
    for name in flow.nodes:
        if name not in seen:
            line, col = flow.pos(name)
            out.append(
                Problem(
                    flow.file,
                    line,
                    col,
                    f"node {name!r} is unreachable from start {flow.start!r}",
                    "remove it or link it from another node",
                )
            )
    return out


def _closed_loops(flow: m.Flow) -> list[Problem]:
    """Strongly connected sets of nodes with no terminal node and no edge out."""
    out = []
    succ = lambda name: _succ(flow, name)  # noqa: E731 - a one-line successor function
    for found in components(flow.nodes, succ):
        component = sorted(found, key=flow.pos)
        names = set(component)
        first = component[0]
        node = flow.nodes[first]
        looping = len(component) > 1 or first in successors(node)
        if not looping:
            continue
        leaves = any(
            _exits(flow.nodes[n]) or any(s not in names for s in successors(flow.nodes[n]))
            for n in component
        )
        if not leaves:
            line, col = flow.pos(min(component, key=flow.pos))
            out.append(
                Problem(
                    flow.file,
                    line,
                    col,
                    f"loop with no exit: {' -> '.join(sorted(component))}",
                    "give one of these nodes a path to a queue, transfer or hangup",
                )
            )
    return out


def _succ(flow: m.Flow, name: str) -> tuple[str, ...]:
    return tuple(s for s in successors(flow.nodes[name]) if s in flow.nodes)


def _flow_refs(flow: m.Flow, flowset: m.FlowSet) -> list[Problem]:
    out = []
    for name, node in flow.nodes.items():
        if isinstance(node, m.SubFlow):
            line, col = flow.pos(f"{name}.flow")
            target = flowset.flows.get(node.flow)
            if target is None:
                out.append(
                    Problem(
                        flow.file,
                        line,
                        col,
                        f"unknown flow {node.flow!r}",
                        closest(node.flow, flowset.flows),
                    )
                )
            elif not target.subflow:
                out.append(
                    Problem(
                        flow.file,
                        line,
                        col,
                        f"flow {node.flow!r} is not a sub-flow (add subflow: true to it)",
                    )
                )
        elif isinstance(node, m.Return) and not flow.subflow:
            line, col = flow.pos(name)
            out.append(
                Problem(
                    flow.file,
                    line,
                    col,
                    "return outside a sub-flow",
                    "use hangup, or mark this flow subflow: true",
                )
            )
    return out


def _resumable(flow: m.Flow) -> list[Problem]:
    """A queue node with an overflow must have a name the dialplan can carry back.

    After ``Queue()`` gives up, the dialplan hands ``<flow>.<node>`` back to
    the router through a filter that keeps letters, digits, ``-`` and ``_``.
    """
    problems = []
    for node in flow.nodes.values():
        if not resumable(node):
            continue
        if not (NAME_RE.fullmatch(flow.name) and NAME_RE.fullmatch(node.name)):
            line, col = flow.pos(node.name)
            kind, exit_ = (
                ("queue", "an overflow")
                if isinstance(node, m.QueueNode)
                else (
                    "transfer",
                    "a fallback",
                )
            )
            problems.append(
                Problem(
                    flow.file,
                    line,
                    col,
                    f"{kind} node {node.name!r} has {exit_}, so its name and the flow's "
                    "name may only hold letters, digits, - and _ (at most 64)",
                )
            )
    return problems


def after_call_surveys(flow: m.Flow) -> list[str]:
    """The flow's survey nodes that run after the agent hangs up (at most one is allowed)."""
    return [n for n, node in flow.nodes.items() if isinstance(node, m.Survey) and node.after_call]


def _post_call(flow: m.Flow) -> list[Problem]:
    """One post-call survey per flow, named so the dialplan can carry it back."""
    found = after_call_surveys(flow)
    out = []
    for name in found[1:]:
        line, col = flow.pos(name)
        out.append(
            Problem(flow.file, line, col, f"a second after_call survey ({found[0]!r} is one)")
        )
    if found and not (NAME_RE.fullmatch(flow.name) and NAME_RE.fullmatch(found[0])):
        line, col = flow.pos(found[0])
        message = "an after_call survey's name and its flow's may only hold A-Z a-z 0-9 - _"
        out.append(Problem(flow.file, line, col, message))
    return out
