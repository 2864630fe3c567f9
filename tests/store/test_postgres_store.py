"""What is PostgreSQL's own in the PostgreSQL store: its migrations, the same tables as the
SQLite schema, and what the operator is told when the database cannot be opened or goes away
(SPEC §2, §8). What every backend must do is in the contract tests beside this file."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import random
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from bot.domain.records import StoreError, StoreUnavailable
from bot.domain.shards import Shards
from bot.store.postgres import PostgresStore, describe_url, migrations
from bot.store.sqlite import SQLiteStore
from tests.shared import closed_port, need_postgres
from tests.store.postgres import fresh_database, with_database
from tests.store.test_schedules_store import GRACE, NOW, add


def via(url: str, port: int, password: str | None = None) -> str:
    """`url` through 127.0.0.1:`port` (and with a password, to see it is never shown)."""
    parts = urlsplit(url)
    user = parts.username or "postgres"
    auth = f"{user}:{password}" if password else user
    return urlunsplit(parts._replace(netloc=f"{auth}@127.0.0.1:{port}"))


async def test_migrations_make_the_sqlite_schema_on_an_empty_database(tmp_path: Path) -> None:
    sqlite = SQLiteStore(tmp_path / "lwa.sqlite3")
    await sqlite.open()
    await sqlite.close()
    with sqlite3.connect(tmp_path / "lwa.sqlite3") as raw:
        sqlite_tables = {
            str(r[0])
            for r in raw.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
    async with fresh_database() as url:
        store = PostgresStore(url)
        await store.open()
        try:
            assert await store.schema_version() == max(n for n, _ in migrations())
            conn = await asyncpg.connect(url)
            try:
                rows = await conn.fetch(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                )
            finally:
                await conn.close()
            assert {str(r[0]) for r in rows} == sqlite_tables | {"schema_migrations"}
        finally:
            await store.close()
        again = PostgresStore(url)  # a second start has nothing left to do
        await again.open()
        await again.close()


async def test_two_processes_starting_at_once_migrate_once() -> None:
    async with fresh_database() as url:
        stores = [PostgresStore(url) for _ in range(3)]
        await asyncio.gather(*(s.open() for s in stores))
        versions = {await s.schema_version() for s in stores}
        for s in stores:
            await s.close()
    assert versions == {max(n for n, _ in migrations())}


async def test_a_database_newer_than_the_bot_is_refused() -> None:
    async with fresh_database() as url:
        store = PostgresStore(url)
        await store.open()
        await store.close()
        conn = await asyncpg.connect(url)
        await conn.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'x')")
        await conn.close()
        with pytest.raises(StoreError, match="newer than this bot knows"):
            await PostgresStore(url).open()


async def test_an_unreachable_server_is_one_sentence_without_the_password() -> None:
    url = via(await need_postgres(), closed_port(), password="s3cret-pw")
    with pytest.raises(StoreError) as caught:
        await PostgresStore(url).open()
    message = str(caught.value)
    assert "cannot reach PostgreSQL at 127.0.0.1:" in message and "DATABASE_URL" in message
    assert "s3cret-pw" not in message and "\n" not in message


async def test_a_missing_database_is_named() -> None:
    url = with_database(await need_postgres(), "lwa_t_does_not_exist")
    with pytest.raises(StoreError, match=r"lwa_t_does_not_exist .*does not exist"):
        await PostgresStore(url).open()


def test_the_url_is_described_without_its_password() -> None:
    text = describe_url("postgresql://lwa:hunter2@db.example:6543/bot")
    assert text == "PostgreSQL database bot on db.example:6543 (user lwa)"
    assert "hunter2" not in repr(PostgresStore("postgresql://lwa:hunter2@db.example/bot"))


class Proxy:
    """A TCP relay in front of the test server: closing it is the server going away (every
    connection cut, new ones refused); starting it again is the server coming back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = closed_port()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self.relay, "127.0.0.1", self.port)

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        await self.server.wait_closed()
        self.server = None

    async def relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.writers -= {writer, up_writer}


@contextlib.asynccontextmanager
async def proxied_store() -> AsyncIterator[tuple[PostgresStore, Proxy]]:
    async with fresh_database() as url:
        parts = urlsplit(url)
        proxy = Proxy((parts.hostname or "127.0.0.1", parts.port or 5432))
        await proxy.start()
        store = PostgresStore(via(url, proxy.port))
        await store.open()
        try:
            yield store, proxy
        finally:
            await store.close()
            if proxy.server is not None:
                await proxy.stop()


async def test_a_server_that_goes_away_is_unavailable_then_used_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with proxied_store() as (store, proxy):
        await store.set_meta("k", "before")
        await proxy.stop()
        for _ in range(2):  # the pooled connection is cut, and a new one is refused
            with pytest.raises(StoreUnavailable):
                await store.set_meta("k", "during")
            with pytest.raises(StoreUnavailable):
                await store.get_meta("k")
        assert not store.healthy
        # Said when it changes (the connection cut, then refused), not at every call.
        said = sum("cannot be used" in r.getMessage() for r in caplog.records)
        assert 1 <= said <= 2
        await proxy.start()
        assert await store.get_meta("k") == "before"  # nothing half-written
        await store.set_meta("k", "after")
        assert await store.get_meta("k") == "after" and store.healthy
        assert any("can be used again" in r.getMessage() for r in caplog.records)


