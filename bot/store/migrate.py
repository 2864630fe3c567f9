"""`lwa-bot migrate --to DATABASE_URL`: a SQLite database's whole history into PostgreSQL
(SPEC §2, §8), in constant memory.

Every table of the SQLite schema is copied, one transaction per table group (settings and
notes, shuffle bags, trivia, schedules and their runs, gateway turns), and each table's row
count is checked inside its transaction before it commits. Identity sequences are set past the
highest id the SQLite database ever gave out, so a schedule's `#N` is never given twice.

The SQLite side is read in one read transaction, so every count and every row come from the
same snapshot, `BATCH_ROWS` rows at a time, and each table streams into PostgreSQL by COPY
(asyncpg's `copy_records_to_table`, `BATCHES_PER_COPY` batches a statement): the copy holds a
batch or two whatever the database's size. A table of at least `BULK_ROWS` rows is loaded the
way a restore does it: its indexes, keys and the foreign keys that touch it are dropped in the
group's transaction and made again, with the same names and definitions, after its rows are in
(building an index once is several times cheaper than updating it for every row, and checking
a foreign key once than once per row); a copy that stops rolls that back too. `progress` hears
how it goes (`ProgressLines` prints it for a person).

Running it again is safe: the target remembers (in `meta`) which source it is copied from and
a checksum of what it holds, written in the same transaction as each group's copy, so the note
always describes what this tool left there, even when a copy stopped halfway. Copying the same
source again over a target untouched since (a finished copy, or a half-made one) replaces it:
the same result, no duplicates. A target holding anything else (data from elsewhere, or written
by a bot since this tool wrote it, finished or not) is refused unless `replace=True`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import math
import operator
import sqlite3
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import asyncpg

from bot.store.base import StoreError
from bot.store.postgres import CONNECT_TIMEOUT_S, SESSION_SETTINGS, PostgresStore, describe_url
from bot.store.sqlite import SQLiteStore

# In dependency order (a group's tables reference only tables of the same or earlier groups).
# A new table is one more name here: its columns and their types are read from the schemas.
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
CHECKSUM_KIND = "rows+hash-sum:"  # how this version writes a checksum (older ones: md5 of all)
BATCH_ROWS = 5_000  # rows read from SQLite at a time: what the copy holds in memory
BATCHES_PER_COPY = 10  # a COPY statement's batches (50,000 rows)
BULK_ROWS = 20_000  # a table at least this big is loaded before its indexes are made
# Which process owns an unfinished run is bookkeeping, not history: not in the checksum.
NOT_HISTORY = frozenset({"claimed_by"})
# The migrate session renders values the same way whoever runs it (the checksum reads a value
# whose type has no hash of its own as text).
MIGRATE_SETTINGS = {**SESSION_SETTINGS, "TimeZone": "UTC", "DateStyle": "ISO"}


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


class Progress(Protocol):
    """Who hears how the copy goes (`ProgressLines` prints it for a person)."""

    def rows(self, table: str, done: int, total: int) -> None:
        """`done` of the table's `total` rows are sent: 0 as it starts, then after each batch."""

    def table_copied(self, table: str, rows: int) -> None:
        """The table's rows are in and counted (its group is not committed yet)."""

    def indexing(self, group: str, tables: Sequence[str]) -> None:
        """The group's rows are in; the indexes and keys of `tables` are being made again."""

    def group_committed(self, group: str, tables: int, rows: int) -> None:
        """The group's transaction committed: its tables are copied for good."""


def all_tables() -> list[str]:
    return [table for _, tables in TABLE_GROUPS for table in tables]


# --- values: one conversion per PostgreSQL type ------------------------------------------------
# Each takes one column of a batch (what SQLite gave) and returns it as asyncpg wants it.

Column = Sequence[Any]
_from_iso = dt.datetime.fromisoformat
_tzinfo = operator.attrgetter("tzinfo")


