"""The dialled number picks the flow: AGI argument first, normalised, listed numbers only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from router.agi.caller import place_call
from router.agi.double import environment
from router.calls import dialled_number
from router.flows.loader import load_flows
from router.policy import load_routing
from router.settings import Settings
from router.types import CallInfo
from tests.agi.serving import IVR, serving

CAMPAIGN = """\
flow: campaign
serves: {dnis: ["400 820 2020"]}
start: q
nodes:
  q: {type: queue, service: sales}
"""
HOTLINE = """\
flow: hotline
serves: {dnis: ["10086"], script: inbound}
start: q
nodes:
  q: {type: queue, service: billing}
"""
PROMPTS = "languages: [en]\nprompts:\n  please_hold: {en: Please hold.}\n"


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    """The flow files; serving() adds the shipped routing.yaml."""
    (tmp_path / "campaign.yaml").write_text(CAMPAIGN)
    (tmp_path / "hotline.yaml").write_text(HOTLINE)
    (tmp_path / "prompts.yaml").write_text(PROMPTS)
    return tmp_path


@pytest.fixture
async def running(flows_dir: Path, redis_url: str) -> AsyncIterator[Settings]:
    async with serving(flows_dir, redis_url) as settings:
        yield settings


async def queue_of(settings: Settings, dnid: str, *args: str) -> str:
    """The queue the router sets for an unknown caller dialling ``dnid`` with AGI ``args``."""
    env = environment("13912345678", dnis=dnid, args=args)
    record = await place_call("127.0.0.1", settings.agi_port, env, speed=10.0, max_s=5)
    return record.variables["TIERLINE_QUEUE"]


class TestDialledNumberOverTheWire:
    async def test_argument_without_dnid(self, running: Settings) -> None:
        """A Local channel (no agi_dnid) reaches the flow of the number passed as agi_arg_1."""
        assert await queue_of(running, "unknown", "4008202020") == "sales"

    async def test_argument_wins_over_dnid(self, running: Settings) -> None:
        """agi_arg_1 (the DID the dialplan saw) decides, in any spelling of the number."""
        assert await queue_of(running, "+4008202020", "+864008202020") == "sales"
        assert await queue_of(running, "10086", "004008202020") == "sales"

    async def test_plus_before_a_national_dnid(self, running: Settings) -> None:
        """A trunk's +4008202020 in agi_dnid reaches the flow listing 4008202020."""
        assert await queue_of(running, "+4008202020") == "sales"

    async def test_unlisted_number_reaches_the_no_flow_route(self, running: Settings) -> None:
        """The script's flow does not claim numbers it does not list: the policy routes them."""
        assert await queue_of(running, "unknown", "9999") == "support"
        assert await queue_of(running, "9999") == "support"

    async def test_no_number_at_all_uses_the_script_flow(self, running: Settings) -> None:
        """With neither argument nor dnid, the flow serving the AGI script runs."""
        assert await queue_of(running, "unknown") == "billing"
        assert await queue_of(running, "unknown", "") == "billing"


class TestDialledNumber:
    def test_argument_then_dnid_normalised(self) -> None:
        """The first AGI argument, else agi_dnid, in the customers' normal form."""
        at = datetime(2026, 12, 1, tzinfo=UTC)
        assert dialled_number(CallInfo("1.1", "", "+86 10086", at)) == "10086"
        with_arg = CallInfo("1.1", "", "10086", at, params={"arg1": "0086 400-820-2020"})
        assert dialled_number(with_arg) == "4008202020"
        assert dialled_number(CallInfo("1.1", "", "", at, params={"arg1": ""})) == ""


class TestShippedSamples:
    def test_each_sample_number_has_its_flow_and_others_none(self) -> None:
        """The shipped flows list their numbers; an unlisted number gets no flow."""
        queues = frozenset(load_routing(IVR / "routing.yaml").services)
        flows = load_flows(IVR, queues)
        assert flows.for_call("4008202020", "inbound").name == "electronics"  # type: ignore[union-attr]
        assert flows.for_call("+864008202021", "inbound").name == "electronics"  # type: ignore[union-attr]
        assert flows.for_call("10086", "inbound").name == "telecom"  # type: ignore[union-attr]
        assert flows.for_call("4008009999", "inbound") is None
