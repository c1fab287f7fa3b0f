"""The pure engine: every node type, retries, sub-flows, hours, splits."""

from __future__ import annotations

from datetime import datetime

from router.flows import actions as a
from router.flows.engine import Engine
from router.flows.trace import SimplePolicy, trace_call
from router.types import QueueSnapshot, RouteDecision
from tests.flows.helpers import SHANGHAI, call, customer, flows

MENU = """\
flow: main
serves: {dnis: ["100"]}
start: menu
nodes:
  menu:
    type: menu
    prompt: menu
    options: {"1": billing, "2": tech, "9": bye}
    retries: 1
    invalid_prompt: again
    timeout_prompt: again
    fallback: general
  billing: {type: queue, service: billing}
  tech: {type: transfer, to: "8001"}
  bye: {type: hangup, prompt: bye}
  general: {type: voicemail, mailbox: "100@default"}
"""


def run(text: str, digits: list[str], **kw):  # type: ignore[no-untyped-def]
    fs = flows(text, *kw.pop("extra", ()))
    return trace_call(fs, "main", kw.pop("call", call()), kw.pop("cust", None), digits, **kw)


class TestMenu:
    def test_digit_routes(self) -> None:
        """A valid digit goes to its option's node."""
        t = run(MENU, ["1"])
        assert isinstance(t.state.result, a.Route)
        assert t.state.result.service == "billing"

    def test_retry_then_fallback(self) -> None:
        """Invalid then silence exhaust the retries and take the fallback."""
        t = run(MENU, ["7"])
        assert t.state.result == a.VoicemailTo("100@default")
        assert t.state.reason == "menu_timeout"
        plays = [x for x in t.actions if isinstance(x, a.Play)]
        assert plays == [a.Play(("again",))]

    def test_transfer_and_hangup(self) -> None:
        """Transfer and hangup are terminal; hangup plays its prompt first."""
        assert run(MENU, ["2"]).state.result == a.TransferTo("8001")
        t = run(MENU, ["9"])
        assert t.actions[-2:] == (a.Play(("bye",)), a.HangUp("flow"))


LOOP = """\
flow: main
serves: {dnis: ["100"]}
start: a
nodes:
  a: {type: play, prompts: [hello], next: m}
  m: {type: menu, prompt: menu, options: {"1": a, "2": out}, fallback: out}
  out: {type: hangup}
"""

PLAY_SET = """\
flow: main
serves: {dnis: ["100"]}
start: pop
nodes:
  pop:
    type: set
    vars:
      TL_TIER: {expr: customer.tier}
      TL_OFFERS: {expr: customer.offers}
      TL_FIXED: hello
    language: en
    next: hi
  hi: {type: play, prompts: [hello, menu], interruptible: true, next: menu}
  menu:
    type: menu
    prompt: menu
    options: {"1": cb}
    fallback: cb
  cb: {type: callback, service: general, prompt: bye}
"""


class TestPlaySet:
    def test_set_renders_expressions(self) -> None:
        """set renders expressions as text (lists comma-joined) and the language."""
        t = run(PLAY_SET, [], cust=customer("vip", offers=("5g", "tv")))
        sets = [x for x in t.actions if isinstance(x, a.SetVars)]
        assert dict(sets[0].values) == {
            "TL_TIER": "vip",
            "TL_OFFERS": "5g,tv",
            "TL_FIXED": "hello",
            "CHANNEL(language)": "en",
        }

    def test_interrupting_digit_answers_the_menu(self) -> None:
        """A digit pressed during an interruptible prompt answers the next menu."""
        t = run(PLAY_SET, ["1"])
        assert t.state.result == a.RequestCallback("general")
        assert [v.digits for v in t.state.path if v.node == "menu"] == ["1"]
        assert not any(isinstance(x, a.Collect) for x in t.actions)