def _instants(values: Column) -> list[dt.datetime | None]:
    """UTC ISO text (how the bot keeps every instant in SQLite) as aware datetimes; one
    without an offset is UTC."""
    try:
        instants: list[dt.datetime | None] = list(map(_from_iso, values))  # the usual case
    except TypeError:  # NULLs among them (or values that are not text)
        instants = [None if v is None else _from_iso(str(v)) for v in values]
    if None in set(map(_tzinfo, filter(None, instants))):
        return [i if i is None or i.tzinfo else i.replace(tzinfo=dt.UTC) for i in instants]
    return instants


def _timestamps(values: Column) -> list[dt.datetime | None]:
    return [None if v is None else _from_iso(str(v)) for v in values]


def _dates(values: Column) -> list[dt.date | None]:
    return [None if v is None else dt.date.fromisoformat(str(v)) for v in values]


def _integers(values: Column) -> list[int | None]:
    return [None if v is None else int(v) for v in values]


def _reals(values: Column) -> list[float | None]:
    return [None if v is None else float(v) for v in values]


def _booleans(values: Column) -> list[bool | None]:
    return [None if v is None else bool(v) for v in values]


def _texts(values: Column) -> list[str | None]:
    return [None if v is None else str(v) for v in values]


Conversion = Callable[[Column], list[Any]]
CONVERSIONS: dict[str, Conversion] = {
    "timestamp with time zone": _instants,
    "timestamp without time zone": _timestamps,
    "date": _dates,
    "bigint": _integers,
    "integer": _integers,
    "smallint": _integers,
    "double precision": _reals,
    "real": _reals,
    "boolean": _booleans,
}  # any other type (text, json, jsonb, ...) is written from text: _texts


def _affinity(declared: str) -> str:
    """SQLite's type affinity of a declared column type (its documented rules, in order)."""
    declared = declared.upper()
    if "INT" in declared:
        return "integer"
    if any(word in declared for word in ("CHAR", "CLOB", "TEXT")):
        return "text"
    return "other"


def _conversion(pg_type: str, declared: str) -> Conversion | None:
    """How a column SQLite declares `declared` becomes one of `pg_type`; None when SQLite
    already gives its values as asyncpg wants them (type affinity makes an INTEGER column give
    ints and a TEXT column text; asyncpg refuses a value of any other type)."""
    convert = CONVERSIONS.get(pg_type, _texts)
    if convert is _integers and _affinity(declared) == "integer":
        return None
    if convert is _texts and _affinity(declared) == "text":
        return None
    return convert


def _batch_converter(conversions: Sequence[Conversion | None]) -> Callable[[list[Any]], Any]:
    """A batch of SQLite rows as PostgreSQL records: the columns that need it are converted a
    column at a time, and each record is put together from slices of the row around them."""
    width = len(conversions)
    converted = [(i, f) for i, f in enumerate(conversions) if f is not None]
    if not converted:
        return lambda rows: rows

    def convert(rows: list[Any]) -> Any:
        pieces: list[Any] = []
        start = 0
        for index, function in converted:
            if index > start:
                pieces.append(map(operator.itemgetter(slice(start, index)), rows))
            pieces.append(zip(function(list(map(operator.itemgetter(index), rows)))))
            start = index + 1
        if start < width:
            pieces.append(map(operator.itemgetter(slice(start, width)), rows))
        records = pieces[0]
        for piece in pieces[1:]:
            records = map(operator.add, records, piece)
        return list(records)

    return convert


# --- the source: one read transaction ---------------------------------------------------------


