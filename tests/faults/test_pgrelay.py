"""The PostgreSQL relay of the fault tests (`tests/faults/pgrelay.py`) does what it says.

Against the test server (a database of this module's, asyncpg directly), and against a
stand-in server of the test for what only the bytes show: the relay's own answer to an
SSLRequest, the framing of the protocol in pieces, a reset (RST) against a clean close (FIN)
on both sides.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import asyncpg
import pytest

from tests.store.postgres import fresh_database

from .pgrelay import CANCEL_REQUEST, CONNECTION_ERRORS, GSSENC_REQUEST, SSL_REQUEST, PgRelay

STALL = 0.3  # seconds the relay stays stalled
WAIT = 5.0  # seconds before something that should happen at once is a failure

Connect = Callable[[str], Coroutine[Any, Any, Any]]
Pair = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@pytest.fixture(scope="module")
async def module_database() -> AsyncIterator[str]:
    """A database of this module's own (a new one costs a third of a second)."""
    async with fresh_database() as url:
        yield url


@pytest.fixture
async def database(module_database: str) -> AsyncIterator[str]:
    """The URL of the module's database, with an empty table `t (id int)`."""
    conn = await asyncpg.connect(module_database)
    try:
        await conn.execute("DROP TABLE IF EXISTS t; CREATE TABLE t (id int)")
    finally:
        await conn.close()
    yield module_database


@pytest.fixture
async def relay(database: str) -> AsyncIterator[PgRelay]:
    async with PgRelay.to(database) as relay:
        yield relay


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """`asyncpg.connect`, each connection closed at the end of the test."""
    opened: list[Any] = []

    async def open_connection(url: str) -> Any:
        conn = await asyncio.wait_for(asyncpg.connect(url), WAIT)
        opened.append(conn)
        return conn

    yield open_connection
    for conn in opened:
        conn.terminate()


async def ids(url: str) -> list[int]:
    """The rows of `t`, read on a connection of its own (not through the relay)."""
    conn = await asyncpg.connect(url)
    try:
        return [row["id"] for row in await conn.fetch("SELECT id FROM t ORDER BY id")]
    finally:
        await conn.close()


async def soon(awaitable: Awaitable[Any]) -> Any:
    return await asyncio.wait_for(awaitable, WAIT)


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait (a few milliseconds at a time) until `condition()` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not condition():
        assert loop.time() < deadline, "the condition never held"
        await asyncio.sleep(0.005)


# --- through the test server -------------------------------------------------------------


async def test_queries_and_a_pool_pass_through_the_relay_until_it_closes(
    database: str, connect: Connect
) -> None:
    async with PgRelay.to(database) as relay:
        via = relay.url(database)
        conn = await connect(via)
        await conn.execute("INSERT INTO t VALUES (1)")
        assert await conn.fetchval("SELECT count(*) FROM t WHERE id = $1", 1) == 1
        pool = await asyncpg.create_pool(via, min_size=2, max_size=2)
        try:
            async with pool.acquire() as first, pool.acquire() as second:
                await first.execute("INSERT INTO t VALUES ($1)", 2)
                assert await second.fetchval("SELECT sum(id) FROM t") == 3
            assert await pool.fetchval("SELECT 4") == 4
        finally:
            await pool.close()
        # Messages of hundreds of kilobytes, both ways: a Bind, a Parse, a Query, a row.
        long = "x" * 600_000
        assert await conn.fetchval("SELECT length($1::text)", long) == len(long)
        assert await conn.fetchval(f"SELECT length('{long}')") == len(long)
        await conn.execute(f"SELECT length('{long}')")
        assert await conn.fetchval("SELECT repeat('y', 600000)") == "y" * 600_000
        assert relay.connections == 3
        assert await ids(database) == [1, 2]
        await eventually(lambda: relay.open_connections == 1)  # the pool's two are closed

    with pytest.raises(CONNECTION_ERRORS):  # closing the relay closed its connections
        await soon(conn.fetchval("SELECT 1"))
    with pytest.raises(ConnectionRefusedError):  # ... and its listener
        await soon(asyncpg.connect(via))


