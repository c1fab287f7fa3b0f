"""Redis clients tuned for the call path.

redis-py's defaults retry a failed command ten times with backoff (a
refused connection took over 4 s to fail), and its plain pool raises
``MaxConnectionsError`` under load. On the call path a slow answer is as
bad as none, so: short timeouts, no retries, and a blocking pool that waits
(briefly) for a free connection instead of failing.
"""

from __future__ import annotations

from collections.abc import Iterable

from redis.asyncio import BlockingConnectionPool, Connection, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from router.settings import Settings

__all__ = ["CallPathConnection", "bulk_client", "call_path_client", "warm_pool"]


class CallPathConnection(Connection):
    """A connection that writes without a timeout task and reads under the socket timeout.

    redis-py runs every write under ``asyncio.wait_for`` when a socket
    timeout is set: a task per command, about a quarter of the router's CPU
    per call. A call-path command is a few hundred bytes, so the write only
    fills the transport buffer and never waits on a healthy socket; a stuck
    server is caught on the read, which keeps the socket timeout (a cheap
    timer, no task), and any cancellation still disconnects (redis-py's own
    handling), so no half-read connection goes back to the pool.
    """

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        timeout, self.socket_timeout = self.socket_timeout, None
        try:
            await super().send_packed_command(command, check_health)
        finally:
            self.socket_timeout = timeout


def call_path_client(settings: Settings, url: str) -> Redis:
    """A client for per-call work: fail fast, never retry.

    The socket timeout is kept inside the lookup deadline so that a slow
    server is normally caught by redis-py's own timeout, which closes the
    connection cleanly; the caller's deadline (task cancellation) is only
    the backstop for pool waits and connects.
    """
    deadline = settings.lookup_deadline_ms / 1000
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=settings.redis_pool_size,
        timeout=deadline,
        socket_connect_timeout=settings.redis_connect_timeout_ms / 1000,
        socket_timeout=min(settings.redis_socket_timeout_ms / 1000, deadline * 0.8),
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
        connection_class=CallPathConnection,
    )
    return Redis(connection_pool=pool)


def bulk_client(url: str, timeout_s: float = 30.0) -> Redis:
    """A client for imports, exports and reports: patient, few connections."""
    return Redis.from_url(
        url,
        socket_connect_timeout=5.0,
        socket_timeout=timeout_s,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
    )


async def warm_pool(client: Redis, connections: int) -> int:
    """Open ``connections`` pooled connections before calls arrive; returns how many opened.

    A burst of calls on a cold pool would otherwise pay TCP connect plus the
    client handshake inside their lookup deadline, all at once. Connections
    are opened one after another, not gathered: a burst of handshakes would
    itself hold the loop past the read timeout. A store that is down is not
    fatal: the router serves default routes and the pool connects later.
    """
    pool = client.connection_pool
    held = []
    try:
        for _ in range(connections):
            try:
                held.append(await pool.get_connection())  # type: ignore[no-untyped-call]
            except (RedisError, OSError):
                break
    finally:
        for conn in held:
            await pool.release(conn)
    return len(held)