class Snapshot:
    """The SQLite database read in one transaction: counts and rows agree even if a bot still
    writes to it. Read in the event loop's thread, a batch at a time: each read is short, and
    the copy has nothing else to do meanwhile."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.counts: dict[str, int] = {}
        self.highest_ids: dict[str, int] = {}  # per identity table: the highest id ever given

    @classmethod
    def open(cls, path: Path) -> Snapshot:
        snapshot = cls(sqlite3.connect(path, isolation_level=None))
        try:
            snapshot.db.execute("PRAGMA query_only = ON")
            snapshot.db.execute("BEGIN")
            snapshot._survey()
        except BaseException:
            snapshot.close()
            raise
        return snapshot

    def _survey(self) -> None:
        names = {
            str(r[0])
            for r in self.db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        unknown = sorted(names - set(all_tables()))
        if unknown:
            raise StoreError(
                f"the SQLite database has tables this bot cannot copy ({', '.join(unknown)}); "
                "upgrade the bot"
            )
        for table in all_tables():
            if table not in names:
                raise StoreError(f"the SQLite database has no table {table}; upgrade the bot")
            where, args = _without_marker(table, "?")
            (count,) = self.db.execute(f"SELECT COUNT(*) FROM {table}{where}", args).fetchone()
            self.counts[table] = int(count)
        sequences = dict(self.db.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
        for table in IDENTITY_TABLES:
            (highest,) = self.db.execute(f"SELECT MAX(id) FROM {table}").fetchone()
            self.highest_ids[table] = max(int(sequences.get(table, 0)), int(highest or 0))

    def columns(self, table: str) -> dict[str, str]:
        """The table's columns, in order, with their declared types."""
        return {str(r[1]): str(r[2]) for r in self.db.execute(f"PRAGMA table_info({table})")}

    def batches(self, table: str, columns: Sequence[str]) -> Generator[list[Any], None, None]:
        """The table's rows, `BATCH_ROWS` at a time."""
        where, args = _without_marker(table, "?")
        listed = ", ".join(_quoted(c) for c in columns)
        cursor = self.db.execute(f"SELECT {listed} FROM {table}{where}", args)
        try:
            while rows := cursor.fetchmany(BATCH_ROWS):
                yield rows
        finally:
            cursor.close()

    def close(self) -> None:
        try:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
        finally:
            self.db.close()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _without_marker(table: str, placeholder: str) -> tuple[str, tuple[str, ...]]:
    """The note this tool keeps in the target's `meta` is never copied nor counted as data."""
    if table == "meta":
        return f" WHERE key <> {placeholder}", (MARKER,)
    return "", ()


# --- migrate ----------------------------------------------------------------------------------


async def migrate(
    source_path: Path,
    target_url: str,
    *,
    replace: bool = False,
    progress: Progress | None = None,
) -> MigrationResult:
    """Copy the SQLite database at `source_path` into the PostgreSQL database at `target_url`
    (migrated first). Raises SourceUnusable (the SQLite side), StoreError (the PostgreSQL
    side cannot be opened), MigrationRefused or MigrationFailed. `progress` hears of every
    batch, table and group."""
    if not await asyncio.to_thread(source_path.is_file):
        raise SourceUnusable(f"there is no SQLite database at {source_path} to copy")
    source = SQLiteStore(source_path)
    try:
        await source.open()  # brought to this bot's schema first, as the bot would at start
    except StoreError as error:
        raise SourceUnusable(str(error)) from None
    finally:
        await source.close()
    try:
        snapshot = Snapshot.open(source_path)
    except (StoreError, sqlite3.Error) as error:
        raise SourceUnusable(str(error)) from None
    try:
        target = PostgresStore(target_url, max_connections=1)
        await target.open()  # migrated to this bot's schema; StoreError if it cannot be used
        try:
            conn = await asyncpg.connect(
                target_url, timeout=CONNECT_TIMEOUT_S, server_settings=MIGRATE_SETTINGS
            )
            try:
                copier = Copier(snapshot, progress or _Quiet())
                copied, replaced = await _copy(conn, target_url, source_path, copier, replace)
            finally:
                await conn.close()
            version = await target.schema_version()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            raise MigrationFailed(
                f"copying into the {describe_url(target_url)} failed ({error}); the groups "
                "already copied are kept, and running migrate again copies everything again"
            ) from error
        except sqlite3.Error as error:
            raise MigrationFailed(
                f"reading {source_path} failed ({error}); the groups already copied are kept, "
                "and running migrate again copies everything again"
            ) from error
        finally:
            await target.close()
    finally:
        snapshot.close()
    return MigrationResult(
        source=source_path,
        target=describe_url(target_url),
        tables=tuple(copied),
        replaced=replaced,
        schema_version=version,
    )


