"""The HTTP adapter of fetch/notify against a real, misbehaving backend on a TCP port."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator

import pytest

from router.backend_http import HttpBackends
from router.flows import actions as a
from router.flows.backends import Backend
from router.logs import configure_logging
from tests.flows.fake_backend import FakeBackend, fake_backend

FIELDS = {"balance": ("balance",), "status": ("topup", "status")}


def fetch(kind: str, *, method: str = "GET", body: dict[str, str] | None = None) -> a.Fetch:
    return a.Fetch("balance", "crm", method, f"/{kind}/customers/C1", body, FIELDS, 300)


@pytest.fixture
async def backend() -> AsyncIterator[FakeBackend]:
    async with fake_backend(slow_s=1.0) as found:
        yield found


@pytest.fixture
async def client() -> AsyncIterator[HttpBackends]:
    http = HttpBackends()
    yield http
    await http.aclose()


def crm(backend: FakeBackend, cap: int = 65_536) -> Backend:
    return Backend(base_url=f"http://127.0.0.1:{backend.port}", max_body_bytes=cap)


class TestFetch:
    async def test_json_fields_become_variables(
        self, backend: FakeBackend, client: HttpBackends
    ) -> None:
        """A 2xx JSON answer maps each field (nested by dots) into text variables."""
        got = await client.fetch(fetch("ok"), crm(backend), 1.0)
        assert got == a.Fetched("ok", {"balance": "35.20", "status": "credited"})
        assert backend.requests == [("GET", "/ok/customers/C1", b"")]

    async def test_post_sends_the_body_as_json(
        self, backend: FakeBackend, client: HttpBackends
    ) -> None:
        """A POST carries its body as a JSON object."""
        got = await client.fetch(
            fetch("ok", method="POST", body={"msisdn": "138"}), crm(backend), 1
        )
        assert got.ok
        method, _path, body = backend.requests[0]
        assert (method, json.loads(body)) == ("POST", {"msisdn": "138"})

    @pytest.mark.parametrize(
        ("kind", "outcome"),
        [
            ("html", "type"),
            ("500", "status"),
            ("bad", "bad_json"),
            ("small", "missing"),
            ("huge", "too_big"),
            ("slow", "timeout"),
            ("hang", "timeout"),
        ],
    )
    async def test_every_bad_answer_is_an_outcome(
        self, backend: FakeBackend, client: HttpBackends, kind: str, outcome: str
    ) -> None:
        """HTML, 500, broken or partial JSON, a huge body and a slow or hung backend all fail."""
        got = await client.fetch(fetch(kind), crm(backend), 0.2)
        assert got == a.Fetched(outcome)

    async def test_declared_size_over_the_cap_is_refused(
        self, backend: FakeBackend, client: HttpBackends
    ) -> None:
        """A 2 kB answer passes the default cap and fails a 256-byte one."""
        assert (await client.fetch(fetch("big"), crm(backend), 1.0)).ok
        got = await client.fetch(fetch("big"), crm(backend, cap=256), 1.0)
        assert got == a.Fetched("too_big")

    async def test_nobody_listening_is_an_error(self, client: HttpBackends) -> None:
        """A refused connection is the error outcome, not an exception."""
        got = await client.fetch(fetch("ok"), Backend(base_url="http://127.0.0.1:9"), 1.0)
        assert got == a.Fetched("error")


class TestNotify:
    async def test_gateway_gets_channel_number_and_text(
        self, backend: FakeBackend, client: HttpBackends
    ) -> None:
        """The message goes as JSON {channel, to, text}; a 2xx is ok."""
        action = a.Notify("sms", "sms", "/send", "sms", "13800138000", "Balance 35.20", 300)
        gateway = Backend(base_url=f"http://127.0.0.1:{backend.port}/ok")
        assert await client.notify(action, gateway, 1.0) == a.Notified("ok")
        _method, path, body = backend.requests[0]
        assert path == "/ok/send"
        assert json.loads(body) == {"channel": "sms", "to": "13800138000", "text": "Balance 35.20"}

    async def test_failure_is_logged_with_the_number_masked(
        self, backend: FakeBackend, client: HttpBackends
    ) -> None:
        """A gateway error is the node's failure, logged without the full number."""
        buf = io.StringIO()
        configure_logging("debug", buf)
        try:
            action = a.Notify("sms", "sms", "/send", "sms", "13800138000", "hi", 300)
            gateway = Backend(base_url=f"http://127.0.0.1:{backend.port}/500")
            assert await client.notify(action, gateway, 1.0) == a.Notified("status")
        finally:
            configure_logging("info")
        rows = [json.loads(line) for line in buf.getvalue().splitlines() if line.startswith("{")]
        failed = [r for r in rows if r.get("event") == "notify.failed"]
        assert len(failed) == 1
        assert failed[0]["to"] == "138****8000"
        assert failed[0]["outcome"] == "status"
        assert "13800138000" not in buf.getvalue()
