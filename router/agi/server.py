"""The FastAGI server: accept, read the environment, route, always close.

Routing is by the script name before ``?`` in ``agi_network_script``
(``inbound?lang=zh`` -> ``inbound``); the query and ``agi_arg_N`` land in
``CallInfo.params``. A handler is ``async def handler(session, call)``.

The server closes the socket when the handler returns or fails: Asterisk
never closes it after a hangup (agi/08a), so a forgotten close would leak
one fd and one Asterisk thread per call.

Peers outside the allow-list (``router.agi.peers``) are aborted at accept.
Warnings a peer can cause (bad sessions, refused peers) go through one
``RateLimitedLog``, so a flood costs a few lines and a count. On ``stop``,
calls still running after the drain are cut: each leaves with the route its
handler registered with ``AGISession.on_cut`` (or none: the dialplan's
fallback), and each cut is logged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable
from urllib.parse import parse_qsl

from router.agi.connection import AGIConnection
from router.agi.peers import LOOPBACK, PeerFilter
from router.agi.session import AGISession, AGITimeouts
from router.customers.phone import normalise_or_none
from router.errors import AGIError, CallHungUp
from router.logs import bind_call, get_logger, mask_number
from router.ratelimit import RateLimitedLog
from router.types import CallInfo

__all__ = ["AGIServer", "EarlyStart", "Handler", "call_info", "calling_number"]

log = get_logger("tierline.agi")

Handler = Callable[[AGISession, CallInfo], Awaitable[None]]
SWEEP_S = 0.1
CUT_S = 2.0
"""How long a cut call may take to set its route after the drain."""


@runtime_checkable
class EarlyStart(Protocol):
    """A handler that starts work (the caller lookup) once ``agi_callerid`` is in.

    Asterisk writes the environment a line at a time, so the caller id can
    arrive a few hundred microseconds before the blank line ending it.
    """

    def prefetch(self, env: Mapping[str, str]) -> None: ...


def calling_number(raw: str) -> str:
    """Pure: ``agi_callerid`` normalised, or "" when anonymous or unusable."""
    return normalise_or_none(raw) or "" if raw not in ("", "unknown") else ""


def call_info(env: Mapping[str, str], at: datetime | None = None) -> CallInfo:
    """Pure: the environment as a ``CallInfo`` (caller number normalised)."""
    script = env.get("agi_network_script", "")
    name, _, query = script.partition("?")
    params = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    index = 1
    while f"agi_arg_{index}" in env:
        params[f"arg{index}"] = env[f"agi_arg_{index}"]
        index += 1
    raw = env.get("agi_callerid", "")
    dnis = env.get("agi_dnid", "")
    return CallInfo(
        uniqueid=env.get("agi_uniqueid", ""),
        caller=calling_number(raw),
        dnis="" if dnis == "unknown" else dnis,
        at=at or datetime.now(UTC),
        caller_raw=raw,
        caller_name=env.get("agi_calleridname", ""),
        language=params.get("lang") or env.get("agi_language", ""),
        script=name.strip("/"),
        params=params,
    )


class AGIServer:
    """Serves FastAGI on ``host:port`` with a registry of route handlers.

    Args:
        allow: networks whose peers may connect (default: loopback only).
        warnings: where peer-caused warnings go (tests inject a clock).
    """

    def __init__(
        self,
        routes: Mapping[str, Handler] | None = None,
        host: str = "127.0.0.1",
        port: int = 4573,
        timeouts: AGITimeouts | None = None,
        *,
        allow: Iterable[str] = LOOPBACK,
        warnings: RateLimitedLog | None = None,
    ) -> None:
        self.routes: dict[str, Handler] = dict(routes or {})
        self.host = host
        self.port = port
        self.timeouts = timeouts or AGITimeouts()
        self.peers = PeerFilter(allow)
        self.warnings = warnings or RateLimitedLog(log)
        self._server: asyncio.Server | None = None
        self._conns: set[AGIConnection] = set()
        self._calls: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._cutting = False
        self.stats = {"calls": 0, "bad_sessions": 0, "refused_peers": 0, "cut_calls": 0}

    def route(self, name: str, handler: Handler) -> None:
        self.routes[name] = handler

    @property
    def active_calls(self) -> int:
        return len(self._calls)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._new_connection, self.host, self.port, backlog=4096, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._sweeper = loop.create_task(self._sweep())
        log.info(
            "agi.listening",
            host=self.host,
            port=self.port,
            routes=sorted(self.routes),
            allow=[str(n) for n in self.peers.networks],
        )

    async def stop(self, drain_s: float = 10.0) -> None:
        """Stop accepting, let calls in flight finish (up to ``drain_s``), cut the rest, close."""
        if self._server is not None:
            self._server.close()
        for conn in list(self._conns):
            if not conn.started:
                conn.reported = True  # shutting down is not the peer's fault
                conn.abort()
        if self._calls:
            log.info("agi.draining", calls=len(self._calls), drain_s=drain_s)
            _, pending = await asyncio.wait(set(self._calls), timeout=drain_s)
            if pending:
                self._cutting = True
                for task in pending:
                    task.cancel()
                await asyncio.wait(pending, timeout=CUT_S + 1.0)
        if self._server is not None:
            await self._server.wait_closed()
        if self._sweeper is not None:
            self._sweeper.cancel()
        self.warnings.flush(force=True)
        log.info("agi.stopped", **self.stats)

    async def _sweep(self) -> None:
        """Enforce every env and reply deadline from one periodic task."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(SWEEP_S)
            now = loop.time()
            for conn in list(self._conns):
                conn.check_deadlines(now)
            self.warnings.flush()

    # ------------------------------------------------------------------ plumbing

    def _new_connection(self) -> AGIConnection:
        conn = AGIConnection(
            self._env_ready, self._closed, self.timeouts.env_s, self.peers.allows, self._caller
        )
        self._conns.add(conn)
        return conn

    def _closed(self, conn: AGIConnection) -> None:
        self._conns.discard(conn)
        if conn.refused:
            self.stats["refused_peers"] += 1
            self.warnings.warning("agi.peer_refused", peer=conn.peer)
        elif conn.failure and not conn.reported:
            self._bad(conn, conn.failure)

    def _caller(self, conn: AGIConnection, env: dict[str, str]) -> None:
        handler = self.routes.get(env.get("agi_network_script", "").partition("?")[0].strip("/"))
        if isinstance(handler, EarlyStart):
            handler.prefetch(env)

    def _env_ready(self, conn: AGIConnection, env: dict[str, str]) -> None:
        conn.started = True
        task = asyncio.get_running_loop().create_task(self._run_call(conn, env))
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)

    async def _run_call(self, conn: AGIConnection, env: dict[str, str]) -> None:
        call = call_info(env)
        session = AGISession(conn, env, self.timeouts)
        bind_call(uniqueid=call.uniqueid)
        self.stats["calls"] += 1
        handler = self.routes.get(call.script)
        try:
            if handler is None:
                self._bad(conn, f"no route for script {call.script!r}", call)
                return
            await handler(session, call)
        except CallHungUp:
            log.debug("agi.hung_up", script=call.script)
        except AGIError as exc:
            self._bad(conn, f"{type(exc).__name__}: {exc}", call)
        except asyncio.CancelledError:
            if not self._cutting:
                raise
            await self._cut(conn, session, call)
        except Exception as exc:
            log.exception("agi.handler_failed", script=call.script, error=repr(exc))
        finally:
            conn.close()

    async def _cut(self, conn: AGIConnection, session: AGISession, call: CallInfo) -> None:
        """The drain is over and this call still runs: leave with its best route, log it."""
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        conn.reported = True  # a stray reply of the interrupted command is not the peer's fault
        self.stats["cut_calls"] += 1
        outcome, queue = await session.leave(CUT_S)
        log.warning(
            "agi.drain_cut",
            script=call.script,
            caller=mask_number(call.caller_raw),
            outcome=outcome,
            queue=queue,
        )

    def _bad(self, conn: AGIConnection, reason: str, call: CallInfo | None = None) -> None:
        if conn.reported:
            return
        conn.reported = True
        self.stats["bad_sessions"] += 1
        self.warnings.warning(
            "agi.bad_session",
            peer=conn.peer,
            reason=reason,
            uniqueid=call.uniqueid if call else "",
            caller=mask_number(call.caller_raw) if call else "",
        )
