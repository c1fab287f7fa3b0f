"""Validate a parsed flow file with the typed models; each error becomes a located problem.

pydantic reports where an error is as a ``loc`` path (with the node type
as an extra step for the discriminated union); the positioned YAML view
answers where that path was written. Messages say what an operator needs
to fix: the key, the node, what was expected and what YAML made of the
text (``'no'`` in quotes is text, ``010086`` unquoted is a number), with
the nearest right name suggested.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from router.errors import Problem
from router.flows import spec
from router.flows.expr import closest
from router.flows.section import Items, Pos, Section

__all__ = ["DEAD_END", "validate_flow"]

DEAD_END = "path ends here without queue, transfer, callback, voicemail or hangup"
_REFS = frozenset({"next", "fallback", "default", "goto"})
_MAPPING = "a mapping (key: value)"
_EXPECTED = {
    "model_type": _MAPPING,
    "model_attributes_type": _MAPPING,
    "dict_type": _MAPPING,
    "tuple_type": "a list [a, b]",
    "list_type": "a list [a, b]",
    "bool_type": "true or false",
    "string_type": "text",
}


def validate_flow(file: str, raw: Section, problems: list[Problem]) -> spec.FlowFile | None:
    """The file as a :class:`~router.flows.spec.FlowFile`, or None with its problems added."""
    try:
        return spec.FlowFile.model_validate(raw)
    except ValidationError as exc:
        seen: set[tuple[int, int, str]] = set()
        for err in exc.errors(include_url=False):
            problem = _problem(file, raw, err)
            if (problem.line, problem.col, problem.message) not in seen:
                seen.add((problem.line, problem.col, problem.message))
                problems.append(problem)
        return None


def _problem(file: str, raw: Section, err: Any) -> Problem:
    loc: tuple[str | int, ...] = tuple(err["loc"])
    path, value_pos, key_pos, found = _locate(raw, loc)
    kind = err["type"]
    if kind.startswith("union_tag") and found:
        value_pos = _type_pos(raw, path, value_pos)
    owner, what, model = _owner(raw, path)
    rel = path[len(owner) :] if found else (*path[len(owner) :], loc[-1])
    field = str(rel[0]) if rel else ""
    label = ".".join(str(p) for p in rel)
    if kind == "extra_forbidden":
        allowed = model.model_fields if model else {}
        where = f" in {what}" if what else ""
        return Problem(file, *key_pos, f"unknown key {field!r}{where}", closest(field, allowed))
    message, hint = _describe(kind, err, label, field)
    pos = key_pos if loc[-1] == "[key]" else value_pos
    prefix = f"{what}: " if what else ""
    return Problem(file, *pos, prefix + message, hint)


def _describe(kind: str, err: Any, label: str, field: str) -> tuple[str, str]:
    value, ctx = err.get("input"), err.get("ctx") or {}
    if kind == "missing":
        if field in _REFS:
            return DEAD_END, f"add {field}: <node>"
        return f"missing required key {field!r}", ""
    if kind.startswith("union_tag"):
        tag = str(ctx.get("tag", ""))
        if kind == "union_tag_invalid":
            return f"unknown type {tag!r}", closest(tag, spec.NODE_MODELS)
        return "missing required key 'type'", "one of " + ", ".join(spec.NODE_MODELS)
    expected = _EXPECTED.get(kind) or ("a date (YYYY-MM-DD)" if kind.startswith("date") else "")
    if expected:
        head = f"{label}: " if label else ""
        return f"{head}expected {expected}, got {_shown(value)}", _hint(kind, value)
    text = str(err["msg"]).removeprefix("Value error, ")
    return (f"{label}: {text[:1].lower()}{text[1:]}" if label else text), ""


def _hint(kind: str, value: Any) -> str:
    if kind == "bool_type" and isinstance(value, str):
        return "write true or false, without quotes"
    if kind == "string_type" and _scalar(value):
        return f"quote it: '{value}'"
    return ""


def _shown(value: Any) -> str:
    """What YAML made of the operator's text, in their words."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (YAML reads yes/no/on/off unquoted as true/false)"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{value!r}"


def _scalar(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float)


def _locate(raw: Section, loc: Sequence[str | int]) -> tuple[tuple[str | int, ...], Pos, Pos, bool]:
    """(data path, value position, key position, whether the whole loc was written).

    Steps the data does not have are the union's tags (skipped) or, at the
    end, a missing key (the position stays on its mapping).
    """
    here: Any = raw
    path: list[str | int] = []
    value_pos = key_pos = raw.pos
    for i, step in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(here, Section) and str(step) in here:
            key = str(step)
            value_pos, key_pos = here.at(key), here.key_pos[key]
            path.append(key)
            here = here[key]
        elif isinstance(here, Items) and isinstance(step, int) and step < len(here):
            value_pos = key_pos = here.item_pos[step]
            path.append(step)
            here = here[step]
        elif isinstance(here, Section) and last and step != "[key]":
            return tuple(path), value_pos, key_pos, False  # a missing key
        # else: a union's tag, or the key half of a dict entry: not in the data
    return tuple(path), value_pos, key_pos, True


def _type_pos(raw: Section, path: Sequence[str | int], default: Pos) -> Pos:
    """Where a node's ``type:`` value was written (a bad type is reported there)."""
    match tuple(path):
        case ("nodes", str(name)) if isinstance(raw["nodes"][name], Section):
            node: Section = raw["nodes"][name]
            return node.at("type") if "type" in node else default
    return default


def _owner(
    raw: Section, path: Sequence[str | int]
) -> tuple[tuple[str | int, ...], str, type[BaseModel] | None]:
    """The innermost mapping on ``path`` that is a model: (its path, its name, its model)."""
    best: tuple[tuple[str | int, ...], str, type[BaseModel] | None] = ((), "", spec.FlowFile)
    match tuple(path):
        case ("serves", *_):
            best = (("serves",), "serves", spec.Serves)
        case ("hours", str(name), *_):
            best = (("hours", name), f"hours {name!r}", spec.Hours)
        case ("nodes", str(name), *rest):
            node = raw["nodes"][name]
            kind = node.get("type") if isinstance(node, Section) else None
            model = spec.NODE_MODELS.get(kind) if isinstance(kind, str) else None
            best = (("nodes", name), f"{kind} node {name!r}" if model else f"node {name!r}", model)
            match rest:
                case ["cases", int(i), *_]:
                    best = ((*best[0], "cases", i), f"case {i + 1} of node {name!r}", spec.Case)
                case ["vars", str(var), *_] if isinstance(node["vars"][var], Section):
                    best = (
                        (*best[0], "vars", var),
                        f"vars {var!r} of node {name!r}",
                        spec.ExprValue,
                    )
    return best