class _Quiet:
    def rows(self, table: str, done: int, total: int) -> None:
        pass

    def table_copied(self, table: str, rows: int) -> None:
        pass

    def indexing(self, group: str, tables: Sequence[str]) -> None:
        pass

    def group_committed(self, group: str, tables: int, rows: int) -> None:
        pass


@dataclass(frozen=True, slots=True)
class Copier:
    """Where the rows come from, and who hears how the copy goes."""

    snapshot: Snapshot
    progress: Progress


async def _copy(
    conn: Any, target_url: str, source_path: Path, copier: Copier, replace: bool
) -> tuple[list[TableCopied], bool]:
    source_id = str(await asyncio.to_thread(source_path.resolve))
    digests = await _digests(conn, all_tables())
    held = {t: rows for t, d in digests.items() if (rows := int(d.split(":", 1)[0]))}
    marker_text = await conn.fetchval("SELECT value FROM meta WHERE key = $1", MARKER)
    marker = json.loads(marker_text) if marker_text else None
    checksum = _checksum(digests)
    # Ours: what this tool left there from this source, finished or not, untouched since.
    ours = (
        marker is not None
        and marker.get("source") == source_id
        and marker.get("checksum") == checksum
    )
    if held and not ours and not replace:
        what = ", ".join(f"{n} in {t}" for t, n in held.items())
        raise MigrationRefused(
            f"the {describe_url(target_url)} already holds data ({what} rows), "
            f"{_origin(marker, source_id)}; run again with --replace to discard it and copy again"
        )
    copying = {"source": source_id, "state": "copying"}
    await _set_marker(conn, {**copying, "checksum": checksum})
    copied: list[TableCopied] = []
    for group, group_tables in TABLE_GROUPS:
        # The group and the note of what the target now holds commit together: a copy
        # stopped at any point leaves a note that matches the target until a bot writes.
        # Only this group's tables changed: only theirs are read again.
        async with conn.transaction():
            done = await _copy_group(conn, group, group_tables, copier)
            digests.update(await _digests(conn, group_tables))
            await _set_marker(conn, {**copying, "checksum": _checksum(digests)})
        copied += done
        copier.progress.group_committed(group, len(done), sum(t.rows for t in done))
    await _set_sequences(conn, copier.snapshot.highest_ids)
    await _set_marker(
        conn,
        {
            "source": source_id,
            "state": "copied",
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "checksum": _checksum(digests),  # the sequences hold no rows
        },
    )
    return copied, bool(held)


def _origin(marker: dict[str, Any] | None, source_id: str) -> str:
    """Where the data a target holds came from, as far as its note tells."""
    if marker is None:
        return "not copied from this SQLite database"
    if marker.get("source") != source_id:
        return f"copied from another SQLite database ({marker.get('source')})"
    unfinished = marker.get("state") == "copying"
    if unfinished and "checksum" not in marker:
        return (
            "half-copied from this one by an earlier migrate that did not finish and kept no "
            "checksum (an older version), so a bot may have written to it since"
        )
    if not str(marker.get("checksum", "")).startswith(CHECKSUM_KIND):
        return (
            f"{'half-' if unfinished else ''}copied from this one by an older version of "
            "migrate, whose checksum this one cannot check, so a bot may have written to it since"
        )
    if unfinished:
        return (
            "half-copied from this one by an earlier migrate that did not finish, and written "
            "to since (a bot ran on it?)"
        )
    return "changed since it was copied from this one (a bot ran on it?)"


