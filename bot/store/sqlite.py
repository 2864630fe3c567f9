"""SQLite implementation of the Store (aiosqlite; WAL, busy timeout, foreign keys, migrations)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import re
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from bot.domain import rotation

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 5000


class StoreError(Exception):
    """The database cannot be opened or migrated; the message says why, for the operator."""


def migrations() -> list[tuple[int, Path]]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = re.match(r"^(\d+)_", path.name)
        if match:
            found.append((int(match[1]), path))
    return found


def _utcnow() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class SQLiteStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None
        # One connection is shared by every coroutine; a transaction must not interleave with
        # another coroutine's statements, so writers take this lock.
        self._write_lock = asyncio.Lock()

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the store is not open")
        return self._db

    async def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = await aiosqlite.connect(self.path, isolation_level=None)
            await self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await self._db.execute("PRAGMA journal_mode = WAL")
            await self._db.execute("PRAGMA foreign_keys = ON")
            await self._db.execute("PRAGMA synchronous = NORMAL")
            await self._migrate()
        except (OSError, sqlite3.Error) as exc:
            await self.close()
            raise StoreError(f"cannot open the database at {self.path}: {exc}") from exc
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
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
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")

    async def get_meta(self, key: str) -> str | None:
        async with self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else None

    async def set_meta(self, key: str, value: str) -> None:
        async with self.transaction() as db:
            await db.execute(
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
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO guild_settings (guild_id, timezone, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (guild_id) DO UPDATE SET timezone = excluded.timezone, "
                "updated_at = excluded.updated_at",
                (guild_id, timezone, _utcnow()),
            )

    async def draw(
        self,
        scope_id: int,
        kind: str,
        filter_key: str,
        candidates: Sequence[str],
        rng: random.Random,
    ) -> str:
        async with self.transaction() as db:
            async with db.execute(
                "SELECT remaining, last_id FROM shuffle_bags "
                "WHERE scope_id = ? AND kind = ? AND filter_key = ?",
                (scope_id, kind, filter_key),
            ) as cursor:
                row = await cursor.fetchone()
            remaining: list[str] = json.loads(row[0]) if row else []
            last = row[1] if row else None
            pick, remaining = rotation.draw(candidates, remaining, rng, last=last)
            await db.execute(
                "INSERT INTO shuffle_bags"
                " (scope_id, kind, filter_key, remaining, last_id, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scope_id, kind, filter_key) DO UPDATE SET"
                " remaining = excluded.remaining, last_id = excluded.last_id,"
                " updated_at = excluded.updated_at",
                (scope_id, kind, filter_key, json.dumps(remaining), pick, _utcnow()),
            )
        return pick

    async def bag_remaining(self, scope_id: int, kind: str, filter_key: str) -> list[str]:
        async with self.db.execute(
            "SELECT remaining FROM shuffle_bags WHERE scope_id = ? AND kind = ? AND filter_key = ?",
            (scope_id, kind, filter_key),
        ) as cursor:
            row = await cursor.fetchone()
        return list(json.loads(row[0])) if row else []
