"""The router service end to end: FastAGI + flows + policy + store on a real Redis."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from router.agi.caller import CallTranscript, place_call
from router.agi.double import CallerScript, environment
from router.customers.model import Customer
from router.customers.store import RedisCustomerStore
from router.settings import Settings
from tests.agi.serving import IVR, kept_path, serving
from tests.redis_server import free_port

UNIQUEID = "1795348509.9"
FLOW = """\
flow: hotline
serves: {dnis: ["4008001234"]}
start: menu
nodes:
  menu:
    type: menu
    prompt: main_menu
    options: {"1": billing}
    fallback: billing
  billing: {type: queue, service: billing}
"""
PROMPTS = """\
languages: [en]
prompts:
  main_menu: {en: "Billing press 1."}
"""


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    shutil.copy(IVR / "routing.yaml", tmp_path / "routing.yaml")
    (tmp_path / "hotline.yaml").write_text(FLOW)
    (tmp_path / "prompts.yaml").write_text(PROMPTS)
    return tmp_path


@pytest.fixture
async def running(flows_dir: Path, redis_url: str) -> AsyncIterator[Settings]:
    async with serving(flows_dir, redis_url) as settings:
        yield settings


async def call(settings: Settings, caller: str, dnis: str, digit: str = "") -> CallTranscript:
    env = environment(caller, dnis=dnis, uniqueid=UNIQUEID)
    # Typed well after set-up (150 ms real time at speed 10), inside the menu's 5 s wait.
    script = CallerScript(digits=[(1500.0, digit)] if digit else [], prompts={"main_menu": 2000})
    return await place_call("127.0.0.1", settings.agi_port, env, script, speed=10.0, max_s=5)


class TestService:
    async def test_vip_walks_the_flow_to_its_lane(
        self, running: Settings, redis_client: Redis
    ) -> None:
        """A known VIP pressing 1 lands in the VIP billing lane with the screen pop set."""
        store = RedisCustomerStore(redis_client)
        vip = Customer("C1", tier="vip", offers=("5G Unlimited",), phones=("13800138000",))
        await store.upsert(vip)
        record = await call(running, "13800138000", "4008001234", "1")
        v = record.variables
        assert (v["TIERLINE_ACTION"], v["TIERLINE_QUEUE"], v["TIERLINE_PRIO"]) == (
            "queue", "vip_desk", "40",
        )  # fmt: skip
        assert (v["TIERLINE_CUSTOMER"], v["TIERLINE_TIER"]) == ("C1", "vip")
        assert v["TIERLINE_OFFERS"] == "5G Unlimited"
        path = await kept_path(redis_client, UNIQUEID)
        assert path is not None
        assert '"node":"menu","choice":"billing"' in path  # option name, not the digit

    async def test_unserved_number_goes_to_the_policy(self, running: Settings) -> None:
        """A dialled number no flow serves still gets a route from the policy."""
        record = await call(running, "13912345678", "9999")
        assert record.variables["TIERLINE_QUEUE"] == "support"
        assert record.variables["TIERLINE_CUSTOMER"] == ""

    async def test_starts_and_routes_with_the_store_down(self, flows_dir: Path) -> None:
        """No Redis at start: the router still starts, and a caller still gets a route."""
        dead = f"redis://127.0.0.1:{free_port()}/0"
        async with serving(flows_dir, dead) as settings:
            record = await call(settings, "13800138000", "4008001234", "1")
        v = record.variables
        assert (v["TIERLINE_ACTION"], v["TIERLINE_QUEUE"]) == ("queue", "billing")
        assert v["TIERLINE_CUSTOMER"] == ""


LANGUAGE_FLOW = FLOW.replace(
    "start: menu\nnodes:\n",
    'start: zh\nnodes:\n  zh: {type: set, language: zh, vars: {TL_LANG: "zh"}, next: menu}\n',
)


class TestSetNodeLanguage:
    async def test_language_is_set_before_the_prompt_and_the_call_routes(
        self, tmp_path: Path, redis_url: str
    ) -> None:
        """A set node with ``language:`` runs: CHANNEL(language) is written before the first
        prompt and the flow's own route is set (it used to fail every call reaching it)."""
        shutil.copy(IVR / "routing.yaml", tmp_path / "routing.yaml")
        (tmp_path / "hotline.yaml").write_text(LANGUAGE_FLOW)
        both = PROMPTS.replace("[en]", "[en, zh]").replace('1."}', '1.", zh: "账单请按1。"}')
        (tmp_path / "prompts.yaml").write_text(both)
        async with serving(tmp_path, redis_url) as settings:
            record = await call(settings, "13912345678", "4008001234", "1")
        sent = [line for _, who, line in record.exchange if who == "S"]
        assert sent[0] == "ANSWER"
        assert sent[1] == 'EXEC MSet "TL_LANG=zh,CHANNEL(language)=zh"'
        assert sent[2].startswith("GET DATA ")
        v = record.variables
        assert (v["TIERLINE_ACTION"], v["TIERLINE_QUEUE"]) == ("queue", "billing")
        assert v["CHANNEL(language)"] == "zh"
