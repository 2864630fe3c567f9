"""PostgreSQL implementation of the Store (asyncpg pool; numbered migrations), for several
processes of the bot sharing one database (SPEC §8).

The same behaviour as `bot.store.sqlite`, with what several processes need on top: a run is
claimed under a row lock (`FOR UPDATE SKIP LOCKED`) and inserted by whoever wins its unique key;
a shuffle bag is written only over the version it was drawn from; IDENTIFY turns are reserved
under an advisory lock. Instants are TIMESTAMPTZ and come back as aware UTC datetimes, as the
SQLite store returns them.
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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import asyncpg

from bot.domain import rotation
from bot.domain import schedule as schedule_rules
from bot.domain.clock import Clock, SystemClock
from bot.domain.records import (
    GameAlreadyRunning,
    GameRecord,
    LeaderRow,
    PlayerStats,
    Report,
    ScheduleRecord,
    ScheduleRun,
    ScoreRow,
    StoreError,
    StoreUnavailable,
    TooManySchedules,
)
from bot.domain.schedule import PostKind, RunState, ScheduleState
from bot.domain.shards import Shards
from bot.domain.trivia import DailyStreak, GameKind, GameState, period_keys, streaks_after
from bot.store.common import next_identify_slot, numbered_migrations, shard_ids, unusable_reason

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


def _utc(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime")
    return instant.astimezone(dt.UTC)


def _iso(instant: dt.datetime) -> str:
    """The instants kept inside JSON text (a game's opened_at), as the SQLite store keeps them."""
    return _utc(instant).isoformat(timespec="microseconds")


def _aware(value: dt.datetime) -> dt.datetime:
    """asyncpg gives TIMESTAMPTZ as an aware UTC datetime; the SQLite store returns the same."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _lock_key(number: int) -> int:
    """A 32-bit advisory lock key for a 64-bit id (two ids may share one: they then wait for
    each other, nothing worse)."""
    return (number ^ (number >> 31)) & 0x7FFF_FFFF


_GAME_COLUMNS = (
    "id, guild_id, channel_id, starter_id, kind, difficulty, seconds, question_ids,"
    " choices, state, revealed, current_message, opened_at, started_at, run_key"
)
_SCHEDULE_COLUMNS = (
    "s.id, s.guild_id, s.channel_id, s.content, s.local_time, s.timezone,"
    " s.days, s.role_id, s.state, s.failing_reason, s.failures,"
    " s.next_run_at, s.created_by, s.created_at"
)


def _game(row: Any) -> GameRecord:
    return GameRecord(
        id=int(row["id"]),
        guild_id=int(row["guild_id"]),
        channel_id=int(row["channel_id"]),
        starter_id=int(row["starter_id"]),
        kind=GameKind(row["kind"]),
        difficulty=str(row["difficulty"]),
        seconds=int(row["seconds"]),
        question_ids=tuple(json.loads(str(row["question_ids"]))),
        choices=tuple(tuple(c) for c in json.loads(str(row["choices"]))),
        state=GameState(row["state"]),
        revealed=int(row["revealed"]),
        current_message=(
            int(row["current_message"]) if row["current_message"] is not None else None
        ),
        opened_at=tuple(dt.datetime.fromisoformat(t) for t in json.loads(str(row["opened_at"]))),
        started_at=_aware(row["started_at"]),
        run_key=str(row["run_key"]) if row["run_key"] is not None else None,
    )


def _schedule(row: Any) -> ScheduleRecord:
    return ScheduleRecord(
        id=int(row["id"]),
        guild_id=int(row["guild_id"]),
        channel_id=int(row["channel_id"]),
        content=PostKind(row["content"]),
        local_time=dt.time.fromisoformat(str(row["local_time"])),
        timezone=str(row["timezone"]),
        days=schedule_rules.parse_days(str(row["days"])),
        role_id=int(row["role_id"]) if row["role_id"] is not None else None,
        state=ScheduleState(row["state"]),
        failing_reason=str(row["failing_reason"]) if row["failing_reason"] else None,
        failures=int(row["failures"]),
        next_run_at=_aware(row["next_run_at"]),
        created_by=int(row["created_by"]),
        created_at=_aware(row["created_at"]),
    )


class PostgresStore:
    def __init__(
        self,
        url: str,
        clock: Clock | None = None,
        *,
        min_connections: int = 0,  # no floor to restore while the server is away
        max_connections: int = 10,
    ) -> None:
        self.url = url
        self._clock: Clock = clock or SystemClock()
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

    async def _transact(self, work: Callable[[Any], Awaitable[T]]) -> T:
        """`work(connection)` in one transaction (rolled back on error). A deadlock or a
        serialization failure, which only concurrency causes, is tried again."""
        for attempt in range(TRANSACTION_TRIES):
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    result = await work(conn)
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

    async def _fetch(self, sql: str, *args: object) -> list[Any]:
        return await self._run(lambda conn: conn.fetch(sql, *args))

    async def _fetchrow(self, sql: str, *args: object) -> Any:
        return await self._run(lambda conn: conn.fetchrow(sql, *args))

    async def _fetchval(self, sql: str, *args: object) -> Any:
        return await self._run(lambda conn: conn.fetchval(sql, *args))

    async def _execute(self, sql: str, *args: object) -> str:
        status: str = await self._run(lambda conn: conn.execute(sql, *args))
        return status

    # --- meta and settings ------------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        value = await self._fetchval("SELECT value FROM meta WHERE key = $1", key)
        return str(value) if value is not None else None

    async def set_meta(self, key: str, value: str) -> None:
        await self._execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2)"
            " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            key,
            value,
        )

    async def guild_timezone(self, guild_id: int) -> str | None:
        value = await self._fetchval(
            "SELECT timezone FROM guild_settings WHERE guild_id = $1", guild_id
        )
        return str(value) if value is not None else None

    async def set_guild_timezone(self, guild_id: int, timezone: str) -> None:
        await self._execute(
            "INSERT INTO guild_settings (guild_id, timezone, updated_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (guild_id) DO UPDATE SET timezone = EXCLUDED.timezone,"
            " updated_at = EXCLUDED.updated_at",
            guild_id,
            timezone,
            _utc(self._clock.now()),
        )

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
    ) -> str:
        key = (scope_id, kind, filter_key)
        async with self._bag_locks[hash(key) % BAG_LOCKS]:
            if exclusive and key in self._bags:
                # Only this process draws here: pick from the bag as last drawn and write it
                # behind the reply, after the bag's previous write (see _write_behind).
                remaining, last, version = self._bags[key]
                pick, left = rotation.draw(candidates, remaining, rng, last=last)
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
                pick, left = rotation.draw(candidates, remaining, rng, last=last)
                written = await self._write_bag(key, left, pick, version)
                if written is not None:
                    self._bags[key] = (left, pick, written)
                    if len(self._bags) > BAG_CACHE_SIZE:
                        self._bags.popitem(last=False)
                    return pick
                bag = None  # another process drew from this bag meanwhile: read it again
        raise StoreUnavailable(f"the shuffle bag {key} kept changing under the bot; try again")

    async def _read_bag(self, key: BagKey) -> tuple[list[str], str | None, int]:
        row = await self._fetchrow(
            "SELECT remaining, last_id, version FROM shuffle_bags"
            " WHERE scope_id = $1 AND kind = $2 AND filter_key = $3",
            *key,
        )
        if row is None:
            return [], None, 0
        return list(json.loads(row["remaining"])), row["last_id"], int(row["version"])

    async def _write_bag(self, key: BagKey, left: list[str], pick: str, version: int) -> int | None:
        """The bag after a draw, written only over the version it was drawn from (0: the bag
        did not exist yet); its new version, or None when another process wrote it first."""
        written = await self._fetchval(
            "INSERT INTO shuffle_bags"
            " (scope_id, kind, filter_key, remaining, last_id, updated_at, version)"
            " VALUES ($1, $2, $3, $4, $5, $6, 1)"
            " ON CONFLICT (scope_id, kind, filter_key) DO UPDATE SET"
            " remaining = EXCLUDED.remaining, last_id = EXCLUDED.last_id,"
            " updated_at = EXCLUDED.updated_at, version = shuffle_bags.version + 1"
            " WHERE shuffle_bags.version = $7"
            " RETURNING version",
            *key,
            json.dumps(left),
            pick,
            _utc(self._clock.now()),
            version,
        )
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

    # --- trivia -------------------------------------------------------------------------------

    async def create_game(
        self,
        *,
        guild_id: int,
        channel_id: int,
        starter_id: int,
        kind: GameKind,
        difficulty: str,
        seconds: int,
        question_ids: Sequence[str],
        choices: Sequence[Sequence[str]],
        started_at: dt.datetime,
        run_key: str | None = None,
    ) -> GameRecord:
        started = _utc(started_at)

        async def work(conn: Any) -> int:
            game_id = await conn.fetchval(
                "INSERT INTO trivia_games (guild_id, channel_id, starter_id, kind, difficulty,"
                " seconds, question_ids, choices, started_at, run_key)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                guild_id,
                channel_id,
                starter_id,
                kind,
                difficulty,
                seconds,
                json.dumps(list(question_ids)),
                json.dumps([list(c) for c in choices]),
                started,
                run_key,
            )
            await conn.executemany(
                "INSERT INTO trivia_asked (guild_id, question_id, asked_at) VALUES ($1, $2, $3)"
                " ON CONFLICT (guild_id, question_id) DO UPDATE SET asked_at = EXCLUDED.asked_at",
                [(guild_id, qid, started) for qid in sorted(set(question_ids))],
            )
            return int(game_id)

        try:
            game_id = await self._transact(work)
        except asyncpg.UniqueViolationError as exc:
            raise GameAlreadyRunning(channel_id) from exc
        record = await self.game(game_id)
        assert record is not None
        return record

    async def game(self, game_id: int) -> GameRecord | None:
        row = await self._fetchrow(
            f"SELECT {_GAME_COLUMNS} FROM trivia_games WHERE id = $1", game_id
        )
        return _game(row) if row else None

    async def game_for_run(self, run_key: str) -> GameRecord | None:
        row = await self._fetchrow(
            f"SELECT {_GAME_COLUMNS} FROM trivia_games WHERE run_key = $1", run_key
        )
        return _game(row) if row else None

    async def running_game(self, channel_id: int) -> GameRecord | None:
        row = await self._fetchrow(
            f"SELECT {_GAME_COLUMNS} FROM trivia_games"
            " WHERE channel_id = $1 AND state = 'running' AND kind = 'game'",
            channel_id,
        )
        return _game(row) if row else None

    async def running_games(self, *, shards: Shards | None = None) -> list[GameRecord]:
        ids = shard_ids(shards)
        if ids is None:
            rows = await self._fetch(
                f"SELECT {_GAME_COLUMNS} FROM trivia_games WHERE state = 'running' ORDER BY id"
            )
        else:
            assert shards is not None
            rows = await self._fetch(
                f"SELECT {_GAME_COLUMNS} FROM trivia_games WHERE state = 'running'"
                " AND ((guild_id >> 22) % $1) = ANY($2::bigint[]) ORDER BY id",
                shards.count,
                ids,
            )
        return [_game(row) for row in rows]

    async def open_question(
        self, game_id: int, index: int, opened_at: dt.datetime, message_id: int | None
    ) -> None:
        async def work(conn: Any) -> None:
            text = await conn.fetchval(
                "SELECT opened_at FROM trivia_games WHERE id = $1 FOR UPDATE", game_id
            )
            opened = json.loads(text) if text is not None else []
            if len(opened) != index:
                raise ValueError(f"game {game_id}: question {index} opened out of order")
            opened.append(_iso(opened_at))
            await conn.execute(
                "UPDATE trivia_games SET opened_at = $1, current_message = $2 WHERE id = $3",
                json.dumps(opened),
                message_id,
                game_id,
            )

        await self._transact(work)

    async def set_question_message(self, game_id: int, message_id: int) -> None:
        await self._execute(
            "UPDATE trivia_games SET current_message = $1 WHERE id = $2", message_id, game_id
        )

    async def record_answer(
        self, game_id: int, index: int, user_id: int, choice_index: int, answered_at: dt.datetime
    ) -> bool:
        inserted = await self._fetchval(
            "INSERT INTO trivia_answers (game_id, question_index, user_id, choice_index,"
            " answered_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1",
            game_id,
            index,
            user_id,
            choice_index,
            _utc(answered_at),
        )
        return inserted is not None

    async def game_answers(self, game_id: int) -> list[dict[int, tuple[int, dt.datetime]]]:
        answers: list[dict[int, tuple[int, dt.datetime]]] = []
        rows = await self._fetch(
            "SELECT question_index, user_id, choice_index, answered_at FROM trivia_answers"
            " WHERE game_id = $1 ORDER BY question_index",
            game_id,
        )
        for index, user_id, choice_index, answered_at in rows:
            while len(answers) <= index:
                answers.append({})
            answers[index][int(user_id)] = (int(choice_index), _aware(answered_at))
        return answers

    async def daily_streaks(self, guild_id: int, user_ids: Sequence[int]) -> dict[int, DailyStreak]:
        return await self._run(lambda conn: self._daily_streaks(conn, guild_id, user_ids))

    @staticmethod
    async def _daily_streaks(
        conn: Any, guild_id: int, user_ids: Sequence[int]
    ) -> dict[int, DailyStreak]:
        if not user_ids:
            return {}
        rows = await conn.fetch(
            "SELECT user_id, current, best, last_game_id FROM daily_streaks"
            " WHERE guild_id = $1 AND user_id = ANY($2::bigint[])",
            guild_id,
            list(user_ids),
        )
        return {
            int(uid): DailyStreak(int(cur), int(best), None if last is None else int(last))
            for uid, cur, best, last in rows
        }

    async def latest_daily(self, guild_id: int) -> int | None:
        value = await self._fetchval(
            "SELECT game_id FROM daily_latest WHERE guild_id = $1", guild_id
        )
        return int(value) if value is not None else None

    async def record_reveal(
        self,
        game_id: int,
        index: int,
        rows: Sequence[ScoreRow],
        revealed_at: dt.datetime,
        *,
        timezone: str = "UTC",
        daily: bool = False,
    ) -> None:
        at = _utc(revealed_at)

        async def work(conn: Any) -> None:
            # The game's row lock: a reveal repeated at the same time by another process waits,
            # then sees it counted.
            game = await conn.fetchrow(
                "SELECT guild_id, revealed FROM trivia_games WHERE id = $1 FOR UPDATE", game_id
            )
            if game is None or int(game["revealed"]) > index:
                return  # already scored: a reveal is counted once
            guild_id = int(game["guild_id"])
            ordered = sorted(rows, key=lambda r: r.user_id)  # one lock order: no deadlocks
            await conn.executemany(
                "INSERT INTO trivia_scores (game_id, question_index, guild_id, user_id,"
                " question_id, correct, points, streak, revealed_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
                [
                    (
                        game_id,
                        index,
                        guild_id,
                        r.user_id,
                        r.question_id,
                        int(r.correct),
                        r.points,
                        r.streak,
                        at,
                    )
                    for r in ordered
                ],
            )
            await conn.executemany(
                "INSERT INTO trivia_totals (guild_id, period, user_id, points, correct, answered,"
                " best_streak, first_scored_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $7)"
                " ON CONFLICT (guild_id, period, user_id) DO UPDATE SET"
                " points = trivia_totals.points + EXCLUDED.points,"
                " correct = trivia_totals.correct + EXCLUDED.correct,"
                " answered = trivia_totals.answered + 1,"
                " best_streak = GREATEST(trivia_totals.best_streak, EXCLUDED.best_streak)",
                sorted(
                    (guild_id, period, r.user_id, r.points, int(r.correct), r.streak, at)
                    for r in ordered
                    for period in period_keys(revealed_at, timezone)
                ),
            )
            await conn.execute(
                "UPDATE trivia_games SET revealed = $1 WHERE id = $2", index + 1, game_id
            )
            if daily:
                # The server's daily reveals take turns (in any process): each reads the
                # streaks the one before wrote.
                await conn.execute(
                    "SELECT pg_advisory_xact_lock($1, $2)", LOCK_DAILY, _lock_key(guild_id)
                )
                latest = await conn.fetchval(
                    "SELECT game_id FROM daily_latest WHERE guild_id = $1", guild_id
                )
                streaks = streaks_after(
                    game_id,
                    None if latest is None else int(latest),
                    await self._daily_streaks(conn, guild_id, [r.user_id for r in ordered]),
                    [(r.user_id, r.correct) for r in ordered],
                )
                await conn.executemany(
                    "INSERT INTO daily_streaks (guild_id, user_id, current, best, last_game_id)"
                    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (guild_id, user_id) DO UPDATE SET"
                    " current = EXCLUDED.current, best = EXCLUDED.best,"
                    " last_game_id = EXCLUDED.last_game_id",
                    [
                        (guild_id, user_id, st.current, st.best, st.last_game_id)
                        for user_id, st in sorted(streaks.items())
                    ],
                )
                await conn.execute(
                    "INSERT INTO daily_latest (guild_id, game_id) VALUES ($1, $2)"
                    " ON CONFLICT (guild_id) DO UPDATE SET game_id = EXCLUDED.game_id",
                    guild_id,
                    game_id,
                )

        await self._transact(work)

    async def end_game(self, game_id: int, state: GameState, ended_at: dt.datetime) -> None:
        await self._execute(
            "UPDATE trivia_games SET state = $1, ended_at = $2, current_message = NULL"
            " WHERE id = $3 AND state = 'running'",
            state,
            _utc(ended_at),
            game_id,
        )

    async def last_asked(self, guild_id: int) -> Mapping[str, dt.datetime]:
        rows = await self._fetch(
            "SELECT question_id, asked_at FROM trivia_asked WHERE guild_id = $1", guild_id
        )
        return {str(qid): _aware(at) for qid, at in rows}

    async def leaderboard(self, guild_id: int, period: str, limit: int = 10) -> list[LeaderRow]:
        rows = await self._fetch(
            "SELECT user_id, points, correct, answered,"
            " RANK() OVER (ORDER BY points DESC, correct DESC) AS rank FROM trivia_totals"
            " WHERE guild_id = $1 AND period = $2 AND points > 0"
            " ORDER BY points DESC, correct DESC, first_scored_at, user_id LIMIT $3",
            guild_id,
            period,
            limit,
        )
        return [
            LeaderRow(
                rank=int(rank), user_id=int(uid), points=int(p), correct=int(c), answered=int(n)
            )
            for uid, p, c, n, rank in rows
        ]

    async def leaderboard_row(self, guild_id: int, user_id: int, period: str) -> LeaderRow | None:
        # The rank is 1 + how many have more points (or as many points and more correct).
        row = await self._fetchrow(
            "SELECT me.points, me.correct, me.answered, 1 + (SELECT COUNT(*)"
            " FROM trivia_totals AS other WHERE other.guild_id = me.guild_id"
            " AND other.period = me.period AND (other.points > me.points"
            " OR (other.points = me.points AND other.correct > me.correct))) AS rank"
            " FROM trivia_totals AS me WHERE me.guild_id = $1 AND me.period = $2"
            " AND me.user_id = $3 AND me.points > 0",
            guild_id,
            period,
            user_id,
        )
        if row is None:
            return None
        return LeaderRow(
            rank=int(row["rank"]),
            user_id=user_id,
            points=int(row["points"]),
            correct=int(row["correct"]),
            answered=int(row["answered"]),
        )

    async def player_stats(self, guild_id: int, user_id: int) -> PlayerStats:
        totals = await self._fetchrow(
            "SELECT points, correct, answered, best_streak FROM trivia_totals"
            " WHERE guild_id = $1 AND period = 'all' AND user_id = $2",
            guild_id,
            user_id,
        )
        points, correct, answered, best_streak = (int(v) for v in totals or (0, 0, 0, 0))
        games = await self._fetchval(
            "SELECT COUNT(DISTINCT game_id) FROM trivia_scores"
            " WHERE guild_id = $1 AND user_id = $2",
            guild_id,
            user_id,
        )
        ranked = await self.leaderboard_row(guild_id, user_id, "all")
        daily = (await self.daily_streaks(guild_id, [user_id])).get(user_id, DailyStreak())
        return PlayerStats(
            daily_streak=daily.as_of(await self.latest_daily(guild_id)),
            best_daily_streak=daily.best,
            user_id=user_id,
            points=points,
            games=int(games or 0),
            answered=answered,
            correct=correct,
            best_streak=best_streak,
            rank=ranked.rank if ranked else None,  # only players with points are ranked
        )

    async def add_report(
        self,
        *,
        guild_id: int,
        channel_id: int,
        question_id: str,
        reporter_id: int,
        reason: str,
        created_at: dt.datetime,
    ) -> int:
        report_id = await self._fetchval(
            "INSERT INTO trivia_reports (guild_id, channel_id, question_id, reporter_id,"
            " reason, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            guild_id,
            channel_id,
            question_id,
            reporter_id,
            reason,
            _utc(created_at),
        )
        return int(report_id)

    async def reports(self, guild_id: int | None, limit: int = 50) -> list[Report]:
        columns = "id, guild_id, channel_id, question_id, reporter_id, reason, created_at"
        if guild_id is not None:
            rows = await self._fetch(
                f"SELECT {columns} FROM trivia_reports WHERE guild_id = $1"
                " ORDER BY id DESC LIMIT $2",
                guild_id,
                limit,
            )
        else:
            rows = await self._fetch(
                f"SELECT {columns} FROM trivia_reports ORDER BY id DESC LIMIT $1", limit
            )
        return [
            Report(
                id=int(i),
                guild_id=int(g),
                channel_id=int(c),
                question_id=str(q),
                reporter_id=int(r),
                reason=str(reason),
                created_at=_aware(at),
            )
            for i, g, c, q, r, reason, at in rows
        ]

    # --- schedules ----------------------------------------------------------------------------

    async def add_schedule(
        self,
        *,
        guild_id: int,
        channel_id: int,
        content: PostKind,
        local_time: dt.time,
        timezone: str,
        days: frozenset[int],
        role_id: int | None,
        next_run_at: dt.datetime,
        created_by: int,
        created_at: dt.datetime,
        limit: int,
    ) -> ScheduleRecord:
        async def work(conn: Any) -> int:
            # The server's schedules are counted and added by one process at a time.
            await conn.execute(
                "SELECT pg_advisory_xact_lock($1, $2)", LOCK_SCHEDULE_LIMIT, _lock_key(guild_id)
            )
            count = await conn.fetchval(
                "SELECT COUNT(*) FROM schedules WHERE guild_id = $1", guild_id
            )
            if int(count) >= limit:
                raise TooManySchedules(limit)
            schedule_id = await conn.fetchval(
                "INSERT INTO schedules (guild_id, channel_id, content, local_time, timezone,"
                " days, role_id, next_run_at, created_by, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                guild_id,
                channel_id,
                content,
                local_time.strftime("%H:%M"),
                timezone,
                schedule_rules.format_days(days),
                role_id,
                _utc(next_run_at),
                created_by,
                _utc(created_at),
            )
            return int(schedule_id)

        schedule_id = await self._transact(work)
        record = await self.schedule(schedule_id, guild_id)
        assert record is not None
        return record

    async def schedule(self, schedule_id: int, guild_id: int) -> ScheduleRecord | None:
        row = await self._fetchrow(
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules s WHERE s.id = $1 AND s.guild_id = $2",
            schedule_id,
            guild_id,
        )
        return _schedule(row) if row else None

    async def schedules(self, guild_id: int) -> list[ScheduleRecord]:
        rows = await self._fetch(
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules s WHERE s.guild_id = $1 ORDER BY s.id",
            guild_id,
        )
        return [_schedule(row) for row in rows]

    async def remove_schedule(self, schedule_id: int, guild_id: int) -> bool:
        removed = await self._fetchval(
            "DELETE FROM schedules WHERE id = $1 AND guild_id = $2 RETURNING id",
            schedule_id,
            guild_id,
        )
        return removed is not None

    async def pause_schedule(self, schedule_id: int, guild_id: int) -> ScheduleRecord | None:
        await self._execute(
            "UPDATE schedules SET state = 'paused' WHERE id = $1 AND guild_id = $2",
            schedule_id,
            guild_id,
        )
        return await self.schedule(schedule_id, guild_id)

    async def resume_schedule(
        self, schedule_id: int, guild_id: int, next_run_at: dt.datetime
    ) -> ScheduleRecord | None:
        await self._execute(
            "UPDATE schedules SET state = 'active', failing_reason = NULL, failures = 0,"
            " next_run_at = $1 WHERE id = $2 AND guild_id = $3",
            _utc(next_run_at),
            schedule_id,
            guild_id,
        )
        return await self.schedule(schedule_id, guild_id)

    async def next_due_at(self, *, shards: Shards | None = None) -> dt.datetime | None:
        ids = shard_ids(shards)
        if ids is None:
            value = await self._fetchval(
                "SELECT MIN(next_run_at) FROM schedules WHERE state = 'active'"
            )
        else:
            assert shards is not None
            value = await self._fetchval(
                "SELECT MIN(next_run_at) FROM schedules WHERE state = 'active'"
                " AND ((guild_id >> 22) % $1) = ANY($2::bigint[])",
                shards.count,
                ids,
            )
        return _aware(value) if value is not None else None

    async def claim_due_runs(
        self,
        now: dt.datetime,
        *,
        grace: dt.timedelta,
        limit: int,
        shards: Shards | None = None,
    ) -> list[ScheduleRun]:
        await self._keep_owner_lock()
        at = _utc(now)
        ids = shard_ids(shards)
        shard_sql, shard_args = "", []
        if ids is not None:
            assert shards is not None
            shard_sql = " AND ((s.guild_id >> 22) % $3) = ANY($4::bigint[])"
            shard_args = [shards.count, ids]

        async def work(conn: Any) -> list[ScheduleRun]:
            # The due schedules, locked: another process claiming at the same moment skips
            # them and takes the next ones instead of waiting.
            rows = await conn.fetch(
                f"SELECT {_SCHEDULE_COLUMNS} FROM schedules s"
                f" WHERE s.state = 'active' AND s.next_run_at <= $1{shard_sql}"
                " ORDER BY s.next_run_at, s.id LIMIT $2 FOR UPDATE OF s SKIP LOCKED",
                at,
                limit,
                *shard_args,
            )
            records: list[ScheduleRecord] = []
            following: list[dt.datetime] = []
            for row in rows:
                # A row this host cannot use pauses that one schedule, with the reason.
                try:
                    record = _schedule(row)
                    # Count on from the due run, but never from earlier than the grace window.
                    after = max(record.next_run_at, at - grace)
                    following.append(
                        schedule_rules.next_run_after(
                            record.local_time, record.timezone, record.days, after
                        )
                    )
                except (ValueError, KeyError, TypeError) as error:
                    await self._pause_unusable(conn, int(row["id"]), row["timezone"], error)
                    continue
                records.append(record)
            if not records:
                return []
            schedule_ids = [r.id for r in records]
            # The run is inserted by whoever wins its unique key, and only then is it theirs.
            won = await conn.fetch(
                "INSERT INTO schedule_runs (schedule_id, due_at, claimed_at, claimed_by)"
                " SELECT id, due, $3, $4 FROM unnest($1::bigint[], $2::timestamptz[]) AS v(id, due)"
                " ON CONFLICT (schedule_id, due_at) DO NOTHING RETURNING schedule_id",
                schedule_ids,
                [r.next_run_at for r in records],
                at,
                self.instance,
            )
            await conn.execute(
                "UPDATE schedules SET next_run_at = v.next"
                " FROM unnest($1::bigint[], $2::timestamptz[]) AS v(id, next)"
                " WHERE schedules.id = v.id",
                schedule_ids,
                following,
            )
            mine = {int(r["schedule_id"]) for r in won}
            return [
                ScheduleRun(schedule=r, due_at=r.next_run_at, state=RunState.CLAIMED, claimed_at=at)
                for r in records
                if r.id in mine
            ]

        return await self._transact(work)

    async def _pause_unusable(
        self, conn: Any, schedule_id: int, timezone: object, error: Exception
    ) -> None:
        reason = unusable_reason(timezone, error)
        await conn.execute(
            "UPDATE schedules SET state = 'paused', failing_reason = $1 WHERE id = $2",
            reason,
            schedule_id,
        )
        log.warning("schedule #%d paused: %s (%s)", schedule_id, reason, error)

    async def unfinished_runs(self, *, shards: Shards | None = None) -> list[ScheduleRun]:
        """The claimed, unsent runs of processes that died (of these shards), now this
        process's to finish. A live process's runs are left to it, even on the same shards."""
        await self._keep_owner_lock()
        ids = shard_ids(shards)
        shard_sql, shard_args = "", []
        if ids is not None:
            assert shards is not None
            shard_sql = " AND ((s.guild_id >> 22) % $2) = ANY($3::bigint[])"
            shard_args = [shards.count, ids]
        await self._take_over_dead_owners(shard_sql, shard_args)
        rows = await self._fetch(
            f"SELECT {_SCHEDULE_COLUMNS}, r.due_at AS run_due_at, r.state AS run_state,"
            " r.claimed_at AS run_claimed_at"
            " FROM schedule_runs r JOIN schedules s ON s.id = r.schedule_id"
            f" WHERE r.state = 'claimed' AND r.claimed_by = $1{shard_sql}"
            " ORDER BY r.due_at, s.id",
            self.instance,
            *shard_args,
        )
        runs: list[ScheduleRun] = []
        for row in rows:
            try:
                schedule = _schedule(row)
                schedule_rules.next_run_after(  # the schedule can be used on this host
                    schedule.local_time, schedule.timezone, schedule.days, schedule.next_run_at
                )
                runs.append(
                    ScheduleRun(
                        schedule=schedule,
                        due_at=_aware(row["run_due_at"]),
                        state=RunState(row["run_state"]),
                        claimed_at=_aware(row["run_claimed_at"]),
                    )
                )
            except (ValueError, KeyError, TypeError) as error:
                await self._fail_unusable_run(row, error)
        return runs

    async def _take_over_dead_owners(self, shard_sql: str, shard_args: list[Any]) -> None:
        """Make this process the owner of the unfinished runs whose owner is gone: its owner
        lock is free (or the run predates owners, e.g. copied by `migrate`). Each run moves in
        one UPDATE, so two processes starting together never both take it."""
        owners = await self._fetch(
            "SELECT DISTINCT r.claimed_by FROM schedule_runs r"
            " JOIN schedules s ON s.id = r.schedule_id"
            f" WHERE r.state = 'claimed' AND r.claimed_by IS DISTINCT FROM $1{shard_sql}",
            self.instance,
            *shard_args,
        )

        owner_at = f"${len(shard_args) + 2}"  # after $1 and the shard parameters

        async def take(conn: Any, owner: str | None) -> None:
            await conn.execute(
                "UPDATE schedule_runs r SET claimed_by = $1 FROM schedules s"
                " WHERE s.id = r.schedule_id AND r.state = 'claimed'"
                f" AND r.claimed_by IS NOT DISTINCT FROM {owner_at}::text{shard_sql}",
                self.instance,
                *shard_args,
                owner,
            )

        def taker(owner: str | None) -> Callable[[Any], Awaitable[None]]:
            async def work(conn: Any) -> None:
                # The owner's lock, free only if its process is gone, is held until commit.
                if owner is not None and not await conn.fetchval(
                    "SELECT pg_try_advisory_xact_lock($1, hashtext($2))", LOCK_RUN_OWNER, owner
                ):
                    return  # alive: its runs stay its own
                await take(conn, owner)

            return work

        for row in owners:
            await self._transact(taker(row["claimed_by"]))

    async def _fail_unusable_run(self, row: Any, error: Exception) -> None:
        async def work(conn: Any) -> None:
            await conn.execute(
                "UPDATE schedule_runs SET state = 'failed', error = $1"
                " WHERE schedule_id = $2 AND due_at = $3 AND state = 'claimed'",
                f"the schedule cannot be used: {error}"[:300],
                row["id"],
                row["run_due_at"],
            )
            await self._pause_unusable(conn, int(row["id"]), row["timezone"], error)

        await self._transact(work)

    async def sent_run(
        self, schedule_id: int, due_at: dt.datetime
    ) -> tuple[int, dt.datetime] | None:
        row = await self._fetchrow(
            "SELECT message_id, sent_at FROM schedule_runs"
            " WHERE schedule_id = $1 AND due_at = $2 AND state = 'sent'",
            schedule_id,
            _utc(due_at),
        )
        if row is None or row["message_id"] is None or row["sent_at"] is None:
            return None
        return int(row["message_id"]), _aware(row["sent_at"])

    async def mark_run_sent(
        self, schedule_id: int, due_at: dt.datetime, message_id: int, sent_at: dt.datetime
    ) -> None:
        async def work(conn: Any) -> None:
            await conn.execute(
                "UPDATE schedule_runs SET state = 'sent', message_id = $1, sent_at = $2,"
                " error = NULL WHERE schedule_id = $3 AND due_at = $4",
                message_id,
                _utc(sent_at),
                schedule_id,
                _utc(due_at),
            )
            await conn.execute(
                "UPDATE schedules SET failures = 0, failing_reason = NULL WHERE id = $1",
                schedule_id,
            )

        await self._transact(work)

    async def mark_run_skipped(self, schedule_id: int, due_at: dt.datetime, reason: str) -> None:
        await self._execute(
            "UPDATE schedule_runs SET state = 'skipped', error = $1"
            " WHERE schedule_id = $2 AND due_at = $3 AND state = 'claimed'",
            reason,
            schedule_id,
            _utc(due_at),
        )

    async def mark_run_failed(
        self,
        schedule_id: int,
        due_at: dt.datetime,
        error: str,
        *,
        failing_reason: str | None,
        pause_after: int,
    ) -> ScheduleRecord | None:
        async def work(conn: Any) -> ScheduleRecord | None:
            changed = await conn.fetchval(
                "UPDATE schedule_runs SET state = 'failed', error = $1"
                " WHERE schedule_id = $2 AND due_at = $3 AND state = 'claimed' RETURNING 1",
                error,
                schedule_id,
                _utc(due_at),
            )
            if changed is not None and failing_reason is not None:
                await conn.execute(
                    "UPDATE schedules SET failures = failures + 1, failing_reason = $1,"
                    " state = CASE WHEN failures + 1 >= $2 THEN 'paused' ELSE state END"
                    " WHERE id = $3",
                    failing_reason,
                    pause_after,
                    schedule_id,
                )
            row = await conn.fetchrow(
                f"SELECT {_SCHEDULE_COLUMNS} FROM schedules s WHERE s.id = $1", schedule_id
            )
            return _schedule(row) if row else None

        return await self._transact(work)

    # --- IDENTIFY turns -----------------------------------------------------------------------

    async def claim_identify_slot(
        self, bucket: int, now: dt.datetime, spacing: dt.timedelta
    ) -> dt.datetime:
        at = _utc(now)

        async def work(conn: Any) -> dt.datetime:
            # Held until the transaction ends: the bucket's slot is read and moved by one
            # process at a time. Nobody holds it while waiting for the slot.
            await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", LOCK_IDENTIFY, bucket)
            last = await conn.fetchval(
                "SELECT slot_at FROM identify_slots WHERE bucket = $1", bucket
            )
            slot = next_identify_slot(_aware(last) if last is not None else None, at, spacing)
            await conn.execute(
                "INSERT INTO identify_slots (bucket, slot_at) VALUES ($1, $2)"
                " ON CONFLICT (bucket) DO UPDATE SET slot_at = EXCLUDED.slot_at",
                bucket,
                slot,
            )
            return slot

        return await self._transact(work)
