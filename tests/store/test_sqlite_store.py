"""The real SQLite store: migrations, reopening, settings and shuffle bags (SPEC §7)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from bot.store.sqlite import SQLiteStore, StoreError, migrations
from tests.readonly import assert_read_only, permission_bits_apply


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


async def test_reopening_keeps_data_and_does_not_migrate_twice(tmp_path: Path) -> None:
    path = tmp_path / "lwa.sqlite3"
    store = await opened(path)
    await store.set_meta("command_sync_hash", "abc")
    await store.set_guild_timezone(42, "Asia/Seoul")
    await store.close()

    store = await opened(path)
    try:
        assert await store.get_meta("command_sync_hash") == "abc"
        assert await store.guild_timezone(42) == "Asia/Seoul"
        assert await store.guild_timezone(43) is None
    finally:
        await store.close()


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


async def test_shuffle_bag_never_repeats_within_a_round_and_survives_a_reopen(
    tmp_path: Path,
) -> None:
    path = tmp_path / "lwa.sqlite3"
    ids = [f"q-{n}" for n in range(6)]
    rng = random.Random(7)
    store = await opened(path)
    first_half = [await store.draw(1, "quote", "all", ids, rng) for _ in range(3)]
    await store.close()

    store = await opened(path)  # a restart in the middle of a round
    try:
        second_half = [await store.draw(1, "quote", "all", ids, rng) for _ in range(3)]
        assert sorted(first_half + second_half) == ids
        assert await store.bag_remaining(1, "quote", "all") == []
        # Another channel, and another filter, have bags of their own.
        assert await store.draw(2, "quote", "all", ids, rng) in ids
        assert len(await store.bag_remaining(2, "quote", "all")) == 5
        assert await store.bag_remaining(1, "quote", "speaker=v") == []
    finally:
        await store.close()


async def test_concurrent_draws_do_not_hand_out_the_same_item(tmp_path: Path) -> None:
    import asyncio

    store = await opened(tmp_path / "lwa.sqlite3")
    ids = [f"f-{n}" for n in range(20)]
    try:
        picks = await asyncio.gather(
            *(store.draw(9, "fact", "all", ids, random.Random(n)) for n in range(20))
        )
        assert sorted(picks) == sorted(ids)
    finally:
        await store.close()