async def test_a_stalled_relay_holds_every_byte_until_it_resumes(
    relay: PgRelay, database: str, connect: Connect
) -> None:
    conn = await connect(relay.url(database))
    assert await conn.fetchval("SELECT 1") == 1
    sender = await connect(relay.url(database))
    length = "SELECT length($1::text)"
    assert await sender.fetchval(length, "x") == 1  # prepared: the next call is one Bind
    big = "x" * 2_000_000  # more than the relay holds while stalled
    loop = asyncio.get_running_loop()
    with relay.stalled():
        stalled_at = loop.time()
        query = asyncio.create_task(conn.fetchval("SELECT 2"))
        sending = asyncio.create_task(sender.fetchval(length, big))
        newcomer = asyncio.create_task(connect(relay.url(database)))
        await asyncio.sleep(STALL)
        assert not (query.done() or sending.done() or newcomer.done())
        assert relay.open_connections == 3  # the new one is accepted, nothing is closed
    assert await soon(query) == 2
    assert loop.time() - stalled_at >= STALL
    assert await soon(sending) == len(big)
    second = await soon(newcomer)
    assert await second.fetchval("SELECT 3") == 3
    assert relay.connections == 3


async def test_reset_breaks_the_open_connections_and_new_ones_work(
    relay: PgRelay, database: str, connect: Connect
) -> None:
    idle = await connect(relay.url(database))
    busy = await connect(relay.url(database))
    assert await idle.fetchval("SELECT 1") == 1
    running = asyncio.create_task(busy.fetchval("SELECT pg_sleep(1)"))
    await asyncio.sleep(0.05)
    relay.reset()
    assert relay.open_connections == 0
    with pytest.raises(CONNECTION_ERRORS):
        await soon(running)
    with pytest.raises(CONNECTION_ERRORS):
        await soon(idle.fetchval("SELECT 1"))
    fresh = await connect(relay.url(database))
    assert await fresh.fetchval("SELECT 5") == 5
    assert (relay.connections, relay.open_connections) == (3, 1)


@pytest.mark.parametrize("args", [(), (1,)], ids=["simple", "extended"])
async def test_abort_on_before_the_server_runs_the_statement(
    relay: PgRelay, database: str, connect: Connect, args: tuple[int, ...]
) -> None:
    sql = "insert into t values (1)" if not args else "insert into t values ($1)"
    rule = relay.abort_on("INSERT INTO T", times=2)
    for _ in range(2):
        conn = await connect(relay.url(database))
        assert await conn.fetchval("SELECT 1") == 1  # other statements pass
        with pytest.raises(CONNECTION_ERRORS):
            await soon(conn.execute(sql, *args))
    assert await ids(database) == []
    assert relay.aborted == 2
    assert rule.triggers == (["Q", "Q"] if not args else ["P", "P"])

    conn = await connect(relay.url(database))  # the rule is used up
    await conn.execute(sql, *args)
    assert await ids(database) == [1]
    assert relay.aborted == 2


@pytest.mark.parametrize("args", [(), (1,)], ids=["simple", "extended"])
async def test_abort_on_after_the_server_ran_the_statement(
    relay: PgRelay, database: str, connect: Connect, args: tuple[int, ...]
) -> None:
    sql = "insert into t values (1)" if not args else "insert into t values ($1)"
    relay.abort_on("insert into t", after=True)
    conn = await connect(relay.url(database))
    with pytest.raises(CONNECTION_ERRORS):
        await soon(conn.execute(sql, *args))
    assert await ids(database) == [1]  # it ran and committed; the client never heard
    assert relay.aborted == 1


async def test_abort_on_after_a_statement_in_a_transaction_loses_the_transaction(
    relay: PgRelay, database: str, connect: Connect
) -> None:
    relay.abort_on("insert into t", after=True)
    conn = await connect(relay.url(database))
    with pytest.raises(CONNECTION_ERRORS):
        async with conn.transaction():
            await soon(conn.execute("insert into t values (1)"))
    assert await ids(database) == []
    assert relay.aborted == 1


