"""What is SQLite's own in the SQLite store: migrations, its file and folder, an older database
(SPEC §7). What every backend must do is in the contract tests beside this file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.store.sqlite import SQLiteStore, StoreError, migrations
from tests.readonly import assert_read_only, permission_bits_apply

GUILD, CHANNEL = 100, 200


async def opened(path: Path) -> SQLiteStore:
    store = SQLiteStore(path)
    await store.open()
    return store


async def test_migrations_from_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "lwa.sqlite3"  # the folder is created too
    store = await opened(path)
    try:
        assert await store.schema_version() == max(n for n, _ in migrations())
    finally:
        await store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"meta", "guild_settings", "shuffle_bags"} <= tables


async def test_a_database_newer_than_the_bot_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lwa.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA user_version = 999")
    with pytest.raises(StoreError, match="newer"):
        await opened(path)


async def test_an_unusable_path_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="a file is in the way"):
        await opened(blocker / "lwa.sqlite3")


async def test_a_database_it_can_read_but_not_write_is_refused_at_open(tmp_path: Path) -> None:
    path = tmp_path / "lwa.sqlite3"
    await (await opened(path)).close()
    path.chmod(0o444)
    with permission_bits_apply():  # root too (see tests/readonly.py)
        assert_read_only(path)
        with pytest.raises(StoreError, match="the database file is read-only for the bot"):
            await opened(path)  # not at the first command


async def test_totals_are_built_from_the_scores_of_an_older_database(tmp_path: Path) -> None:
    """Migration 005 adds per-player totals; a database scored before it keeps every point."""
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as raw:
        for number, script in migrations():
            if number > 4:
                break
            raw.executescript(script.read_text(encoding="utf-8"))
            raw.execute(f"PRAGMA user_version = {number}")
        raw.execute(
            "INSERT INTO trivia_games (id, guild_id, channel_id, starter_id, difficulty,"
            " seconds, question_ids, choices, started_at) VALUES"
            " (1, ?, ?, 1, 'mixed', 20, '[]', '[]', '2024-01-01')",
            (GUILD, CHANNEL),
        )
        raw.executemany(
            "INSERT INTO trivia_scores VALUES (1, ?, ?, ?, 't-a', ?, ?, ?, ?)",
            [
                (0, GUILD, 7, 1, 900, 1, "2024-01-01T00:00:00+00:00"),
                (1, GUILD, 7, 1, 600, 2, "2024-01-01T00:01:00+00:00"),
                (0, GUILD, 8, 0, 0, 0, "2024-01-01T00:00:00+00:00"),
            ],
        )
    store = SQLiteStore(path)
    await store.open()
    try:
        rows = await store.leaderboard(GUILD, "all")
        assert [(r.user_id, r.points, r.correct, r.answered) for r in rows] == [(7, 1500, 2, 2)]
        assert (await store.player_stats(GUILD, 8)).answered == 1  # kept, without points
        assert (await store.player_stats(GUILD, 7)).best_streak == 2
    finally:
        await store.close()


async def test_a_mistake_in_a_statement_is_a_bug_not_an_unavailable_database(
    tmp_path: Path,
) -> None:
    """Only SQLite's "cannot be written now" codes (busy, full, read-only, I/O…) become
    StoreUnavailable; "no such column" goes up as itself, with its traceback, and the store
    stays healthy (no "cannot be written" in the log, no "try again" for the user)."""
    store = await opened(tmp_path / "lwa.sqlite3")
    try:
        with pytest.raises(sqlite3.OperationalError, match="no such column") as raised:
            async with store.transaction() as db:
                await db.execute("UPDATE meta SET nothing_like_this = 1")
        assert type(raised.value) is sqlite3.OperationalError
        assert store.healthy
        await store.set_meta("k", "still writable")
        assert await store.get_meta("k") == "still writable"
    finally:
        await store.close()
