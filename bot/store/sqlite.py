"""SQLite implementation of the Store (aiosqlite; WAL, busy timeout, foreign keys, migrations).

The statements are `bot.store.sql`'s; here is what only SQLite does: one connection shared by
every coroutine (writes pipelined on it, transactions one at a time), the file's health, and
shuffle bags kept in memory as last written.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import json
import logging
import os
import random
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeGuard, TypeVar, cast

import aiosqlite

from bot.domain import rotation
from bot.domain.clock import Clock, SystemClock
from bot.domain.records import ScheduleRun, StoreError, StoreUnavailable
from bot.domain.schedule import RunState
from bot.domain.shards import Shards
from bot.store.common import numbered_migrations
from bot.store.sql import (
    SCHEDULE_COLUMNS,
    SQLITE,
    Row,
    Sql,
    SqlStore,
    Transaction,
    Turn,
    in_shards,
    iso,
    sql,
)

__all__ = ["SQLiteStore", "StoreError", "StoreUnavailable", "migrations"]
log = logging.getLogger(__name__)
T = TypeVar("T")
FILE_CHECK_SECONDS = 30.0  # how often the bot checks that its database file is still there
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 5000
BAG_CACHE_SIZE = 50_000  # shuffle bags kept in memory (channel x filter); the rest on disk


def _can_create_files_in(folder: Path) -> bool:
    """Whether this process may create a file in `folder` (tried, not guessed from the mode
    bits: root, ACLs and read-only mounts all decide differently)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


# What "the file cannot be written right now" looks like from SQLite (result codes, extended
# ones included: SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED…). Any other OperationalError
# (no such column, a syntax error) is the bot's own mistake and goes up as itself.
UNAVAILABLE_CODES = (
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_FULL",
    "SQLITE_READONLY",
    "SQLITE_IOERR",
    "SQLITE_CANTOPEN",
)


def _unavailable(error: BaseException) -> TypeGuard[sqlite3.OperationalError]:
    name = getattr(error, "sqlite_errorname", "") or ""
    return isinstance(error, sqlite3.OperationalError) and name.startswith(UNAVAILABLE_CODES)


def migrations() -> list[tuple[int, Path]]:
    return numbered_migrations(MIGRATIONS_DIR)


_iso = iso  # instants are stored as UTC ISO text, so they sort and compare as strings

READ_BAG = sql(
    "SELECT remaining, last_id FROM shuffle_bags WHERE scope_id = ? AND kind = ? AND filter_key = ?"
)
WRITE_BAG = sql(
    "INSERT INTO shuffle_bags (scope_id, kind, filter_key, remaining, last_id, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scope_id, kind, filter_key) DO UPDATE SET"
    " remaining = excluded.remaining, last_id = excluded.last_id,"
    " updated_at = excluded.updated_at"
)
CLAIM_RUN = sql(
    "INSERT INTO schedule_runs (schedule_id, due_at, claimed_at) VALUES (?, ?, ?)"
    " ON CONFLICT (schedule_id, due_at) DO NOTHING"
)
MOVE_ON = sql("UPDATE schedules SET next_run_at = ? WHERE id = ?")
UNFINISHED_RUNS = in_shards(
    f"SELECT {SCHEDULE_COLUMNS}, r.due_at, r.state, r.claimed_at"
    " FROM schedule_runs r JOIN schedules s ON s.id = r.schedule_id"
    " WHERE r.state = 'claimed'{shards} ORDER BY r.due_at, s.id",
    "s.guild_id",
)


