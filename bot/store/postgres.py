"""PostgreSQL implementation of the Store (asyncpg pool; numbered migrations), for several
processes of the bot sharing one database (SPEC §8).

The statements are `bot.store.sql`'s, with what several processes need on top: a run is
claimed under a row lock (`FOR UPDATE SKIP LOCKED`) and inserted by whoever wins its unique key,
for a process that holds an owner lock while it lives; a shuffle bag is written only over the
version it was drawn from; IDENTIFY turns, a server's schedule limit and its daily reveals take
turns under advisory locks. Instants are TIMESTAMPTZ and come back as aware UTC datetimes, as
the SQLite store returns them.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import json
import logging
import random
import secrets
import socket
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import asyncpg

from bot.domain import rotation
from bot.domain.clock import Clock, SystemClock
from bot.domain.records import ScheduleRun, StoreError, StoreUnavailable
from bot.domain.schedule import RunState
from bot.domain.shards import Shards
from bot.store.common import numbered_migrations
from bot.store.sql import (
    POSTGRES,
    SCHEDULE_COLUMNS,
    Row,
    Sql,
    SqlStore,
    Transaction,
    Turn,
    in_shards,
    sql,
    utc,
)

__all__ = ["PostgresStore", "describe_url", "migrations"]
log = logging.getLogger(__name__)
T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).parent / "migrations_postgres"
BAG_CACHE_SIZE = 50_000  # shuffle bags kept in memory, each with the version it was read at
BAG_LOCKS = 256  # draws of one bag in one process take turns (a stripe of locks, by key)
BagKey = tuple[int, str, str]  # (scope id, kind, filter key)
CONNECT_TIMEOUT_S = 10.0
COMMAND_TIMEOUT_S = 60.0
# The durability the SQLite store has (WAL, synchronous=NORMAL): a commit survives the bot's
# crash at once and the server's within a fraction of a second (wal_writer_delay); a crash of
# the database machine may lose the last moment of commits, never consistency. Waiting for the
# WAL flush at every commit would triple the cost of each write (benchmarks/README.md).
SESSION_SETTINGS = {"synchronous_commit": "off", "application_name": "lwa-bot"}
TRANSACTION_TRIES = 5  # a deadlock or serialization failure is retried, then reported
# Advisory lock classes (the first key of pg_advisory_xact_lock(int, int)), one per purpose.
LOCK_MIGRATE = 0x4C57_0001
LOCK_SCHEDULE_LIMIT = 0x4C57_0002
LOCK_IDENTIFY = 0x4C57_0003
LOCK_RUN_OWNER = 0x4C57_0004  # with hashtext(instance id): held by a live process
LOCK_DAILY = 0x4C57_0005  # with the server: its daily reveals move streaks on one at a time

# What "the database cannot be reached or written right now" looks like from asyncpg: no
# connection (refused, reset, closed under us), no answer in time, the server shutting down or
# starting, out of disk or connections, a read-only server.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,  # includes TimeoutError and ConnectionRefusedError
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.ReadOnlySQLTransactionError,
)
# InterfaceErrors that are the bot's own mistake (a value of the wrong type for a query, a bad
# option), not the database's state: they go up as themselves, with their traceback.
BUGS: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.DataError,
    asyncpg.exceptions.ClientConfigurationError,
    asyncpg.exceptions.UnsupportedClientFeatureError,
)


def migrations() -> list[tuple[int, Path]]:
    return numbered_migrations(MIGRATIONS_DIR)


async def _keep_session(conn: Any) -> None:
    """The pool's reset on release. asyncpg's default sends one more statement on every
    release (RESET ALL, UNLISTEN *, CLOSE ALL, unlock all advisory locks): a second round
    trip for each one-statement call. Pooled connections keep no session state (no LISTEN,
    no cursor, no SET; session locks are taken on connections of their own), so there is
    nothing to reset; an open transaction is still rolled back by the pool itself."""


def describe_url(url: str) -> str:
    """`PostgreSQL database lwa on 127.0.0.1:5432 (user lwa)`: the URL without its password."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        port = parts.port or 5432
        user = unquote(parts.username) if parts.username else None
    except ValueError:
        return "PostgreSQL (DATABASE_URL cannot be read)"
    name = unquote(parts.path.lstrip("/")) or user or "(default)"
    who = f" (user {user})" if user else ""
    return f"PostgreSQL database {name} on {host}:{port}{who}"


