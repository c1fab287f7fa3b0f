"""Flow variables: which node writes which, and the static check of reads never written.

A flow variable (``vars.NAME`` in expressions, ``{vars.NAME}`` in
templates) holds text a node produced during the call: a ``fetch`` maps
JSON fields into variables, an ``input`` with ``variable:`` keeps what was
typed. A read of a variable no node before it can write is an operator's
typo or a missing step, so it is rejected at load, located where it was
written; at run time such a read would only take the condition's fault
path. "Before" is a may-analysis over the node graph: some path from the
start writes it. A fetch writes its variables only on its ``next`` exit
(its ``failed`` exit means nothing came back); sub-flows share the call's
variables with the flows that call them.

Node kinds from other modules join by giving their compiled node a
``writes`` attribute (a frozenset of names written on every exit but
``failed``/``fallback``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from router.errors import Problem
from router.flows import model as m
from router.flows.expr import closest

__all__ = ["edges", "variable_problems", "writes"]

Successors = Callable[[m.Node], tuple[str, ...]]
_NO_WRITE_EXITS = ("failed", "fallback")  # exits taken when the node produced nothing


def writes(node: m.Node) -> frozenset[str]:
    """The variables ``node`` writes when it succeeds."""
    if isinstance(node, m.Input):
        kept = node.variable and not node.sensitive  # sensitive digits are never kept
        return frozenset({node.variable}) if kept else frozenset()
    found: Iterable[str] = getattr(node, "writes", ())
    return frozenset(found)


def edges(node: m.Node, successors: Successors) -> list[tuple[str, frozenset[str]]]:
    """``(target, variables written on the way)`` for each successor of ``node``."""
    written = writes(node)
    quiet = {getattr(node, name, "") for name in _NO_WRITE_EXITS} - {""}
    return [(t, frozenset() if t in quiet else written) for t in successors(node)]


def _all_writes(flows: Mapping[str, m.Flow], name: str, seen: set[str]) -> frozenset[str]:
    """Everything flow ``name`` and the sub-flows it calls may write."""
    if name in seen or name not in flows:
        return frozenset()
    seen.add(name)
    out: set[str] = set()
    for node in flows[name].nodes.values():
        out |= writes(node)
        if isinstance(node, m.SubFlow):
            out |= _all_writes(flows, node.flow, seen)
    return frozenset(out)


def _known_before(
    flow: m.Flow,
    entry: frozenset[str],
    successors: Successors,
    callee: Mapping[str, frozenset[str]],
) -> dict[str, frozenset[str]]:
    """Per node: the variables some path from the start may have written on arrival."""
    known: dict[str, frozenset[str]] = {flow.start: entry} if flow.start in flow.nodes else {}
    todo = list(known)
    while todo:
        name = todo.pop()
        node, here = flow.nodes[name], known[name]
        extra = callee.get(node.flow, frozenset()) if isinstance(node, m.SubFlow) else frozenset()
        for target, written in edges(node, successors):
            if target not in flow.nodes:
                continue
            have = known.get(target, frozenset())
            grown = have | here | written | extra
            if grown != have or target not in known:
                known[target] = grown
                todo.append(target)
    return known


def _solve(
    flows: Mapping[str, m.Flow], successors: Successors
) -> dict[str, dict[str, frozenset[str]]]:
    """``known[flow][node]``; a sub-flow starts with what any of its callers may have written."""
    callee = {name: _all_writes(flows, name, set()) for name in flows}
    entry: dict[str, frozenset[str]] = dict.fromkeys(flows, frozenset())
    known: dict[str, dict[str, frozenset[str]]] = {}
    for _ in range(len(flows) + 1):  # entries only grow; recursion is rejected elsewhere
        known = {n: _known_before(f, entry[n], successors, callee) for n, f in flows.items()}
        fresh = dict(entry)
        for name, flow in flows.items():
            for node_name, node in flow.nodes.items():
                if isinstance(node, m.SubFlow) and node.flow in fresh:
                    arrive = known[name].get(node_name, frozenset())
                    fresh[node.flow] = fresh[node.flow] | arrive
        if fresh == entry:
            break
        entry = fresh
    return known


def variable_problems(flows: Mapping[str, m.Flow], successors: Successors) -> list[Problem]:
    """Reads of ``vars.X`` that no node before them can write, each where it was written."""
    if not any(flow.reads for flow in flows.values()):
        return []  # most flow sets read no variable: no graph walk at load
    known = _solve(flows, successors)
    every = frozenset().union(*(_all_writes(flows, n, set()) for n in flows))
    out = []
    for name, flow in flows.items():
        for read in flow.reads:
            if read.node in known[name] and read.var in known[name][read.node]:
                continue
            if read.node not in known[name] and read.var in every:
                continue  # an unreachable node: reported as such, not twice
            hint = closest(read.var, every) or "a fetch node's set: (or an input's variable:)"
            message = f"flow variable vars.{read.var} is read before any node writes it"
            out.append(Problem(flow.file, read.line, read.col, message, hint))
    return out