class _Statements:
    """`sql.Transaction` on the store's one connection. Reads run at once, in one trip to
    aiosqlite's thread each. Writes run as they are inside a transaction (`in_transaction`);
    outside one, through `_write`, which commits each on its own and keeps it out of a
    transaction another coroutine has open."""

    __slots__ = ("_in_transaction", "_store")

    def __init__(self, store: SQLiteStore, *, in_transaction: bool) -> None:
        self._store = store
        self._in_transaction = in_transaction

    async def rows(self, q: Sql, *args: object) -> Sequence[Row]:
        return cast("list[Row]", await self._store.db.execute_fetchall(q.sqlite, args))

    async def row(self, q: Sql, *args: object) -> Row | None:
        rows = cast("list[Row]", await self._store.db.execute_fetchall(q.sqlite, args))
        return rows[0] if rows else None

    async def value(self, q: Sql, *args: object) -> Any:
        rows = cast("list[Row]", await self._store.db.execute_fetchall(q.sqlite, args))
        return rows[0][0] if rows else None

    async def execute(self, q: Sql, *args: object) -> int:
        if self._in_transaction:
            return int((await self._store.db.execute(q.sqlite, args)).rowcount)
        return int((await self._store._write(q.sqlite, args)).rowcount)

    async def insert(self, q: Sql, *args: object) -> int:
        if self._in_transaction:
            cursor = await self._store.db.execute(q.sqlite, args)
        else:
            cursor = await self._store._write(q.sqlite, args)
        return int(cursor.lastrowid or 0)

    async def execute_many(self, q: Sql, args: Iterable[Sequence[object]]) -> None:
        assert self._in_transaction, "a batch is written in a transaction"
        await self._store.db.executemany(q.sqlite, args)


