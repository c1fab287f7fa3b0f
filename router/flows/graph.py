"""Draw a flow as Mermaid or Graphviz DOT, for review before a change goes live."""

from __future__ import annotations

from router.flows import model as m

__all__ = ["to_dot", "to_mermaid"]


def _edges(flow: m.Flow) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for name, node in flow.nodes.items():
        match node:
            case m.Menu():
                out += [(name, t, d) for d, t in node.options.items()]
                out.append((name, node.fallback, "fallback"))
            case m.Branch():
                out += [(name, c.goto, c.when.source) for c in node.cases]
                out.append((name, node.default, "default"))
            case m.Input():
                out += [(name, node.next, "ok"), (name, node.fallback, "fallback")]
            case m.QueueNode():
                out += [
                    (name, t, lbl)
                    for t, lbl in ((node.overflow, "overflow"), (node.closed, "closed"))
                    if t
                ]
            case m.Play() | m.SetVars() | m.SubFlow():
                out.append((name, node.next, ""))
            case m.OfferNode():
                out.append((name, node.next, "none taken"))
            case m.Survey():
                out.append((name, node.next, ""))
            case m.Fetch() | m.Notify() | m.Say():
                out += [
                    (name, t, lbl) for t, lbl in ((node.next, ""), (node.failed, "failed")) if t
                ]
            case m.Transfer() if node.fallback:
                out.append((name, node.fallback, "unreachable"))
    return out


def _label(name: str, node: m.Node) -> str:
    kind = type(node).__name__.lower().replace("node", "").replace("setvars", "set")
    extra = (
        getattr(node, "service", "")
        or getattr(node, "destination", "")
        or (f"customer.{node.field}" if isinstance(node, m.Transfer) else "")
        or getattr(node, "flow", "")
        or getattr(node, "backend", "")
    )
    return f"{name}\\n{kind}" + (f" {extra}" if extra else "")


def to_mermaid(flow: m.Flow) -> str:
    lines = ["flowchart TD"]
    for name, node in flow.nodes.items():
        text = _label(name, node).replace("\\n", "<br/>").replace('"', "'")
        lines.append(f'    {name}["{text}"]')
    for src, dst, label in _edges(flow):
        text = label.replace('"', "'").replace("|", "/")
        lines.append(f'    {src} -->|"{text}"| {dst}' if text else f"    {src} --> {dst}")
    return "\n".join(lines) + "\n"


def to_dot(flow: m.Flow) -> str:
    lines = [f'digraph "{flow.name}" {{', "    node [shape=box];"]
    for name, node in flow.nodes.items():
        shape = "doubleoctagon" if isinstance(node, m.TERMINAL_TYPES) else "box"
        lines.append(f'    "{name}" [label="{_label(name, node)}", shape={shape}];')
    for src, dst, label in _edges(flow):
        text = label.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'    "{src}" -> "{dst}" [label="{text}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
