"""SQLite implementation of the Store (aiosqlite; WAL, busy timeout, foreign keys, migrations)."""

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
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeGuard

import aiosqlite

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

__all__ = ["SQLiteStore", "StoreError", "StoreUnavailable", "migrations"]
log = logging.getLogger(__name__)
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


def _iso(instant: dt.datetime) -> str:
    """Instants are stored as UTC ISO text, so they sort and compare as strings."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime")
    return instant.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _in_shards(shards: Shards | None, column: str) -> tuple[str, tuple[int, ...]]:
    """` AND ((guild_id >> 22) % ?) IN (?, …)` and its parameters, or nothing for all shards
    (rows without a server, guild_id 0, are shard 0's)."""
    ids = shard_ids(shards)
    if ids is None or shards is None:
        return "", ()
    marks = ", ".join("?" * len(ids))
    return f" AND (({column} >> 22) % ?) IN ({marks})", (shards.count, *ids)


_GAME_COLUMNS = (
    "id, guild_id, channel_id, starter_id, kind, difficulty, seconds, question_ids,"
    " choices, state, revealed, current_message, opened_at, started_at, run_key"
)


def _game(row: sqlite3.Row | tuple[object, ...]) -> GameRecord:
    (
        game_id,
        guild_id,
        channel_id,
        starter_id,
        kind,
        difficulty,
        seconds,
        question_ids,
        choices,
        state,
        revealed,
        current_message,
        opened_at,
        started_at,
        run_key,
    ) = tuple(row)
    return GameRecord(
        id=int(game_id),
        guild_id=int(guild_id),
        channel_id=int(channel_id),
        starter_id=int(starter_id),
        kind=GameKind(kind),
        difficulty=str(difficulty),
        seconds=int(seconds),
        question_ids=tuple(json.loads(str(question_ids))),
        choices=tuple(tuple(c) for c in json.loads(str(choices))),
        state=GameState(state),
        revealed=int(revealed),
        current_message=int(current_message) if current_message is not None else None,
        opened_at=tuple(_instant(t) for t in json.loads(str(opened_at))),
        started_at=_instant(str(started_at)),
        run_key=str(run_key) if run_key is not None else None,
    )


class SQLiteStore:
    def __init__(self, path: Path, clock: Clock | None = None) -> None:
        self.path = path
        self._clock: Clock = clock or SystemClock()
        self._db: aiosqlite.Connection | None = None
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

    def _now(self) -> str:
        return self._clock.now().isoformat(timespec="seconds")

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

    async def _write(self, sql: str, params: Sequence[object]) -> aiosqlite.Cursor:
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
                    cursor = await self.db.execute(sql, params)
            else:
                cursor = await self.db.execute(sql, params)
        except sqlite3.OperationalError as error:
            if not _unavailable(error):
                raise
            raise self._unwritable(error) from error
        self._written()
        return cursor

    async def get_meta(self, key: str) -> str | None:
        async with self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else None

    async def set_meta(self, key: str, value: str) -> None:
        await self._write(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    async def guild_timezone(self, guild_id: int) -> str | None:
        async with self.db.execute(
            "SELECT timezone FROM guild_settings WHERE guild_id = ?", (guild_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else None

    async def set_guild_timezone(self, guild_id: int, timezone: str) -> None:
        await self._write(
            "INSERT INTO guild_settings (guild_id, timezone, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET timezone = excluded.timezone, "
            "updated_at = excluded.updated_at",
            (guild_id, timezone, self._now()),
        )

    async def draw(
        self,
        scope_id: int,
        kind: str,
        filter_key: str,
        candidates: Sequence[str],
        rng: random.Random,
        *,
        exclusive: bool = False,  # one process, one file: every draw is written at once
    ) -> str:
        key = (scope_id, kind, filter_key)
        async with self._bag_lock:
            bag = self._bags.pop(key, None)
            if bag is None:
                async with self.db.execute(
                    "SELECT remaining, last_id FROM shuffle_bags "
                    "WHERE scope_id = ? AND kind = ? AND filter_key = ?",
                    key,
                ) as cursor:
                    row = await cursor.fetchone()
                bag = (json.loads(row[0]), row[1]) if row else ([], None)
            pick, remaining = rotation.draw(candidates, bag[0], rng, last=bag[1])
            self._bags[key] = (remaining, pick)
            if len(self._bags) > BAG_CACHE_SIZE:
                self._bags.popitem(last=False)
        # Written outside the bag lock, so concurrent draws pipeline through the database
        # thread instead of waiting for each other; draws of one bag are written in order.
        await self._write(
            "INSERT INTO shuffle_bags"
            " (scope_id, kind, filter_key, remaining, last_id, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scope_id, kind, filter_key) DO UPDATE SET"
            " remaining = excluded.remaining, last_id = excluded.last_id,"
            " updated_at = excluded.updated_at",
            (*key, json.dumps(remaining), pick, self._now()),
        )
        return pick

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
        try:
            async with self.transaction() as db:
                cursor = await db.execute(
                    "INSERT INTO trivia_games (guild_id, channel_id, starter_id, kind, difficulty,"
                    " seconds, question_ids, choices, started_at, run_key)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        guild_id,
                        channel_id,
                        starter_id,
                        kind,
                        difficulty,
                        seconds,
                        json.dumps(list(question_ids)),
                        json.dumps([list(c) for c in choices]),
                        _iso(started_at),
                        run_key,
                    ),
                )
                game_id = cursor.lastrowid
                await db.executemany(
                    "INSERT INTO trivia_asked (guild_id, question_id, asked_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (guild_id, question_id)"
                    " DO UPDATE SET asked_at = excluded.asked_at",
                    [(guild_id, qid, _iso(started_at)) for qid in question_ids],
                )
        except sqlite3.IntegrityError as exc:
            raise GameAlreadyRunning(channel_id) from exc
        record = await self.game(int(game_id or 0))
        assert record is not None
        return record

    async def game(self, game_id: int) -> GameRecord | None:
        async with self.db.execute(
            f"SELECT {_GAME_COLUMNS} FROM trivia_games WHERE id = ?", (game_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return _game(row) if row else None

    async def game_for_run(self, run_key: str) -> GameRecord | None:
        async with self.db.execute(
            f"SELECT {_GAME_COLUMNS} FROM trivia_games WHERE run_key = ?", (run_key,)
        ) as cursor:
            row = await cursor.fetchone()
        return _game(row) if row else None

    async def running_game(self, channel_id: int) -> GameRecord | None:
        async with self.db.execute(
            f"SELECT {_GAME_COLUMNS} FROM trivia_games"
            " WHERE channel_id = ? AND state = 'running' AND kind = 'game'",
            (channel_id,),
        ) as cursor:
            row = await cursor.fetchone()
        return _game(row) if row else None

    async def running_games(self, *, shards: Shards | None = None) -> list[GameRecord]:
        in_shards, args = _in_shards(shards, "guild_id")
        async with self.db.execute(
            f"SELECT {_GAME_COLUMNS} FROM trivia_games WHERE state = 'running'{in_shards}"
            " ORDER BY id",
            args,
        ) as cursor:
            rows = await cursor.fetchall()
        return [_game(row) for row in rows]

    async def open_question(
        self, game_id: int, index: int, opened_at: dt.datetime, message_id: int | None
    ) -> None:
        async with self.transaction() as db:
            async with db.execute(
                "SELECT opened_at FROM trivia_games WHERE id = ?", (game_id,)
            ) as cursor:
                row = await cursor.fetchone()
            opened = json.loads(row[0]) if row else []
            if len(opened) != index:
                raise ValueError(f"game {game_id}: question {index} opened out of order")
            opened.append(_iso(opened_at))
            await db.execute(
                "UPDATE trivia_games SET opened_at = ?, current_message = ? WHERE id = ?",
                (json.dumps(opened), message_id, game_id),
            )

    async def set_question_message(self, game_id: int, message_id: int) -> None:
        await self._write(
            "UPDATE trivia_games SET current_message = ? WHERE id = ?", (message_id, game_id)
        )

    async def record_answer(
        self, game_id: int, index: int, user_id: int, choice_index: int, answered_at: dt.datetime
    ) -> bool:
        cursor = await self._write(
            "INSERT OR IGNORE INTO trivia_answers (game_id, question_index, user_id,"
            " choice_index, answered_at) VALUES (?, ?, ?, ?, ?)",
            (game_id, index, user_id, choice_index, _iso(answered_at)),
        )
        return cursor.rowcount == 1

    async def game_answers(self, game_id: int) -> list[dict[int, tuple[int, dt.datetime]]]:
        answers: list[dict[int, tuple[int, dt.datetime]]] = []
        async with self.db.execute(
            "SELECT question_index, user_id, choice_index, answered_at FROM trivia_answers"
            " WHERE game_id = ? ORDER BY question_index",
            (game_id,),
        ) as cursor:
            async for index, user_id, choice_index, answered_at in cursor:
                while len(answers) <= index:
                    answers.append({})
                answers[index][int(user_id)] = (int(choice_index), _instant(answered_at))
        return answers

    async def daily_streaks(self, guild_id: int, user_ids: Sequence[int]) -> dict[int, DailyStreak]:
        return await self._daily_streaks(self.db, guild_id, user_ids)

    @staticmethod
    async def _daily_streaks(
        db: aiosqlite.Connection, guild_id: int, user_ids: Sequence[int]
    ) -> dict[int, DailyStreak]:
        if not user_ids:
            return {}
        marks = ", ".join("?" * len(user_ids))
        async with db.execute(
            "SELECT user_id, current, best, last_game_id FROM daily_streaks"
            f" WHERE guild_id = ? AND user_id IN ({marks})",
            (guild_id, *user_ids),
        ) as cursor:
            return {
                int(uid): DailyStreak(int(cur), int(best), None if last is None else int(last))
                async for uid, cur, best, last in cursor
            }

    async def latest_daily(self, guild_id: int) -> int | None:
        return await self._latest_daily(self.db, guild_id)

    @staticmethod
    async def _latest_daily(db: aiosqlite.Connection, guild_id: int) -> int | None:
        async with db.execute(
            "SELECT game_id FROM daily_latest WHERE guild_id = ?", (guild_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else None

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
        # One writer at a time (BEGIN IMMEDIATE): a daily reveal reads the streaks it moves on
        # with nothing written in between.
        async with self.transaction() as db:
            async with db.execute(
                "SELECT guild_id, revealed FROM trivia_games WHERE id = ?", (game_id,)
            ) as cursor:
                row = await cursor.fetchone()
            if row is None or int(row[1]) > index:
                return  # already scored: a reveal is counted once
            await db.executemany(
                "INSERT OR IGNORE INTO trivia_scores (game_id, question_index, guild_id, user_id,"
                " question_id, correct, points, streak, revealed_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        game_id,
                        index,
                        row[0],
                        r.user_id,
                        r.question_id,
                        int(r.correct),
                        r.points,
                        r.streak,
                        _iso(revealed_at),
                    )
                    for r in rows
                ],
            )
            await db.executemany(
                "INSERT INTO trivia_totals (guild_id, period, user_id, points, correct, answered,"
                " best_streak, first_scored_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?)"
                " ON CONFLICT (guild_id, period, user_id) DO UPDATE SET"
                " points = points + excluded.points, correct = correct + excluded.correct,"
                " answered = answered + 1, best_streak = MAX(best_streak, excluded.best_streak)",
                [
                    (
                        row[0],
                        period,
                        r.user_id,
                        r.points,
                        int(r.correct),
                        r.streak,
                        _iso(revealed_at),
                    )
                    for r in rows
                    for period in period_keys(revealed_at, timezone)
                ],
            )
            await db.execute(
                "UPDATE trivia_games SET revealed = ? WHERE id = ?", (index + 1, game_id)
            )
            if daily:
                guild_id = int(row[0])
                streaks = streaks_after(
                    game_id,
                    await self._latest_daily(db, guild_id),
                    await self._daily_streaks(db, guild_id, [r.user_id for r in rows]),
                    [(r.user_id, r.correct) for r in rows],
                )
                await db.executemany(
                    "INSERT INTO daily_streaks (guild_id, user_id, current, best, last_game_id)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, user_id) DO UPDATE SET"
                    " current = excluded.current, best = excluded.best,"
                    " last_game_id = excluded.last_game_id",
                    [
                        (guild_id, user_id, st.current, st.best, st.last_game_id)
                        for user_id, st in streaks.items()
                    ],
                )
                await db.execute(
                    "INSERT INTO daily_latest (guild_id, game_id) VALUES (?, ?)"
                    " ON CONFLICT (guild_id) DO UPDATE SET game_id = excluded.game_id",
                    (guild_id, game_id),
                )

    async def end_game(self, game_id: int, state: GameState, ended_at: dt.datetime) -> None:
        await self._write(
            "UPDATE trivia_games SET state = ?, ended_at = ?, current_message = NULL"
            " WHERE id = ? AND state = 'running'",
            (state, _iso(ended_at), game_id),
        )

    async def last_asked(self, guild_id: int) -> Mapping[str, dt.datetime]:
        async with self.db.execute(
            "SELECT question_id, asked_at FROM trivia_asked WHERE guild_id = ?", (guild_id,)
        ) as cursor:
            return {str(qid): _instant(at) async for qid, at in cursor}

    async def leaderboard(self, guild_id: int, period: str, limit: int = 10) -> list[LeaderRow]:
        async with self.db.execute(
            "SELECT user_id, points, correct, answered,"
            " RANK() OVER (ORDER BY points DESC, correct DESC) FROM trivia_totals"
            " WHERE guild_id = ? AND period = ? AND points > 0"
            " ORDER BY points DESC, correct DESC, first_scored_at, user_id LIMIT ?",
            (guild_id, period, limit),
        ) as cursor:
            return [
                LeaderRow(
                    rank=int(rank), user_id=int(uid), points=int(p), correct=int(c), answered=int(n)
                )
                async for uid, p, c, n, rank in cursor
            ]

    async def leaderboard_row(self, guild_id: int, user_id: int, period: str) -> LeaderRow | None:
        # The rank is 1 + how many have more points (or as many points and more correct).
        async with self.db.execute(
            "SELECT me.points, me.correct, me.answered, 1 + (SELECT COUNT(*)"
            " FROM trivia_totals AS other WHERE other.guild_id = me.guild_id"
            " AND other.period = me.period AND (other.points > me.points"
            " OR (other.points = me.points AND other.correct > me.correct)))"
            " FROM trivia_totals AS me WHERE me.guild_id = ? AND me.period = ?"
            " AND me.user_id = ? AND me.points > 0",
            (guild_id, period, user_id),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        points, correct, answered, rank = row
        return LeaderRow(
            rank=int(rank),
            user_id=user_id,
            points=int(points),
            correct=int(correct),
            answered=int(answered),
        )

    async def player_stats(self, guild_id: int, user_id: int) -> PlayerStats:
        async with self.db.execute(
            "SELECT points, correct, answered, best_streak FROM trivia_totals"
            " WHERE guild_id = ? AND period = 'all' AND user_id = ?",
            (guild_id, user_id),
        ) as cursor:
            totals = await cursor.fetchone()
        points, correct, answered, best_streak = (int(v) for v in totals or (0, 0, 0, 0))
        async with self.db.execute(
            "SELECT COUNT(DISTINCT game_id) FROM trivia_scores WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id),
        ) as cursor:
            games_row = await cursor.fetchone()
        ranked = await self.leaderboard_row(guild_id, user_id, "all")
        daily = (await self.daily_streaks(guild_id, [user_id])).get(user_id, DailyStreak())
        return PlayerStats(
            daily_streak=daily.as_of(await self.latest_daily(guild_id)),
            best_daily_streak=daily.best,
            user_id=user_id,
            points=points,
            games=int(games_row[0]) if games_row else 0,
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
        cursor = await self._write(
            "INSERT INTO trivia_reports (guild_id, channel_id, question_id, reporter_id,"
            " reason, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (guild_id, channel_id, question_id, reporter_id, reason, _iso(created_at)),
        )
        return int(cursor.lastrowid or 0)

    async def reports(self, guild_id: int | None, limit: int = 50) -> list[Report]:
        where, args = (
            ("WHERE guild_id = ?", (guild_id, limit)) if guild_id is not None else ("", (limit,))
        )
        async with self.db.execute(
            "SELECT id, guild_id, channel_id, question_id, reporter_id, reason, created_at"
            f" FROM trivia_reports {where} ORDER BY id DESC LIMIT ?",
            args,
        ) as cursor:
            return [
                Report(
                    id=int(i),
                    guild_id=int(g),
                    channel_id=int(c),
                    question_id=str(q),
                    reporter_id=int(r),
                    reason=str(reason),
                    created_at=_instant(at),
                )
                async for i, g, c, q, r, reason, at in cursor
            ]

    # --- schedules ------------------------------------------------------------------------

    _SCHEDULE_COLUMNS = (
        "s.id, s.guild_id, s.channel_id, s.content, s.local_time, s.timezone,"
        " s.days, s.role_id, s.state, s.failing_reason, s.failures,"
        " s.next_run_at, s.created_by, s.created_at"
    )

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
        async with self.transaction() as db:
            async with db.execute(
                "SELECT COUNT(*) FROM schedules WHERE guild_id = ?", (guild_id,)
            ) as cursor:
                row = await cursor.fetchone()
            if row is not None and int(row[0]) >= limit:
                raise TooManySchedules(limit)
            cursor = await db.execute(
                "INSERT INTO schedules (guild_id, channel_id, content, local_time, timezone, days,"
                " role_id, next_run_at, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    guild_id,
                    channel_id,
                    content,
                    local_time.strftime("%H:%M"),
                    timezone,
                    schedule_rules.format_days(days),
                    role_id,
                    _iso(next_run_at),
                    created_by,
                    _iso(created_at),
                ),
            )
            schedule_id = int(cursor.lastrowid or 0)
        record = await self.schedule(schedule_id, guild_id)
        assert record is not None
        return record

    async def schedule(self, schedule_id: int, guild_id: int) -> ScheduleRecord | None:
        async with self.db.execute(
            f"SELECT {self._SCHEDULE_COLUMNS} FROM schedules s WHERE s.id = ? AND s.guild_id = ?",
            (schedule_id, guild_id),
        ) as cursor:
            row = await cursor.fetchone()
        return _schedule(row) if row else None

    async def schedules(self, guild_id: int) -> list[ScheduleRecord]:
        async with self.db.execute(
            f"SELECT {self._SCHEDULE_COLUMNS} FROM schedules s WHERE s.guild_id = ? ORDER BY s.id",
            (guild_id,),
        ) as cursor:
            return [_schedule(row) async for row in cursor]

    async def remove_schedule(self, schedule_id: int, guild_id: int) -> bool:
        async with self.transaction() as db:
            cursor = await db.execute(
                "DELETE FROM schedules WHERE id = ? AND guild_id = ?", (schedule_id, guild_id)
            )
            return cursor.rowcount == 1

    async def pause_schedule(self, schedule_id: int, guild_id: int) -> ScheduleRecord | None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE schedules SET state = 'paused' WHERE id = ? AND guild_id = ?",
                (schedule_id, guild_id),
            )
        return await self.schedule(schedule_id, guild_id)

    async def resume_schedule(
        self, schedule_id: int, guild_id: int, next_run_at: dt.datetime
    ) -> ScheduleRecord | None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE schedules SET state = 'active', failing_reason = NULL, failures = 0,"
                " next_run_at = ? WHERE id = ? AND guild_id = ?",
                (_iso(next_run_at), schedule_id, guild_id),
            )
        return await self.schedule(schedule_id, guild_id)

    async def next_due_at(self, *, shards: Shards | None = None) -> dt.datetime | None:
        in_shards, args = _in_shards(shards, "guild_id")
        async with self.db.execute(
            f"SELECT MIN(next_run_at) FROM schedules WHERE state = 'active'{in_shards}", args
        ) as cursor:
            row = await cursor.fetchone()
        return _instant(str(row[0])) if row and row[0] is not None else None

    async def claim_due_runs(
        self,
        now: dt.datetime,
        *,
        grace: dt.timedelta,
        limit: int,
        shards: Shards | None = None,
    ) -> list[ScheduleRun]:
        claimed: list[ScheduleRun] = []
        in_shards, args = _in_shards(shards, "s.guild_id")
        async with self.transaction() as db:
            async with db.execute(
                f"SELECT {self._SCHEDULE_COLUMNS} FROM schedules s"
                f" WHERE s.state = 'active' AND s.next_run_at <= ?{in_shards}"
                " ORDER BY s.next_run_at, s.id LIMIT ?",
                (_iso(now), *args, limit),
            ) as cursor:
                rows = await cursor.fetchall()
            for row in rows:
                # A row this host cannot use (a timezone it does not know, damaged data)
                # pauses that one schedule, with the reason; it never holds up the others.
                try:
                    record = _schedule(row)
                    due_at = record.next_run_at
                    # Count on from the due run, but never from earlier than the grace window:
                    # runs missed long ago are skipped together, not claimed one by one.
                    after = max(due_at, now - grace)
                    following = schedule_rules.next_run_after(
                        record.local_time, record.timezone, record.days, after
                    )
                except (ValueError, KeyError, TypeError) as error:
                    await self._pause_unusable(db, int(row[0]), row[5], error)
                    continue
                inserted = await db.execute(
                    "INSERT OR IGNORE INTO schedule_runs (schedule_id, due_at, claimed_at)"
                    " VALUES (?, ?, ?)",
                    (record.id, _iso(due_at), _iso(now)),
                )
                await db.execute(
                    "UPDATE schedules SET next_run_at = ? WHERE id = ?",
                    (_iso(following), record.id),
                )
                if inserted.rowcount == 1:
                    claimed.append(
                        ScheduleRun(
                            schedule=record, due_at=due_at, state=RunState.CLAIMED, claimed_at=now
                        )
                    )
        return claimed

    async def _pause_unusable(
        self, db: aiosqlite.Connection, schedule_id: int, timezone: object, error: Exception
    ) -> None:
        reason = unusable_reason(timezone, error)
        await db.execute(
            "UPDATE schedules SET state = 'paused', failing_reason = ? WHERE id = ?",
            (reason, schedule_id),
        )
        log.warning("schedule #%d paused: %s (%s)", schedule_id, reason, error)

    async def unfinished_runs(self, *, shards: Shards | None = None) -> list[ScheduleRun]:
        in_shards, args = _in_shards(shards, "s.guild_id")
        async with self.db.execute(
            f"SELECT {self._SCHEDULE_COLUMNS}, r.due_at, r.state, r.claimed_at"
            " FROM schedule_runs r JOIN schedules s ON s.id = r.schedule_id"
            f" WHERE r.state = 'claimed'{in_shards} ORDER BY r.due_at, s.id",
            args,
        ) as cursor:
            rows = await cursor.fetchall()
        runs: list[ScheduleRun] = []
        for row in rows:
            try:
                schedule = _schedule(row[:14])
                schedule_rules.next_run_after(  # the schedule can be used on this host
                    schedule.local_time, schedule.timezone, schedule.days, schedule.next_run_at
                )
                runs.append(
                    ScheduleRun(
                        schedule=schedule,
                        due_at=_instant(row[14]),
                        state=RunState(row[15]),
                        claimed_at=_instant(row[16]),
                    )
                )
            except (ValueError, KeyError, TypeError) as error:
                async with self.transaction() as db:
                    await db.execute(
                        "UPDATE schedule_runs SET state = 'failed', error = ?"
                        " WHERE schedule_id = ? AND due_at = ? AND state = 'claimed'",
                        (f"the schedule cannot be used: {error}"[:300], row[0], row[14]),
                    )
                    await self._pause_unusable(db, int(row[0]), row[5], error)
        return runs

    async def sent_run(
        self, schedule_id: int, due_at: dt.datetime
    ) -> tuple[int, dt.datetime] | None:
        async with self.db.execute(
            "SELECT message_id, sent_at FROM schedule_runs"
            " WHERE schedule_id = ? AND due_at = ? AND state = 'sent'",
            (schedule_id, _iso(due_at)),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None or row[0] is None or row[1] is None:
            return None
        return int(row[0]), _instant(str(row[1]))

    async def mark_run_sent(
        self, schedule_id: int, due_at: dt.datetime, message_id: int, sent_at: dt.datetime
    ) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE schedule_runs SET state = 'sent', message_id = ?, sent_at = ?, error = NULL"
                " WHERE schedule_id = ? AND due_at = ?",
                (message_id, _iso(sent_at), schedule_id, _iso(due_at)),
            )
            await db.execute(
                "UPDATE schedules SET failures = 0, failing_reason = NULL WHERE id = ?",
                (schedule_id,),
            )

    async def mark_run_skipped(self, schedule_id: int, due_at: dt.datetime, reason: str) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE schedule_runs SET state = 'skipped', error = ?"
                " WHERE schedule_id = ? AND due_at = ? AND state = 'claimed'",
                (reason, schedule_id, _iso(due_at)),
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
        async with self.transaction() as db:
            changed = await db.execute(
                "UPDATE schedule_runs SET state = 'failed', error = ?"
                " WHERE schedule_id = ? AND due_at = ? AND state = 'claimed'",
                (error, schedule_id, _iso(due_at)),
            )
            if changed.rowcount == 1 and failing_reason is not None:
                await db.execute(
                    "UPDATE schedules SET failures = failures + 1, failing_reason = ?,"
                    " state = CASE WHEN failures + 1 >= ? THEN 'paused' ELSE state END"
                    " WHERE id = ?",
                    (failing_reason, pause_after, schedule_id),
                )
            async with db.execute(
                f"SELECT {self._SCHEDULE_COLUMNS} FROM schedules s WHERE s.id = ?", (schedule_id,)
            ) as cursor:
                row = await cursor.fetchone()
        return _schedule(row) if row else None

    # --- IDENTIFY turns -----------------------------------------------------------------------

    async def claim_identify_slot(
        self, bucket: int, now: dt.datetime, spacing: dt.timedelta
    ) -> dt.datetime:
        async with self.transaction() as db:
            async with db.execute(
                "SELECT slot_at FROM identify_slots WHERE bucket = ?", (bucket,)
            ) as cursor:
                row = await cursor.fetchone()
            last = _instant(str(row[0])) if row else None
            slot = next_identify_slot(last, _instant(_iso(now)), spacing)
            await db.execute(
                "INSERT INTO identify_slots (bucket, slot_at) VALUES (?, ?)"
                " ON CONFLICT (bucket) DO UPDATE SET slot_at = excluded.slot_at",
                (bucket, _iso(slot)),
            )
        return slot


def _schedule(row: sqlite3.Row | tuple[object, ...]) -> ScheduleRecord:
    (
        schedule_id,
        guild_id,
        channel_id,
        content,
        local_time,
        timezone,
        days,
        role_id,
        state,
        failing_reason,
        failures,
        next_run_at,
        created_by,
        created_at,
    ) = tuple(row)
    return ScheduleRecord(
        id=int(schedule_id),
        guild_id=int(guild_id),
        channel_id=int(channel_id),
        content=PostKind(content),
        local_time=dt.time.fromisoformat(str(local_time)),
        timezone=str(timezone),
        days=schedule_rules.parse_days(str(days)),
        role_id=int(role_id) if role_id is not None else None,
        state=ScheduleState(state),
        failing_reason=str(failing_reason) if failing_reason else None,
        failures=int(failures),
        next_run_at=_instant(str(next_run_at)),
        created_by=int(created_by),
        created_at=_instant(str(created_at)),
    )
