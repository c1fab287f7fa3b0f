"""A sample operator backend for the demo: balances, top-ups, orders and an SMS gateway.

What ``ivr_flows/backends.yaml`` points at out of the box (127.0.0.1:8600),
so the sample flows' fetch and notify steps answer on a fresh checkout:
``tierline backend-demo`` runs it alone, ``tierline serve --demo`` beside
the router. Its data is derived from the sample customers (``samples/
customers.csv``): every customer has a balance and a last top-up, fixed
per customer id so a demo call is repeatable; any 6-10 digit order number
has a status (numbers starting with 9 are unknown: a 404, the flow's
failed exit). The gateway accepts every message and keeps nothing; the
log line masks the number. Not for production: it is the shape an
operator's own backend answers in.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import socket
from collections.abc import Coroutine
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from router.logs import get_logger, mask_number

__all__ = ["DEMO_PORT", "beside", "demo_app", "serve_demo_backend"]

log = get_logger(__name__)

DEMO_PORT = 8600
_TOPUP = ("credited", "credited", "pending", "failed")
_ORDER = ("processing", "shipped", "shipped", "delivered")
TODAY = date(2026, 12, 2)
"""The demo's fixed "today", so the dates a demo call speaks never drift."""


def _spread(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)


def load_customers(path: Path) -> dict[str, float]:
    """Customer id -> ARPU from the sample CSV (empty when the file is missing)."""
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["customer_id"]: float(row.get("arpu") or 0) for row in csv.DictReader(handle)}


def balance_of(customer_id: str, arpu: float) -> dict[str, object]:
    """A repeatable balance and last top-up for one customer."""
    n = _spread(customer_id)
    balance = round(arpu * (n % 97) / 40 - 5, 2)  # a few are in debt
    top = _TOPUP[n % len(_TOPUP)]
    when = (TODAY - timedelta(days=n % 20)).isoformat()
    amount = (50, 100, 200)[n % 3]
    return {
        "balance": f"{balance:.2f}",
        "currency": "CNY",
        "topup": {"status": top, "amount": f"{amount}.00", "date": when},
    }


def order_of(order_no: str) -> dict[str, object] | None:
    """A repeatable status for an order number; None for an unknown one."""
    if not (order_no.isdigit() and 6 <= len(order_no) <= 10) or order_no.startswith("9"):
        return None
    n = _spread(order_no)
    status = _ORDER[n % len(_ORDER)]
    eta = TODAY + timedelta(days=1 + n % 5) if status != "delivered" else TODAY
    return {"order": order_no, "status": status, "eta": eta.isoformat(), "carrier": "SF"}


def demo_app(customers: dict[str, float]) -> Starlette:
    """The ASGI app over ``customers`` (id -> ARPU)."""

    async def balance(request: Request) -> JSONResponse:
        cid = request.path_params["customer_id"]
        if cid not in customers:
            return JSONResponse({"error": "unknown customer"}, status_code=404)
        return JSONResponse(balance_of(cid, customers[cid]))

    async def order(request: Request) -> JSONResponse:
        found = order_of(request.path_params["order_no"])
        if found is None:
            return JSONResponse({"error": "unknown order"}, status_code=404)
        return JSONResponse(found)

    async def sms(request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "not JSON"}, status_code=400)
        to = str(body.get("to", "")) if isinstance(body, dict) else ""
        if not to:
            return JSONResponse({"error": "no recipient"}, status_code=400)
        log.info("demo.sms", to=mask_number(to), chars=len(str(body.get("text", ""))))
        return JSONResponse({"accepted": True})

    return Starlette(
        routes=[
            Route("/crm/customers/{customer_id}/balance", balance),
            Route("/orders/{order_no}", order),
            Route("/gateway/sms", sms, methods=["POST"]),
        ]
    )


async def serve_demo_backend(
    customers_csv: Path, host: str = "127.0.0.1", port: int = DEMO_PORT,
    stop: asyncio.Event | None = None,
) -> None:  # fmt: skip
    """Serve until ``stop`` is set (or forever)."""
    import uvicorn  # noqa: PLC0415 - the web extra, only when the demo runs

    config = uvicorn.Config(
        demo_app(load_customers(customers_csv)),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    # Bound here, not by uvicorn: on a busy port uvicorn calls sys.exit() inside its
    # task, and a SystemExit escaping a task stops the event loop -- the router with it.
    sock = socket.create_server((host, port))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    waiter = asyncio.create_task((stop or asyncio.Event()).wait())
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    waiter.cancel()
    await task


async def beside(
    main: Coroutine[Any, Any, None], customers_csv: Path, port: int = DEMO_PORT
) -> None:
    """Run ``main`` (the router) with the demo backend next to it; stop both together.

    The backend is a convenience: when the web extra is missing or port
    8600 is taken, the router still serves (the flows' data steps then
    take their failed exits), with one warning.
    """
    stop = asyncio.Event()

    async def guarded() -> None:
        try:
            await serve_demo_backend(customers_csv, port=port, stop=stop)
        except (ImportError, OSError) as exc:
            log.warning("demo_backend.not_started", error=repr(exc)[:200])

    task = asyncio.create_task(guarded())
    try:
        await main
    finally:
        stop.set()
        await task
