"""`lwa-bot migrate --to DATABASE_URL`: a SQLite database's whole history into PostgreSQL
(SPEC §2, §8).

Every table of the SQLite schema is copied, one transaction per table group (settings and
notes, shuffle bags, trivia, schedules and their runs, gateway turns), and each table's row
count is checked inside its transaction before it commits. Identity sequences are set past the
highest id the SQLite database ever gave out, so a schedule's `#N` is never given twice.

Running it again is safe: the target remembers (in `meta`) which source it is copied from and
a checksum of what it holds, written in the same transaction as each group's copy, so the note
always describes what this tool left there, even when a copy stopped halfway. Copying the same
source again over a target untouched since (a finished copy, or a half-made one) replaces it:
the same result, no duplicates. A target holding anything else (data from elsewhere, or written
by a bot since this tool wrote it, finished or not) is refused unless `replace=True`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from bot.store.base import StoreError
from bot.store.postgres import PostgresStore, describe_url
from bot.store.sqlite import SQLiteStore

# In dependency order (a group's tables reference only tables of the same or earlier groups).
TABLE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("settings and notes", ("meta", "guild_settings", "guild_languages")),
    ("shuffle bags", ("shuffle_bags",)),
    (
        "trivia",
        (
            "trivia_games",
            "trivia_answers",
            "trivia_halves",
            "trivia_scores",
            "trivia_asked",
            "trivia_totals",
            "daily_streaks",
            "daily_latest",
            "trivia_reports",
        ),
    ),
    (
        "daily challenge",
        (
            "challenge_days",
            "challenge_attempts",
            "challenge_answers",
            "challenge_streaks",
            "challenge_boards",
        ),
    ),
    ("schedules and runs", ("schedules", "schedule_runs")),
    ("gateway turns", ("identify_slots",)),
)
IDENTITY_TABLES = ("trivia_games", "trivia_reports", "schedules")
MARKER = "lwa:migrated-from"  # the target's note of what it was copied from


class SourceUnusable(StoreError):
    """The SQLite database to copy is missing or cannot be opened (DATABASE_PATH)."""


class MigrationRefused(Exception):
    """The target holds other data (and `replace` was not given); the message says what."""


class MigrationFailed(Exception):
    """The copy did not verify; nothing of the failing group was committed."""


@dataclass(frozen=True, slots=True)
class TableCopied:
    table: str
    group: str
    rows: int


@dataclass(frozen=True, slots=True)
class MigrationResult:
    source: Path
    target: str  # described, without a password
    tables: tuple[TableCopied, ...]
    replaced: bool  # the target held data that this copy replaced
    schema_version: int


def all_tables() -> list[str]:
    return [table for _, tables in TABLE_GROUPS for table in tables]


def _instant(value: object) -> dt.datetime | None:
    if value is None:
        return None
    instant = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=dt.UTC)


def _converter(pg_type: str) -> Any:
    if pg_type == "timestamp with time zone":
        return _instant
    if pg_type in ("bigint", "integer", "smallint"):
        return lambda v: None if v is None else int(v)
    return lambda v: None if v is None else str(v)


async def _read_source(source: SQLiteStore) -> tuple[dict[str, Any], dict[str, int]]:
    """Every table's columns and rows, read in one transaction (a consistent snapshot even if
    a bot still writes to it), and the highest ids SQLite ever gave out."""
    db = source.db
    tables: dict[str, Any] = {}
    await db.execute("BEGIN")
    try:
        async with db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ) as cursor:
            names = {str(r[0]) async for r in cursor}
        unknown = sorted(names - set(all_tables()))
        if unknown:
            raise StoreError(
                f"the SQLite database has tables this bot cannot copy ({', '.join(unknown)}); "
                "upgrade the bot"
            )
        for table in all_tables():
            if table not in names:
                raise StoreError(f"the SQLite database has no table {table}; upgrade the bot")
            async with db.execute(f"SELECT * FROM {table}") as cursor:
                columns = [str(d[0]) for d in cursor.description]
                rows = [tuple(r) for r in await cursor.fetchall()]
            tables[table] = (columns, rows)
        async with db.execute("SELECT name, seq FROM sqlite_sequence") as cursor:
            sequences = {str(n): int(s) async for n, s in cursor}
    finally:
        await db.execute("COMMIT")
    return tables, sequences


async def _target_rows(conn: Any) -> dict[str, int]:
    counts = {}
    for table in all_tables():
        where = " WHERE key <> $1" if table == "meta" else ""
        args = (MARKER,) if table == "meta" else ()
        counts[table] = int(await conn.fetchval(f"SELECT COUNT(*) FROM {table}{where}", *args))
    return counts


async def _digests(conn: Any, tables: Sequence[str]) -> dict[str, str]:
    """What each of `tables` holds (the marker aside), as a digest. Which process owns an
    unfinished run (`claimed_by`) is bookkeeping, not history: left out."""
    digests = {}
    row = "md5((to_jsonb(t) - 'claimed_by')::text)"
    for table in tables:
        where = " WHERE t.key <> $1" if table == "meta" else ""
        args = (MARKER,) if table == "meta" else ()
        digests[table] = await conn.fetchval(
            f"SELECT md5(COALESCE(string_agg({row}, '' ORDER BY {row}), ''))"
            f" FROM {table} AS t{where}",
            *args,
        )
    return digests


def _checksum(digests: dict[str, str]) -> str:
    """What the target holds, every copied table, as one text."""
    return ";".join(f"{table}:{digests[table]}" for table in all_tables())


async def migrate(source_path: Path, target_url: str, *, replace: bool = False) -> MigrationResult:
    """Copy the SQLite database at `source_path` into the PostgreSQL database at `target_url`
    (migrated first). Raises SourceUnusable (the SQLite side), StoreError (the PostgreSQL
    side cannot be opened), MigrationRefused or MigrationFailed."""
    if not await asyncio.to_thread(source_path.is_file):
        raise SourceUnusable(f"there is no SQLite database at {source_path} to copy")
    source = SQLiteStore(source_path)
    try:
        await source.open()  # brought to this bot's schema first, as the bot would at start
        tables, sequences = await _read_source(source)
    except StoreError as error:
        raise SourceUnusable(str(error)) from None
    finally:
        await source.close()

    target = PostgresStore(target_url, max_connections=2)
    await target.open()
    try:
        return await _copy(target, target_url, source_path, tables, sequences, replace=replace)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise MigrationFailed(
            f"copying into the {describe_url(target_url)} failed ({error}); the groups already "
            "copied are kept, and running migrate again copies everything again"
        ) from error
    finally:
        await target.close()


async def _copy(
    target: PostgresStore,
    target_url: str,
    source_path: Path,
    tables: dict[str, Any],
    sequences: dict[str, int],
    *,
    replace: bool,
) -> MigrationResult:
    source_id = str(await asyncio.to_thread(source_path.resolve))
    async with target.pool.acquire() as conn:
        held = {t: n for t, n in (await _target_rows(conn)).items() if n}
        marker_text = await conn.fetchval("SELECT value FROM meta WHERE key = $1", MARKER)
        marker = json.loads(marker_text) if marker_text else None
        digests = await _digests(conn, all_tables())
        checksum = _checksum(digests)
        # Ours: what this tool left there from this source, finished or not, untouched since.
        ours = (
            marker is not None
            and marker.get("source") == source_id
            and marker.get("checksum") == checksum
        )
        if held and not ours and not replace:
            what = ", ".join(f"{n} in {t}" for t, n in held.items())
            if marker is None:
                origin = "not copied from this SQLite database"
            elif marker.get("source") != source_id:
                origin = f"copied from another SQLite database ({marker.get('source')})"
            elif marker.get("state") == "copying" and "checksum" not in marker:
                origin = (
                    "half-copied from this one by an earlier migrate that did not finish and "
                    "kept no checksum (an older version), so a bot may have written to it since"
                )
            elif marker.get("state") == "copying":
                origin = (
                    "half-copied from this one by an earlier migrate that did not finish, and "
                    "written to since (a bot ran on it?)"
                )
            else:
                origin = "changed since it was copied from this one (a bot ran on it?)"
            raise MigrationRefused(
                f"the {describe_url(target_url)} already holds data ({what} rows), "
                f"{origin}; run again with --replace to discard it and copy again"
            )
        copying = {"source": source_id, "state": "copying"}
        await _set_marker(conn, {**copying, "checksum": checksum})
        copied: list[TableCopied] = []
        for group, group_tables in TABLE_GROUPS:
            # The group and the note of what the target now holds commit together: a copy
            # stopped at any point leaves a note that matches the target until a bot writes.
            # Only this group's tables changed: only theirs are read again.
            async with conn.transaction():
                copied += await _copy_group(conn, group, group_tables, tables)
                digests.update(await _digests(conn, group_tables))
                await _set_marker(conn, {**copying, "checksum": _checksum(digests)})
        await _set_sequences(conn, tables, sequences)
        await _set_marker(
            conn,
            {
                "source": source_id,
                "state": "copied",
                "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "checksum": _checksum(digests),  # the sequences hold no rows
            },
        )
    version = await target.schema_version()
    return MigrationResult(
        source=source_path,
        target=describe_url(target_url),
        tables=tuple(copied),
        replaced=bool(held),
        schema_version=version,
    )


async def _set_marker(conn: Any, value: dict[str, str]) -> None:
    await conn.execute(
        "INSERT INTO meta (key, value) VALUES ($1, $2)"
        " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        MARKER,
        json.dumps(value),
    )


async def _copy_group(
    conn: Any, group: str, group_tables: Sequence[str], tables: dict[str, Any]
) -> list[TableCopied]:
    """One group's tables, emptied and filled in one transaction, counts checked before it
    commits."""
    done = []
    async with conn.transaction():
        # The group's own tables only: what references them is in the same group.
        for table in reversed(group_tables):
            if table == "meta":
                await conn.execute("DELETE FROM meta WHERE key <> $1", MARKER)
            else:
                await conn.execute(f"DELETE FROM {table}")
        for table in group_tables:
            columns, rows = tables[table]
            types = {
                str(r["column_name"]): str(r["data_type"])
                for r in await conn.fetch(
                    "SELECT column_name, data_type FROM information_schema.columns"
                    " WHERE table_schema = current_schema() AND table_name = $1",
                    table,
                )
            }
            missing = [c for c in columns if c not in types]
            if missing:
                raise MigrationFailed(
                    f"{table}: PostgreSQL has no column {', '.join(missing)}; upgrade the bot"
                )
            convert = [_converter(types[c]) for c in columns]
            records = [tuple(f(v) for f, v in zip(convert, row, strict=True)) for row in rows]
            if table == "meta":
                records = [r for r in records if r[columns.index("key")] != MARKER]
            if records:
                await conn.copy_records_to_table(table, records=records, columns=columns)
            where = " WHERE key <> $1" if table == "meta" else ""
            args = (MARKER,) if table == "meta" else ()
            count = int(await conn.fetchval(f"SELECT COUNT(*) FROM {table}{where}", *args))
            if count != len(records):
                raise MigrationFailed(
                    f"{table}: {len(records)} rows in SQLite but {count} in PostgreSQL after "
                    f"the copy; nothing of the {group} was kept"
                )
            done.append(TableCopied(table=table, group=group, rows=count))
    return done


async def _set_sequences(conn: Any, tables: dict[str, Any], sequences: dict[str, int]) -> None:
    """Each identity past the highest id SQLite gave out (AUTOINCREMENT never reuses one, not
    even a deleted row's), so new rows never take an old number."""
    async with conn.transaction():
        for table in IDENTITY_TABLES:
            columns, rows = tables[table]
            index = columns.index("id")
            highest = max([sequences.get(table, 0), *(int(r[index]) for r in rows)])
            if highest > 0:
                await conn.execute(
                    "SELECT setval(pg_get_serial_sequence($1, 'id'), $2, true)", table, highest
                )
            else:
                await conn.execute(
                    "SELECT setval(pg_get_serial_sequence($1, 'id'), 1, false)", table
                )
