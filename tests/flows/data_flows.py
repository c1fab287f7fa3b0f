"""A flow using every data step (fetch, say, notify), shared by the engine and wire tests."""

from __future__ import annotations

import textwrap

from router.flows.loader import load_texts
from router.flows.model import FlowSet
from tests.flows.helpers import QUEUES

CATALOG = textwrap.dedent(
    """\
    languages: [zh, en]
    prompts:
      hello: {zh: "你好", en: "hello"}
      balance_is: {zh: "您的余额是", en: "Your balance is"}
      sent: {zh: "短信已发送", en: "A text message is on its way"}
      sorry: {zh: "暂时无法查询", en: "We cannot look that up now"}
      bye: {zh: "再见", en: "bye"}
    """
)
BACKENDS = textwrap.dedent(
    """\
    call_budget_ms: 1000
    backends:
      crm: {base_url: "http://127.0.0.1:9"}
      sms: {base_url: "http://127.0.0.1:9/gw"}
    """
)
SELF_SERVICE = textwrap.dedent(
    """\
    flow: main
    serves: {dnis: ["100"]}
    start: balance
    nodes:
      balance:
        type: fetch
        backend: crm
        path: "/customers/{customer.id}/balance"
        set: {balance: $.balance, status: topup.status}
        timeout_ms: 200
        next: check
        failed: sorry
      check:
        type: branch
        cases:
          - when: vars.status == "blocked"
            goto: general
        default: say_it
      say_it:
        type: say
        items:
          - prompt: balance_is
          - money: vars.balance
        next: sms
        failed: sorry
      sms:
        type: notify
        backend: sms
        path: /send
        text: "Balance {vars.balance} CNY"
        next: sent
        failed: bye
      sent: {type: hangup, prompt: sent, reason: self_service}
      bye: {type: hangup, prompt: bye}
      sorry: {type: queue, service: general, prompt: sorry}
      general: {type: queue, service: general}
    """
)
QUICK = textwrap.dedent(
    """\
    flow: quick
    serves: {dnis: ["200"]}
    start: q
    nodes:
      q: {type: queue, service: general}
    """
)


def data_flows(text: str = SELF_SERVICE, backends: str | None = BACKENDS) -> FlowSet:
    """The self-service flow (and a flow-only one) with its prompts and backends."""
    files = {"main.yaml": text, "quick.yaml": QUICK}
    return load_texts(files, QUEUES, CATALOG, "prompts.yaml", backends_text=backends)
