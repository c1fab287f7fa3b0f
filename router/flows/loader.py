"""Loading is compiling: flow YAML -> frozen :class:`FlowSet`, or a FlowError.

Each file is parsed with positions, validated against the typed models of
:mod:`router.flows.spec` (the same ones the editors' JSON Schema comes
from), then compiled. Every problem is collected (not just the first) with ``file:line:col``, so
an operator fixes a broken edit in one pass. Nothing half-loaded escapes:
either the whole directory compiles and passes the static checks, or
:class:`router.errors.FlowError` is raised with every problem.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from router.errors import FlowError, Problem
from router.flows.backends import BACKENDS_FILE, BackendSet, parse_backends
from router.flows.build import FlowBuilder
from router.flows.checks import check_flowset
from router.flows.expr import closest
from router.flows.model import Flow, FlowSet, PromptCatalog
from router.flows.offers import OFFERS_FILE, OfferCatalog, check_catalog, parse_catalog
from router.flows.plan import plan_for
from router.flows.section import Section, duplicate_problems, empty, sections
from router.flows.validate import validate_flow
from router.flows.vocabulary import SAY_KEY, say_vocabulary
from router.yamlpos import compose

__all__ = [
    "PROMPTS_FILE",
    "RESERVED_FILES",
    "flow_files",
    "is_editor_file",
    "load_catalog",
    "load_flows",
    "load_texts",
    "read_text",
]

PROMPTS_FILE = "prompts.yaml"
RESERVED_FILES = frozenset(
    {PROMPTS_FILE, "routing.yaml", "wallboard.yaml", BACKENDS_FILE, OFFERS_FILE, "dialer.yaml"}
)  # not flows; dialer.yaml: the dialer's default file (router/dialer/process.py)


def load_flows(directory: Path, known_queues: frozenset[str]) -> FlowSet:
    """Compile every ``*.yaml`` flow in ``directory`` (plus ``prompts.yaml``).

    Editors' lock and backup files (``.#x.yaml``, ``.x.yaml``, ``x.yaml~``)
    are not flows and are skipped; a file that cannot be read (not UTF-8, a
    dangling link) is a located problem like any other, never a traceback.

    Raises:
        FlowError: with every problem found, each located in its file.
    """
    problems: list[Problem] = []
    texts: dict[str, str] = {}
    for path in flow_files(directory):
        text = read_text(path, problems)
        if text is not None:
            texts[str(path)] = text
    catalog_path = directory / PROMPTS_FILE
    catalog_text = _optional(catalog_path, problems)
    backends = _optional(directory / BACKENDS_FILE, problems)
    offers = _optional(directory / OFFERS_FILE, problems)
    return _compile(
        texts, known_queues, catalog_text, str(catalog_path), problems,
        backends_text=backends, offers_text=offers,
    )  # fmt: skip


def _optional(path: Path, problems: list[Problem]) -> str | None:
    """A reserved file's text; None when the folder has none."""
    if path.exists() or path.is_symlink():
        return read_text(path, problems)
    return None


def is_editor_file(name: str) -> bool:
    """Lock, swap and backup files editors leave beside the one being edited."""
    return name.startswith((".", "#")) or name.endswith("~")


def flow_files(directory: Path) -> list[Path]:
    """The folder's flow files, in name order (reserved and editor files left out)."""
    return sorted(
        p
        for p in directory.glob("*.yaml")
        if p.name not in RESERVED_FILES and not is_editor_file(p.name)
    )


