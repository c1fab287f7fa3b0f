"""Shared builders for the flow tests: flows from text, calls, customers."""

from __future__ import annotations

import textwrap
from datetime import datetime
from zoneinfo import ZoneInfo

from router.customers.model import Customer, CustomerList, Lifecycle
from router.flows.loader import load_texts
from router.flows.model import FlowSet
from router.types import CallInfo

QUEUES = frozenset({"vip", "red_desk", "billing", "tech", "sales", "retention", "general"})
CATALOG = textwrap.dedent(
    """\
    languages: [zh, en]
    prompts:
      hello: {zh: "你好", en: "hello"}
      menu: {zh: "菜单", en: "menu"}
      again: {zh: "再来", en: "again"}
      bye: {zh: "再见", en: "bye"}
    """
)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def flows(*texts: str, catalog: str | None = CATALOG) -> FlowSet:
    """Load flows given as YAML texts, named f0.yaml, f1.yaml..."""
    files = {f"f{i}.yaml": textwrap.dedent(t) for i, t in enumerate(texts)}
    return load_texts(files, QUEUES, catalog, "prompts.yaml")


def call(dnis: str = "100", at: datetime | None = None, uniqueid: str = "1700000000.1") -> CallInfo:
    when = at or datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # a Monday
    return CallInfo(uniqueid=uniqueid, caller="13800138000", dnis=dnis, at=when)


def customer(
    tier: str = "normal",
    lst: str = "",
    lifecycle: str = "stable",
    offers: tuple[str, ...] = (),
    cid: str = "C1",
) -> Customer:
    return Customer(
        customer_id=cid,
        tier=tier,
        list=CustomerList(lst),
        lifecycle=Lifecycle(lifecycle),
        offers=offers,
    )


def big_flow(chains: int = 260, depth: int = 18) -> str:
    """A ~5,000-node flow (``chains`` x ``depth`` set nodes behind one branch) for load tests."""
    lines = ["flow: big", 'serves: {dnis: ["900"]}', "start: pick", "nodes:"]
    lines += ["  pick:", "    type: branch", "    cases:"]
    for i in range(chains):
        lines += [f'      - when: call.dnis == "{i}"', f"        goto: c{i}_0"]
    lines.append("    default: c0_0")
    for i in range(chains):
        for j in range(depth):
            nxt = f"c{i}_{j + 1}" if j + 1 < depth else f"q{i}"
            lines.append(f"  c{i}_{j}: {{type: set, vars: {{TL_STEP: '{j}'}}, next: {nxt}}}")
        lines.append(f"  q{i}: {{type: queue, service: billing}}")
    return "\n".join(lines) + "\n"