@pytest.mark.parametrize("after", [False, True], ids=["before", "after"])
async def test_abort_on_catches_a_prepared_statement_by_its_bind(
    relay: PgRelay, database: str, connect: Connect, after: bool
) -> None:
    conn = await connect(relay.url(database))
    sql = "INSERT INTO t VALUES ($1)"
    await conn.execute(sql, 1)  # prepared (Parse) and run; asyncpg keeps it
    rule = relay.abort_on("insert into t", after=after)
    with pytest.raises(CONNECTION_ERRORS):
        await soon(conn.execute(sql, 2))  # only Bind/Execute now
    assert rule.triggers == ["B"]
    assert await ids(database) == ([1, 2] if after else [1])


async def test_abort_on_after_waits_for_a_prepared_statement_to_run(
    relay: PgRelay, database: str, connect: Connect
) -> None:
    rule = relay.abort_on("insert into t", after=True)
    conn = await connect(relay.url(database))
    insert = await conn.prepare("INSERT INTO t VALUES ($1)")  # Parse, nothing runs
    assert await conn.fetchval("SELECT 1") == 1  # its reply is not the insert's
    with pytest.raises(CONNECTION_ERRORS):
        await soon(insert.fetch(3))
    assert await ids(database) == [3]
    assert rule.triggers == ["B"]


async def test_clear_rules_lets_statements_pass_again(
    relay: PgRelay, database: str, connect: Connect
) -> None:
    relay.abort_on("insert into t", times=5)
    relay.abort_on("select 7", after=True)
    relay.clear_rules()
    conn = await connect(relay.url(database))
    await conn.execute("insert into t values (1)")
    assert await conn.fetchval("select 7") == 7
    assert relay.aborted == 0


async def test_refuse_new_closes_new_connections_but_keeps_the_open_ones(
    relay: PgRelay, database: str, connect: Connect
) -> None:
    kept = await connect(relay.url(database))
    relay.refuse_new(True)
    with pytest.raises(CONNECTION_ERRORS):
        await connect(relay.url(database))
    assert await kept.fetchval("SELECT 1") == 1
    assert (relay.connections, relay.refused, relay.open_connections) == (1, 1, 1)
    relay.refuse_new(False)
    again = await connect(relay.url(database))
    assert await again.fetchval("SELECT 2") == 2


async def test_the_url_goes_through_the_relay_in_plaintext() -> None:
    async with PgRelay("127.0.0.1", 5432) as relay:
        url = "postgresql://bot:se%40cret@db.example:6543/lwa?sslmode=require&application_name=x"
        assert relay.url(url) == (
            f"postgresql://bot:se%40cret@127.0.0.1:{relay.port}/lwa?application_name=x"
            "&sslmode=disable"
        )
        assert relay.url("postgresql:///lwa?host=elsewhere&port=1") == (
            f"postgresql://127.0.0.1:{relay.port}/lwa?sslmode=disable"
        )
    assert PgRelay.to("postgresql://u@db.example:6543/x").upstream == ("db.example", 6543)


# --- against a stand-in server, byte for byte --------------------------------------------


def message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def startup() -> bytes:
    body = struct.pack("!i", 196608) + b"user\0bot\0database\0lwa\0\0"
    return struct.pack("!i", len(body) + 4) + body


def query(sql: str) -> bytes:
    return message(b"Q", sql.encode() + b"\0")


def request(code: int, *rest: int) -> bytes:
    return struct.pack(f"!ii{len(rest)}i", 8 + 4 * len(rest), code, *rest)


class StandIn:
    """A server the test plays by hand: each connection the relay opens, in order."""

    def __init__(self) -> None:
        self.accepted: asyncio.Queue[Pair] = asyncio.Queue()
        self.writers: list[asyncio.StreamWriter] = []

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        await self.accepted.put((reader, writer))

    async def next(self) -> Pair:
        return await soon(self.accepted.get())


@contextlib.asynccontextmanager
async def stand_in() -> AsyncIterator[tuple[StandIn, PgRelay]]:
    server_side = StandIn()
    server = await asyncio.start_server(server_side, "127.0.0.1", 0)
    try:
        async with PgRelay("127.0.0.1", server.sockets[0].getsockname()[1]) as relay:
            yield server_side, relay
    finally:
        for writer in server_side.writers:
            writer.transport.abort()
        server.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def client(relay: PgRelay) -> AsyncIterator[Pair]:
    reader, writer = await asyncio.open_connection("127.0.0.1", relay.port)
    try:
        yield reader, writer
    finally:
        writer.transport.abort()