async def _digests(conn: Any, tables: Sequence[str]) -> dict[str, str]:
    """What each of `tables` holds (the marker aside), as `rows:sum of the rows' hashes`: read
    in one pass, in any order, in constant memory on both sides, and it changes when a row is
    added, removed or changed."""
    columns: dict[str, list[str]] = {t: [] for t in tables}
    for r in await conn.fetch(
        "SELECT c.relname, a.attname, EXISTS (SELECT 1 FROM pg_opclass AS o"
        "   JOIN pg_am AS m ON m.oid = o.opcmethod"
        "   WHERE m.amname = 'hash' AND o.opcdefault AND o.opcintype = a.atttypid) AS hashable"
        " FROM pg_attribute AS a JOIN pg_class AS c ON c.oid = a.attrelid"
        " WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY($1::text[])"
        " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum",
        list(tables),
    ):
        if r["attname"] not in NOT_HISTORY:  # a type without a hash of its own: as text
            name = _quoted(r["attname"])
            columns[r["relname"]].append(name if r["hashable"] else f"{name}::text")
    by_fields = conn.get_server_version().major >= 14  # hash_record_extended
    digests = {}
    for table in tables:
        row = f"ROW({', '.join(columns[table])})"
        hashed = (
            f"hash_record_extended({row}, 0)" if by_fields else f"hashtextextended({row}::text, 0)"
        )
        where, args = _without_marker(table, "$1")
        count, total = await conn.fetchrow(
            f"SELECT COUNT(*), COALESCE(SUM({hashed}), 0)::text FROM {table}{where}", *args
        )
        digests[table] = f"{count}:{total}"
    return digests


def _checksum(digests: dict[str, str]) -> str:
    """What the target holds, every copied table, as one text."""
    return CHECKSUM_KIND + ";".join(f"{table}:{digests[table]}" for table in all_tables())


async def _pg_columns(conn: Any, tables: Sequence[str]) -> dict[str, dict[str, str]]:
    """Each table's columns in the target, in order, with their types."""
    columns: dict[str, dict[str, str]] = {t: {} for t in tables}
    for r in await conn.fetch(
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = ANY($1::text[])"
        " ORDER BY table_name, ordinal_position",
        list(tables),
    ):
        columns[str(r["table_name"])][str(r["column_name"])] = str(r["data_type"])
    return columns


async def _set_marker(conn: Any, value: dict[str, str]) -> None:
    await conn.execute(
        "INSERT INTO meta (key, value) VALUES ($1, $2)"
        " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        MARKER,
        json.dumps(value),
    )


async def _copy_group(
    conn: Any, group: str, group_tables: Sequence[str], copier: Copier
) -> list[TableCopied]:
    """One group's tables, emptied and filled in one transaction, counts checked before it
    commits."""
    counts = copier.snapshot.counts
    done = []
    async with conn.transaction():
        await _empty(conn, group_tables)
        bulk = [t for t in group_tables if counts[t] >= BULK_ROWS]
        remake = await _drop_indexes(conn, bulk) if bulk else []
        columns = await _pg_columns(conn, group_tables)
        for table in group_tables:
            rows = await _copy_table(conn, group, table, columns[table], copier)
            where, args = _without_marker(table, "$1")
            count = int(await conn.fetchval(f"SELECT COUNT(*) FROM {table}{where}", *args))
            if not rows == count == counts[table]:
                raise MigrationFailed(
                    f"{table}: {counts[table]} rows in SQLite but {count} in PostgreSQL after "
                    f"the copy; nothing of the {group} was kept"
                )
            copier.progress.table_copied(table, count)
            done.append(TableCopied(table=table, group=group, rows=count))
        if remake:
            copier.progress.indexing(group, bulk)
        for statement in remake:
            await conn.execute(statement)
    return done


