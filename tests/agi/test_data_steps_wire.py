"""Data steps over the AGI wire: a hung backend fails 200 calls by their deadline, slows nobody."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from router.agi import AGIServer
from router.agi.caller import CallTranscript, place_call
from router.agi.double import environment
from router.backend_http import HttpBackends
from router.calls import CallRouter
from router.flows.callbacks import MemoryCallbackStore
from router.flows.registry import FlowRegistry
from router.flows.trace import SimplePolicy
from router.metrics import BACKEND_CALLS
from tests.agi.conftest import MemoryStore
from tests.flows.data_flows import CATALOG, QUICK, SELF_SERVICE
from tests.flows.fake_backend import FakeBackend, fake_backend
from tests.flows.helpers import QUEUES

CALLS = 200


@pytest.fixture
async def backend() -> AsyncIterator[FakeBackend]:
    async with fake_backend() as found:
        yield found


@pytest.fixture
async def server(tmp_path: Path, backend: FakeBackend) -> AsyncIterator[AGIServer]:
    """The production inbound handler, its flows calling the fake backend under ``kind``."""
    (tmp_path / "main.yaml").write_text(SELF_SERVICE.replace("timeout_ms: 200", "timeout_ms: 8000"))
    (tmp_path / "quick.yaml").write_text(QUICK)
    (tmp_path / "prompts.yaml").write_text(CATALOG)
    base = f"http://127.0.0.1:{backend.port}"
    (tmp_path / "backends.yaml").write_text(
        textwrap.dedent(
            f"""\
            call_budget_ms: 9000
            backends:
              crm: {{base_url: "{base}/hang"}}
              sms: {{base_url: "{base}/ok"}}
            """
        )
    )
    data = HttpBackends()
    flows = FlowRegistry(tmp_path, QUEUES)
    router = CallRouter(
        MemoryStore(), SimplePolicy(), flows, MemoryCallbackStore(), "general", data=data
    )
    srv = AGIServer({"inbound": router}, port=0)
    await srv.start()
    yield srv
    await srv.stop(drain_s=1.0)
    await data.aclose()


def call_to(server: AGIServer, dnis: str, n: int) -> asyncio.Task[CallTranscript]:
    env = environment(f"1380013{n:04d}", dnis=dnis, uniqueid=f"1795348509.{n}")
    return asyncio.create_task(place_call("127.0.0.1", server.port, env, max_s=60))


class TestHungBackend:
    async def test_200_calls_fail_by_deadline_and_others_pass(
        self, server: AGIServer, backend: FakeBackend
    ) -> None:
        """200 calls stuck on a fetch take failed; a flow-only call finishes while they wait."""
        timeouts = BACKEND_CALLS.labels("fetch", "crm", "timeout")
        before = timeouts._value.get()
        stuck = [call_to(server, "100", n) for n in range(CALLS)]
        # The deadline (8 s) is long enough for requests to reach the backend on a loaded
        # box; the test waits on arrivals, not on a clock.
        await backend.until_hanging(50)
        quick = await call_to(server, "200", 9999)
        assert quick.variables["TIERLINE_QUEUE"] == "general"
        assert not any(task.done() for task in stuck), "a flow-only call waited for the fetches"
        done = await asyncio.gather(*stuck)
        assert {r.variables.get("TIERLINE_QUEUE") for r in done} == {"general"}
        assert {r.variables.get("TIERLINE_REASON") for r in done} == {"simple"}
        assert timeouts._value.get() - before == CALLS  # every one by its deadline
        assert not backend.release.is_set()  # the backend never answered any of them

    async def test_answering_backend_speaks_and_notifies(
        self, server: AGIServer, backend: FakeBackend, tmp_path: Path
    ) -> None:
        """With an answering backend the call hears its balance and the SMS is posted."""
        text = (tmp_path / "backends.yaml").read_text().replace("/hang", "/ok")
        (tmp_path / "backends.yaml").write_text(text)
        flows = server.routes["inbound"].flows  # type: ignore[attr-defined]
        assert flows.reload()
        record = await call_to(server, "100", 1)
        sent = [line for _, who, line in record.exchange if who == "S"]
        assert any("balance_is" in line for line in sent)
        assert any("say_yuan" in line for line in sent)
        assert record.variables["TIERLINE_ACTION"] == "hangup"
        assert record.variables["TIERLINE_REASON"] == "self_service"
        assert [r[:2] for r in backend.requests] == [
            ("GET", "/ok/customers//balance"),  # an unknown caller has no customer id
            ("POST", "/ok/send"),
        ]
