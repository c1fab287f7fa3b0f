"""``AGIConnection`` and ``AGISession`` byte by byte, with no socket in between.

The reported flake ("read() called while another coroutine is already
waiting for incoming data") is a ``StreamReader`` error. The server side has
no ``StreamReader``: the connection is an ``asyncio.Protocol`` whose
``data_received`` completes at most one reply future, and ``send`` refuses a
second command while one is in flight, so no two coroutines can ever wait on
the same socket. These tests provoke the situations that would have raced:
a late reply after a timeout with the next command already asked for, a
``HANGUP`` line arriving mid-command or in the same segment as a reply, and
two coroutines issuing commands at once.
"""

from __future__ import annotations

import asyncio

import pytest

from router.agi.connection import FORGED_END, AGIConnection
from router.agi.double import environment
from router.agi.session import AGISession, AGITimeouts
from router.errors import AGIProtocolError, AGITimeoutError, CallHungUp

ENV = "".join(f"{line}\n" for line in environment("13800138000")).encode()


class FakeTransport(asyncio.Transport):
    """Collects what the server writes; ``close`` calls ``connection_lost`` like a real one."""

    def __init__(self, conn: AGIConnection) -> None:
        super().__init__()
        self.conn = conn
        self.written: list[bytes] = []
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            asyncio.get_running_loop().call_soon(self.conn.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 40000) if name == "peername" else default


class Harness:
    """One connection fed by hand; ``envs`` and ``closed`` record the callbacks."""

    def __init__(self, command_s: float = 5.0) -> None:
        self.envs: list[dict[str, str]] = []
        self.closed = 0
        self.conn = AGIConnection(self._env, self._closed, env_timeout_s=1.0)
        self.transport = FakeTransport(self.conn)
        self.conn.connection_made(self.transport)
        self.timeouts = AGITimeouts(command_s=command_s)

    def _env(self, conn: AGIConnection, env: dict[str, str]) -> None:
        self.envs.append(env)

    def _closed(self, conn: AGIConnection) -> None:
        self.closed += 1

    def session(self) -> AGISession:
        self.conn.data_received(ENV)
        return AGISession(self.conn, self.envs[-1], self.timeouts)

    def reply(self, *lines: str) -> None:
        self.conn.data_received("".join(f"{line}\n" for line in lines).encode())

    def expire(self) -> None:
        """What the server's sweeper does once the reply deadline has passed."""
        self.conn.check_deadlines(asyncio.get_running_loop().time() + 3600)


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


class TestEnvironment:
    async def test_environment_in_one_segment_is_parsed_at_once(self) -> None:
        """The whole environment in one chunk yields one env with every key."""
        h = Harness()
        h.session()
        assert h.envs[0]["agi_callerid"] == "13800138000"
        assert h.envs[0]["agi_network_script"] == "inbound"

    async def test_environment_split_byte_by_byte(self) -> None:
        """An environment trickling in one byte at a time gives the same result."""
        h = Harness()
        for i in range(len(ENV)):
            h.conn.data_received(ENV[i : i + 1])
        assert len(h.envs) == 1
        assert h.envs[0] == dict(line.split(": ", 1) for line in ENV.decode().splitlines() if line)

    async def test_environment_and_first_reply_in_one_segment(self) -> None:
        """Bytes after the blank line are replies, not environment."""
        h = Harness()
        h.conn.data_received(ENV)
        session = AGISession(h.conn, h.envs[0], h.timeouts)
        task = asyncio.create_task(session.get_var("X"))
        await settle()
        h.reply("200 result=1 (x)")
        assert await task == "x"

    async def test_crlf_environment_is_accepted(self) -> None:
        """A peer ending lines with CRLF gets the same environment (values without CR)."""
        h = Harness()
        h.conn.data_received(ENV.replace(b"\n", b"\r\n"))
        assert h.envs == [dict(line.split(": ", 1) for line in ENV.decode().splitlines() if line)]

    async def test_garbage_in_a_partial_environment_fails_at_once(self) -> None:
        """A bad line is refused when it arrives, not when the blank line does."""
        h = Harness()
        h.conn.data_received(b"agi_network: yes\nGET VARIABLE X\nagi_")
        assert h.conn.closed
        assert "not an AGI environment line" in h.conn.failure


class TestForgedEnvironment:
    """A blank line in caller text ends the environment early (docs/agi.md, issue 11.1)."""

    FORGED = environment("13900001111", name="x\nagi_callingpres: 0\n")

    async def test_tail_in_the_same_segment_starts_no_call(self) -> None:
        """Asterisk's own lines right after the forged blank line: no env is handed on."""
        h = Harness()
        h.conn.data_received("".join(f"{line}\n" for line in self.FORGED).encode())
        assert h.envs == []
        assert h.conn.closed
        assert h.conn.failure == FORGED_END

    async def test_tail_after_the_first_command_fails_it(self) -> None:
        """The tail arriving later fails the command in flight instead of passing for a reply."""
        h = Harness()
        text = "".join(f"{line}\n" for line in self.FORGED)
        forged, _, tail = text.partition("agi_callingpres: 0\n\n")
        h.conn.data_received((forged + "agi_callingpres: 0\n\n").encode())
        assert len(h.envs) == 1
        session = AGISession(h.conn, h.envs[0], h.timeouts)
        task = asyncio.create_task(session.set_var("X", "1"))
        await settle()
        h.conn.data_received(tail.encode())
        with pytest.raises(AGIProtocolError, match="forged environment"):
            await task
        assert h.conn.closed


