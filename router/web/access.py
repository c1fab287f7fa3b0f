"""Who may see the wallboard: loopback freely, anyone else with the token.

The board shows queue state, not customer data, but it is still the
centre's business: bound beyond loopback, every request but the health
probes needs ``Authorization: Bearer <token>`` or a cookie set once by
opening ``/?token=<token>`` on the wall screen. Never open by default: a
non-loopback bind without a token refuses to start.
"""

from __future__ import annotations

import hmac
import ipaddress

from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from router.errors import ConfigError

__all__ = ["COOKIE", "OPEN_PATHS", "TokenGate", "check_bind"]

COOKIE = "tierline_token"
OPEN_PATHS = frozenset({"/healthz", "/readyz"})


def _loopback(host: str | None) -> bool:
    if host is None:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def check_bind(host: str, token: str | None) -> None:
    """Refuse a bind that would put the board on the network without a token."""
    if not _loopback(host) and not token:
        raise ConfigError(
            f"Config 'TIERLINE_WEB_HOST' is {host!r} (not loopback): set TIERLINE_WEB_TOKEN_FILE "
            "so the wallboard is never open to the network."
        )


class TokenGate:
    """ASGI middleware: loopback clients pass; others show the token."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token or ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        client = conn.client.host if conn.client else None
        if conn.url.path in OPEN_PATHS or _loopback(client) or self._shown(conn):
            await self.app(scope, receive, send)
            return
        offered = conn.query_params.get("token", "")
        if self.token and offered and hmac.compare_digest(offered, self.token):
            await self._set_cookie(scope, receive, send, conn)
            return
        await PlainTextResponse("token required", status_code=401)(scope, receive, send)

    def _shown(self, conn: HTTPConnection) -> bool:
        if not self.token:
            return False
        auth = conn.headers.get("authorization", "")
        given = auth[7:] if auth.lower().startswith("bearer ") else conn.cookies.get(COOKIE, "")
        return bool(given) and hmac.compare_digest(given, self.token)

    async def _set_cookie(
        self, scope: Scope, receive: Receive, send: Send, conn: HTTPConnection
    ) -> None:
        response: Response = RedirectResponse(conn.url.path, status_code=303)
        response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
        await response(scope, receive, send)