def _password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def _lock_key(number: int) -> int:
    """A 32-bit advisory lock key for a 64-bit id (two ids may share one: they then wait for
    each other, nothing worse)."""
    return (number ^ (number >> 31)) & 0x7FFF_FFFF


TURN_LOCKS = {  # the advisory lock class of each thing transactions take turns about
    Turn.SCHEDULE_LIMIT: LOCK_SCHEDULE_LIMIT,
    Turn.DAILY: LOCK_DAILY,
    Turn.IDENTIFY: LOCK_IDENTIFY,
}
TAKE_TURN = sql("SELECT pg_advisory_xact_lock(?, ?)")
READ_BAG = sql(
    "SELECT remaining, last_id, version FROM shuffle_bags"
    " WHERE scope_id = ? AND kind = ? AND filter_key = ?"
)
# The bag after a draw, written only over the version it was drawn from (0: the bag did not
# exist yet); its new version, or no row when another process wrote it first.
WRITE_BAG = sql(
    "INSERT INTO shuffle_bags"
    " (scope_id, kind, filter_key, remaining, last_id, updated_at, version)"
    " VALUES (?, ?, ?, ?, ?, ?, 1)"
    " ON CONFLICT (scope_id, kind, filter_key) DO UPDATE SET"
    " remaining = EXCLUDED.remaining, last_id = EXCLUDED.last_id,"
    " updated_at = EXCLUDED.updated_at, version = shuffle_bags.version + 1"
    " WHERE shuffle_bags.version = ?"
    " RETURNING version"
)
# A run is inserted by whoever wins its unique key, and only then is it theirs.
CLAIM_RUNS = sql(
    "INSERT INTO schedule_runs (schedule_id, due_at, claimed_at, claimed_by)"
    " SELECT id, due, ?, ? FROM unnest(?::bigint[], ?::timestamptz[]) AS v(id, due)"
    " ON CONFLICT (schedule_id, due_at) DO NOTHING RETURNING schedule_id"
)
MOVE_ON = sql(
    "UPDATE schedules SET next_run_at = v.next"
    " FROM unnest(?::bigint[], ?::timestamptz[]) AS v(id, next) WHERE schedules.id = v.id"
)
MY_UNFINISHED_RUNS = in_shards(
    f"SELECT {SCHEDULE_COLUMNS}, r.due_at, r.state, r.claimed_at"
    " FROM schedule_runs r JOIN schedules s ON s.id = r.schedule_id"
    " WHERE r.state = 'claimed' AND r.claimed_by = ?{shards} ORDER BY r.due_at, s.id",
    "s.guild_id",
)
OTHER_OWNERS = in_shards(
    "SELECT DISTINCT r.claimed_by FROM schedule_runs r"
    " JOIN schedules s ON s.id = r.schedule_id"
    " WHERE r.state = 'claimed' AND r.claimed_by IS DISTINCT FROM ?{shards}",
    "s.guild_id",
)
# Free only if its process is gone; held until commit.
TRY_OWNER_LOCK = sql("SELECT pg_try_advisory_xact_lock(?, hashtext(?))")
TAKE_OVER = in_shards(
    "UPDATE schedule_runs r SET claimed_by = ? FROM schedules s"
    " WHERE s.id = r.schedule_id AND r.state = 'claimed'"
    " AND r.claimed_by IS NOT DISTINCT FROM ?::text{shards}",
    "s.guild_id",
)


def _count(status: str) -> int:
    """The rows a statement changed, from its status (`INSERT 0 1`, `UPDATE 3`)."""
    return int(status.rpartition(" ")[2])


class _Connection:
    """`sql.Transaction` on a transaction's connection."""

    __slots__ = ("conn",)

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def rows(self, q: Sql, *args: object) -> Sequence[Row]:
        rows: list[Row] = await self.conn.fetch(q.postgres, *args)
        return rows

    async def row(self, q: Sql, *args: object) -> Row | None:
        row: Row | None = await self.conn.fetchrow(q.postgres, *args)
        return row

    async def value(self, q: Sql, *args: object) -> Any:
        return await self.conn.fetchval(q.postgres, *args)

    async def execute(self, q: Sql, *args: object) -> int:
        return _count(await self.conn.execute(q.postgres, *args))

    async def execute_many(self, q: Sql, args: Iterable[Sequence[object]]) -> None:
        await self.conn.executemany(q.postgres, args)

    async def insert(self, q: Sql, *args: object) -> int:
        return int(await self.conn.fetchval(q.postgres, *args))