async def dribble(writer: asyncio.StreamWriter, data: bytes) -> None:
    """Send `data` a byte at a time, letting the relay read each piece on its own."""
    for n in range(len(data)):
        writer.write(data[n : n + 1])
        await writer.drain()
        await asyncio.sleep(0)


async def until_closed(reader: asyncio.StreamReader) -> tuple[bytes, type[Exception] | None]:
    """What is read before the connection ends, and the kind of its error (None: a clean end)."""
    data = b""
    try:
        while chunk := await soon(reader.read(65536)):
            data += chunk
    except ConnectionError as error:
        return data, type(error)
    return data, None


async def test_ssl_and_gss_requests_are_answered_by_the_relay_and_the_rest_forwarded() -> None:
    async with stand_in() as (server_side, relay), client(relay) as (reader, writer):
        writer.write(request(GSSENC_REQUEST))
        assert await soon(reader.readexactly(1)) == b"N"
        writer.write(request(SSL_REQUEST))
        assert await soon(reader.readexactly(1)) == b"N"
        await dribble(writer, startup() + query("SELECT 1"))
        up_reader, up_writer = await server_side.next()
        sent = startup() + query("SELECT 1")
        assert await soon(up_reader.readexactly(len(sent))) == sent
        reply = message(b"Z", b"I")
        up_writer.write(reply)
        assert await soon(reader.readexactly(len(reply))) == reply

        async with client(relay) as (_, canceller):
            canceller.write(request(CANCEL_REQUEST, 1234, 5678))
            cancel_reader, _ = await server_side.next()
            assert await soon(cancel_reader.read(100)) == request(CANCEL_REQUEST, 1234, 5678)
        assert relay.connections == 2


async def test_reset_is_a_tcp_reset_and_cut_a_clean_close_on_both_sides() -> None:
    async with stand_in() as (server_side, relay):
        for fault, expected in ((relay.reset, ConnectionResetError), (relay.cut, None)):
            async with client(relay) as (reader, writer):
                writer.write(startup())
                up_reader, _ = await server_side.next()
                await soon(up_reader.readexactly(len(startup())))
                fault()
                for side in (reader, up_reader):
                    assert await until_closed(side) == (b"", expected), fault
        assert relay.open_connections == 0


async def test_abort_on_follows_the_framing_of_both_streams() -> None:
    async with stand_in() as (server_side, relay), client(relay) as (reader, writer):
        relay.abort_on("delete from t", after=False)
        rule = relay.abort_on("update t", after=True)
        copy = message(b"d", b"delete from t")  # not a statement: copy data
        await dribble(writer, startup() + copy + query("UPDATE t SET id = 2"))
        up_reader, up_writer = await server_side.next()
        sent = startup() + copy + query("UPDATE t SET id = 2")
        assert await soon(up_reader.readexactly(len(sent))) == sent

        # A row whose bytes look like a CommandComplete is not the end of the reply...
        row = message(b"D", struct.pack("!hi", 1, 5) + message(b"C", b""))
        notice = message(b"N", b"Mhello\0\0")
        up_writer.write(row + notice)
        assert await soon(reader.readexactly(len(row + notice))) == row + notice
        assert relay.aborted == 0
        # ... and the CommandComplete is: the connection is reset before it is forwarded
        # (without waiting for the ReadyForQuery that would follow).
        up_writer.write(message(b"C", b"UPDATE 1\0"))
        assert await until_closed(reader) == (b"", ConnectionResetError)
        assert rule.triggers == ["Q"]

    async with stand_in() as (server_side, relay), client(relay) as (reader, writer):
        relay.abort_on("delete from t")
        sync = message(b"S", b"")
        await dribble(writer, startup() + sync)
        up_reader, _ = await server_side.next()
        assert await soon(up_reader.readexactly(len(startup() + sync))) == startup() + sync
        parse = message(b"P", b"s1\0DELETE FROM t WHERE id = $1\0\0\0")
        await dribble(writer, parse)
        # The Parse never reaches the server: both sides are reset as it is complete.
        assert await until_closed(up_reader) == (b"", ConnectionResetError)
        assert await until_closed(reader) == (b"", ConnectionResetError)
        assert relay.aborted == 1
