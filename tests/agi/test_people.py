"""The customer's own people, their language and safe identification, over the FastAGI wire.

The whole router (service.run) on a real Redis, the Asterisk double as the
far end: account-manager transfers with the resume after a failed Dial(),
the prompt language from the customer record, and an account number that
links the caller's phone only with the right PIN (digits never kept).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from redis.asyncio import Redis
from structlog.testing import capture_logs

from router.agi.caller import CallTranscript, place_call
from router.agi.double import CallerScript, environment
from router.customers.importer import import_path
from router.flows.resume import Resume
from router.settings import Settings
from router.storage import keys
from tests.agi.serving import IVR, kept_path, serving

UNIQUEID = "1795348509.21"
FLOW = """\
flow: hotline
serves: {dnis: ["4008001234"]}
language: zh
start: triage
nodes:
  triage:
    type: branch
    cases:
      - when: customer.tier == "vip"
        goto: manager
    default: hello
  manager:
    type: transfer
    to: {customer: account_manager}
    context: tierline-people
    ring_s: 20
    fallback: vip_lane
  vip_lane: {type: queue, service: vip}
  hello: {type: play, prompts: [hello], next: who}
  who:
    type: input
    prompt: account
    pattern: "\\\\d{5}"
    max_digits: 5
    verify: true
    account_prefix: C
    sensitive: true
    second_factor: {kind: pin, prompt: pin, pattern: "\\\\d{4}", max_digits: 4}
    retries: 0
    next: known
    fallback: unknown
  known: {type: queue, service: billing}
  unknown: {type: queue, service: general}
"""
PROMPTS = """\
languages: [zh, en, yue]
prompts:
  hello: {zh: "你好", en: "Hello", yue: "你好"}
  account: {zh: "账号", en: "Account", yue: "户口"}
  pin: {zh: "密码", en: "PIN", yue: "密码"}
"""
HEADER = (
    "customer_id,name,tier,list,lifecycle,arpu,tenure_months,credit_score,"
    "language,account_manager,offers,phones,pin,id_last4\n"
)
PIN = "7391"
CUSTOMERS = (
    "C00009,Ma,vip,,stable,480,161,808,zh,am_zhao,,13031455744,,\n"
    f"C00002,Zhang,high,,growth,217,8,637,yue,am_sun,,13900001111,{PIN},0417\n"
)
NEWCOMER = "13700000007"


@pytest.fixture
async def running(tmp_path: Path, redis_url: str) -> AsyncIterator[Settings]:
    shutil.copy(IVR / "routing.yaml", tmp_path / "routing.yaml")
    (tmp_path / "hotline.yaml").write_text(FLOW)
    (tmp_path / "prompts.yaml").write_text(PROMPTS)
    data = tmp_path / "customers.csv"
    data.write_text(HEADER + CUSTOMERS, encoding="utf-8")
    assert (await import_path(redis_url, data)).ok
    async with serving(tmp_path, redis_url) as settings:
        yield settings


def keys_at(start_ms: float, digits: str, step_ms: float = 100.0) -> list[tuple[float, str]]:
    return [(start_ms + i * step_ms, d) for i, d in enumerate(digits)]


async def call(
    settings: Settings, caller: str, digits: list[tuple[float, str]] | None = None,
    script: str = "inbound",
) -> CallTranscript:  # fmt: skip
    env = environment(caller, dnis="4008001234", uniqueid=UNIQUEID, script=script)
    caller_script = CallerScript(digits=digits or [])
    return await place_call("127.0.0.1", settings.agi_port, env, caller_script, speed=10.0, max_s=5)


def sent(record: CallTranscript) -> list[str]:
    return [line for _, who, line in record.exchange if who == "S"]


class TestManagerOverTheWire:
    async def test_vip_is_put_through_to_the_manager_with_a_resume_token(
        self, running: Settings
    ) -> None:
        """A VIP's call leaves as a transfer to am_zhao@tierline-people, ringing 20 s."""
        v = (await call(running, "13031455744")).variables
        assert (v["TIERLINE_ACTION"], v["TIERLINE_TARGET"]) == (
            "transfer", "am_zhao@tierline-people",
        )  # fmt: skip
        assert v["TIERLINE_DIALTIME"] == "20"
        resume = Resume.parse(v["TIERLINE_RESUME"])
        assert resume is not None
        assert (resume.flow, resume.node) == ("hotline", "manager")

    async def test_failed_dial_resumes_at_the_vip_lane(
        self, running: Settings, redis_client: Redis
    ) -> None:
        """Back after a failed Dial(), the same call goes on at the fallback: the VIP lane."""
        token = (await call(running, "13031455744")).variables["TIERLINE_RESUME"]
        v = (await call(running, "13031455744", script=f"inbound?resume={token}")).variables
        assert (v["TIERLINE_ACTION"], v["TIERLINE_QUEUE"], v["TIERLINE_PRIO"]) == (
            "queue", "vip_desk", "40",
        )  # fmt: skip
        path = await kept_path(redis_client, UNIQUEID)
        assert path is not None
        nodes = [step["node"] for step in orjson.loads(path)["steps"]]
        assert nodes[-2:] == ["manager", "vip_lane"]


