"""Overflow after Queue() gave up: the resume token, the check on names, the resumed walk."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.errors import FlowError
from router.flows import actions as a
from router.flows.engine import Engine
from router.flows.registry import FlowRegistry
from router.flows.resume import MAX_HOPS, Resume, overflow_of, resume_token
from router.flows.runner import run_flow
from router.flows.trace import SimplePolicy
from tests.flows.helpers import CATALOG, QUEUES, call, flows
from tests.flows.test_runner import FakeSession, FakeStore

FLOW = """\
flow: main
serves: {dnis: ["100"]}
start: menu
nodes:
  menu:
    type: menu
    prompt: menu
    options: {"1": lane, "2": plain}
    fallback: lane
  lane: {type: queue, service: billing, max_wait_s: 120, overflow: cb}
  plain: {type: queue, service: tech}
  cb: {type: callback, service: general, prompt: bye}
"""


class TestToken:
    def test_round_trip(self) -> None:
        """The token names version, hops, flow and queue node, and parses back."""
        fs = flows(FLOW)
        token = resume_token(fs, "main", "lane", 0)
        assert token == f"{fs.version}.1.main.lane"
        resume = Resume.parse(token)
        assert resume == Resume(fs.version, 1, "main", "lane")
        assert overflow_of(fs, resume) == "cb"

    def test_no_token_without_overflow_or_after_max_hops(self) -> None:
        """A node without overflow, or a call resumed MAX_HOPS times, gets no token."""
        fs = flows(FLOW)
        assert resume_token(fs, "main", "plain", 0) == ""
        assert resume_token(fs, "main", "lane", MAX_HOPS) == ""

    @pytest.mark.parametrize(
        "token",
        ["", "a.b.c", "zz.1.main.lane", "ab.x.main.lane", "ab.1.main.la;ne", "ab.1.ma(in.lane",
         "ab.123.main.lane", "ab.1.main.lane.x"],
    )  # fmt: skip
    def test_foreign_tokens_rejected(self, token: str) -> None:
        """Anything but version.hops.flow.node with safe characters is refused."""
        assert Resume.parse(token) is None


class TestNameCheck:
    def test_unsafe_name_with_overflow_rejected(self) -> None:
        """A queue node with an overflow whose name the dialplan would filter is rejected."""
        text = FLOW.replace("lane", "lane.1")
        with pytest.raises(FlowError) as info:
            flows(text)
        found = [str(p) for p in info.value.problems]
        assert any(p.startswith("f0.yaml:10:3") and "'lane.1' has an overflow" in p for p in found)


class TestResumedWalk:
    def test_engine_resumes_at_a_node(self) -> None:
        """Engine.resume enters the flow at the given node (the overflow)."""
        fs = flows(FLOW)
        engine = Engine(fs, SimplePolicy())
        state, _out = engine.resume("main", "cb", engine.facts(call(), None, {}))
        assert state.result == a.RequestCallback("general")
        assert [v.node for v in state.path] == ["cb"]

    async def test_runner_sets_token_and_resumes(self) -> None:
        """The route carries TIERLINE_RESUME; a run with start_at walks from the overflow."""
        fs = flows(FLOW)
        flow = fs.flows["main"]
        session = FakeSession(["1"])
        await run_flow(flow, session, call(), None, SimplePolicy(), {}, FakeStore(), flows=fs)
        assert session.calls[-1][1]["TIERLINE_RESUME"] == f"{fs.version}.1.main.lane"
        again = FakeSession()
        record = await run_flow(
            flow, again, call(), None, SimplePolicy(), {}, FakeStore(), flows=fs,
            start_at="cb", hops=1,
        )  # fmt: skip
        assert record.outcome == "callback"
        assert [s.node for s in record.path] == ["cb"]


class TestRegistryResume:
    def test_keeps_the_version_then_falls_back_to_current(self, tmp_path: Path) -> None:
        """A resumed call keeps its version while held, else uses the current one."""
        (tmp_path / "prompts.yaml").write_text(CATALOG)
        (tmp_path / "main.yaml").write_text(FLOW)
        reg = FlowRegistry(tmp_path, QUEUES)
        old = reg.current
        token = resume_token(old, "main", "lane", 0)
        (tmp_path / "main.yaml").write_text(
            FLOW.replace("overflow: cb", "overflow: plain").replace("k: lane", "k: cb")
        )
        assert reg.reload()
        point = reg.resume_point(token)
        assert point is not None
        assert (point[0], point[2], point[3]) == (old, "cb", 1)
        gone = token.replace(old.version, "0" * 12)
        point = reg.resume_point(gone)
        assert point is not None
        assert (point[0], point[2]) == (reg.current, "plain")
        assert reg.resume_point("nonsense") is None


MAIN = """\
flow: main
serves: {dnis: ["100"]}
start: ask
nodes:
  ask: {type: subflow, flow: helper, next: after}
  after: {type: callback, service: general, prompt: bye}
"""
HELPER = """\
flow: helper
subflow: true
start: lane
nodes:
  lane: {type: queue, service: billing, max_wait_s: 60, overflow: back}
  back: {type: return}
"""


class TestSubflowStack:
    def test_token_carries_the_stack(self) -> None:
        """A queue node inside a sub-flow: the token ends with the caller's (flow, node)."""
        fs = flows(MAIN, HELPER)
        token = resume_token(fs, "helper", "lane", 0, (("main", "after"),))
        assert token == f"{fs.version}.1.helper.lane.main.after"
        resume = Resume.parse(token)
        assert resume == Resume(fs.version, 1, "helper", "lane", (("main", "after"),))

    async def test_return_after_overflow_reaches_the_caller(self) -> None:
        """Resumed inside the sub-flow, its `return` goes back to the calling flow."""
        fs = flows(MAIN, HELPER)
        session = FakeSession()
        await run_flow(fs.flows["main"], session, call(), None, SimplePolicy(), {}, FakeStore(),
                       flows=fs)  # fmt: skip
        token = session.calls[-1][1]["TIERLINE_RESUME"]
        resume = Resume.parse(token)
        assert resume is not None
        again = FakeSession()
        record = await run_flow(
            fs.flows[resume.flow], again, call(), None, SimplePolicy(), {}, FakeStore(),
            flows=fs, start_at=overflow_of(fs, resume), hops=resume.hops, stack=resume.stack,
        )  # fmt: skip
        assert record.outcome == "callback"
        assert [s.node for s in record.path] == ["back", "after"]

    def test_stack_pointing_nowhere_is_not_resumed(self, tmp_path: Path) -> None:
        """A return point missing from the flow set makes the token unusable (policy route)."""
        (tmp_path / "prompts.yaml").write_text(CATALOG)
        (tmp_path / "main.yaml").write_text(MAIN)
        (tmp_path / "helper.yaml").write_text(HELPER)
        reg = FlowRegistry(tmp_path, QUEUES)
        good = resume_token(reg.current, "helper", "lane", 0, (("main", "after"),))
        assert reg.resume_point(good) is not None
        assert reg.resume_point(good.replace("main.after", "main.gone")) is None
