"""The post-call survey: the token the dialplan carries back once the agent hangs up.

A queue route from a flow with an ``after_call`` survey node carries
``TIERLINE_SURVEY = <flow>.<node>``. The dialplan then joins the queue
with option ``c`` (go on in the dialplan when the agent hangs up) and, when
``Queue()`` ends with ``QUEUESTATUS=CONTINUE``, calls the router again with
``?survey=<token>&queue=<queue>`` on the same channel (so the same
uniqueid, which joins the answers to the agent in the AMI call records);
the router runs the flow from that survey node and the dialplan hangs up.

Like the resume token, it is built from names the loader accepted
(letters, digits, ``-`` ``_``) and checked again when it comes back: a token
that does not name an ``after_call`` survey of a loaded flow runs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from router.flows import model as m
from router.flows.checks import after_call_surveys
from router.flows.resume import NAME_RE

__all__ = [
    "SURVEY_END",
    "SURVEY_VAR",
    "is_survey_start",
    "survey_queue",
    "survey_start",
    "survey_token",
]

SURVEY_VAR = "TIERLINE_SURVEY"
SURVEY_END: Mapping[str, str] = {"TIERLINE_ACTION": "hangup"}
"""All a post-call survey sets when it ends: the dialplan hangs up. The call's
routing variables (``TIERLINE_REASON``, ``TIERLINE_QUEUE``...) stay as the
route left them, for the AMI listener's record of the answered call."""


def survey_token(flows: m.FlowSet, flow: str) -> str:
    """``TIERLINE_SURVEY`` for a queue route of ``flow``; "" when it has no post-call survey."""
    found = flows.flows.get(flow)
    names = after_call_surveys(found) if found is not None else []
    if not names or not (NAME_RE.fullmatch(flow) and NAME_RE.fullmatch(names[0])):
        return ""
    return f"{flow}.{names[0]}"


def survey_start(flows: m.FlowSet, token: str) -> tuple[m.Flow, str] | None:
    """(flow, survey node) the token names, or None for anything else."""
    flow_name, _, node = token.partition(".")
    if not (NAME_RE.fullmatch(flow_name) and NAME_RE.fullmatch(node)):
        return None
    flow = flows.flows.get(flow_name)
    if flow is None or node not in after_call_surveys(flow):
        return None
    return flow, node


def is_survey_start(flow: m.Flow, node: str) -> bool:
    """Whether a walk entered at ``node`` is ``flow``'s post-call survey."""
    return bool(node) and node in after_call_surveys(flow)


def survey_queue(params: Mapping[str, str]) -> str:
    """The queue the dialplan says the caller was served from; "" when absent or odd."""
    queue = params.get("queue", "")
    return queue if NAME_RE.fullmatch(queue) else ""
