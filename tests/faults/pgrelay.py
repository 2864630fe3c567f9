"""A TCP relay between the bot (asyncpg) and PostgreSQL that a test makes stumble on demand.

    async with PgRelay.to(url) as relay:
        conn = await asyncpg.connect(relay.url(url))
        relay.abort_on("insert into t", after=True)  # the insert runs, its reply never arrives

The relay listens on 127.0.0.1 (a free port) and forwards every accepted connection to the
server, in the test's event loop. It can reset every connection (`reset`), close them cleanly
(`cut`), freeze all traffic like a network partition (`stall` / `resume`), refuse new
connections (`refuse_new`), and abort a connection when a given SQL statement is sent
(`abort_on`): before the server gets it, or after the server ran it but before the client
hears the outcome.

To see the statements it reads PostgreSQL's wire protocol (protocol 3.0): the client's first
message (no type byte: an int32 length, an int32 code, the rest), then typed messages on both
streams (a type byte, an int32 length counting itself, the body). An SSLRequest or a
GSSENCRequest is answered `N` by the relay itself and never forwarded, so the traffic stays
plaintext and readable. A stream it cannot frame is forwarded untouched from then on.

A stall holds everything, the relay's own `N` included, and closes nothing; while stalled each
direction reads until a few hundred kilobytes wait, then leaves the rest in the sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
HOST = "127.0.0.1"

# What asyncpg raises on a connection the relay resets, cuts or aborts: during an operation
# (and on a new connection refused by the relay) `ConnectionDoesNotExistError` ("connection was
# closed in the middle of operation", a `PostgresConnectionError`, not an `InterfaceError`);
# once asyncpg has seen the loss, `InterfaceError` ("connection is closed"); the socket's
# `ConnectionError` rarely. Not `OSError` as a whole: it would take in `TimeoutError`.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    ConnectionError,
)

_STATEMENTS = b"QPB"  # the client's messages that name a statement: Query, Parse, Bind
_REPLY_ENDS = b"CE"  # the server's messages that end a statement's reply: CommandComplete, Error
_HIGH_WATER = 256 * 1024  # bytes held per direction while stalled before the relay stops reading


@dataclass(eq=False)
class AbortRule:
    """A statement that aborts its connection (`PgRelay.abort_on`)."""

    fragment: str
    times: int = 1
    after: bool = False
    triggers: list[str] = field(default_factory=list)  # per abort: the message, "Q", "P" or "B"
    armed: int = 0  # `after` rules: connections waiting for the reply to abort

    @property
    def aborted(self) -> int:
        return len(self.triggers)

    def wants(self, sql: str) -> bool:
        return self.aborted + self.armed < self.times and self.fragment.lower() in sql.lower()


class _Pipe:
    """One direction of a relayed connection: the bytes read and not yet forwarded."""

    def __init__(self, *, frontend: bool) -> None:
        self.frontend = frontend
        self.pending = bytearray()
        self.passthrough = 0  # bytes left of a message forwarded as it comes
        self.startup = frontend  # the client's first message has no type byte
        self.raw = False  # unframeable: forwarded untouched
        self.eof = False  # the sending side is gone (after `pending`)
        self.reset = False  # ... with an error, e.g. a reset


class _Side(asyncio.Protocol):
    """One socket of a relayed connection: the client's or the server's."""

    def __init__(self, link: _Link) -> None:
        self.link = link
        self.transport: asyncio.Transport | None = None
        self.write_paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.link.made(self)

    def data_received(self, data: bytes) -> None:
        self.link.received(self, data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.link.lost(self, exc)

    def pause_writing(self) -> None:
        self.write_paused = True
        self.link.update_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        self.link.update_reading()


def _cstring(body: bytes, start: int) -> tuple[str, int]:
    """The NUL-terminated string at `start`, and where the next field begins."""
    end = body.find(b"\0", start)
    if end < 0:
        end = len(body)
    return body[start:end].decode("utf-8", "replace"), end + 1


def _kill(transport: asyncio.Transport | None) -> None:
    """Close with a TCP RST: no lingering, unsent bytes dropped."""
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class _Link:
    """One relayed connection: the client's socket, the server's, and the bytes between."""

    def __init__(self, relay: PgRelay) -> None:
        self.relay = relay
        self.client = _Side(self)
        self.server = _Side(self)
        self.up = _Pipe(frontend=True)  # client -> server
        self.down = _Pipe(frontend=False)  # server -> client
        self.statements: dict[str, str] = {}  # prepared statement name -> SQL (Parse)
        self.armed: tuple[AbortRule, str] | None = None  # abort at the end of the next reply
        self.closed = False
        self.connecting: asyncio.Task[None] | None = None

    # --- the sockets ----------------------------------------------------------------------

    def made(self, side: _Side) -> None:
        if side is self.server:
            if self.closed:
                _kill(side.transport)
            else:
                self.pump()
            return
        relay = self.relay
        if relay.refusing:
            relay.refused += 1
            self.closed = True
            assert side.transport is not None
            side.transport.close()
            return
        relay.connections += 1
        relay.links.add(self)
        self.connecting = asyncio.get_running_loop().create_task(self.connect())

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.create_connection(lambda: self.server, *self.relay.upstream)
        except OSError:
            self.close(reset=False)  # no server: the client's connection ends

    def received(self, side: _Side, data: bytes) -> None:
        if self.closed:
            return
        (self.up if side is self.client else self.down).pending += data
        self.pump()

    def lost(self, side: _Side, exc: Exception | None) -> None:
        if self.closed:
            return
        pipe = self.up if side is self.client else self.down
        pipe.eof = True
        pipe.reset = exc is not None
        self.pump()  # forwards what is left, then ends the connection (not while stalled)

    def update_reading(self) -> None:
        """Read from a side only while its bytes can go on: not while the other side's socket
        is full, nor (stalled) once many bytes wait. Between stalls only a statement still
        incomplete waits, and that one is read whole, however long."""
        stalled = self.relay.is_stalled
        directions = ((self.client, self.up, self.server), (self.server, self.down, self.client))
        for source, pipe, dest in directions:
            transport = source.transport
            if transport is None or transport.is_closing():
                continue
            wanted = not dest.write_paused and not (stalled and len(pipe.pending) >= _HIGH_WATER)
            if wanted and not transport.is_reading():
                transport.resume_reading()
            elif not wanted and transport.is_reading():
                transport.pause_reading()

    def close(self, *, reset: bool) -> None:
        if self.closed:
            return
        self.closed = True
        self.relay.links.discard(self)
        if self.armed is not None:
            self.armed[0].armed -= 1
            self.armed = None
        if self.connecting is not None:
            self.connecting.cancel()
        for side in (self.client, self.server):
            if reset:
                _kill(side.transport)
            elif side.transport is not None:
                side.transport.close()

    # --- the bytes ------------------------------------------------------------------------

    def pump(self) -> None:
        """Forward what can be forwarded, unless the relay is stalled."""
        if self.closed:
            return
        if not self.relay.is_stalled:
            if self.server.transport is not None:
                self.forward(self.up, self.server.transport)
            if not self.closed:
                assert self.client.transport is not None
                self.forward(self.down, self.client.transport)
            if self.closed:
                return
            up_done = self.up.eof and (self.server.transport is not None or not self.up.pending)
            if up_done or self.down.eof:
                self.close(reset=self.up.reset or self.down.reset)
                return
        self.update_reading()

    def forward(self, pipe: _Pipe, dest: asyncio.Transport) -> None:
        """Forward `pipe`'s complete messages (and the parts of those not looked into)."""
        buf = pipe.pending
        out = bytearray()
        pos = 0
        while pos < len(buf):
            if pipe.raw:
                out += buf[pos:]
                pos = len(buf)
            elif pipe.passthrough:
                n = min(pipe.passthrough, len(buf) - pos)
                out += buf[pos : pos + n]
                pos += n
                pipe.passthrough -= n
            elif pipe.startup:
                if len(buf) - pos < 8:
                    break
                length, code = struct.unpack_from("!ii", buf, pos)
                if length == 8 and code in (SSL_REQUEST, GSSENC_REQUEST):
                    assert self.client.transport is not None
                    self.client.transport.write(b"N")  # no encryption: ask again in plaintext
                    pos += 8
                elif length < 8:
                    pipe.raw = True
                else:
                    pipe.startup = False
                    pipe.passthrough = length
            else:
                if len(buf) - pos < 5:
                    break
                kind = buf[pos]
                (length,) = struct.unpack_from("!i", buf, pos + 1)
                if length < 4:
                    pipe.raw = True
                elif pipe.frontend and kind in _STATEMENTS:
                    end = pos + 1 + length
                    if len(buf) < end:
                        break  # the whole statement first
                    if self.inspect(chr(kind), bytes(buf[pos + 5 : end])):
                        return  # aborted before the server saw it
                    out += buf[pos:end]
                    pos = end
                elif not pipe.frontend and kind in _REPLY_ENDS and self.armed is not None:
                    rule, trigger = self.armed
                    self.armed = None
                    rule.armed -= 1
                    self.abort(rule, trigger)  # the statement ran; its outcome is lost
                    return
                else:
                    pipe.passthrough = 1 + length
        del buf[:pos]
        if out and not dest.is_closing():
            dest.write(out)

    def inspect(self, kind: str, body: bytes) -> bool:
        """Apply the rules to a statement of the client; whether the connection was aborted."""
        if kind == "Q":
            sql, _ = _cstring(body, 0)
        elif kind == "P":
            name, at = _cstring(body, 0)
            sql, _ = _cstring(body, at)
            self.statements[name] = sql
        else:  # Bind: the portal, then the prepared statement it executes
            _, at = _cstring(body, 0)
            name, _ = _cstring(body, at)
            if name not in self.statements:
                return False
            sql = self.statements[name]
        for rule in self.relay.rules:
            if not rule.wants(sql):
                continue
            if not rule.after:
                self.abort(rule, kind)
                return True
            # After it ran: a Parse runs nothing (and may be all of `conn.prepare`), the
            # Bind that executes the statement comes next.
            if self.armed is None and kind != "P":
                self.armed = (rule, kind)
                rule.armed += 1
        return False

    def abort(self, rule: AbortRule, trigger: str) -> None:
        rule.triggers.append(trigger)
        self.relay.aborted += 1
        self.close(reset=True)


