"""What can be proved at load about how long a call walks: recursion, silent loops, the step guard.

The engine stops a call after :data:`~router.flows.engine.MAX_STEPS` node
visits (it hangs up with ``loop_guard``). Nothing a call can read changes
between two key presses (the customer, the time, the queue snapshot and the
``percent()`` bucket are fixed per call, and a queue node's decision is
memoised), so a loop of nodes that take no key press, once gone round, is
gone round again and again until the guard. Such loops, sub-flows that call
themselves, and flows whose shortest way to an end is longer than the guard
are rejected here, each at the node where it starts.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping

from router.errors import Problem
from router.flows import model as m
from router.flows.engine import MAX_STEPS

__all__ = ["INF", "components", "guard_problems", "recursion_problems", "silent_loop_problems"]

INF = 1 << 30
Successors = Callable[[str], Iterable[str]]


def components(names: Iterable[str], succ: Successors) -> list[list[str]]:
    """Tarjan's strongly connected components, iterative (flows can be long)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    for root in names:
        if root in index:
            continue
        work = [(root, iter(succ(root)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            name, it = work[-1]
            child = next(it, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[name])
                if low[name] == index[name]:
                    result.append(_pop_component(stack, on_stack, name))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(succ(child))))
            elif child in on_stack:
                low[name] = min(low[name], index[child])
    return result


def _pop_component(stack: list[str], on_stack: set[str], name: str) -> list[str]:
    comp = []
    while True:
        top = stack.pop()
        on_stack.discard(top)
        comp.append(top)
        if top == name:
            return comp


def _cyclic(comp: list[str], succ: Successors) -> bool:
    return len(comp) > 1 or comp[0] in succ(comp[0])


# ---- sub-flow recursion ---------------------------------------------------
def _callees(flows: Mapping[str, m.Flow], name: str) -> tuple[str, ...]:
    nodes = flows[name].nodes.values()
    found = (n.flow for n in nodes if isinstance(n, m.SubFlow) and n.flow in flows)
    return tuple(dict.fromkeys(found))


def recursion_problems(flows: Mapping[str, m.Flow]) -> list[Problem]:
    """Sub-flows that call themselves, directly or through others, at the calling node."""
    out = []
    succ = lambda name: _callees(flows, name)  # noqa: E731 - a one-line successor function
    for comp in components(sorted(flows), succ):
        if not _cyclic(comp, succ):
            continue
        members = set(comp)
        first = flows[min(comp)]
        node = next(
            n for n in first.nodes.values() if isinstance(n, m.SubFlow) and n.flow in members
        )
        line, col = first.pos(f"{node.name}.flow")
        out.append(
            Problem(
                first.file,
                line,
                col,
                f"sub-flow recursion: {' -> '.join([*sorted(comp), min(comp)])}",
                "a sub-flow may not call itself, directly or through other sub-flows",
            )
        )
    return out


# ---- loops that take no key press -----------------------------------------
def takes_input(flows: Mapping[str, m.Flow]) -> frozenset[str]:
    """Flows in which a caller may press a key (a menu or input, here or in a sub-flow)."""
    found = {
        name
        for name, flow in flows.items()
        if any(isinstance(n, m.Menu | m.Input | m.Survey) for n in flow.nodes.values())
    }
    grew = True
    while grew:
        grew = False
        for name in flows:
            if name not in found and any(c in found for c in _callees(flows, name)):
                found.add(name)
                grew = True
    return frozenset(found)


def silent_loop_problems(
    flow: m.Flow, successors: Callable[[m.Node], tuple[str, ...]], keyed: frozenset[str]
) -> list[Problem]:
    """Loops through nodes none of which takes a key press (see the module docstring)."""

    def silent(node: m.Node) -> bool:
        if isinstance(node, m.Menu | m.Input | m.Survey):
            return False
        return not (isinstance(node, m.SubFlow) and node.flow in keyed)

    quiet = {name for name, node in flow.nodes.items() if silent(node)}

    def succ(name: str) -> tuple[str, ...]:
        return tuple(s for s in successors(flow.nodes[name]) if s in quiet)

    out = []
    for comp in components(sorted(quiet, key=flow.pos), succ):
        if not _cyclic(comp, succ) or _closed(flow, comp, successors):
            continue  # a loop with no way out at all is reported as such by the checks
        first = min(comp, key=flow.pos)
        line, col = flow.pos(first)
        out.append(
            Problem(
                flow.file,
                line,
                col,
                f"loop that waits for no key press: {' -> '.join(sorted(comp))}; a call that "
                f"goes round it once goes round until the {MAX_STEPS}-step guard hangs up",
                "put a menu or input in the loop, or leave it to a queue, transfer or hangup",
            )
        )
    return out


def _closed(flow: m.Flow, comp: list[str], successors: Callable[[m.Node], tuple[str, ...]]) -> bool:
    members = set(comp)
    return not any(
        isinstance(flow.nodes[n], (*m.TERMINAL_TYPES, m.Return))
        or any(s not in members for s in successors(flow.nodes[n]))
        for n in comp
    )


# ---- the step guard -------------------------------------------------------
Costs = dict[str, tuple[int, int]]  # flow -> (fewest visits to end the call, to return)


def guard_problems(
    flows: Mapping[str, m.Flow], successors: Callable[[m.Node], tuple[str, ...]]
) -> list[Problem]:
    """Nodes past which every call visits more nodes than the engine allows.

    Callees are costed before callers; call only once recursion is ruled out.
    """
    costs: Costs = {}
    out: list[Problem] = []
    for name in _callee_order(flows):
        flow = flows[name]
        ends, back = (
            _to_exit(flow, successors, costs, returning=False),
            _to_exit(flow, successors, costs, returning=True),
        )
        costs[name] = (ends.get(flow.start, INF), back.get(flow.start, INF))
        out += _too_long(flow, successors, costs, ends, back)
    return out


def _callee_order(flows: Mapping[str, m.Flow]) -> list[str]:
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for callee in _callees(flows, name):
            visit(callee)
        order.append(name)

    for name in sorted(flows):
        visit(name)
    return order


def _weight(node: m.Node, costs: Costs) -> int:
    """Visits from entering ``node`` to entering its successor (a sub-flow's way back)."""
    if isinstance(node, m.SubFlow):
        return 1 + costs.get(node.flow, (INF, INF))[1]
    return 1


def _base(node: m.Node, costs: Costs, returning: bool) -> int:
    """Visits to finish from ``node`` without following its successors."""
    if isinstance(node, m.Return):
        return 1 if returning else INF
    if returning:
        return INF
    if isinstance(node, m.SubFlow):
        return 1 + costs.get(node.flow, (INF, INF))[0]
    return 1 if isinstance(node, m.TERMINAL_TYPES) else INF


def _to_exit(
    flow: m.Flow, successors: Callable[[m.Node], tuple[str, ...]], costs: Costs, *, returning: bool
) -> dict[str, int]:
    """Fewest node visits from each node to the call's end (or to a return), Dijkstra backwards."""
    preds: dict[str, list[str]] = {name: [] for name in flow.nodes}
    for name, node in flow.nodes.items():
        for target in successors(node):
            if target in preds:
                preds[target].append(name)
    dist = {name: _base(node, costs, returning) for name, node in flow.nodes.items()}
    heap = [(d, name) for name, d in dist.items() if d < INF]
    heapq.heapify(heap)
    while heap:
        d, name = heapq.heappop(heap)
        if d > dist[name]:
            continue
        for pred in preds[name]:
            via = min(INF, _weight(flow.nodes[pred], costs) + d)
            if via < dist[pred]:
                dist[pred] = via
                heapq.heappush(heap, (via, pred))
    return dist


def _from_start(
    flow: m.Flow, successors: Callable[[m.Node], tuple[str, ...]], costs: Costs
) -> dict[str, int]:
    """Fewest node visits before entering each node, from the flow's start."""
    dist = {flow.start: 0}
    heap = [(0, flow.start)]
    while heap:
        d, name = heapq.heappop(heap)
        if d > dist.get(name, INF) or name not in flow.nodes:
            continue
        node = flow.nodes[name]
        for target in successors(node):
            via = d + _weight(node, costs)
            if target in flow.nodes and via < dist.get(target, INF):
                dist[target] = via
                heapq.heappush(heap, (via, target))
    return dist


def _too_long(
    flow: m.Flow,
    successors: Callable[[m.Node], tuple[str, ...]],
    costs: Costs,
    ends: dict[str, int],
    back: dict[str, int],
) -> list[Problem]:
    if flow.start not in flow.nodes:
        return []
    before = _from_start(flow, successors, costs)
    worst: tuple[int, str, int] | None = None
    for name, d in before.items():
        rest = min(ends[name], back[name]) if flow.subflow else ends[name]
        if rest < INF and d + rest > MAX_STEPS and (worst is None or d < worst[0]):
            worst = (d, name, d + rest)
    if worst is None:
        return []
    _d, name, total = worst
    line, col = flow.pos(name)
    return [
        Problem(
            flow.file,
            line,
            col,
            f"every call through node {name!r} visits at least {total} nodes; "
            f"the engine stops a call after {MAX_STEPS}",
            "shorten the path: the guard counts every node visited, sub-flows included",
        )
    ]
