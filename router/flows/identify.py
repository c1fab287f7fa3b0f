"""Safe identification at an input node: an account number, then a second factor.

Typing someone else's account number must not be enough to be treated as
them (their tier, their account manager) or to link one's phone to their
account, so an identifying node may ask a second factor after the account
number: the customer's PIN or the last digits of their ID, both registered
by ``tierline customers import`` as salted hashes
(:mod:`router.customers.factors`). The engine holds the account number
while the factor is typed and then emits one ``Verify(account, factor)``;
the adapter checks both (with a per-account lockout) and links the number
only on success. A wrong pair looks exactly like an unknown account: the
node retries, then takes its fallback.

Typed digits at a ``sensitive`` node (and every factor) are noted in the
call's path as :data:`MASK`, never in clear, and never go into channel
or flow variables. Pure: the checks at load and the masks at run time.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from router.flows import actions as a
from router.flows import model as m
from router.flows import spec
from router.flows.section import Section

if TYPE_CHECKING:
    from router.flows.build import FlowBuilder

__all__ = ["MASK", "compile_factor", "factor_collect", "noted"]

MASK = "*"
"""What the path notes for digits typed at a sensitive node (their count is hidden too)."""


def compile_factor(b: FlowBuilder, node: spec.Input, body: Section) -> m.SecondFactor | None:
    """The node's second factor, checked; problems are located in the file."""
    factor = node.second_factor
    if (node.sensitive or factor is not None) and node.variable:
        b.fail(
            body.at("variable"),
            "a sensitive input's digits cannot go into a channel variable or vars.NAME",
            "remove variable: (the digits would reach the dialplan and its logs in clear)",
        )
    if factor is None:
        return None
    where: Section = body["second_factor"]
    if not node.verify:
        b.fail(body.at("second_factor"), "second_factor needs verify: true")
    return m.SecondFactor(
        factor.kind,
        b.prompt(factor.prompt, where.at("prompt")),
        re.compile(factor.pattern),
        factor.max_digits,
        factor.timeout_s,
    )


def noted(node: m.Input, digits: str, factor: bool = False) -> str:
    """What the path keeps of ``digits`` typed at ``node``: a mask when they are sensitive."""
    if digits and (node.sensitive or factor):
        return MASK
    return digits


def factor_collect(factor: m.SecondFactor, prefix: str) -> a.Collect:
    """The prompt-and-collect of the second factor (``prefix``: the catalog's sound prefix)."""
    prompt = prefix + factor.prompt if factor.prompt else ""
    return a.Collect(prompt, int(factor.timeout_s * 1000), factor.max_digits)
