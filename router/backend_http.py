"""Adapter: the flows' ``fetch`` and ``notify`` steps over HTTP (httpx, one pool per process).

Why the care: a data step runs while a caller waits in silence, on the
same event loop as every other call. So each request has ONE hard
deadline for everything (pool wait, connect, send, headers, body), applied
with ``asyncio.timeout`` because httpx's own timeouts are per operation;
the body is streamed and abandoned past the backend's size cap; anything
but a 2xx JSON object answer is a failure the flow's ``failed`` exit takes.
Redirects are not followed and proxies from the environment are ignored:
the router only ever talks to the hosts of ``backends.yaml``. Nothing
here raises into the call: every fault is an outcome.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import time
from collections.abc import Mapping
from typing import Any

import httpx

from router.flows import actions as a
from router.flows.backends import Backend
from router.flows.data_steps import extract
from router.logs import get_logger, mask_number
from router.metrics import BACKEND_CALLS, BACKEND_SECONDS

__all__ = ["MAX_CONNECTIONS", "HttpBackends"]

log = get_logger(__name__)


def _absent_once(module: str) -> None:
    """Mark an optional module that is not installed as absent, so trying it costs nothing.

    Why: httpcore tries ``import sniffio`` for every lock and event of every
    request; when it is not installed each try scans ``sys.path`` on disk,
    which measured ~2 ms of CPU per fetch (benchmarks/flows.py). ``None`` in
    ``sys.modules`` is Python's own "known absent" marker: the import fails
    at once, exactly as it would have after the scan.
    """
    if module not in sys.modules and importlib.util.find_spec(module) is None:
        sys.modules[module] = None  # type: ignore[assignment]


_absent_once("sniffio")

MAX_CONNECTIONS = 100
"""Open connections to all backends together; callers beyond wait (within their deadline)."""
KEEPALIVE = 20


class HttpBackends:
    """The router's client for operator backends: create with the service, ``aclose`` at stop."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        limits = httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=KEEPALIVE)
        self._client = httpx.AsyncClient(
            limits=limits,
            timeout=httpx.Timeout(10.0),  # a backstop only: the deadline below is the real one
            follow_redirects=False,
            trust_env=False,
            transport=transport,
            headers={"accept": "application/json", "user-agent": "tierline"},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, action: a.Fetch, backend: Backend, deadline_s: float) -> a.Fetched:
        """The backend's answer mapped into variables, or the outcome that failed it."""
        started = time.perf_counter()
        outcome, doc = await self._within(
            deadline_s, action.method, backend, action.path, action.body, json_answer=True
        )
        values = extract(doc, action.fields) if outcome == "ok" else None
        if outcome == "ok" and values is None:
            outcome = "missing"
        _count("fetch", action.backend, outcome, started)
        return a.Fetched(outcome, values or {})

    async def notify(self, action: a.Notify, backend: Backend, deadline_s: float) -> a.Notified:
        """``ok`` once the gateway answered 2xx; a failure is logged with the number masked."""
        started = time.perf_counter()
        body = {"channel": action.channel, "to": action.to, "text": action.text}
        outcome, _ = await self._within(
            deadline_s, "POST", backend, action.path, body, json_answer=False
        )
        _count("notify", action.backend, outcome, started)
        if outcome != "ok":
            log.warning(
                "notify.failed",
                node=action.node,
                backend=action.backend,
                channel=action.channel,
                to=mask_number(action.to),
                outcome=outcome,
            )
        return a.Notified(outcome)

    async def _within(
        self,
        deadline_s: float,
        method: str,
        backend: Backend,
        path: str,
        body: Mapping[str, str] | None,
        *,
        json_answer: bool,
    ) -> tuple[str, Any]:
        """(outcome, parsed JSON) under one deadline; never raises for the backend's faults."""
        try:
            async with asyncio.timeout(deadline_s):
                return await self._request(method, backend, path, body, json_answer=json_answer)
        except TimeoutError:
            return "timeout", None
        except httpx.HTTPError:
            return "error", None

    async def _request(
        self,
        method: str,
        backend: Backend,
        path: str,
        body: Mapping[str, str] | None,
        *,
        json_answer: bool,
    ) -> tuple[str, Any]:
        url = backend.base_url + path
        payload = None if body is None else dict(body)
        async with self._client.stream(method, url, json=payload) as response:
            if not 200 <= response.status_code < 300:
                return "status", None
            if json_answer and "json" not in response.headers.get("content-type", ""):
                return "type", None
            data = await _read_capped(response, backend.max_body_bytes)
        if data is None:
            return "too_big", None
        if not json_answer:
            return "ok", None
        try:
            return "ok", json.loads(data)
        except (ValueError, UnicodeDecodeError):
            return "bad_json", None


async def _read_capped(response: httpx.Response, cap: int) -> bytes | None:
    """The body; None as soon as it is known to exceed ``cap`` (never read whole)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _count(kind: str, backend: str, outcome: str, started: float) -> None:
    BACKEND_CALLS.labels(kind, backend, outcome).inc()
    BACKEND_SECONDS.labels(kind).observe(time.perf_counter() - started)
