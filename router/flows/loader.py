"""Loading is compiling: flow YAML -> frozen :class:`FlowSet`, or a FlowError.

Every problem is collected (not just the first) with ``file:line:col``, so
an operator fixes a broken edit in one pass. Nothing half-loaded escapes:
either the whole directory compiles and passes the static checks, or
:class:`router.errors.FlowError` is raised with every problem.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from router.errors import FlowError, Problem
from router.flows.build import FlowBuilder
from router.flows.checks import check_flowset
from router.flows.model import Flow, FlowSet, PromptCatalog
from router.flows.plan import plan_for
from router.flows.section import Section, duplicate_problems, empty, sections
from router.yamlpos import compose

__all__ = ["PROMPTS_FILE", "RESERVED_FILES", "load_catalog", "load_flows", "load_texts"]

PROMPTS_FILE = "prompts.yaml"
RESERVED_FILES = frozenset({PROMPTS_FILE, "routing.yaml"})


def load_flows(directory: Path, known_queues: frozenset[str]) -> FlowSet:
    """Compile every ``*.yaml`` flow in ``directory`` (plus ``prompts.yaml``).

    Raises:
        FlowError: with every problem found, each located in its file.
    """
    texts = {
        str(p): p.read_text(encoding="utf-8")
        for p in sorted(directory.glob("*.yaml"))
        if p.name not in RESERVED_FILES
    }
    catalog_path = directory / PROMPTS_FILE
    catalog_text = catalog_path.read_text(encoding="utf-8") if catalog_path.exists() else None
    return load_texts(texts, known_queues, catalog_text, str(catalog_path))


def load_texts(
    texts: dict[str, str],
    known_queues: frozenset[str],
    catalog_text: str | None = None,
    catalog_file: str = PROMPTS_FILE,
) -> FlowSet:
    """Compile flows given as ``{file name: YAML text}`` (what tests and reloads use)."""
    problems: list[Problem] = []
    catalog = PromptCatalog()
    if catalog_text is not None:
        catalog = load_catalog(catalog_text, catalog_file, problems)
    flows: dict[str, Flow] = {}
    for file, text in texts.items():
        flow = _load_one(file, text, known_queues, catalog, problems)
        if flow is None:
            continue
        if flow.name in flows:
            problems.append(
                Problem(
                    file, 1, 1, f"flow name {flow.name!r} already used in {flows[flow.name].file}"
                )
            )
            continue
        flows[flow.name] = flow
    digest = hashlib.sha256()
    for file in sorted(texts):
        digest.update(texts[file].encode())
    digest.update((catalog_text or "").encode())
    needs = frozenset().union(*(f.needs for f in flows.values()))
    flowset = FlowSet(flows, catalog, digest.hexdigest()[:12], needs)
    problems += check_flowset(flowset, catalog_file)
    if problems:
        raise FlowError(sorted(problems, key=lambda p: (p.file, p.line, p.col)))
    plan_for(flowset)  # compile the engine's walking tables now, not on the first call
    return flowset


def _load_one(
    file: str, text: str, known: frozenset[str], catalog: PromptCatalog, problems: list[Problem]
) -> Flow | None:
    raw = _parse(text, file, problems)
    if raw is None:
        return None
    if not isinstance(raw, Section):
        problems.append(
            Problem(file, 1, 1, "a flow file must be a mapping (flow:, start:, nodes:)")
        )
        return None
    version = hashlib.sha256(text.encode()).hexdigest()[:12]
    return FlowBuilder(file, known, catalog, problems).build(raw, version)


def load_catalog(text: str, file: str, problems: list[Problem]) -> PromptCatalog:
    """``prompts.yaml``: ``languages: [...]``, ``prompts: {name: {lang: text}}``."""
    raw = _parse(text, file, problems)
    if raw is None:
        return PromptCatalog(file=file)
    if not isinstance(raw, Section):
        problems.append(Problem(file, 1, 1, "expected a mapping with languages: and prompts:"))
        return PromptCatalog(file=file)
    languages = tuple(str(x) for x in raw.get("languages") or ())
    prompts: dict[str, frozenset[str]] = {}
    table: Any = raw.get("prompts") or {}
    if not isinstance(table, Section):
        line, col = raw.at("prompts")
        problems.append(Problem(file, line, col, "prompts: must map names to {language: text}"))
        table = empty()
    for name, texts in table.items():
        have = frozenset(texts) if isinstance(texts, dict) else frozenset()
        prompts[name] = have
        for lang in languages:
            if lang not in have:
                line, col = table.key_pos[name]
                problems.append(
                    Problem(file, line, col, f"prompt {name!r} is missing in language {lang!r}")
                )
    prefix = str(raw.get("sound_prefix") or "")
    return PromptCatalog(languages, prompts, prefix, file)


def _parse(text: str, file: str, problems: list[Problem]) -> Any:
    """The shared positioned loader (duplicate keys and alias bombs rejected), as Sections.

    Returns None when nothing usable parsed; its problems are in ``problems``.
    """
    doc = compose(text, file)
    raw = sections(doc)
    problems += duplicate_problems(doc)
    return raw