class SQLiteStore(SqlStore):
    _dialect = SQLITE
    _DUPLICATE = (sqlite3.IntegrityError,)

    def __init__(self, path: Path, clock: Clock | None = None) -> None:
        self.path = path
        self._clock = clock or SystemClock()
        self._db: aiosqlite.Connection | None = None
        self._auto = _Statements(self, in_transaction=False)
        self._in_transaction = _Statements(self, in_transaction=True)
        # One connection is shared by every coroutine; a transaction must not interleave with
        # another coroutine's statements, so writers take this lock.
        self._write_lock = asyncio.Lock()
        # Shuffle bags as last written, so a draw is one write instead of a read-modify-write
        # transaction. Each bag belongs to one channel (or server) and so to one process.
        self._bag_lock = asyncio.Lock()  # draws only: never held across another write
        self._bags: collections.OrderedDict[tuple[int, str, str], tuple[list[str], str | None]] = (
            collections.OrderedDict()
        )
        # Health, for the operator's log: one line when writes start failing or the file is
        # deleted or replaced under the bot, one when it is back to normal.
        self._write_problem: str | None = None
        self._file_problem: str | None = None
        self._file_id: tuple[int, int] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self.on_error: Callable[[str], None] | None = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the store is not open")
        return self._db

    async def open(self, *, check_writable: bool = True) -> None:
        """Open (creating it with its folder if missing), migrate, and prove it can be written:
        a database the bot can read but not write is refused here, not at the first command.
        (`check_writable=False` is for readers only, such as `lwa-bot reports`.)"""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Fail here if the file cannot be opened: a failed aiosqlite.connect leaves its
            # thread to finish after the event loop closed, which prints a traceback.
            sqlite3.connect(self.path).close()
            self._db = await aiosqlite.connect(self.path, isolation_level=None)
            await self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await self._db.execute("PRAGMA journal_mode = WAL")
            await self._db.execute("PRAGMA foreign_keys = ON")
            await self._db.execute("PRAGMA synchronous = NORMAL")
            if check_writable:
                await self._check_writable()
            await self._migrate()
            self._file_id = self._stat_file()
            if check_writable:  # the bot's own store: watch that its file stays in place
                self._watcher = asyncio.create_task(self._watch_file(), name="database-watch")
        except (OSError, sqlite3.Error) as exc:
            await self.close()
            raise StoreError(self._explain(exc)) from exc
        except BaseException:
            await self.close()
            raise

    async def _check_writable(self) -> None:
        """A real write, rolled back. SQLite opens a file it may not write read-only without a
        word, and BEGIN IMMEDIATE alone succeeds there; changing a page does not."""
        version = await self.schema_version()
        await self.db.execute("BEGIN IMMEDIATE")
        try:
            await self.db.execute(f"PRAGMA user_version = {version}")
        finally:
            await self.db.execute("ROLLBACK")

    def _explain(self, error: OSError | sqlite3.Error) -> str:
        """One sentence for the operator: what is wrong with DATABASE_PATH and what to do."""
        folder = self.path.parent
        name = getattr(error, "sqlite_errorname", "")
        if isinstance(error, FileExistsError | NotADirectoryError):
            return f"cannot create the folder {folder} for the database: a file is in the way"
        if isinstance(error, PermissionError):  # creating the folder
            return (
                f"cannot create the folder {folder} for the database: permission denied on "
                f"{error.filename}; create it for the bot's user, or choose another path"
            )
        if name == "SQLITE_READONLY_DIRECTORY" or (
            name.startswith("SQLITE_CANTOPEN") and not _can_create_files_in(folder)
        ):
            return (
                f"cannot write to {self.path}: its folder {folder} is read-only for the bot, "
                "which must create files there (the database and its -wal and -shm files); "
                "give the bot's user write permission on the folder"
            )
        if name.startswith("SQLITE_BUSY"):
            return (
                f"cannot write to {self.path}: another program kept it locked for more than "
                f"{BUSY_TIMEOUT_MS // 1000} s (another bot using the same DATABASE_PATH?)"
            )
        if name.startswith("SQLITE_READONLY"):
            return (
                f"cannot write to {self.path}: the database file is read-only for the bot; "
                "give the bot's user write permission on it (and its -wal and -shm files)"
            )
        return f"cannot open the database at {self.path}: {error}"

    # --- health -------------------------------------------------------------------------

    def _stat_file(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def check_file(self) -> str | None:
        """Whether the database file is still the one the bot opened; logs a change once."""
        now = self._stat_file()
        if now is None:
            problem = (
                f"the database file {self.path} was deleted while the bot runs: everything is "
                "now written to a file nobody can open, and lost at the next start; restore the "
                "file from a backup (or copy it out of /proc/<pid>/fd) and restart the bot"
            )
        elif now != self._file_id:
            problem = (
                f"the database file {self.path} was replaced while the bot runs: the bot keeps "
                "writing to the file it opened, not to the new one; restart the bot to use the "
                "new file (its changes since then would be lost), or put the old file back"
            )
        else:
            problem = None
        if problem != self._file_problem:
            if problem is not None:
                log.critical("%s", problem)
            else:
                log.warning("the database file %s is back in place", self.path)
            self._file_problem = problem
        return problem

    async def _watch_file(self) -> None:
        while True:
            await self._clock.sleep(FILE_CHECK_SECONDS)
            self.check_file()

    def _unwritable(self, error: sqlite3.OperationalError) -> StoreUnavailable:
        """Log (once) that the database cannot be written, and why; the error to raise."""
        name = getattr(error, "sqlite_errorname", "")
        kind = "other"
        if name.startswith("SQLITE_FULL"):
            why, kind = "the disk is full", "full"
        elif name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            seconds = BUSY_TIMEOUT_MS // 1000
            why, kind = f"another program has kept it locked for more than {seconds} s", "locked"
        elif name.startswith("SQLITE_READONLY"):
            why, kind = "it has become read-only for the bot", "read_only"
        elif name.startswith("SQLITE_IOERR"):
            why = f"the disk reported an error ({error})"
        else:
            why, kind = str(error), "unavailable"
        if self.on_error is not None:
            self.on_error(kind)
        problem = f"the database {self.path} cannot be written: {why}"
        if self._write_problem != problem:
            log.error(
                "%s; answers, points and scheduled posts that need it fail until it can be "
                "(the bot keeps trying)",
                problem,
            )
            self._write_problem = problem
            self.check_file()
        return StoreUnavailable(problem)

    def _written(self) -> None:
        if self._write_problem is not None:
            log.warning("the database %s can be written again", self.path)
            self._write_problem = None

    @property
    def healthy(self) -> bool:
        return self._write_problem is None and self._file_problem is None

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    async def schema_version(self) -> int:
        async with self.db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def _migrate(self) -> None:
        current = await self.schema_version()
        latest = max((n for n, _ in migrations()), default=0)
        if current > latest:
            raise StoreError(
                f"the database has schema version {current}, newer than this bot "
                f"knows ({latest}); upgrade the bot"
            )
        for number, path in migrations():
            if number <= current:
                continue
            script = path.read_text(encoding="utf-8")
            # One transaction per migration: a crash leaves the previous version intact.
            await self.db.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE … COMMIT (ROLLBACK on error), one writer at a time."""
        async with self._write_lock:
            try:
                # Inside the try: a task cancelled while awaiting BEGIN still has it run in
                # aiosqlite's thread, and must not leave the shared connection in a transaction.
                await self.db.execute("BEGIN IMMEDIATE")
                yield self.db
                await self.db.execute("COMMIT")
            except BaseException as error:
                with contextlib.suppress(sqlite3.OperationalError):  # BEGIN itself failed
                    await self.db.execute("ROLLBACK")
                if _unavailable(error):
                    raise self._unwritable(error) from error
                raise
        self._written()

    async def _write(self, text: str, params: Sequence[object]) -> aiosqlite.Cursor:
        """One statement, committed on its own (autocommit): the cheapest atomic write.

        Statements run one after another, in the order they were queued, on aiosqlite's
        thread. A statement queued while a transaction is open would become part of it, so
        it waits for the transaction to end; otherwise it is queued at once, and concurrent
        writes pipeline instead of waiting for each other's round trip. (The check and the
        queueing happen without a suspension in between, so no BEGIN can slip in.)
        """
        try:
            if self._write_lock.locked():
                async with self._write_lock:
                    cursor = await self.db.execute(text, params)
            else:
                cursor = await self.db.execute(text, params)
        except sqlite3.OperationalError as error:
            if not _unavailable(error):
                raise
            raise self._unwritable(error) from error
        self._written()
        return cursor

    async def _transaction(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        async with self.transaction():
            return await work(self._in_transaction)

    async def _take_turn(self, tx: Transaction, turn: Turn, key: int) -> None:
        """Nothing to do: BEGIN IMMEDIATE already makes writing transactions take turns."""

    async def draw(
        self,
        scope_id: int,
        kind: str,
        filter_key: str,
        candidates: Sequence[str],
        rng: random.Random,
        *,
        exclusive: bool = False,  # one process, one file: every draw is written at once
        within: Collection[str] | None = None,
    ) -> str:
        key = (scope_id, kind, filter_key)
        async with self._bag_lock:
            bag = self._bags.pop(key, None)
            if bag is None:
                row = await self._auto.row(READ_BAG, *key)
                bag = (json.loads(row[0]), row[1]) if row else ([], None)
            pick, remaining = rotation.draw(candidates, bag[0], rng, last=bag[1], within=within)
            self._bags[key] = (remaining, pick)
            if len(self._bags) > BAG_CACHE_SIZE:
                self._bags.popitem(last=False)
        # Written outside the bag lock, so concurrent draws pipeline through the database
        # thread instead of waiting for each other; draws of one bag are written in order.
        now = iso(self._clock.now())
        await self._auto.execute(WRITE_BAG, *key, json.dumps(remaining), pick, now)
        return pick

    # --- scheduled runs: one process claims, so one transaction claims -----------------------

    async def claim_due_runs(
        self,
        now: dt.datetime,
        *,
        grace: dt.timedelta,
        limit: int,
        shards: Shards | None = None,
    ) -> list[ScheduleRun]:
        async def work(tx: Transaction) -> list[ScheduleRun]:
            claimed: list[ScheduleRun] = []
            due = await self._due_schedules(tx, now, grace=grace, limit=limit, shards=shards)
            for record, following in due:
                due_at = record.next_run_at
                inserted = await tx.execute(CLAIM_RUN, record.id, iso(due_at), iso(now))
                await tx.execute(MOVE_ON, iso(following), record.id)
                if inserted == 1:
                    claimed.append(
                        ScheduleRun(
                            schedule=record, due_at=due_at, state=RunState.CLAIMED, claimed_at=now
                        )
                    )
            return claimed

        return await self._transaction(work)

    async def unfinished_runs(self, *, shards: Shards | None = None) -> list[ScheduleRun]:
        q, args = self._in_shards(UNFINISHED_RUNS, shards)
        return await self._usable_runs(await self._auto.rows(q, *args))
