"""The runner drives a CallSession and delivers the decision in one round trip."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from router.customers.model import Customer
from router.errors import CallHungUp, NumberConflictError
from router.flows.callbacks import MemoryCallbackStore
from router.flows.runner import run_flow
from router.flows.trace import SimplePolicy
from router.types import DigitsResult
from tests.flows.helpers import call, customer, flows
from tests.flows.test_engine import INPUT, LOOP, MENU, PLAY_SET


class FakeSession:
    """Scripted caller: digits answer get_digits in order; optional hangup."""

    def __init__(self, digits: Sequence[str] = (), hang_after: int | None = None) -> None:
        self.digits = list(digits)
        self.hang_after = hang_after
        self.calls: list[tuple[str, object]] = []

    @property
    def uniqueid(self) -> str:
        return "1700000000.1"

    def _tick(self, what: str, arg: object) -> None:
        self.calls.append((what, arg))
        if self.hang_after is not None and len(self.calls) > self.hang_after:
            raise CallHungUp

    async def answer(self) -> None:
        self._tick("answer", None)

    async def play(self, prompts: Sequence[str], escape_digits: str = "") -> str:
        self._tick("play", tuple(prompts))
        return ""

    async def get_digits(self, prompt: str, timeout_ms: int, max_digits: int) -> DigitsResult:
        self._tick("get_digits", prompt)
        if self.digits:
            return DigitsResult(self.digits.pop(0), False)
        return DigitsResult("", True)

    async def wait_digit(self, timeout_ms: int) -> str:
        return ""

    async def set_var(self, name: str, value: str) -> None:
        self._tick("set_var", (name, value))

    async def set_vars(self, values: Mapping[str, str]) -> None:
        self._tick("set_vars", dict(values))

    async def get_var(self, name: str) -> str | None:
        return None

    async def exec(self, app: str, args: Sequence[str] = ()) -> int:
        return 0

    async def hangup(self) -> None:
        self._tick("hangup", None)


class FakeStore:
    def __init__(self, conflict: bool = False) -> None:
        self.links: list[tuple[str, str]] = []
        self.conflict = conflict

    async def lookup(self, number: str):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    async def link(self, number: str, customer_id: str) -> None:
        if self.conflict:
            raise NumberConflictError(number, "other", customer_id)
        self.links.append((number, customer_id))


class FakeAccounts:
    def __init__(self, known: dict[str, Customer]) -> None:
        self.known = known

    async def customer_by_id(self, customer_id: str) -> Customer | None:
        return self.known.get(customer_id)


async def go(text: str, session: FakeSession, **kw):  # type: ignore[no-untyped-def]
    fs = flows(text)
    flow = fs.for_call("100")
    assert flow is not None
    store = kw.pop("store", FakeStore())
    return await run_flow(
        flow, session, call(), kw.pop("cust", None), SimplePolicy(), {}, store, flows=fs, **kw
    )


class TestRunner:
    async def test_queue_decision_in_one_set_vars(self) -> None:
        """One set_vars carries the screen pop and the queue decision, then return."""
        session = FakeSession(["1"])
        record = await go(MENU, session, cust=customer("vip"))
        last = session.calls[-1]
        assert last == (
            "set_vars",
            {
                "TIERLINE_CUSTOMER": "C1",
                "TIERLINE_TIER": "vip",
                "TIERLINE_LIST": "",
                "TIERLINE_LIFECYCLE": "stable",
                "TIERLINE_OFFERS": "",
                "TIERLINE_ACTION": "queue",
                "TIERLINE_QUEUE": "billing",
                "TIERLINE_PRIO": "10",
                "TIERLINE_MAXWAIT": "0",
                "TIERLINE_REASON": "simple",
                "TIERLINE_ANNOUNCE": "0",
            },
        )
        assert record.outcome == "queue"
        assert [s.node for s in record.path] == ["menu", "billing"]
        assert record.path[0].choice == "billing"  # the option's name, not the digit
        assert record.flow_version
        assert record.flowset_version == record.as_dict()["flowset_version"] != ""
        assert record.as_dict()["flow"] == "main"

    async def test_hangup_is_recorded_not_raised(self) -> None:
        """A CallHungUp mid-menu ends the walk with outcome caller_hangup."""
        record = await go(MENU, FakeSession(hang_after=0))
        assert record.outcome == "caller_hangup"

    async def test_callback_is_stored(self) -> None:
        """A callback node stores number, customer, tier and service."""
        store = MemoryCallbackStore()
        record = await go(PLAY_SET, FakeSession(["1"]), cust=customer("high"), callbacks=store)
        assert record.outcome == "callback"
        req = store.requests[0]
        assert (req.number, req.customer_id, req.tier, req.service) == (
            "13800138000",
            "C1",
            "high",
            "general",
        )

    async def test_verified_account_links_number(self) -> None:
        """Account verification links the calling number to the customer."""
        store = FakeStore()
        accounts = FakeAccounts({"1234": customer("vip", cid="C9")})
        record = await go(INPUT, FakeSession(["1234"]), store=store, accounts=accounts)
        assert store.links == [("13800138000", "C9")]
        assert record.detail["service"] == "vip"

    async def test_link_conflict_keeps_the_call_going(self) -> None:
        """A number owned by someone else is logged; the verified customer still routes."""
        accounts = FakeAccounts({"1234": customer("vip", cid="C9")})
        record = await go(
            INPUT, FakeSession(["1234"]), store=FakeStore(conflict=True), accounts=accounts
        )
        assert record.detail["service"] == "vip"

    async def test_no_account_directory_fails_closed(self) -> None:
        """Without an account lookup nothing is verified and the fallback is taken."""
        record = await go(INPUT, FakeSession(["1234", "1234"]))
        assert record.detail["service"] == "general"


@pytest.fixture(autouse=True)
def _quiet_logs() -> None:
    """Runner logs go through structlog; nothing to configure for tests."""


class TestRunnerErrors:
    async def test_runtime_condition_error_recorded(self) -> None:
        """A condition failing at run time counts as false and is kept in the record."""
        text = """\
        flow: main
        serves: {dnis: ["100"]}
        start: b
        nodes:
          b:
            type: branch
            cases:
              - when: customer.tier + 1 == 2
                goto: x
            default: y
          x: {type: hangup}
          y: {type: queue, service: general}
        """
        import textwrap

        fs = flows(textwrap.dedent(text))
        flow = fs.flows["main"]
        record = await run_flow(
            flow, FakeSession(), call(), None, SimplePolicy(), {}, FakeStore(), flows=fs
        )
        assert record.outcome == "queue"
        assert "customer.tier + 1 == 2" in record.detail["condition_errors"][0]


class BrokenCallbacks:
    async def add(self, request: object) -> str:
        from router.errors import StoreError

        raise StoreError("redis down")


class TestCallbackFailure:
    async def test_store_down_still_ends_call(self) -> None:
        """A callback store failure is logged; the call still ends as a callback."""
        session = FakeSession(["1"])
        record = await go(PLAY_SET, session, callbacks=BrokenCallbacks())
        assert record.outcome == "callback"
        assert session.calls[-1][1]["TIERLINE_ACTION"] == "callback"  # type: ignore[index]


AT_ONCE = """\
flow: main
serves: {dnis: ["100"]}
start: pop
nodes:
  pop:
    type: set
    vars: {TL_TIER: {expr: customer.tier}}
    next: q
  q: {type: queue, service: billing}
