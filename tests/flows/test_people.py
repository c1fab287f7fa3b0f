"""Transfers to the customer's own people: target from a customer field, fallback, checks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from router.customers.model import Customer
from router.errors import FlowError
from router.flows import actions as a
from router.flows.resume import Resume, overflow_of, resume_token
from router.flows.trace import trace_call
from router.types import QueueSnapshot
from tests.flows.helpers import call, customer, flows

FLOW = """\
flow: main
serves: {dnis: ["100"]}
start: manager
nodes:
  manager:
    type: transfer
    to: {customer: account_manager}
    context: people
    ring_s: 20
    prompt: hello
    fallback: vip
  vip: {type: queue, service: vip}
"""


def vip(manager: str = "am_zhao") -> Customer:
    return replace(customer("vip"), account_manager=manager)


def walk(manager: str = "am_zhao", **queues: QueueSnapshot) -> a.Action | None:
    t = trace_call(flows(FLOW), "main", call(), vip(manager), [], queues=queues)
    return t.state.result


def problems(text: str) -> list[str]:
    with pytest.raises(FlowError) as info:
        flows(text)
    return [str(p) for p in info.value.problems]


class TestPersonTarget:
    def test_dials_the_managers_id_at_the_context(self) -> None:
        """A VIP with a manager and no live state is put through to ID@CONTEXT, ringing 20 s."""
        assert walk() == a.TransferTo("am_zhao@people", 20)

    def test_free_manager_is_dialled(self) -> None:
        """The personal queue showing a free member: the transfer goes ahead."""
        free = QueueSnapshot("am_zhao", agents_logged_in=1, agents_available=1)
        assert walk(am_zhao=free) == a.TransferTo("am_zhao@people", 20)

    @pytest.mark.parametrize(
        ("snap", "reason"),
        [
            (QueueSnapshot("am_zhao"), "unreachable:absent"),
            (QueueSnapshot("am_zhao", agents_logged_in=1, agents_paused=1), "unreachable:paused"),
            (QueueSnapshot("am_zhao", agents_logged_in=1), "unreachable:busy"),
        ],
    )
    def test_unreachable_manager_goes_to_the_fallback_at_once(
        self, snap: QueueSnapshot, reason: str
    ) -> None:
        """Logged out, paused or on a call: the fallback's route, nothing dialled."""
        t = trace_call(flows(FLOW), "main", call(), vip(), [], queues={"am_zhao": snap})
        assert isinstance(t.state.result, a.Route)
        assert t.state.result.service == "vip"
        assert t.state.reason == reason
        assert not any(isinstance(x, a.TransferTo) for x in t.actions)

    def test_no_manager_goes_to_the_fallback(self) -> None:
        """A customer without an account manager (or no customer) takes the fallback."""
        assert isinstance(walk(""), a.Route)
        t = trace_call(flows(FLOW), "main", call(), None, [])
        assert isinstance(t.state.result, a.Route)
        assert t.state.reason == "no_person:account_manager"

    @pytest.mark.parametrize(
        "hostile", ["am,1)(x", "am zhao", "a${EVIL}", "x@y@z", "am\nDial", "a" * 65, "am.sun"]
    )
    def test_a_value_the_dialplan_would_refuse_is_never_sent(self, hostile: str) -> None:
        """A record holding dialplan syntax takes the fallback; the text reaches no action."""
        t = trace_call(flows(FLOW), "main", call(), vip(hostile), [])
        assert isinstance(t.state.result, a.Route)
        assert t.state.reason == "bad_target:account_manager"
        assert hostile not in repr(t.actions)

    def test_value_with_its_own_context_is_kept(self) -> None:
        """An id that already names a context (8001@desk) is dialled as written."""
        assert walk("8001@desk") == a.TransferTo("8001@desk", 20)


class TestResumeAfterDial:
    def test_transfer_with_fallback_carries_a_token_to_its_fallback(self) -> None:
        """The route of a transfer with a fallback resumes there after a failed Dial()."""
        fs = flows(FLOW)
        token = resume_token(fs, "main", "manager", 0)
        parsed = Resume.parse(token)
        assert parsed is not None
        assert (parsed.flow, parsed.node, parsed.hops) == ("main", "manager", 1)
        assert overflow_of(fs, parsed) == "vip"

    def test_plain_transfer_carries_none(self) -> None:
        """A written target without a fallback has nothing to come back to."""
        plain = "flow: main\nstart: t\nnodes:\n  t: {type: transfer, to: '95555'}\n"
        assert resume_token(flows(plain), "main", "t", 0) == ""


class TestPersonChecks:
    def test_customer_target_without_fallback_is_located(self) -> None:
        """A transfer to customer.account_manager with no fallback is an error at its to:."""
        found = problems(FLOW.replace("    fallback: vip\n", ""))
        assert any(p.startswith("f0.yaml:7:9") and "needs a fallback" in p for p in found), found

    def test_unknown_customer_field_is_rejected(self) -> None:
        """Only fields naming a person may be a target (not, say, the name)."""
        found = problems(FLOW.replace("{customer: account_manager}", "{customer: name}"))
        assert any(p.startswith("f0.yaml:7:") and "account_manager" in p for p in found), found

    def test_context_needs_a_customer_target(self) -> None:
        """context: on a written target is an error (it would be silently ignored)."""
        text = FLOW.replace("{customer: account_manager}", "'95555'")
        found = problems(text)
        assert any(p.startswith("f0.yaml:8:") and "context:" in p for p in found), found

    def test_fallback_must_exist(self) -> None:
        """The fallback is a node reference like any other."""
        found = problems(FLOW.replace("fallback: vip", "fallback: vipp"))
        assert any("unknown node 'vipp'" in p for p in found), found
