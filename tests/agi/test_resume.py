"""Overflow after Queue() gave up: the route carries a resume token, and the
dialplan's second AGI call (``inbound?resume=<token>``) continues the flow at the
queue node's overflow. Over the real FastAGI wire, with the Asterisk double."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from redis.asyncio import Redis

from router.agi.caller import CallTranscript, place_call
from router.agi.double import CallerScript, environment
from router.flows.resume import MAX_HOPS, Resume
from router.settings import Settings
from tests.agi.serving import kept_path, serving

FLOW = """\
flow: hotline
serves: {dnis: ["4008001234"]}
start: billing
nodes:
  billing:
    type: queue
    service: billing
    max_wait_s: 120
    overflow: second_try
  second_try:
    type: queue
    service: general
    max_wait_s: 60
    overflow: desk
  desk: {type: transfer, to: "8000@electronics"}
"""


@pytest.fixture
async def running(tmp_path: Path, redis_url: str) -> AsyncIterator[Settings]:
    (tmp_path / "hotline.yaml").write_text(FLOW)
    async with serving(tmp_path, redis_url) as settings:
        yield settings


async def call(settings: Settings, script: str = "inbound") -> CallTranscript:
    env = environment("13912345678", dnis="4008001234", uniqueid="1795348509.7", script=script)
    return await place_call("127.0.0.1", settings.agi_port, env, CallerScript(), max_s=5)


class TestResumeOverTheWire:
    async def test_queue_route_carries_a_resume_token(self, running: Settings) -> None:
        """A route from a queue node with an overflow names the flow, node and version."""
        v = (await call(running)).variables
        assert (v["TIERLINE_QUEUE"], v["TIERLINE_MAXWAIT"]) == ("billing", "120")
        resume = Resume.parse(v["TIERLINE_RESUME"])
        assert resume is not None
        assert (resume.hops, resume.flow, resume.node) == (1, "hotline", "billing")

    async def test_resume_continues_at_the_overflow(
        self, running: Settings, redis_client: Redis
    ) -> None:
        """Back after a timeout the call takes the overflow; a second timeout, the next one."""
        token = (await call(running)).variables["TIERLINE_RESUME"]
        second = (await call(running, f"inbound?resume={token}")).variables
        assert second["TIERLINE_QUEUE"] == "support"  # general's lane in routing.yaml
        again = second["TIERLINE_RESUME"]
        assert again.endswith(".2.hotline.second_try")
        third = (await call(running, f"inbound?resume={again}")).variables
        assert (third["TIERLINE_ACTION"], third["TIERLINE_TARGET"]) == (
            "transfer", "8000@electronics",
        )  # fmt: skip
        path = await kept_path(redis_client, "1795348509.7")
        assert path is not None
        nodes = [step["node"] for step in orjson.loads(path)["steps"]]
        assert nodes == ["billing", "second_try", "desk"]  # one record across the resumes

    async def test_hops_are_bounded(self, running: Settings) -> None:
        """After MAX_HOPS resumes the route carries no token: the dialplan offers voicemail."""
        token = (await call(running)).variables["TIERLINE_RESUME"]
        version = token.split(".")[0]
        last = f"{version}.{MAX_HOPS}.hotline.billing"
        v = (await call(running, f"inbound?resume={last}")).variables
        assert v["TIERLINE_QUEUE"] == "support"
        assert "TIERLINE_RESUME" not in v

    async def test_a_forged_token_gets_a_plain_route(self, running: Settings) -> None:
        """A token that is not ours routes through the policy, without replaying the IVR."""
        v = (await call(running, "inbound?resume=abc.1.hotline.nowhere")).variables
        assert v["TIERLINE_QUEUE"] == "support"
        assert "TIERLINE_RESUME" not in v
        bad = (await call(running, "inbound?resume=x;Dial(evil)")).variables
        assert bad["TIERLINE_QUEUE"] == "support"