class _Pooled:
    """`sql.Session` for statements on their own, each on a pooled connection (`_run`)."""

    __slots__ = ("_store",)

    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    async def rows(self, q: Sql, *args: object) -> Sequence[Row]:
        rows: list[Row] = await self._store._run(lambda conn: conn.fetch(q.postgres, *args))
        return rows

    async def row(self, q: Sql, *args: object) -> Row | None:
        row: Row | None = await self._store._run(lambda conn: conn.fetchrow(q.postgres, *args))
        return row

    async def value(self, q: Sql, *args: object) -> Any:
        return await self._store._run(lambda conn: conn.fetchval(q.postgres, *args))

    async def execute(self, q: Sql, *args: object) -> int:
        status: str = await self._store._run(lambda conn: conn.execute(q.postgres, *args))
        return _count(status)

    async def insert(self, q: Sql, *args: object) -> int:
        new_id = await self._store._run(lambda conn: conn.fetchval(q.postgres, *args))
        return int(new_id)


class PostgresStore(SqlStore):
    _dialect = POSTGRES
    _DUPLICATE = (asyncpg.UniqueViolationError,)

    def __init__(
        self,
        url: str,
        clock: Clock | None = None,
        *,
        min_connections: int = 0,  # no floor to restore while the server is away
        max_connections: int = 10,
    ) -> None:
        self.url = url
        self._clock = clock or SystemClock()
        self._auto = _Pooled(self)
        self._min = min_connections
        self._max = max_connections
        self._pool: asyncpg.Pool | None = None
        # Shuffle bags as last written, with their version: a draw is one conditional write,
        # and a bag another process drew from since is read again (the write says so).
        self._bags: collections.OrderedDict[BagKey, tuple[list[str], str | None, int]] = (
            collections.OrderedDict()
        )
        self._bag_locks = [asyncio.Lock() for _ in range(BAG_LOCKS)]
        self._bag_writes: dict[BagKey, asyncio.Task[None]] = {}  # exclusive bags' writes
        self._problem: str | None = None
        self.on_error: Callable[[str], None] | None = None
        # This process's id on its claims, and the connection that holds its owner lock.
        self.instance = secrets.token_hex(8)
        self._owner: asyncpg.Connection | None = None
        self._owner_lock = asyncio.Lock()

    def __repr__(self) -> str:  # never the URL: it may hold a password
        return f"PostgresStore({describe_url(self.url)})"

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the store is not open")
        return self._pool

    # --- opening ----------------------------------------------------------------------------

    async def open(self, *, check_writable: bool = True) -> None:
        """Connect, migrate, and prove the database can be written (`check_writable=False`
        for readers only). Raises StoreError with one sentence for the operator."""
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=self._min,
                max_size=self._max,
                timeout=CONNECT_TIMEOUT_S,
                command_timeout=COMMAND_TIMEOUT_S,
                server_settings=SESSION_SETTINGS,
                reset=_keep_session,
            )
            await self._migrate()
            if check_writable:
                await self._check_writable()
                await self._hold_owner_lock()
        except (OSError, ValueError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            await self.close()
            raise StoreError(self._explain(exc)) from None
        except BaseException:
            await self.close()
            raise

    def _scrub(self, text: str) -> str:
        password = _password(self.url)
        return text.replace(password, "[password]") if password else text

    def _explain(self, error: BaseException) -> str:
        """One sentence for the operator: what is wrong with DATABASE_URL and what to do."""
        where = describe_url(self.url)
        parts = urlsplit(self.url) if "://" in self.url else None
        try:
            address = f"{parts.hostname or 'localhost'}:{parts.port or 5432}" if parts else "?"
        except ValueError:
            address = "?"
        if isinstance(error, socket.gaierror):
            return f"cannot resolve the host of DATABASE_URL ({address}): {error.strerror}"
        if isinstance(error, TimeoutError):
            return (
                f"no answer from PostgreSQL at {address} within {CONNECT_TIMEOUT_S:g} s; check "
                "DATABASE_URL and that the server is running and reachable"
            )
        if isinstance(error, OSError):
            reason = error.strerror or str(error)
            return (
                f"cannot reach PostgreSQL at {address} ({reason}); check DATABASE_URL and that "
                "the server is running"
            )
        if isinstance(error, asyncpg.exceptions.InvalidCatalogNameError):
            return f"the {where} does not exist; create it (createdb) or correct DATABASE_URL"
        if isinstance(error, asyncpg.exceptions.InvalidAuthorizationSpecificationError):
            return f"PostgreSQL refused the login to the {where}: {self._scrub(str(error))}"
        if isinstance(error, asyncpg.exceptions.InsufficientPrivilegeError):
            return (
                f"the {where} does not let the bot's user create or change its tables "
                f"({self._scrub(str(error))}); grant it, or use the database's owner"
            )
        if isinstance(error, asyncpg.exceptions.ReadOnlySQLTransactionError):
            return f"the {where} is read-only (a standby?); point DATABASE_URL at the primary"
        if isinstance(error, ValueError | asyncpg.InterfaceError) and not isinstance(
            error, asyncpg.PostgresError
        ):
            return f"DATABASE_URL is not a usable PostgreSQL URL: {self._scrub(str(error))}"
        return f"cannot open the {where}: {self._scrub(str(error))}"

    async def _check_writable(self) -> None:
        """A real write, rolled back: a read-only server or user is refused here."""
        async with self.pool.acquire() as conn:
            tr = conn.transaction()
            await tr.start()
            try:
                await conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('lwa:write-check', '')"
                    " ON CONFLICT (key) DO NOTHING"
                )
            finally:
                await tr.rollback()

    async def _migrate(self) -> None:
        # On a connection of its own: the session lock ends with it, whatever happens.
        conn = await asyncpg.connect(
            self.url, timeout=CONNECT_TIMEOUT_S, server_settings=SESSION_SETTINGS
        )
        try:
            # One process migrates at a time; the others wait, then find nothing left to do.
            await conn.execute("SELECT pg_advisory_lock($1)", LOCK_MIGRATE)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            current = int(
                await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            )
            latest = max((n for n, _ in migrations()), default=0)
            if current > latest:
                raise StoreError(
                    f"the {describe_url(self.url)} has schema version {current}, newer than "
                    f"this bot knows ({latest}); upgrade the bot"
                )
            for number, path in migrations():
                if number <= current:
                    continue
                # One transaction per migration: a crash leaves the previous version.
                async with conn.transaction():
                    await conn.execute(path.read_text(encoding="utf-8"))
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        number,
                        path.name,
                    )
        finally:
            await conn.close()

    async def _hold_owner_lock(self) -> None:
        """Hold the advisory lock on this process's id for as long as it lives (on a
        connection of its own): the runs it claims are recognisably a live process's."""
        self._owner = await asyncpg.connect(
            self.url, timeout=CONNECT_TIMEOUT_S, server_settings=SESSION_SETTINGS
        )
        await self._owner.execute(
            "SELECT pg_advisory_lock($1, hashtext($2))", LOCK_RUN_OWNER, self.instance
        )

    async def _keep_owner_lock(self) -> None:
        """Take the owner lock again if its connection was lost (the server restarted, or cut
        an idle connection): without it, a process starting meanwhile would take this live
        process's claimed runs for a dead one's. Checked before every claim and recovery."""
        if self._owner is not None and not self._owner.is_closed():
            return
        async with self._owner_lock:
            if self._owner is not None and not self._owner.is_closed():
                return
            if self._owner is not None:
                self._owner.terminate()
                self._owner = None
                log.warning("the connection holding this process's run lock was lost; taken again")
            try:
                await self._hold_owner_lock()
            except UNAVAILABLE as error:
                raise self._unavailable(error) from error

    async def close(self) -> None:
        if self._bag_writes and self._pool is not None:  # the draws written behind replies
            await asyncio.wait(list(self._bag_writes.values()), timeout=10)
        if self._owner is not None:
            owner, self._owner = self._owner, None
            try:
                await asyncio.wait_for(owner.close(), timeout=10)
            except UNAVAILABLE:
                owner.terminate()
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await asyncio.wait_for(pool.close(), timeout=10)
            except UNAVAILABLE:  # TimeoutError is an OSError
                pool.terminate()

    async def schema_version(self) -> int:
        return int(await self._fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))

    # --- health and the way every statement runs ---------------------------------------------

    def _unavailable(self, error: BaseException) -> StoreUnavailable:
        """Log (once) that the database cannot be used, and why; the error to raise."""
        if isinstance(error, asyncpg.exceptions.DiskFullError):
            why, kind = "its disk is full", "full"
        elif isinstance(error, asyncpg.exceptions.ReadOnlySQLTransactionError):
            why, kind = "it has become read-only", "read_only"
        elif isinstance(error, asyncpg.exceptions.OperatorInterventionError):
            why, kind = f"the server is shutting down or starting ({error})", "unavailable"
        elif isinstance(error, TimeoutError):
            why, kind = "no answer in time", "timeout"
        elif isinstance(error, ConnectionError):
            why, kind = f"the connection was lost ({error.strerror or error})", "lost_connection"
        elif isinstance(error, OSError):
            why, kind = f"cannot reach the server ({error.strerror or error})", "unavailable"
        else:
            lost = self._scrub(str(error)) or type(error).__name__
            why, kind = f"the connection was lost ({lost})", "lost_connection"
        if self.on_error is not None:
            self.on_error(kind)
        problem = f"the {describe_url(self.url)} cannot be used: {why}"
        if self._problem != problem:
            log.error(
                "%s; answers, points and scheduled posts that need it fail until it can be "
                "(the bot keeps trying)",
                problem,
            )
            self._problem = problem
        return StoreUnavailable(problem)

    def _ok(self) -> None:
        if self._problem is not None:
            log.warning("the %s can be used again", describe_url(self.url))
            self._problem = None

    @property
    def healthy(self) -> bool:
        return self._problem is None

    async def _run(self, work: Callable[[Any], Awaitable[T]]) -> T:
        """`work(connection)` on a pooled connection, outside a transaction (one statement
        commits on its own)."""
        try:
            async with self.pool.acquire() as conn:
                result = await work(conn)
        except BUGS:
            raise
        except UNAVAILABLE as error:
            raise self._unavailable(error) from error
        self._ok()
        return result

    async def _transaction(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        """`work` in one transaction (rolled back on error). A deadlock or a serialization
        failure, which only concurrency causes, is tried again."""
        for attempt in range(TRANSACTION_TRIES):
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    result = await work(_Connection(conn))
            except asyncpg.exceptions.TransactionRollbackError as error:
                if attempt == TRANSACTION_TRIES - 1:
                    raise StoreUnavailable(
                        f"the {describe_url(self.url)} kept refusing a transaction under "
                        f"concurrent use ({error}); try again"
                    ) from error
                await asyncio.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
                continue
            except BUGS:
                raise
            except UNAVAILABLE as error:
                raise self._unavailable(error) from error
            self._ok()
            return result
        raise AssertionError("unreachable")

    async def _fetchval(self, text: str, *args: object) -> Any:
        return await self._run(lambda conn: conn.fetchval(text, *args))

    async def _take_turn(self, tx: Transaction, turn: Turn, key: int) -> None:
        """An advisory lock on (the turn's lock class, `key`), held until `tx` ends."""
        await tx.execute(TAKE_TURN, TURN_LOCKS[turn], _lock_key(key))

    # --- shuffle bags -------------------------------------------------------------------------

    async def draw(
        self,
        scope_id: int,
        kind: str,
        filter_key: str,
        candidates: Sequence[str],
        rng: random.Random,
        *,
        exclusive: bool = False,
        within: Collection[str] | None = None,
    ) -> str:
        key = (scope_id, kind, filter_key)
        async with self._bag_locks[hash(key) % BAG_LOCKS]:
            if exclusive and key in self._bags:
                # Only this process draws here: pick from the bag as last drawn and write it
                # behind the reply, after the bag's previous write (see _write_behind).
                remaining, last, version = self._bags[key]
                pick, left = rotation.draw(candidates, remaining, rng, last=last, within=within)
                self._bags[key] = (left, pick, version + 1)
                self._bags.move_to_end(key)
                self._write_behind(key, left, pick, version)
                return pick
            pending = self._bag_writes.get(key)
            if pending is not None:  # the bag's last write first, so the read below sees it
                await asyncio.wait([pending])
            bag = self._bags.pop(key, None)  # forgotten until written: a failed write re-reads
            for _ in range(50):
                if bag is None:
                    bag = await self._read_bag(key)
                remaining, last, version = bag
                pick, left = rotation.draw(candidates, remaining, rng, last=last, within=within)
                written = await self._write_bag(key, left, pick, version)
                if written is not None:
                    self._bags[key] = (left, pick, written)
                    if len(self._bags) > BAG_CACHE_SIZE:
                        self._bags.popitem(last=False)
                    return pick
                bag = None  # another process drew from this bag meanwhile: read it again
        raise StoreUnavailable(f"the shuffle bag {key} kept changing under the bot; try again")

    async def _read_bag(self, key: BagKey) -> tuple[list[str], str | None, int]:
        row = await self._auto.row(READ_BAG, *key)
        if row is None:
            return [], None, 0
        remaining, last, version = row
        return list(json.loads(remaining)), last, int(version)

    async def _write_bag(self, key: BagKey, left: list[str], pick: str, version: int) -> int | None:
        """The bag after a draw (WRITE_BAG): its new version, or None when another process
        wrote it first."""
        now = utc(self._clock.now())
        written = await self._auto.value(WRITE_BAG, *key, json.dumps(left), pick, now, version)
        return None if written is None else int(written)

    def _write_behind(self, key: BagKey, left: list[str], pick: str, version: int) -> None:
        """Write an exclusive bag's draw in the background, after the bag's previous write
        (so the versions follow each other). If it cannot be written (the database is away,
        or a misconfigured second process drew here too), the cached bag is forgotten and the
        next draw reads it again: at worst a pick is not remembered and may come back early.
        A crash loses only the writes still in flight, with the same worst case."""
        previous = self._bag_writes.get(key)

        async def write() -> None:
            if previous is not None:
                await asyncio.wait([previous])
            try:
                written = await self._write_bag(key, left, pick, version)
            except Exception as error:  # logged here: nobody awaits this task
                log.warning("a shuffle bag could not be saved (%s); it is read again", error)
                written = None
            if written is None:
                self._bags.pop(key, None)

        task = asyncio.get_running_loop().create_task(write())
        self._bag_writes[key] = task

        def done(finished: asyncio.Task[None]) -> None:
            if self._bag_writes.get(key) is finished:
                del self._bag_writes[key]

        task.add_done_callback(done)

    # --- scheduled runs: claimed by several processes at once ---------------------------------

    async def claim_due_runs(
        self,
        now: dt.datetime,
        *,
        grace: dt.timedelta,
        limit: int,
        shards: Shards | None = None,
    ) -> list[ScheduleRun]:
        await self._keep_owner_lock()
        at = utc(now)

        async def work(tx: Transaction) -> list[ScheduleRun]:
            due = await self._due_schedules(tx, at, grace=grace, limit=limit, shards=shards)
            if not due:
                return []
            schedule_ids = [record.id for record, _ in due]
            won = await tx.rows(
                CLAIM_RUNS,
                at,
                self.instance,
                schedule_ids,
                [record.next_run_at for record, _ in due],
            )
            await tx.execute(MOVE_ON, schedule_ids, [following for _, following in due])
            mine = {int(row[0]) for row in won}
            return [
                ScheduleRun(
                    schedule=record,
                    due_at=record.next_run_at,
                    state=RunState.CLAIMED,
                    claimed_at=at,
                )
                for record, _ in due
                if record.id in mine
            ]

        return await self._transaction(work)

    async def unfinished_runs(self, *, shards: Shards | None = None) -> list[ScheduleRun]:
        """The claimed, unsent runs of processes that died (of these shards), now this
        process's to finish. A live process's runs are left to it, even on the same shards."""
        await self._keep_owner_lock()
        await self._take_over_dead_owners(shards)
        q, shard_args = self._in_shards(MY_UNFINISHED_RUNS, shards)
        return await self._usable_runs(await self._auto.rows(q, self.instance, *shard_args))

    async def _take_over_dead_owners(self, shards: Shards | None) -> None:
        """Make this process the owner of the unfinished runs whose owner is gone: its owner
        lock is free (or the run predates owners, e.g. copied by `migrate`). Each run moves in
        one UPDATE, so two processes starting together never both take it."""
        owners_q, shard_args = self._in_shards(OTHER_OWNERS, shards)
        take_q, _ = self._in_shards(TAKE_OVER, shards)
        owners = await self._auto.rows(owners_q, self.instance, *shard_args)

        def taker(owner: str | None) -> Callable[[Transaction], Awaitable[None]]:
            async def work(tx: Transaction) -> None:
                if owner is not None and not await tx.value(TRY_OWNER_LOCK, LOCK_RUN_OWNER, owner):
                    return  # alive: its runs stay its own
                await tx.execute(take_q, self.instance, owner, *shard_args)

            return work

        for (owner,) in owners:
            await self._transaction(taker(owner))
