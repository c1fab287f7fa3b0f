"""Guided marketing and the post-call survey of the shipped telecom flow, over the AGI wire.

The issue's report: 13900001111 pressed 2 (tech) and reached sales, because
the old offer step played one prompt and went to sales whatever key was
pressed. The shipped flows run here unchanged except for their opening
hours (open all day), so the outcome never depends on the clock.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from router.agi.caller import CallTranscript, place_call
from router.agi.double import CallerScript, environment
from router.customers.model import Customer, Lifecycle
from router.customers.store import RedisCustomerStore
from router.settings import Settings
from router.storage import keys
from tests.agi.serving import IVR, serving

OFFERED = "1795348509.1"  # percent(50) of offer_check holds for this uniqueid
CALLER = "13900001111"
ZHANG = Customer(
    "C00002",
    name="张三",
    tier="high",
    lifecycle=Lifecycle.GROWTH,
    offers=("Phone trade-in bonus", "Cloud storage 2TB", "Roaming pack Asia"),
    phones=(CALLER,),
)
# Prompt lengths in samples (8 kHz): welcome 1 s, offer intro 0.5 s, the rest 1 s.
PROMPTS = {
    f"tierline/{name}": 8000
    for name in (
        "welcome", "offer_trade_in", "offer_cloud_storage", "offer_roaming_asia", "main_menu",
        "please_hold", "survey_intro", "survey_csat", "survey_resolved", "survey_thanks",
    )
} | {"tierline/offer_intro": 4000}  # fmt: skip


@pytest.fixture
async def running(tmp_path: Path, redis_url: str, redis_client: Redis) -> AsyncIterator[Settings]:
    for path in IVR.glob("*.yaml"):  # flows, prompts, offers, backends...
        shutil.copy(path, tmp_path / path.name)
    telecom = (IVR / "telecom.yaml").read_text()
    weekly = 'weekly: {mon-fri: "08:00-20:00", sat-sun: "09:00-18:00"}'
    assert weekly in telecom
    telecom = telecom.replace(weekly, 'weekly: {mon-sun: "00:00-24:00"}')
    telecom = telecom.replace("    holidays: CN\n", "").replace("    closed: [2026-12-31]\n", "")
    (tmp_path / "telecom.yaml").write_text(telecom)
    await RedisCustomerStore(redis_client).upsert(ZHANG)
    async with serving(tmp_path, redis_url) as settings:
        yield settings


async def call(
    settings: Settings,
    digits: list[tuple[float, str]],
    *,
    script: str = "inbound",
    variables: dict[str, str] | None = None,
) -> CallTranscript:
    env = environment(CALLER, dnis="10086", uniqueid=OFFERED, script=script)
    plan = CallerScript(digits=digits, prompts=PROMPTS, variables=dict(variables or {}))
    return await place_call("127.0.0.1", settings.agi_port, env, plan, speed=4.0, max_s=20)


async def stream(redis: Redis, key: str) -> list[dict[str, str]]:
    return [dict(fields) for _, fields in await redis.xrange(key)]


def played(record: CallTranscript) -> list[str]:
    """The prompts the router asked for, in order."""
    return [
        line.split()[2]
        for _, who, line in record.exchange
        if who == "S" and line.startswith(("STREAM FILE", "GET DATA"))
    ]


class TestOffersOverTheWire:
    async def test_the_reported_call_reaches_tech(
        self, running: Settings, redis_client: Redis
    ) -> None:
        """13900001111 pressing 2 during the welcome is a menu choice: tech, no offer played."""
        v = (await call(running, [(500.0, "2")])).variables
        assert (v["TIERLINE_ACTION"], v["TIERLINE_QUEUE"]) == ("queue", "tech_vip")
        assert "TL_OFFER" not in v
        assert await stream(redis_client, keys.OFFERS_STREAM) == []

    async def test_2_during_an_offer_is_still_tech(
        self, running: Settings, redis_client: Redis
    ) -> None:
        """The report as a caller who waits for the offer: 2 there is the menu's 2, tech."""
        record = await call(running, [(3000.0, "2")])
        assert played(record)[-1] == "tierline/offer_trade_in"
        assert record.variables["TIERLINE_QUEUE"] == "tech_vip"
        events = await stream(redis_client, keys.OFFERS_STREAM)
        assert [(e["event"], e["offer"]) for e in events] == [("presented", "Phone trade-in bonus")]

    async def test_9_during_an_offer_is_still_the_english_desk(
        self, running: Settings, redis_client: Redis
    ) -> None:
        """Offer keys 8/7/* leave every main-menu digit alone: 9 is English, as on the menu."""
        record = await call(running, [(3000.0, "9")])
        assert played(record)[-2:] == ["tierline/offer_trade_in", "tierline/english_desk"]
        assert record.variables["TIERLINE_QUEUE"] == "english_desk"

    async def test_next_then_back_keeps_the_callers_own_choice(
        self, running: Settings, redis_client: Redis
    ) -> None:
        """7 plays the next offer, * goes back to the main menu, where 2 is tech."""
        record = await call(running, [(3000.0, "7"), (5000.0, "*"), (7000.0, "2")])
        assert played(record) == [
            "tierline/welcome", "tierline/offer_intro", "tierline/offer_trade_in",
            "tierline/offer_cloud_storage", "tierline/main_menu",
        ]  # fmt: skip
        assert record.variables["TIERLINE_QUEUE"] == "tech_vip"
        events = await stream(redis_client, keys.OFFERS_STREAM)
        assert [(e["event"], e["offer"], e["position"]) for e in events] == [
            ("presented", "Phone trade-in bonus", "1"),
            ("presented", "Cloud storage 2TB", "2"),
        ]

    async def test_the_accept_key_during_the_intro_takes_the_first_offer(
        self, running: Settings, redis_client: Redis
    ) -> None:
        """8 during the offer intro is heard: the first offer is taken, not lost."""
        record = await call(running, [(1250.0, "8")])
        assert played(record)[-2:] == ["tierline/offer_intro", "tierline/please_hold"]
        v = record.variables
        assert (v["TIERLINE_QUEUE"], v["TL_OFFER"]) == ("sales", "Phone trade-in bonus")
        events = await stream(redis_client, keys.OFFERS_STREAM)
        assert [(e["event"], e["offer"]) for e in events] == [
            ("presented", "Phone trade-in bonus"), ("accepted", "Phone trade-in bonus"),
        ]  # fmt: skip

    async def test_the_next_key_during_the_intro_plays_the_second_offer(
        self, running: Settings, redis_client: Redis
    ) -> None:
        """7 during the offer intro passes over the first offer: the second one plays."""
        record = await call(running, [(1250.0, "7")])
        assert played(record)[1:3] == ["tierline/offer_intro", "tierline/offer_cloud_storage"]
        events = await stream(redis_client, keys.OFFERS_STREAM)
        assert [(e["event"], e["offer"]) for e in events][:2] == [
            ("presented", "Phone trade-in bonus"), ("presented", "Cloud storage 2TB"),
        ]  # fmt: skip

    async def test_a_menu_digit_during_the_intro_is_the_callers_menu_choice(
        self, running: Settings, redis_client: Redis
    ) -> None:
        """2 during the offer intro is the main menu's 2: tech, no offer played or recorded."""
        record = await call(running, [(1250.0, "2")])
        assert played(record) == ["tierline/welcome", "tierline/offer_intro"]
        assert record.variables["TIERLINE_QUEUE"] == "tech_vip"
        assert await stream(redis_client, keys.OFFERS_STREAM) == []

    async def test_an_accept_routes_to_the_offers_lane_and_is_a_conversion(
        self, running: Settings, redis_client: Redis
    ) -> None:
        """8 on the second offer: sales lane, TL_OFFER in the screen pop, conversion stored."""
        v = (await call(running, [(3000.0, "7"), (5000.0, "8")])).variables
        assert (v["TIERLINE_QUEUE"], v["TIERLINE_PRIO"]) == ("sales", "30")
        assert v["TL_OFFER"] == "Cloud storage 2TB"
        assert v["TIERLINE_SURVEY"] == "telecom.csat"
        accepted = [
            e for e in await stream(redis_client, keys.OFFERS_STREAM) if e["event"] == "accepted"
        ]
        assert len(accepted) == 1
        got = accepted[0]
        assert (got["offer"], got["customer_id"], got["flow"], got["uniqueid"]) == (
            "Cloud storage 2TB", "C00002", "telecom", OFFERED,
        )  # fmt: skip
        assert len(got["flow_version"]) == 12
        assert CALLER not in str(got)