async def _empty(conn: Any, tables: Sequence[str]) -> None:
    """Empty the group's tables (but for the marker): TRUNCATE, but for a table that a table
    of another group references (a later group's, whose rows stay for now), which must be
    emptied row by row."""
    outside = {
        str(r["relname"])
        for r in await conn.fetch(
            "SELECT DISTINCT t.relname FROM pg_constraint AS k"
            " JOIN pg_class AS t ON t.oid = k.confrelid JOIN pg_class AS f ON f.oid = k.conrelid"
            " WHERE k.contype = 'f' AND t.relname = ANY($1::text[])"
            " AND NOT f.relname = ANY($1::text[])"
            " AND t.relnamespace = current_schema()::regnamespace",
            list(tables),
        )
    }
    truncated = [t for t in tables if t != "meta" and t not in outside]
    if truncated:
        await conn.execute(f"TRUNCATE {', '.join(truncated)}")
    for table in reversed(tables):  # what references a table comes after it
        if table in outside or table == "meta":
            where, args = _without_marker(table, "$1")
            await conn.execute(f"DELETE FROM {table}{where}", *args)


async def _copy_table(
    conn: Any, group: str, table: str, pg_types: dict[str, str], copier: Copier
) -> int:
    """The table's rows from the snapshot, streamed through COPY, `BATCHES_PER_COPY` batches
    a statement (between two, the event loop turns: Ctrl-C stops the copy there); how many
    rows were sent."""
    snapshot, progress = copier.snapshot, copier.progress
    declared = snapshot.columns(table)
    missing = [c for c in declared if c not in pg_types]
    if missing:
        raise MigrationFailed(
            f"{table}: PostgreSQL has no column {', '.join(missing)}; upgrade the bot"
        )
    columns = list(declared)
    convert = _batch_converter([_conversion(pg_types[c], declared[c]) for c in columns])
    total = snapshot.counts[table]
    sent = 0
    progress.rows(table, 0, total)
    with contextlib.closing(snapshot.batches(table, columns)) as batches:
        batch = next(batches, None)

        def records() -> Iterator[Any]:
            nonlocal batch, sent
            for _ in range(BATCHES_PER_COPY):
                if batch is None:
                    return
                try:
                    converted = convert(batch)
                except (ValueError, TypeError) as error:
                    raise MigrationFailed(
                        f"{table}: a value SQLite holds cannot be copied ({error}); nothing of "
                        f"the {group} was kept"
                    ) from None
                yield from converted
                sent += len(batch)
                progress.rows(table, sent, total)
                batch = next(batches, None)

        while batch is not None:
            await conn.copy_records_to_table(table, records=records(), columns=columns)
    return sent


async def _drop_indexes(conn: Any, tables: Sequence[str]) -> list[str]:
    """Drop the indexes and keys of `tables` and the foreign keys from or to them; the
    statements that make them again, as they were, in order."""
    oids = [
        r["oid"]
        for r in await conn.fetch(
            "SELECT c.oid FROM pg_class AS c WHERE c.relkind = 'r'"
            " AND c.relnamespace = current_schema()::regnamespace AND c.relname = ANY($1::text[])",
            list(tables),
        )
    ]
    constraints = await conn.fetch(
        "SELECT conname, contype, conrelid::regclass::text AS rel, pg_get_constraintdef(oid) AS def"
        " FROM pg_constraint WHERE (contype IN ('p', 'u', 'x') AND conrelid = ANY($1::oid[]))"
        " OR (contype = 'f' AND (conrelid = ANY($1::oid[]) OR confrelid = ANY($1::oid[])))"
        " ORDER BY contype = 'f' DESC, conname",
        oids,
    )
    indexes = await conn.fetch(
        "SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS def"
        " FROM pg_index WHERE indrelid = ANY($1::oid[]) AND indexrelid NOT IN"
        " (SELECT conindid FROM pg_constraint WHERE contype IN ('p', 'u', 'x')"
        " AND conrelid = ANY($1::oid[])) ORDER BY 1",
        oids,
    )
    for c in constraints:  # foreign keys first: a key they use can go only after them
        await conn.execute(f"ALTER TABLE {c['rel']} DROP CONSTRAINT {_quoted(c['conname'])}")
    for i in indexes:
        await conn.execute(f"DROP INDEX {i['name']}")
    remake = [str(i["def"]) for i in indexes]
    remake += [
        f"ALTER TABLE {c['rel']} ADD CONSTRAINT {_quoted(c['conname'])} {c['def']}"
        for c in reversed(constraints)  # keys first, then the foreign keys that use them
    ]
    return remake