class TestIdentifyOverTheWire:
    async def test_right_pin_links_the_new_number(
        self, running: Settings, redis_client: Redis
    ) -> None:
        """Account then PIN: the caller is served as the account and the number is linked."""
        typed = keys_at(500, "00002") + keys_at(1500, PIN)
        record = await call(running, NEWCOMER, typed)
        v = record.variables
        assert (v["TIERLINE_QUEUE"], v["TIERLINE_CUSTOMER"]) == ("billing", "C00002")
        assert await redis_client.get(keys.number_key(NEWCOMER)) == "C00002"
        # the record's language, riding on the route's one MSet (no prompt left to play)
        assert sent(record)[-1].startswith('EXEC MSet "CHANNEL(language)=yue,')

    async def test_wrong_pin_links_nothing_and_keeps_no_digits(
        self, running: Settings, redis_client: Redis
    ) -> None:
        """A wrong PIN: unknown caller's route, no link, and neither the PIN tried nor the
        account digits in the kept path or anywhere in Redis."""
        typed = keys_at(500, "00002") + keys_at(1500, "6048")
        with capture_logs() as logs:
            v = (await call(running, NEWCOMER, typed)).variables
            await kept_path(redis_client, UNIQUEID)
        assert logs  # the call did log (its one line, at least)
        assert "6048" not in repr(logs)
        assert "00002" not in repr(logs)
        assert (v["TIERLINE_QUEUE"], v["TIERLINE_CUSTOMER"]) == ("support", "")
        assert await redis_client.get(keys.number_key(NEWCOMER)) is None
        path = await kept_path(redis_client, UNIQUEID)
        assert path is not None
        assert '"node":"who","choice":"(input)"' in path
        everything = [path]
        async for key in redis_client.scan_iter():
            kind = await redis_client.type(key)
            if kind == "string":
                everything.append(f"{key}={await redis_client.get(key)}")
            elif kind == "hash":
                everything.append(f"{key}={await redis_client.hgetall(key)}")
            elif kind == "stream":
                everything.append(repr(await redis_client.xrange(key)))
        text = "\n".join(everything)
        assert "6048" not in text
        assert "00002" not in path  # the account digits typed are not kept either
        assert PIN not in text

    async def test_pin_prompt_follows_the_account_prompt(self, running: Settings) -> None:
        """The router asks the account, then the PIN, each as one GET DATA."""
        typed = keys_at(500, "00002") + keys_at(1500, PIN)
        asked = [line for line in sent(await call(running, NEWCOMER, typed)) if "GET DATA" in line]
        assert [line.split()[2] for line in asked] == ["account", "pin"]