def read_text(path: Path, problems: list[Problem]) -> str | None:
    """The file's UTF-8 text, or None with a problem located at the first bad byte."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        why = exc.strerror or str(exc)
        hint = "a link whose target is gone?" if path.is_symlink() else ""
        problems.append(Problem(str(path), 1, 0, f"cannot read the file: {why}", hint))
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        problems.append(
            Problem(
                str(path),
                line,
                col,
                f"not UTF-8 text (byte 0x{data[exc.start]:02x})",
                "save the file as UTF-8",
            )
        )
        return None


def load_texts(
    texts: dict[str, str],
    known_queues: frozenset[str],
    catalog_text: str | None = None,
    catalog_file: str = PROMPTS_FILE,
    backends_text: str | None = None,
    *,
    offers_text: str | None = None,
) -> FlowSet:
    """Compile flows given as ``{file name: YAML text}`` (what tests and reloads use)."""
    return _compile(
        texts, known_queues, catalog_text, catalog_file, [],
        backends_text=backends_text, offers_text=offers_text,
    )  # fmt: skip


def _compile(
    texts: dict[str, str],
    known_queues: frozenset[str],
    catalog_text: str | None,
    catalog_file: str,
    problems: list[Problem],
    *,
    backends_text: str | None = None,
    offers_text: str | None = None,
) -> FlowSet:
    catalog = PromptCatalog()
    if catalog_text is not None:
        catalog = load_catalog(catalog_text, catalog_file, problems)
    backends = _backends(backends_text, catalog_file, problems)
    offers = _offers(offers_text, catalog_file, catalog, known_queues, problems)
    flows: dict[str, Flow] = {}
    for file, text in texts.items():
        flow = _load_one(file, text, known_queues, catalog, problems, backends.names, offers=offers)
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
    digest.update((backends_text or "").encode())
    digest.update((offers_text or "").encode())
    flowset = FlowSet(
        flows, catalog, digest.hexdigest()[:12], needs, offers=offers, backends=backends
    )
    problems += check_flowset(flowset, catalog_file)
    if problems:
        raise FlowError(sorted(problems, key=lambda p: (p.file, p.line, p.col)))
    plan_for(flowset)  # compile the engine's walking tables now, not on the first call
    return flowset


def _backends(text: str | None, catalog_file: str, problems: list[Problem]) -> BackendSet:
    """``backends.yaml`` beside ``prompts.yaml``; none: no backend is known."""
    if text is None:
        return BackendSet()
    file = str(Path(catalog_file).with_name(BACKENDS_FILE))
    return parse_backends(_parse(text, file, problems), file, problems)


def _offers(
    text: str | None,
    catalog_file: str,
    prompts: PromptCatalog,
    known: frozenset[str],
    problems: list[Problem],
) -> OfferCatalog:
    """``offers.yaml`` beside ``prompts.yaml`` (router.flows.offers), prompts and services
    checked."""
    if text is None:
        return OfferCatalog()
    file = str(Path(catalog_file).with_name(OFFERS_FILE))
    found = parse_catalog(_parse(text, file, problems), file, problems)
    problems += check_catalog(found, prompts.prompts if prompts.file else {}, known)
    return found


def _load_one(  # noqa: PLR0917 - what one file compiles against
    file: str,
    text: str,
    known: frozenset[str],
    catalog: PromptCatalog,
    problems: list[Problem],
    backends: frozenset[str],
    *,
    offers: OfferCatalog,
) -> Flow | None:
    raw = _parse(text, file, problems)
    if raw is None:
        return None
    if not isinstance(raw, Section):
        problems.append(
            Problem(file, 1, 1, "a flow file must be a mapping (flow:, start:, nodes:)")
        )
        return None
    flow = validate_flow(file, raw, problems)
    if flow is None:
        return None
    version = hashlib.sha256(text.encode()).hexdigest()[:12]
    builder = FlowBuilder(file, known, catalog, problems)
    builder.backends = backends
    builder.offers = offers
    return builder.build(raw, flow, version)


CATALOG_KEYS = ("languages", "sound_prefix", "prompts", SAY_KEY)  # of prompts.yaml


def load_catalog(text: str, file: str, problems: list[Problem]) -> PromptCatalog:
    """``prompts.yaml``: ``languages: [...]``, ``prompts: {name: {lang: text}}``, ``say:``.

    ``say:`` holds the token prompts values are spoken with, per language
    (see :mod:`router.flows.vocabulary`).
    """
    raw = _parse(text, file, problems)
    if raw is None:
        return PromptCatalog(file=file)
    if not isinstance(raw, Section):
        problems.append(Problem(file, 1, 1, "expected a mapping with languages: and prompts:"))
        return PromptCatalog(file=file)
    languages = tuple(str(x) for x in raw.get("languages") or ())
    prompts: dict[str, frozenset[str]] = {}
    table: Any = raw.get("prompts")
    if table is None:  # absent or written empty: no prompts (``{}`` is an empty Section)
        table = empty()
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
    problems += _unknown_catalog_keys(raw, file)
    say, say_problems = say_vocabulary(raw, file, languages, prompts)
    problems += say_problems
    prefix = str(raw.get("sound_prefix") or "")
    return PromptCatalog(languages, prompts, prefix, file, say)


def _unknown_catalog_keys(raw: Section, file: str) -> list[Problem]:
    out = []
    for key in raw:
        if key not in CATALOG_KEYS:
            line, col = raw.key_pos[key]
            hint = closest(key, CATALOG_KEYS)
            out.append(Problem(file, line, col, f"unknown key {key!r} in prompts.yaml", hint))
    return out


def _parse(text: str, file: str, problems: list[Problem]) -> Any:
    """The shared positioned loader (duplicate keys and alias bombs rejected), as Sections.

    Returns None when nothing usable parsed; its problems are in ``problems``.
    """
    doc = compose(text, file)
    raw = sections(doc)
    problems += duplicate_problems(doc)
    return raw
