"""A call that ends in the IVR has its path in Redis before the router lets go of it.

Live on Asterisk 22.10.1: after a self-service
hang-up the dialplan ran ``Hangup()`` 1 ms after the route's MSet, and the
AMI listener wrote the call's record at that ``Hangup`` while the path was
still waiting to be written, so every contained call had an empty path
(``tierline report``: 0 % contained, no exit points). Here the Asterisk
double plays the same exchange, and the path is read the instant the
router closes the socket: no waiting, as the listener does not wait.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from redis.asyncio import Redis

from router.agi.caller import CallTranscript, place_call
from router.agi.double import CallerScript, environment
from router.settings import Settings
from router.storage import keys
from tests.agi.serving import IVR, serving

UNIQUEID = "1796221217.11"
FLOW = """\
flow: hotline
serves: {dnis: ["10086"]}
start: menu
nodes:
  menu:
    type: menu
    prompt: restricted_menu
    options: {"1": self_service, "2": billing, "3": later}
    fallback: billing
  self_service: {type: play, prompts: [self_service], next: goodbye}
  goodbye: {type: hangup, prompt: goodbye, reason: self_service}
  later: {type: callback, service: billing, prompt: callback_ok}
  billing: {type: queue, service: billing}
"""
PROMPTS = """\
languages: [en]
prompts:
  restricted_menu: {en: "Self-service press 1, billing press 2."}
  self_service: {en: "Your balance has been sent by text message."}
  goodbye: {en: "Goodbye."}
  callback_ok: {en: "Your callback request is registered."}
"""


@pytest.fixture
async def running(tmp_path: Path, redis_url: str) -> AsyncIterator[Settings]:
    shutil.copy(IVR / "routing.yaml", tmp_path / "routing.yaml")
    (tmp_path / "hotline.yaml").write_text(FLOW)
    (tmp_path / "prompts.yaml").write_text(PROMPTS)
    async with serving(tmp_path, redis_url) as settings:
        yield settings


async def call(settings: Settings, digit: str) -> CallTranscript:
    env = environment("13900002222", dnis="10086", uniqueid=UNIQUEID)
    script = CallerScript(digits=[(1500.0, digit)])
    return await place_call("127.0.0.1", settings.agi_port, env, script, speed=10.0, max_s=5)


async def path_now(redis: Redis) -> list[str]:
    """The kept path's nodes, read once, right now ([] when nothing is there yet)."""
    text = await redis.get(keys.ivr_path_key(UNIQUEID))
    return [step["node"] for step in orjson.loads(text)["steps"]] if text else []


class TestPathBeforeHangup:
    async def test_self_service_hangup_path_is_there_when_the_socket_closes(
        self, running: Settings, redis_client: Redis
    ) -> None:
        """Menu 1 -> play -> hangup: the route says hangup and the path is already kept."""
        record = await call(running, "1")
        assert record.variables["TIERLINE_ACTION"] == "hangup"
        assert await path_now(redis_client) == ["menu", "self_service", "goodbye"]

    async def test_callback_path_is_there_when_the_socket_closes(
        self, running: Settings, redis_client: Redis
    ) -> None:
        """Menu 3 -> callback: the dialplan hangs up at once, so the path is kept first."""
        record = await call(running, "3")
        assert record.variables["TIERLINE_ACTION"] == "callback"
        assert await path_now(redis_client) == ["menu", "later"]