INPUT = """\
flow: main
serves: {dnis: ["100"]}
start: ask
nodes:
  ask:
    type: input
    prompt: hello
    pattern: "\\\\d{4}"
    max_digits: 4
    verify: true
    variable: TL_ACCOUNT
    retries: 1
    next: route
    fallback: general
  route:
    type: branch
    cases:
      - when: customer.tier == "vip"
        goto: vip
    default: general
  vip: {type: queue, service: vip}
  general: {type: queue, service: general}
"""


class TestInput:
    def test_verified_account_identifies_customer(self) -> None:
        """A verified account becomes the call's customer for later conditions."""
        t = run(INPUT, ["1234"], accounts={"1234": customer("vip")})
        assert isinstance(t.state.result, a.Route)
        assert t.state.result.service == "vip"
        assert a.Verify("1234") in t.actions
        assert a.SetVars({"TL_ACCOUNT": "1234"}) in t.actions

    def test_bad_pattern_retries_then_fallback(self) -> None:
        """Digits not matching the pattern retry, then take the fallback."""
        t = run(INPUT, ["12", "99999"])
        assert t.state.reason == "input_failed"
        assert isinstance(t.state.result, a.Route)
        assert t.state.result.service == "general"

    def test_unknown_account_is_not_verified(self) -> None:
        """An account nobody owns is a failed attempt."""
        t = run(INPUT, ["1234", "5678"], accounts={})
        assert t.state.result is not None
        assert t.state.customer is None


SUB = """\
flow: main
serves: {dnis: ["100"]}
start: go
nodes:
  go: {type: subflow, flow: check, next: after}
  after: {type: queue, service: general}
"""
CHECK = """\
flow: check
subflow: true
start: b
nodes:
  b:
    type: branch
    cases:
      - when: customer.list == "red"
        goto: red
    default: back
  red: {type: queue, service: red_desk}
  back: {type: return}
"""


class TestSubflow:
    def test_return_continues_in_caller(self) -> None:
        """return resumes the calling flow at the sub-flow node's next."""
        t = run(SUB, [], extra=(CHECK,))
        assert [v.node for v in t.state.path] == ["go", "b", "back", "after"]

    def test_terminal_inside_subflow(self) -> None:
        """A terminal node inside the sub-flow ends the call there."""
        t = run(SUB, [], extra=(CHECK,), cust=customer(lst="red"))
        assert isinstance(t.state.result, a.Route)
        assert t.state.result.service == "red_desk"


HOURS = """\
flow: main
serves: {dnis: ["100"]}
start: q
hours:
  office:
    timezone: Asia/Shanghai
    holidays: CN
    weekly: {mon-fri: "09:00-18:00"}
    closed: [2026-11-24]
    open: [2026-10-10]
nodes:
  q: {type: queue, service: billing, hours: office, closed: cb, max_wait_s: 60, overflow: cb}
  cb: {type: callback, service: billing}
"""


class TestHours:
    def at(self, y: int, mo: int, d: int, h: int) -> a.Action | None:
        when = datetime(y, mo, d, h, tzinfo=SHANGHAI)
        return run(HOURS, [], call=call(at=when)).state.result

    def test_weekday_open_and_night_closed(self) -> None:
        """Monday 10:00 queues; Monday 20:00 takes the closed node."""
        assert isinstance(self.at(2026, 11, 23, 10), a.Route)
        assert self.at(2026, 11, 23, 20) == a.RequestCallback("billing")

    def test_cn_holiday_closed(self) -> None:
        """National Day (1 October, a Thursday) is closed by the CN calendar."""
        assert self.at(2026, 10, 1, 10) == a.RequestCallback("billing")

    def test_overrides(self) -> None:
        """An explicit closed date closes a weekday; an open date opens a Saturday."""
        assert self.at(2026, 11, 24, 10) == a.RequestCallback("billing")
        assert isinstance(self.at(2026, 10, 10, 10), a.Route)

    def test_overflow_when_wait_too_long(self) -> None:
        """A lane whose expected wait exceeds max_wait_s overflows up front."""
        queues = {"billing": QueueSnapshot("billing", ewt=300, agents_logged_in=3)}
        t = run(HOURS, [], queues=queues)
        assert t.state.reason == "overflow:billing"
        fine = {"billing": QueueSnapshot("billing", ewt=10, agents_logged_in=3)}
        route = run(HOURS, [], queues=fine).state.result
        assert isinstance(route, a.Route)
        assert route.decision.max_wait_s == 60