class TestPostCallSurveyOverTheWire:
    async def test_answers_are_stored_with_tier_and_queue(
        self, running: Settings, redis_client: Redis
    ) -> None:
        """Back after the agent hung up: 5 then 1 are stored for this call, tier and queue."""
        record = await call(
            running,
            [(2500.0, "5"), (4500.0, "1")],
            script="inbound?survey=telecom.csat&queue=tech_vip",
        )
        assert record.variables["TIERLINE_ACTION"] == "hangup"
        answers = await stream(redis_client, keys.SURVEYS_STREAM)
        assert [(a["question"], a["answer"]) for a in answers] == [("csat", "5"), ("resolved", "1")]
        assert {(a["uniqueid"], a["tier"], a["queue"], a["flow"]) for a in answers} == {
            (OFFERED, "high", "tech_vip", "telecom")
        }

    async def test_the_survey_leaves_the_calls_routing_variables_alone(
        self, running: Settings, redis_client: Redis
    ) -> None:
        """The survey's closing MSet sets only the hangup: reason, queue, prio stay the route's."""
        routed = (await call(running, [(500.0, "2")])).variables
        assert (routed["TIERLINE_QUEUE"], routed["TIERLINE_ACTION"]) == ("tech_vip", "queue")
        after = await call(
            running,
            [(2500.0, "5"), (4500.0, "1")],
            script="inbound?survey=telecom.csat&queue=tech_vip",
            variables=routed,
        )
        assert after.variables == {**routed, "TIERLINE_ACTION": "hangup"}

    @pytest.mark.parametrize(
        "token", ["telecom.main_menu", "telecom.nowhere", "x;Dial(evil).csat", "telecom"]
    )
    async def test_a_token_that_names_no_post_call_survey_runs_nothing(
        self, running: Settings, redis_client: Redis, token: str
    ) -> None:
        """A forged or stale survey token: the call is hung up, nothing played or stored."""
        record = await call(running, [], script=f"inbound?survey={token}")
        assert record.variables["TIERLINE_ACTION"] == "hangup"
        assert played(record) == []
        assert await stream(redis_client, keys.SURVEYS_STREAM) == []