class PgRelay:
    """A relay on 127.0.0.1 (a free port) to a PostgreSQL server; an async context manager."""

    def __init__(self, upstream_host: str = HOST, upstream_port: int = 5432) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.connections = 0  # accepted and relayed
        self.refused = 0  # accepted and closed at once (`refuse_new`)
        self.aborted = 0  # connections aborted by a rule
        self.rules: list[AbortRule] = []
        self.links: set[_Link] = set()
        self.is_stalled = False
        self.refusing = False
        self._server: asyncio.Server | None = None
        self._port: int | None = None

    @classmethod
    def to(cls, database_url: str) -> PgRelay:
        """A relay to the server of `database_url` (its host and port)."""
        parts = urlsplit(database_url)
        return cls(parts.hostname or HOST, parts.port or 5432)

    # --- life -----------------------------------------------------------------------------

    async def start(self) -> PgRelay:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Link(self).client, HOST, 0)
        self._port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def close(self) -> None:
        """Stop listening and close every connection (cleanly)."""
        if self._server is not None:
            self._server.close()
        tasks = [link.connecting for link in self.links if link.connecting is not None]
        for link in list(self.links):
            link.close(reset=False)
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        await asyncio.sleep(0)  # the transports' last callbacks

    async def __aenter__(self) -> PgRelay:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the relay is not started")
        return self._port

    def url(self, database_url: str) -> str:
        """`database_url` through the relay, in plaintext (`sslmode=disable`)."""
        parts = urlsplit(database_url)
        userinfo, at, _ = parts.netloc.rpartition("@")
        query = [
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if key not in ("sslmode", "host", "port")
        ]
        query.append(("sslmode", "disable"))
        netloc = f"{userinfo}{at}{HOST}:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query)))

    @property
    def open_connections(self) -> int:
        return len(self.links)

    # --- faults ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Abort every current connection with a TCP RST, both sides."""
        for link in list(self.links):
            link.close(reset=True)

    def cut(self) -> None:
        """Close every current connection cleanly (FIN), both sides."""
        for link in list(self.links):
            link.close(reset=False)

    def stall(self) -> None:
        """Forward nothing, either way, on any connection (new ones hang), close nothing."""
        self.is_stalled = True

    def resume(self) -> None:
        """Forward again, the held bytes first."""
        self.is_stalled = False
        for link in list(self.links):
            link.pump()

    @contextlib.contextmanager
    def stalled(self) -> Iterator[None]:
        self.stall()
        try:
            yield
        finally:
            self.resume()

    def refuse_new(self, refuse: bool = True) -> None:
        """While on, close each new connection at once; the current ones keep working."""
        self.refusing = refuse

    def abort_on(self, fragment: str, *, times: int = 1, after: bool = False) -> AbortRule:
        """Abort (RST) a connection whose client runs a statement containing `fragment`
        (case-insensitive), `times` times in all: before the statement reaches the server, or
        (`after`) once the server's reply to it is complete (its CommandComplete or
        ErrorResponse), before the client gets that reply.

        A statement is the SQL of a simple Query, of a Parse, or of a Bind naming a statement
        prepared (Parse) earlier on the connection. Before: the first of those with the
        fragment aborts, so a Parse does (even of `conn.prepare` alone). After: the Query or
        the Bind that executes it arms the connection; a Parse does not."""
        rule = AbortRule(fragment, times, after)
        self.rules.append(rule)
        return rule

    def clear_rules(self) -> None:
        self.rules.clear()
