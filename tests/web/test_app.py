"""The web service over HTTP: board JSON, /metrics, health, and the token gate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from router.errors import ConfigError
from router.web.access import check_bind
from router.web.app import create_app, page_language
from router.web.config import AlertRule, WallboardConfig
from router.web.live import Wallboard
from router.web.source import StateSource
from tests.ami.fake_ami import FakeAMI
from tests.web.live import join, listening

TOKEN = "t" * 24
CONFIG = WallboardConfig(
    alerts=(AlertRule(name="vip_queue", metric="waiting", queue="vip_desk", above=0, clear_at=0),)
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeAMI]:
    server = await FakeAMI().start()
    yield server
    await server.close()


async def until_board(board: Wallboard, cond: str) -> None:
    async with asyncio.timeout(3):
        while True:
            current = await board.tick()
            if current is not None and cond in str(current.as_json()):
                return
            await asyncio.sleep(0.05)


def client(app: object, host: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(host, 40000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://wallboard")


class TestBoardAndMetrics:
    async def test_a_join_through_the_ami_reaches_board_metrics_and_alerts(
        self, fake: FakeAMI, redis_client: Redis
    ) -> None:
        """QueueCallerJoin on the AMI wire -> Redis -> board row, gauge and raised alert."""
        board = Wallboard(StateSource(redis_client), CONFIG, ("vip", "normal"))
        app = create_app(board, {})
        async with listening(fake, redis_client):
            await fake.push(join("9.1", "vip_desk", "vip"))
            await until_board(board, "vip_desk")
        async with client(app) as http:
            doc = (await http.get("/api/board")).json()
            metrics = (await http.get("/metrics")).text
        queue = next(q for q in doc["queues"] if q["name"] == "vip_desk")
        tier = next(t for t in doc["tiers"] if t["name"] == "vip")
        assert queue["figures"]["waiting"] == 1
        assert tier["figures"]["waiting"] == 1, [t["name"] for t in doc["tiers"]]
        assert [a["name"] for a in doc["alerts"]] == ["vip_queue"]
        families = {f.name: f for f in text_string_to_metric_families(metrics)}
        waiting = families["tierline_queue_waiting"].samples
        assert [(s.labels["queue"], s.value) for s in waiting] == [("vip_desk", 1.0)]
        assert families["tierline_alerts_active"].samples[0].labels == {"alert": "vip_queue"}

    async def test_redis_down_keeps_the_last_board_and_says_so(self, redis_client: Redis) -> None:
        """The page keeps the last known state, marked stale, when the store goes away."""
        good = StateSource(redis_client)
        assert await good.inputs() is not None
        dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
        source = StateSource(dead)
        source.last = good.last  # what a running board had read before Redis went away
        board = Wallboard(source, CONFIG, ("vip",))
        stale = await board.tick()
        await dead.aclose()
        assert stale is not None
        assert not stale.source_ok
        assert stale.notes == ("store unreachable (ConnectionError)",)


class TestHealth:
    async def test_healthz_and_readyz(self, redis_client: Redis) -> None:
        """healthz says the process lives; readyz fails while a dependency is down."""
        board = Wallboard(StateSource(redis_client), CONFIG, ("vip",))

        async def down() -> bool:
            raise OSError("AMI not connected")

        async def up() -> bool:
            return True

        async with client(create_app(board, {"redis": up})) as http:
            assert (await http.get("/healthz")).text == "ok"
            assert (await http.get("/readyz")).status_code == 200
        async with client(create_app(board, {"redis": up, "ami": down})) as http:
            res = await http.get("/readyz")
        assert res.status_code == 503
        assert res.json() == {"redis": True, "ami": False}


class TestAccess:
    async def test_network_clients_need_the_token(self, redis_client: Redis) -> None:
        """Loopback passes; a LAN client gets 401 without the token, the page with it."""
        board = Wallboard(StateSource(redis_client), CONFIG, ("vip",))
        app = create_app(board, {}, token=TOKEN)
        async with client(app) as local:
            assert (await local.get("/")).status_code == 200
        async with client(app, host="10.1.2.3") as lan:
            assert (await lan.get("/")).status_code == 401
            assert (await lan.get("/metrics")).status_code == 401
            assert (await lan.get("/healthz")).status_code == 200  # probes stay open
            wrong = await lan.get("/metrics", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            ok = await lan.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert ok.status_code == 200
            opened = await lan.get(f"/?token={TOKEN}")
            assert opened.status_code == 303
            assert (await lan.get("/")).status_code == 200  # the cookie is kept

    def test_non_loopback_bind_without_token_refuses_to_start(self) -> None:
        """Never open by default: 0.0.0.0 without a token is a config error."""
        with pytest.raises(ConfigError, match="TIERLINE_WEB_TOKEN_FILE"):
            check_bind("0.0.0.0", None)
        check_bind("127.0.0.1", None)
        check_bind("0.0.0.0", TOKEN)

    @pytest.mark.parametrize(
        ("setting", "accept", "lang"),
        [("auto", "zh-CN,zh;q=0.9", "zh"), ("auto", "en-GB,en;q=0.8", "en"),
         ("auto", "", "zh"), ("en", "zh-CN", "en")],
    )  # fmt: skip
    def test_language(self, setting: str, accept: str, lang: str) -> None:
        """Chinese by default and when the browser prefers it; the config can pin it."""
        assert page_language(setting, accept) == lang


class TestOutboundOnTheBoard:
    async def test_callbacks_pending_follow_the_dialer_and_campaigns_show(
        self, redis_client: Redis
    ) -> None:
        """Pending = the dialer group's backlog + what it holds unacknowledged; campaign states."""
        from router.storage import keys

        board = Wallboard(StateSource(redis_client), CONFIG, ("vip",))
        for n in range(3):
            await redis_client.xadd(keys.CALLBACKS, {"number": f"1390000000{n}"})
        assert (await board.tick()).callbacks_pending == 3  # type: ignore[union-attr]
        await redis_client.xgroup_create(keys.CALLBACKS, keys.DIALER_CALLBACK_GROUP, id="0")
        read = await redis_client.xreadgroup(
            keys.DIALER_CALLBACK_GROUP, "d1", {keys.CALLBACKS: ">"}, count=1
        )
        entry_id = read[0][1][0][0]
        assert (await board.tick()).callbacks_pending == 3  # type: ignore[union-attr]
        await redis_client.xack(keys.CALLBACKS, keys.DIALER_CALLBACK_GROUP, entry_id)
        await redis_client.hset(keys.DIALER_CAMPAIGNS, "spring_offer", "running")
        current = await board.tick()
        assert current is not None
        assert current.callbacks_pending == 2
        assert current.as_json()["campaigns"] == {"spring_offer": "running"}