"""


class TestSetUpRoundTrips:
    async def test_routed_at_once_costs_one_command(self) -> None:
        """No prompt before the route: no ANSWER, and the set node rides on the route's MSet."""
        session = FakeSession()
        await go(AT_ONCE, session, cust=customer("vip"))
        assert [what for what, _ in session.calls] == ["set_vars"]
        sent = session.calls[0][1]
        assert sent["TL_TIER"] == "vip"  # type: ignore[index]
        assert sent["TIERLINE_QUEUE"] == "billing"  # type: ignore[index]

    async def test_answer_and_language_come_before_the_first_prompt(self) -> None:
        """The channel is answered and the set node's language sent just before the prompt."""
        session = FakeSession(["1"])
        await go(PLAY_SET, session, cust=customer("high"))
        kinds = [what for what, _ in session.calls]
        assert kinds == ["answer", "set_vars", "play", "get_digits", "play", "set_vars"]
        assert session.calls[1][1]["CHANNEL(language)"] == "en"  # type: ignore[index]
        assert "TL_TIER" not in session.calls[-1][1]  # type: ignore[operator]

    async def test_loop_guard_routes_to_the_default_queue(self) -> None:
        """A flow cut by the step budget routes the caller to the default queue, no hang-up."""
        session = FakeSession(["1"] * 300)  # a caller who keeps choosing "again"
        record = await go(LOOP, session, default_queue="support")
        sent = session.calls[-1][1]
        assert (sent["TIERLINE_ACTION"], sent["TIERLINE_QUEUE"]) == ("queue", "support")  # type: ignore[index]
        assert sent["TIERLINE_REASON"] == "loop_guard"  # type: ignore[index]
        assert record.outcome == "queue"