SPLIT = """\
flow: main
serves: {dnis: ["100"]}
start: b
nodes:
  b:
    type: branch
    cases:
      - when: percent(30) && queues.vip.agents_available > 0
        goto: x
    default: y
  x: {type: queue, service: vip, priority: 'customer.tier == "vip" ? 9 : 2'}
  y: {type: hangup}
"""


class TestConditions:
    def test_percent_is_deterministic_and_near_share(self) -> None:
        """percent(30) picks the same branch for a uniqueid, ~30% of calls overall."""
        fs = flows(SPLIT)
        queues = {"vip": QueueSnapshot("vip", agents_available=2)}
        hits = 0
        for i in range(1000):
            c = call(uniqueid=f"1700000000.{i}")
            first = trace_call(fs, "main", c, None, [], queues=queues).state.result
            again = trace_call(fs, "main", c, None, [], queues=queues).state.result
            assert first == again
            hits += isinstance(first, a.Route)
        assert 250 <= hits <= 350  # binomial sd ~14.5: ±3.4 sd

    def test_priority_expression_overrides_policy(self) -> None:
        """A queue node's priority expression replaces the policy's priority."""
        fs = flows(SPLIT)
        queues = {"vip": QueueSnapshot("vip", agents_available=2)}
        for i in range(100):
            r = trace_call(fs, "main", call(uniqueid=f"9.{i}"), customer("vip"), [], queues=queues)
            if isinstance(r.state.result, a.Route):
                assert r.state.result.decision.priority == 9
                return
        raise AssertionError("no call took the 30% branch")

    def test_missing_queue_snapshot_is_closed(self) -> None:
        """A referenced queue absent from the snapshot reads as empty, not an error."""
        t = trace_call(flows(SPLIT), "main", call(), None, [])
        assert t.state.result == a.HangUp("flow")


class TestEngineContract:
    def test_hangup_event_ends_call(self) -> None:
        """A HungUp event ends the call with reason caller_hangup."""
        fs = flows(MENU)
        engine = Engine(fs, SimplePolicy())
        state, out = engine.start("main", engine.facts(call(), None, {}))
        assert isinstance(out[-1], a.Collect)
        state, out = engine.step(state, a.HungUp())
        assert state.result == a.HangUp("caller_hangup")
        assert engine.step(state, a.Digits("1")) == (state, ())

    def test_loop_guard(self) -> None:
        """A caller who keeps choosing 'again' is cut by the step budget: routed, never
        hung up.

        (A loop that takes no key press cannot reach the engine: flows check rejects it.)
        """
        t = trace_call(flows(LOOP), "main", call(), None, ["1"] * 300)
        assert isinstance(t.state.result, a.Route)
        assert t.state.result.decision == RouteDecision("general", 0, "loop_guard")


class TestPlan:
    def test_plan_built_once_per_flow_set(self) -> None:
        """Every engine on one flow set walks the same plan, compiled at load."""
        fs = flows(MENU)
        first = Engine(fs, SimplePolicy())._plan
        assert Engine(fs, SimplePolicy())._plan is first
        assert fs.compiled["plan"] is first

    def test_prebuilt_actions_are_shared(self) -> None:
        """Two calls get the very same frozen Collect: nothing is rebuilt per call."""
        fs = flows(MENU)
        one = trace_call(fs, "main", call(uniqueid="1.1"), None, ["1"])
        two = trace_call(fs, "main", call(uniqueid="1.2"), None, ["1"])
        assert one.actions[0] is two.actions[0]