async def _set_sequences(conn: Any, highest_ids: dict[str, int]) -> None:
    """Each identity past the highest id SQLite gave out (AUTOINCREMENT never reuses one, not
    even a deleted row's), so new rows never take an old number."""
    async with conn.transaction():
        for table in IDENTITY_TABLES:
            highest = highest_ids.get(table, 0)
            if highest > 0:
                await conn.execute(
                    "SELECT setval(pg_get_serial_sequence($1, 'id'), $2, true)", table, highest
                )
            else:
                await conn.execute(
                    "SELECT setval(pg_get_serial_sequence($1, 'id'), 1, false)", table
                )


# --- progress for a person ---------------------------------------------------------------------


class ProgressLines:
    """How the copy goes, for a person: per table, at most every `every` seconds, the rows
    copied, rows per second and about how long is left; then a line when the table is copied,
    and one when its group is committed. `live` (a terminal): the running line is rewritten in
    place. `clock` is monotonic seconds (a test passes its own)."""

    def __init__(
        self,
        write: Callable[[str], object],
        *,
        every: float = 2.0,
        live: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._write = write
        self._every = every
        self._live = live
        self._clock = clock
        self._started: dict[str, float] = {}
        self._shown = 0.0
        self._open_line = False  # live: a running line waits to be finished

    def rows(self, table: str, done: int, total: int) -> None:
        now = self._clock()
        if table not in self._started:
            self._started[table] = self._shown = now
        if not 0 < done < total or now - self._shown < self._every:
            return
        self._shown = now
        elapsed = now - self._started[table]
        rate = done / elapsed if elapsed > 0 else 0.0
        line = f"{table}: {done:,} / {total:,} rows"
        if rate > 0:
            line += f" · {rate:,.0f} rows/s · about {_duration((total - done) / rate)} left"
        self._emit(line, running=True)

    def table_copied(self, table: str, rows: int) -> None:
        now = self._clock()
        elapsed = now - self._started.pop(table, now)
        line = f"{table}: {_count(rows, 'row')} copied"
        if elapsed >= 1 and rows:
            line += f" in {_duration(elapsed)} · {rows / elapsed:,.0f} rows/s"
        self._emit(line, running=False)

    def indexing(self, group: str, tables: Sequence[str]) -> None:
        self._emit(f"{group}: indexing {', '.join(tables)}, then committing", running=False)

    def group_committed(self, group: str, tables: int, rows: int) -> None:
        self._emit(
            f"{group}: committed ({_count(rows, 'row')} in {_count(tables, 'table')})",
            running=False,
        )

    def close(self) -> None:
        """End a running line left open on a terminal (the copy stopped in a table)."""
        if self._open_line:
            self._write("\n")
            self._open_line = False

    def _emit(self, line: str, *, running: bool) -> None:
        if not self._live:
            self._write(line + "\n")
            return
        self._write("\r" + line + "\x1b[K" + ("" if running else "\n"))
        self._open_line = running


def _count(number: int, thing: str) -> str:
    return f"{number:,} {thing}{'' if number == 1 else 's'}"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, math.ceil(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"