async def test_a_starting_process_takes_over_only_the_runs_of_processes_that_died() -> None:
    """Unfinished runs are left to a live process even when another one starts on the same
    shards (a misconfiguration); the runs of a process that died are taken over, once."""
    async with fresh_database() as url:
        alive, dying = PostgresStore(url), PostgresStore(url)
        await alive.open()
        await dying.open()
        try:
            for n in range(6):
                await add(alive, 1 << 22 | n, next_run_at=NOW)
            later = NOW + dt.timedelta(minutes=1)
            mine = await alive.claim_due_runs(later, grace=GRACE, limit=3)
            theirs = await dying.claim_due_runs(later, grace=GRACE, limit=3)
            assert len(mine) == len(theirs) == 3
            await dying.close()  # it died with 3 runs claimed and not sent

            starting = [PostgresStore(url) for _ in range(2)]
            for store in starting:
                await store.open()
            try:
                taken = await asyncio.gather(*(s.unfinished_runs() for s in starting))
                ids = sorted(r.schedule.id for runs in taken for r in runs)
                assert ids == sorted(r.schedule.id for r in theirs)  # each once, none of mine
                again = await starting[0].unfinished_runs(shards=Shards(1))
                assert again == taken[0]  # what it took stays its own
                assert sorted(r.schedule.id for r in await alive.unfinished_runs()) == sorted(
                    r.schedule.id for r in mine
                )
            finally:
                for store in starting:
                    await store.close()
        finally:
            await alive.close()
            await dying.close()


# --- shuffle bags shared by processes, and bags only one process draws from ------------------


async def bag_row(url: str, scope_id: int) -> tuple[list[str], int]:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT remaining, version FROM shuffle_bags WHERE scope_id = $1", scope_id
        )
    finally:
        await conn.close()
    assert row is not None
    return list(json.loads(row["remaining"])), int(row["version"])


async def test_a_fans_own_bag_served_by_two_processes_repeats_nothing_within_a_round() -> None:
    """A user install's bag (not exclusive): whichever process answers, each pick is written
    before it is returned, over the version it was drawn from."""
    ids = [f"q-{n}" for n in range(30)]
    async with fresh_database() as url:
        stores = [PostgresStore(url), PostgresStore(url)]
        for store in stores:
            await store.open()
        try:
            picks = await asyncio.gather(
                *(
                    stores[n % 2].draw(77, "quote", "all", ids, random.Random(n))
                    for n in range(len(ids))
                )
            )
            assert sorted(picks) == sorted(ids)
            assert await bag_row(url, 77) == ([], len(ids))
        finally:
            for store in stores:
                await store.close()


async def test_a_server_channels_bag_is_written_behind_its_picks_and_all_by_close() -> None:
    """An exclusive bag (a server's channel, served by one process): every pick is written,
    in order, the writes finished by `close()`, so a restart carries on with the round."""
    ids = [f"q-{n}" for n in range(10)]
    rng = random.Random(3)
    async with fresh_database() as url:
        store = PostgresStore(url)
        await store.open()
        first = [await store.draw(5, "quote", "all", ids, rng, exclusive=True) for _ in range(6)]
        await store.close()
        remaining, version = await bag_row(url, 5)
        assert sorted(remaining) == sorted(set(ids) - set(first)) and version == 6
        store = PostgresStore(url)
        await store.open()  # a restart in the middle of the round
        try:
            rest = [await store.draw(5, "quote", "all", ids, rng, exclusive=True) for _ in range(4)]
        finally:
            await store.close()
        assert sorted(first + rest) == sorted(ids)
        assert await bag_row(url, 5) == ([], 10)


async def test_an_exclusive_bag_drawn_from_by_a_second_process_stays_a_valid_bag() -> None:
    """Two processes misconfigured to serve the same server: the cached bag of one is stale,
    so its write behind the reply is refused (the bag as the other wrote it stays), and the
    bag is read again. Nothing fails; at worst a pick comes back early."""
    ids = [f"f-{n}" for n in range(12)]
    async with fresh_database() as url:
        one, two = PostgresStore(url), PostgresStore(url)
        await one.open()
        await two.open()
        try:
            rng = random.Random(5)
            await one.draw(8, "fact", "all", ids, rng, exclusive=True)  # read, written: v1
            await two.draw(8, "fact", "all", ids, rng, exclusive=True)  # read, written: v2
            await one.draw(8, "fact", "all", ids, rng, exclusive=True)  # from a stale cache
            await one.close()  # waits for that write: refused
            remaining, version = await bag_row(url, 8)
            assert version == 2 and len(remaining) == 10 and set(remaining) <= set(ids)
            one = PostgresStore(url)
            await one.open()
            assert await one.draw(8, "fact", "all", ids, rng, exclusive=True) in remaining
            assert (await bag_row(url, 8))[1] == 3
        finally:
            await one.close()
            await two.close()


async def test_a_process_whose_run_lock_connection_was_lost_takes_the_lock_again() -> None:
    """The server cut the connection that holds a live process's owner lock: at its next claim
    the process takes the lock again, so a process starting after that still leaves its
    claimed runs alone."""
    async with fresh_database() as url:
        alive = PostgresStore(url)
        await alive.open()
        try:
            for n in range(3):
                await add(alive, 1 << 22 | n, next_run_at=NOW)
            later = NOW + dt.timedelta(minutes=1)
            mine = await alive.claim_due_runs(later, grace=GRACE, limit=2)
            assert alive._owner is not None
            alive._owner.terminate()  # as a server restart or an idle cut would
            mine += await alive.claim_due_runs(later, grace=GRACE, limit=2)  # lock taken again
            starting = PostgresStore(url)
            await starting.open()
            try:
                assert await starting.unfinished_runs() == []  # none of a live process's
            finally:
                await starting.close()
            assert sorted(r.schedule.id for r in await alive.unfinished_runs()) == sorted(
                r.schedule.id for r in mine
            )
        finally:
            await alive.close()
