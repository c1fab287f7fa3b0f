"""The prompt language of a call, picked from the caller's customer record.

A customer registered with ``language: yue`` should hear Cantonese prompts
without the flow asking, so when the engine enters a flow (or an account
is verified mid-call) it sets ``CHANNEL(language)``, and Asterisk plays
every later prompt from that language's directory. A language the prompt
catalog lacks (``en-US`` is tried as ``en`` first) falls back to the flow's
``language:``; nothing is sent when the channel already speaks it, so a
caller in the channel's own language costs no extra AGI round trip.
A ``set`` node's ``language:`` (an "English, press 9" key) still wins
afterwards. Every switch is noted in the call's memo, so :func:`call_language`
(the language ``say`` nodes speak values in) follows the same one rule as
the prompts. Pure (the memo is the call's own).
"""

from __future__ import annotations

from router.customers.model import Customer
from router.flows import actions as a
from router.flows import model as m
from router.flows.expr import Facts

__all__ = [
    "LANGUAGE_KEY",
    "LANGUAGE_VAR",
    "call_language",
    "language_actions",
    "prompt_language",
    "switch_language",
]

LANGUAGE_VAR = "CHANNEL(language)"
LANGUAGE_KEY = ("@language", "")
"""Where the call's memo notes the language the channel was last switched to."""


def prompt_language(catalog: m.PromptCatalog, flow: m.Flow, wanted: str) -> str:
    """The catalog language for ``wanted`` (exact, then its base), else the flow's default."""
    if not wanted:
        return ""
    if not catalog.languages:
        return wanted  # no catalog to check against: trust the record
    base = wanted.replace("_", "-").split("-", 1)[0].lower()
    for candidate in (wanted, base):
        if candidate in catalog.languages:
            return candidate
    return flow.language


def language_actions(
    flows: m.FlowSet, flow: str, customer: Customer | None, current: str
) -> tuple[a.Action, ...]:
    """The ``SetVars`` switching the channel to the customer's language; () when nothing changes."""
    if customer is None or not customer.language:
        return ()
    lang = prompt_language(flows.prompts, flows.flows[flow], customer.language)
    if not lang or lang == current:
        return ()
    return (a.SetVars({LANGUAGE_VAR: lang}),)


def switch_language(flows: m.FlowSet, flow: str, facts: Facts) -> tuple[a.Action, ...]:
    """:func:`language_actions` for the call's customer, against the channel's language now.

    The switch is noted so a later verification does not resend it and
    ``say`` nodes speak in it.
    """
    current = facts.recall(LANGUAGE_KEY) or facts.call.language
    out = language_actions(flows, flow, facts.customer, current)
    for action in out:
        if isinstance(action, a.SetVars):
            facts.keep(LANGUAGE_KEY, action.values[LANGUAGE_VAR])
    return out


def call_language(flows: m.FlowSet, flow: str, facts: Facts) -> str:
    """The language the call's prompts play in now: the one rule ``say`` follows too.

    The last switch (a set node's ``language:`` or the customer's), else the
    customer's or the channel's as the catalog has it, else the flow's
    ``language:``, else the catalog's first. Values are spoken in it so
    "your balance is" and the amount never come in two languages.
    """
    noted = facts.recall(LANGUAGE_KEY)
    if isinstance(noted, str) and noted:
        return noted
    catalog, here = flows.prompts, flows.flows[flow]
    customer = facts.customer.language if facts.customer else ""
    for wanted in (customer, facts.call.language):
        lang = prompt_language(catalog, here, wanted)
        if lang:
            return lang
    return here.language or (catalog.languages[0] if catalog.languages else "zh")
