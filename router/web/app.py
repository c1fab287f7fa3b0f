"""The Starlette application: page, event stream, JSON, metrics, health.

Every handler reads the :class:`~router.web.live.Wallboard`'s latest board;
none of them touches Redis on its own, except ``/readyz`` which must prove
the store answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from importlib import resources

import orjson
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from router.web.access import TokenGate
from router.web.live import Wallboard
from router.web.metrics import BoardCollector, exposition

__all__ = ["Check", "create_app", "page_language"]

Check = Callable[[], Awaitable[bool]]
"""A readiness probe: True when that dependency is usable."""

SSE_KEEPALIVE_S = 15.0


def page_language(setting: str, accept: str) -> str:
    """``zh`` or ``en``: the config wins, else the browser's first preference."""
    if setting in ("zh", "en"):
        return setting
    for part in accept.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "zh"


def _page() -> str:
    return resources.files("router.web").joinpath("static/wallboard.html").read_text("utf-8")


def create_app(
    board: Wallboard,
    checks: Mapping[str, Check],
    token: str | None = None,
    collectors: Sequence[Collector] = (),
) -> TokenGate:
    """The ASGI app; ``checks`` are the readiness probes (redis, flows, ami...)."""
    page = _page()
    own = CollectorRegistry(auto_describe=True)
    own.register(BoardCollector(lambda: board.board))
    for collector in collectors:  # the router's own, when run inside ``tierline serve``
        own.register(collector)

    async def index(request: Request) -> Response:
        lang = request.query_params.get("lang") or page_language(
            board.config.language, request.headers.get("accept-language", "")
        )
        return HTMLResponse(page.replace("{{LANG}}", "zh" if lang == "zh" else "en"))

    async def api_board(_: Request) -> Response:
        current = board.board
        if current is None:
            return JSONResponse({"error": "no state yet"}, status_code=503)
        return Response(orjson.dumps(current.as_json()), media_type="application/json")

    async def events(request: Request) -> Response:
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(
            _stream(board, request), media_type="text/event-stream", headers=headers
        )

    async def metrics(_: Request) -> Response:
        return Response(
            exposition(REGISTRY) + exposition(own), media_type="text/plain; version=0.0.4"
        )

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(_: Request) -> Response:
        results = {name: await _probe(check) for name, check in checks.items()}
        return JSONResponse(results, status_code=200 if all(results.values()) else 503)

    app = Starlette(routes=[
        Route("/", index), Route("/api/board", api_board), Route("/events", events),
        Route("/metrics", metrics), Route("/healthz", healthz), Route("/readyz", readyz),
    ])  # fmt: skip
    return TokenGate(app, token)


async def _probe(check: Check) -> bool:
    try:
        async with asyncio.timeout(1.0):
            return await check()
    except Exception:  # a probe that fails in any way means "not ready"
        return False


async def _stream(board: Wallboard, request: Request) -> AsyncIterator[bytes]:
    """One SSE message per new board; a comment line keeps proxies from timing out."""
    seen = -1
    while not board.closed and not await request.is_disconnected():
        version, current = await board.next_board(seen, SSE_KEEPALIVE_S)
        if current is None or version == seen:
            yield b": keepalive\n\n"
            continue
        seen = version
        yield b"data: " + orjson.dumps(current.as_json()) + b"\n\n"
