"""panoramisk's protocol class, fed by our byte framing.

We keep panoramisk 1.4 for what it does well — ActionIDs, reply futures,
collecting EventList replies — and replace what it gets wrong for us:

* ``data_received`` decodes each TCP read on its own and drops UTF-8
  characters split across reads; here bytes go through
  :class:`~router.ami.framing.FrameSplitter` first.
* Events go straight to the listener as plain dicts (no
  ``CaseInsensitiveDict`` per event: that alone would cap us far below
  20,000 events/s) and are never dispatched to panoramisk callbacks, which
  it would run as fire-and-forget tasks.
* On close, panoramisk queues unanswered actions and re-sends them after
  the next ``FullyBooted``: an ``Originate`` would dial twice. Here every
  unanswered action fails with :class:`~router.errors.AMIError` instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from panoramisk.actions import Action
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from router.ami.framing import Frame, FrameSplitter, parse_frame
from router.errors import AMIActionError, AMIError
from router.logs import get_logger

__all__ = ["FramedAMIProtocol", "open_session"]

_log = get_logger(__name__)


class FramedAMIProtocol(AMIProtocol):  # type: ignore[misc]
    """One TCP connection to Asterisk's manager port."""

    closed: bool
    responses: dict[str, Any]

    def __init__(self, on_frame: Callable[[Frame], None]) -> None:
        super().__init__()
        self._on_frame = on_frame
        self._splitter = FrameSplitter()
        loop = asyncio.get_running_loop()
        self.banner: asyncio.Future[str] = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self.encoding = "utf-8"

    def data_received(self, data: bytes) -> None:
        for raw in self._splitter.feed(data):
            self._dispatch(parse_frame(raw))
        if self._splitter.banner is not None and not self.banner.done():
            self.banner.set_result(self._splitter.banner)
            self.version = self._splitter.banner.partition("/")[2]

    def _dispatch(self, frame: Frame) -> None:
        action_id = frame.get("ActionID")
        if action_id is not None and action_id in self.responses:
            self.handle_message(Message(frame, content=""))
        if "Event" in frame:
            self._on_frame(frame)

    def connection_lost(self, exc: Exception | None) -> None:
        self.close()
        if not self.lost.done():
            self.lost.set_result(None)

    def close(self) -> None:
        """Fail every unanswered action (never re-send), then close."""
        pending = {id(a): a for a in self.responses.values()}
        self.responses.clear()
        for action in pending.values():
            if not action.future.done():
                action.future.set_exception(
                    AMIError(f"connection lost before the reply to {action.get('Action')}")
                )
                action.future.exception()  # the caller may be gone; do not warn at GC
        if not self.closed:
            self.closed = True
            self.transport.abort()

    async def request(
        self, fields: Mapping[str, Any], as_list: bool | None, within_s: float
    ) -> Any:
        """Send one action and wait for its reply (a list for event-list actions).

        Raises:
            AMIError: no reply within ``within_s``.
            AMIActionError: ``Response: Error`` (its Message is the text).
        """
        act = Action(dict(fields), as_list=as_list)
        future = self.send(act, as_list=as_list)
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a
            # cancellation that lands as the reply arrives, and stop() then hangs.
            async with asyncio.timeout(within_s):
                reply = await future
        except TimeoutError:
            self.responses.pop(act.id, None)
            raise AMIError(f"no reply to {fields.get('Action')} in time") from None
        first = reply[0] if isinstance(reply, list) else reply
        if first.get("Response") == "Error":
            raise AMIActionError(first.get("Message") or f"{fields.get('Action')} failed")
        return reply


async def open_session(  # noqa: PLR0917 - one AMI login's parts
    host: str,
    port: int,
    username: str,
    secret: str,
    on_frame: Callable[[Frame], None],
    timeout_s: float,
) -> tuple[FramedAMIProtocol, str]:
    """Connect, read the banner and log in (``Events: on``): the protocol and the banner.

    Raises:
        TimeoutError: no connection, banner or login reply within ``timeout_s`` each.
        AMIActionError: the login was refused.
    """
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(timeout_s):
        _, proto = await loop.create_connection(lambda: FramedAMIProtocol(on_frame), host, port)
    try:
        async with asyncio.timeout(timeout_s):
            banner = await proto.banner
        login = {"Action": "Login", "Username": username, "Secret": secret, "Events": "on"}
        await proto.request(login, None, timeout_s)
    except BaseException:
        proto.close()
        raise
    return proto, banner
