"""The prompt language of a call, picked from the caller's customer record.

A customer registered with ``language: yue`` should hear Cantonese prompts
without the flow asking, so when the engine enters a flow (or an account
is verified mid-call) it sets ``CHANNEL(language)``, and Asterisk plays
every later prompt from that language's directory. A language the prompt
catalog lacks (``en-US`` is tried as ``en`` first) falls back to the flow's
``language:``; nothing is sent when the channel already speaks it, so a
caller in the channel's own language costs no extra AGI round trip.
A ``set`` node's ``language:`` (an "English, press 9" key) still wins
afterwards. Pure.
"""

from __future__ import annotations

from router.customers.model import Customer
from router.flows import actions as a
from router.flows import model as m

__all__ = ["LANGUAGE_VAR", "language_actions", "prompt_language"]

LANGUAGE_VAR = "CHANNEL(language)"


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