class TestPeerAdmission:
    async def test_refused_peer_is_aborted_before_reading(self) -> None:
        """A peer the filter refuses is aborted in connection_made and flagged as refused."""
        conn = AGIConnection(lambda c, e: None, lambda c: None, 1.0, admit=lambda host: False)
        transport = FakeTransport(conn)
        conn.connection_made(transport)
        assert conn.refused
        assert conn.closed
        assert transport.closing
        assert transport.written == []


class TestOneCommandInFlight:
    async def test_second_send_while_one_is_in_flight_is_refused(self) -> None:
        """The connection never holds two reply waiters."""
        h = Harness()
        h.session()
        h.conn.send(b"NOOP\n", 5.0)
        with pytest.raises(AGIProtocolError, match="already in flight"):
            h.conn.send(b"NOOP\n", 5.0)

    async def test_two_coroutines_get_their_own_replies(self) -> None:
        """Concurrent callers are serialised: the second command waits for the first reply."""
        h = Harness()
        session = h.session()
        first = asyncio.create_task(session.get_var("A"))
        second = asyncio.create_task(session.get_var("B"))
        await settle()
        assert h.transport.written == [b"GET VARIABLE A\n"]
        h.reply("200 result=1 (a)")
        await settle()
        assert h.transport.written[-1] == b"GET VARIABLE B\n"
        h.reply("200 result=1 (b)")
        assert (await first, await second) == ("a", "b")

    async def test_late_reply_after_timeout_never_answers_the_next_command(self) -> None:
        """After a timeout the session refuses more commands; the late reply ends the socket."""
        h = Harness(command_s=0.01)
        session = h.session()
        first = asyncio.create_task(session.get_var("A"))
        await settle()
        h.expire()
        with pytest.raises(AGITimeoutError):
            await first
        nxt = asyncio.create_task(session.get_var("B"))
        with pytest.raises(AGIProtocolError, match="session unusable"):
            await nxt
        assert h.transport.written == [b"GET VARIABLE A\n"]  # B never went out
        h.reply("200 result=1 (late A)")  # the reply to A, now unexpected
        await settle()
        assert h.conn.closed
        assert "no command in flight" in h.conn.failure

    async def test_reply_split_across_segments(self) -> None:
        """A reply arriving in pieces completes once, when its newline arrives."""
        h = Harness()
        session = h.session()
        task = asyncio.create_task(session.get_var("A"))
        await settle()
        h.conn.data_received(b"200 resu")
        await settle()
        assert not task.done()
        h.conn.data_received(b"lt=1 (a b)\n")
        assert await task == "a b"


class TestHangupLine:
    async def test_hangup_mid_command_then_the_reply(self) -> None:
        """HANGUP before the reply marks the call dead; the reply still answers the command."""
        h = Harness()
        session = h.session()
        task = asyncio.create_task(session.get_var("A"))
        await settle()
        h.reply("HANGUP")
        await settle()
        assert not task.done()
        h.reply("200 result=1 (a)")
        assert await task == "a"
        assert session.hung_up
        with pytest.raises(CallHungUp):
            await session.answer()  # not a dead-channel command: never sent
        assert h.transport.written == [b"GET VARIABLE A\n"]

    async def test_reply_and_hangup_in_one_segment(self) -> None:
        """``200 result=-1`` and ``HANGUP`` together: one reply, one hangup, no stray waiter."""
        h = Harness()
        session = h.session()
        task = asyncio.create_task(session.play(["hello-world"]))
        await settle()
        h.reply("200 result=-1 endpos=4160", "HANGUP")
        with pytest.raises(CallHungUp):
            await task
        assert session.hung_up
        follow = asyncio.create_task(session.get_var("X"))  # allowed on a dead channel
        await settle()
        h.reply("200 result=0")
        assert await follow is None
        assert not h.conn.failure

    async def test_hangup_line_while_a_dead_channel_command_is_in_flight(self) -> None:
        """The HANGUP line is never taken for the reply of the command in flight."""
        h = Harness()
        session = h.session()
        h.conn.hung_up = True  # the channel went away earlier (result=-1 seen)
        task = asyncio.create_task(session.set_var("A", "1"))
        await settle()
        h.reply("HANGUP")
        await settle()
        assert not task.done()
        h.reply("200 result=1")
        await task
        assert not h.conn.failure

    async def test_eof_mid_command_is_a_hangup(self) -> None:
        """The socket closing while a command waits ends it as CallHungUp, not an error."""
        h = Harness()
        session = h.session()
        task = asyncio.create_task(session.get_var("A"))
        await settle()
        h.conn.eof_received()
        h.conn.connection_lost(None)
        with pytest.raises(CallHungUp):
            await task


class TestDoubleClient:
    async def test_double_client_refuses_a_second_waiting_read(self) -> None:
        """place_call's socket has one waiter at most: a second read fails loudly, never races."""
        from router.agi.caller import _Wire

        wire = _Wire()
        first = asyncio.create_task(wire.read(None))
        await settle()
        with pytest.raises(RuntimeError, match="already waiting"):
            await wire.read(None)
        wire.data_received(b"EXEC MSet x\n")
        assert await first == b"EXEC MSet x\n"
        assert await wire.read(0.0) is None  # nothing new: a timeout, not an error
