"""`lwa-bot migrate --to DATABASE_URL` (SPEC §2, §8): a server's whole history, made through the
store as the bot makes it, moves from SQLite into PostgreSQL and reads back the same there; a
second run changes nothing; a target holding other data is refused unless told; a copy killed
in the middle of a big table is finished by running it again; a person sees how it goes."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import random
import re
import sqlite3
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

import bot.store.migrate as migrate_module
from bot.__main__ import main
from bot.config import REPO_ROOT
from bot.domain.records import ReportStatus, ScoreRow
from bot.domain.schedule import ALL_DAYS, WEEKDAYS, PostKind
from bot.domain.trivia import GameKind, GameState, period_key
from bot.store.base import Store
from bot.store.migrate import (
    BATCH_ROWS,
    BULK_ROWS,
    MARKER,
    TABLE_GROUPS,
    MigrationFailed,
    MigrationRefused,
    ProgressLines,
    all_tables,
    migrate,
)
from bot.store.postgres import PostgresStore, migrations
from bot.store.sqlite import SQLiteStore
from bot.store.sqlite import migrations as sqlite_migrations
from tests.shared import closed_port
from tests.store.postgres import fetch, fresh_database

GUILD, OTHER_GUILD = 4_000_000_000_000_000, 5_000_000_000_000_000  # real-sized snowflakes
T0 = dt.datetime(2024, 1, 24, 9, 0, tzinfo=dt.UTC)
GRACE = dt.timedelta(minutes=60)
QUOTES = [f"q-{n}" for n in range(8)]
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.fake.token-for-migrate-tests"
CHALLENGE = 1049  # the daily challenge's number on 7 December 2026

POSTGRES_SCHEMA = max(number for number, _ in migrations())


async def build_history(path: Path) -> None:
    """A bot's life in SQLite, through the store API: settings, notes, bags, games with
    answers and reveals (a daily question with streaks), a running game, reports, schedules
    with runs sent, failed, skipped and one interrupted, a removed schedule, IDENTIFY turns."""
    store = SQLiteStore(path)
    await store.open()
    try:
        await store.set_meta("command_sync_hash", "abc123")
        await store.set_guild_timezone(GUILD, "Asia/Seoul")
        rng = random.Random(5)
        for scope in (11, 12, GUILD):
            for _ in range(3):
                await store.draw(scope, "quote", "all", QUOTES, rng)
        await store.draw(11, "fact", "topic=mv", QUOTES[:3], rng)

        game = await store.create_game(
            guild_id=GUILD,
            channel_id=21,
            starter_id=1,
            kind=GameKind.GAME,
            difficulty="mixed",
            seconds=20,
            question_ids=["t-a", "t-b"],
            choices=[["A", "B", "C"], ["D", "E"]],
            started_at=T0,
            topic="charts",  # kept for "Play again"
        )
        for index in range(2):
            opened = T0 + dt.timedelta(seconds=30 * index)
            await store.open_question(game.id, index, opened, message_id=900 + index)
            for user in (101, 102, 103):
                await store.record_answer(
                    game.id, index, user, user % 3, opened + dt.timedelta(seconds=user % 7)
                )
            await store.record_reveal(
                game.id,
                index,
                [
                    ScoreRow(101, f"t-{'ab'[index]}", True, 900 - index, index + 1),
                    ScoreRow(102, f"t-{'ab'[index]}", index == 0, 700 if index == 0 else 0, 1),
                    ScoreRow(103, f"t-{'ab'[index]}", False, 0, 0),
                ],
                opened + dt.timedelta(seconds=20),
                timezone="Asia/Seoul",
            )
        await store.end_game(game.id, GameState.FINISHED, T0 + dt.timedelta(minutes=2))
        daily = await store.create_game(
            guild_id=GUILD,
            channel_id=22,
            starter_id=0,
            kind=GameKind.DAILY,
            difficulty="mixed",
            seconds=3600,
            question_ids=["t-c"],
            choices=[["X", "Y"]],
            started_at=T0 + dt.timedelta(days=1),
            run_key="7:2024-01-25T09:00:00+00:00",
        )
        await store.open_question(daily.id, 0, T0 + dt.timedelta(days=1), message_id=950)
        await store.record_answer(daily.id, 0, 101, 1, T0 + dt.timedelta(days=1, minutes=5))
        await store.record_reveal(
            daily.id,
            0,
            [ScoreRow(101, "t-c", True, 1000, 1)],
            T0 + dt.timedelta(days=1, hours=1),
            daily=True,
        )
        running = await store.create_game(
            guild_id=OTHER_GUILD,
            channel_id=31,
            starter_id=2,
            kind=GameKind.GAME,
            difficulty="easy",
            seconds=15,
            question_ids=["t-d"],
            choices=[["P", "Q"]],
            started_at=T0 + dt.timedelta(days=2),
        )
        await store.open_question(running.id, 0, T0 + dt.timedelta(days=2), message_id=None)
        await store.record_answer(running.id, 0, 201, 0, T0 + dt.timedelta(days=2, seconds=3))
        await store.add_report(
            guild_id=GUILD,
            channel_id=21,
            question_id="t-a",
            reporter_id=102,
            reason="Two answers look right",
            created_at=T0 + dt.timedelta(minutes=3),
        )
        fixed = await store.add_report(
            guild_id=GUILD,
            channel_id=21,
            question_id="t-b",
            reporter_id=103,
            reason="The answer is out of date",
            created_at=T0 + dt.timedelta(minutes=4),
        )
        await store.resolve_reports(  # what became of it, and when its reporter heard
            guild_id=GUILD,
            question_id="t-b",
            up_to=fixed,
            status=ReportStatus.FIXED,
            resolved_by=7,
            resolved_at=T0 + dt.timedelta(hours=1),
        )
        await store.tell_outcomes(103, T0 + dt.timedelta(hours=2))

        def schedule(**changes: Any) -> dict[str, Any]:
            values: dict[str, Any] = dict(
                guild_id=GUILD,
                channel_id=41,
                content="quote",
                local_time=dt.time(9, 0),
                timezone="UTC",
                days=ALL_DAYS,
                role_id=None,
                next_run_at=T0,
                created_by=7,
                created_at=T0 - dt.timedelta(days=1),
                limit=25,
            )
            values.update(changes)
            return values

        sent = await store.add_schedule(**schedule())
        failed = await store.add_schedule(**schedule(channel_id=42, content="fact"))
        skipped = await store.add_schedule(**schedule(channel_id=43, content="onthisday"))
        unfinished = await store.add_schedule(
            **schedule(channel_id=44, content="trivia", role_id=55, days=WEEKDAYS)
        )
        removed = await store.add_schedule(**schedule(channel_id=45))
        await store.add_schedule(
            **schedule(
                guild_id=OTHER_GUILD,
                channel_id=46,
                timezone="Asia/Seoul",
                next_run_at=T0 + dt.timedelta(hours=3),
            )
        )
        paused = await store.add_schedule(**schedule(channel_id=47))
        await store.pause_schedule(paused.id, GUILD)
        claimed = await store.claim_due_runs(T0, grace=GRACE, limit=50)
        runs = {run.schedule.id: run for run in claimed}
        await store.mark_run_sent(sent.id, runs[sent.id].due_at, 5001, T0 + dt.timedelta(seconds=1))
        await store.mark_run_failed(
            failed.id,
            runs[failed.id].due_at,
            "403",
            failing_reason="the bot cannot send messages in #news",
            pause_after=3,
        )
        await store.mark_run_skipped(skipped.id, runs[skipped.id].due_at, "too late")
        assert unfinished.id in runs  # claimed, never finished: a crash in between
        await store.remove_schedule(removed.id, GUILD)  # its id is never given again

        await store.claim_identify_slot(0, T0, dt.timedelta(seconds=5))

        # The daily challenge: a day played to the end and shared, another only started.
        await store.pin_challenge_day(CHALLENGE, ("t-a", "t-b", "t-c"), [["A", "B"]] * 3, T0)
        await store.start_challenge(101, CHALLENGE, T0, GUILD)
        for index in range(3):
            at = T0 + dt.timedelta(seconds=10 * (index + 1))
            await store.answer_challenge(101, CHALLENGE, index, index % 2, index != 1, at)
        await store.share_challenge(OTHER_GUILD, CHALLENGE, 101, T0 + dt.timedelta(minutes=1))
        await store.start_challenge(102, CHALLENGE, T0, None)
        await store.answer_challenge(102, CHALLENGE, 0, 1, False, T0 + dt.timedelta(seconds=4))
    finally:
        await store.close()


async def snapshot(store: Store) -> dict[str, Any]:
    """Everything the bot reads back, through the store API."""
    week = period_key("week", T0)
    month = period_key("month", T0)
    games = [await store.game(n) for n in range(1, 5)]
    return {
        "meta": await store.get_meta("command_sync_hash"),
        "timezone": (await store.guild_timezone(GUILD), await store.guild_timezone(1)),
        "leaderboards": {
            period: await store.leaderboard(GUILD, period) for period in ("all", week, month)
        },
        "ranks": [await store.leaderboard_row(GUILD, u, "all") for u in (101, 102, 103)],
        "stats": [await store.player_stats(GUILD, u) for u in (101, 102, 103, 104)],
        "games": games,
        "answers": [await store.game_answers(n) for n in range(1, 5)],
        "run_game": await store.game_for_run("7:2024-01-25T09:00:00+00:00"),
        "running": await store.running_games(),
        "asked": await store.last_asked(GUILD),
        "streaks": await store.daily_streaks(GUILD, [101, 102]),
        "reports": await store.reports(None),
        "schedules": (await store.schedules(GUILD), await store.schedules(OTHER_GUILD)),
        "next_due": await store.next_due_at(),
        "unfinished": await store.unfinished_runs(),
        "sent": await store.sent_run(1, T0),
        "challenge": (
            await store.challenge_day(CHALLENGE),
            await store.challenge_attempt(101, CHALLENGE),
            await store.challenge_attempt(102, CHALLENGE),
            await store.challenge_board(GUILD, CHALLENGE),
            await store.challenge_board(OTHER_GUILD, CHALLENGE),
            await store.challenge_streaks(GUILD, CHALLENGE),
        ),
    }


async def raw_bags(url: str) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT scope_id, kind, filter_key, remaining, last_id FROM shuffle_bags"
            " ORDER BY 1, 2, 3"
        )
    finally:
        await conn.close()
    return [tuple(r) for r in rows]


def sqlite_bags(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as raw:
        return list(
            raw.execute(
                "SELECT scope_id, kind, filter_key, remaining, last_id FROM shuffle_bags"
                " ORDER BY 1, 2, 3"
            )
        )


async def opened_sqlite(path: Path) -> SQLiteStore:
    store = SQLiteStore(path)
    await store.open()
    return store


async def opened_postgres(url: str) -> PostgresStore:
    store = PostgresStore(url)
    await store.open()
    return store


async def test_every_table_of_the_sqlite_schema_is_copied(tmp_path: Path) -> None:
    store = await opened_sqlite(tmp_path / "lwa.sqlite3")
    async with store.db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ) as cursor:
        names = {str(r[0]) async for r in cursor}
    await store.close()
    assert names == set(all_tables())
    assert len(all_tables()) == len(set(all_tables())) and len(TABLE_GROUPS) == 6


async def test_a_migrated_database_reads_back_the_same_on_postgresql(tmp_path: Path) -> None:
    source = tmp_path / "lwa.sqlite3"
    await build_history(source)
    sqlite_store = await opened_sqlite(source)
    expected = await snapshot(sqlite_store)
    await sqlite_store.close()
    assert expected["leaderboards"]["all"] and expected["unfinished"] and expected["running"]
    day, played, started, board, shared, streaks = expected["challenge"]
    assert played.result.marks == (True, False, True) and started.result is None
    assert [row.user_id for row in board[0]] == [row.user_id for row in shared[0]] == [101]
    assert day is not None and [row.user_id for row in streaks] == [101]
    assert [(r.status, r.resolved_by, r.told_at is not None) for r in expected["reports"]] == [
        (ReportStatus.FIXED, 7, True),
        (ReportStatus.OPEN, None, False),
    ]

    async with fresh_database() as url:
        result = await migrate(source, url)
        counts = {t.table: t.rows for t in result.tables}
        assert counts["trivia_answers"] == 8 and counts["schedule_runs"] == 4
        assert counts["shuffle_bags"] == 4 and counts["trivia_reports"] == 2
        assert not result.replaced

        store = await opened_postgres(url)
        try:
            assert await snapshot(store) == expected
            assert await raw_bags(url) == sqlite_bags(source)
            # The bag goes on where it was: the same draw from the same state.
            other = await opened_sqlite(source)
            try:
                for scope in (11, GUILD):
                    assert await store.draw(
                        scope, "quote", "all", QUOTES, random.Random(scope)
                    ) == await other.draw(scope, "quote", "all", QUOTES, random.Random(scope))
            finally:
                await other.close()
            # A new schedule takes a number SQLite never gave out (5 was removed there).
            new = await store.add_schedule(
                guild_id=GUILD,
                channel_id=48,
                content=PostKind.FACT,
                local_time=dt.time(10, 0),
                timezone="UTC",
                days=ALL_DAYS,
                role_id=None,
                next_run_at=T0 + dt.timedelta(days=2),
                created_by=7,
                created_at=T0,
                limit=25,
            )
            assert new.id == 8
            game = await store.create_game(
                guild_id=GUILD,
                channel_id=23,
                starter_id=1,
                kind=GameKind.GAME,
                difficulty="mixed",
                seconds=20,
                question_ids=["t-e"],
                choices=[["A", "B"]],
                started_at=T0,
            )
            assert game.id == 4
            # The next run of a migrated schedule is claimed once, on PostgreSQL.
            later = T0 + dt.timedelta(days=1, seconds=1)
            claimed = await store.claim_due_runs(later, grace=GRACE, limit=50)
            assert sorted(r.schedule.channel_id for r in claimed) == [41, 42, 43, 44, 46]
            assert await store.claim_due_runs(later, grace=GRACE, limit=50) == []
        finally:
            await store.close()


async def test_running_it_again_gives_the_same_result_and_refuses_other_data(
    tmp_path: Path,
) -> None:
    source = tmp_path / "lwa.sqlite3"
    await build_history(source)
    async with fresh_database() as url:
        first = await migrate(source, url)
        store = await opened_postgres(url)
        once = await snapshot(store)
        await store.close()

        second = await migrate(source, url)  # again, over its own untouched copy
        assert second.tables == first.tables and second.replaced
        store = await opened_postgres(url)
        try:
            assert await snapshot(store) == once  # no duplicates, nothing lost
            await store.set_meta("command_sync_hash", "changed-on-postgres")  # a bot ran on it
        finally:
            await store.close()
        with pytest.raises(MigrationRefused, match="changed since it was copied"):
            await migrate(source, url)

        # The source moved on (the bot kept running on SQLite): with --replace, the new state.
        sqlite_store = await opened_sqlite(source)
        await sqlite_store.set_guild_timezone(GUILD, "Europe/Paris")
        await sqlite_store.close()
        await migrate(source, url, replace=True)
        store = await opened_postgres(url)
        try:
            assert await store.guild_timezone(GUILD) == "Europe/Paris"
            assert await store.get_meta("command_sync_hash") == "abc123"
        finally:
            await store.close()


async def test_a_target_holding_other_data_is_refused_unless_told(tmp_path: Path) -> None:
    source = tmp_path / "lwa.sqlite3"
    await build_history(source)
    async with fresh_database() as url:
        store = await opened_postgres(url)
        await store.set_guild_timezone(77, "UTC")  # another bot's data
        await store.close()
        with pytest.raises(MigrationRefused, match=r"already holds data \(1 in guild_settings"):
            await migrate(source, url)
        store = await opened_postgres(url)
        try:
            assert await store.guild_timezone(77) == "UTC"  # untouched
            assert await store.schedules(GUILD) == []
        finally:
            await store.close()
        result = await migrate(source, url, replace=True)
        assert result.replaced
        store = await opened_postgres(url)
        try:
            assert await store.guild_timezone(77) is None
            assert await store.guild_timezone(GUILD) == "Asia/Seoul"
        finally:
            await store.close()


def interrupt_before(monkeypatch: pytest.MonkeyPatch, group: str) -> None:
    """The next copy stops (the connection lost) when it reaches `group`: the groups before
    it are committed, that one and the later ones are not."""
    copy_group = migrate_module._copy_group

    async def failing(conn: Any, name: str, tables: Any, rows: Any) -> Any:
        if name == group:
            raise ConnectionResetError("connection lost mid-copy")
        return await copy_group(conn, name, tables, rows)

    monkeypatch.setattr(migrate_module, "_copy_group", failing)


@pytest.mark.parametrize("group", ["gateway turns"])  # every group but the last committed
async def test_an_interrupted_copy_untouched_since_is_finished_by_running_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, group: str
) -> None:
    source = tmp_path / "lwa.sqlite3"
    await build_history(source)
    sqlite_store = await opened_sqlite(source)
    expected = await snapshot(sqlite_store)
    await sqlite_store.close()
    async with fresh_database() as url:
        with monkeypatch.context() as patch:
            interrupt_before(patch, group)
            with pytest.raises(MigrationFailed, match="running migrate again copies"):
                await migrate(source, url)
        await migrate(source, url)  # no --replace needed: nothing but this tool wrote there
        store = await opened_postgres(url)
        try:
            assert await snapshot(store) == expected
        finally:
            await store.close()


@pytest.mark.parametrize("group", ["trivia"])  # stopped halfway: some groups committed
async def test_an_interrupted_copy_a_bot_wrote_to_since_is_refused_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, group: str
) -> None:
    """A half-made copy that a bot has written to since holds data of its own: running
    migrate again without --replace must not delete it."""
    source = tmp_path / "lwa.sqlite3"
    await build_history(source)
    async with fresh_database() as url:
        with monkeypatch.context() as patch:
            interrupt_before(patch, group)
            with pytest.raises(MigrationFailed):
                await migrate(source, url)
        store = await opened_postgres(url)  # a bot, started on the half-made copy
        try:
            await store.set_guild_timezone(77, "Europe/Paris")
            before = await snapshot(store)
        finally:
            await store.close()
        with pytest.raises(MigrationRefused) as refused:
            await migrate(source, url)
        assert " in guild_settings" in str(refused.value)
        assert "an earlier migrate that did not finish" in str(refused.value)
        assert "written to since" in str(refused.value)
        assert "--replace to discard" in str(refused.value)
        store = await opened_postgres(url)
        try:
            assert await store.guild_timezone(77) == "Europe/Paris"  # nothing deleted
            assert await snapshot(store) == before
        finally:
            await store.close()
        await migrate(source, url, replace=True)  # told: the copy replaces it
        store = await opened_postgres(url)
        try:
            assert await store.guild_timezone(77) is None
            assert await store.guild_timezone(GUILD) == "Asia/Seoul"
        finally:
            await store.close()


async def test_a_half_made_copy_from_an_older_version_is_refused_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older migrate noted a copy in progress without a checksum: nothing says whether a
    bot wrote to it since, so it is not replaced without --replace."""
    source = tmp_path / "lwa.sqlite3"
    await build_history(source)
    async with fresh_database() as url:
        with monkeypatch.context() as patch:
            interrupt_before(patch, "trivia")
            with pytest.raises(MigrationFailed):
                await migrate(source, url)
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                "UPDATE meta SET value = $1 WHERE key = $2",
                json.dumps({"source": str(source.resolve()), "state": "copying"}),
                MARKER,
            )
        finally:
            await conn.close()
        with pytest.raises(MigrationRefused, match="kept no checksum"):
            await migrate(source, url)
        assert (await migrate(source, url, replace=True)).replaced


# --- the command line --------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> Iterator[Callable[..., Result]]:
    """`cli("migrate", "--to", url, DATABASE_PATH=...)`: `main(argv)` with exactly those
    settings, from an empty folder (no .env). From an async test, through a thread
    (`asyncio.to_thread(cli, ...)`): main() runs its own event loop."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    for name in list(os.environ):
        if name.startswith(
            ("DISCORD_", "DATABASE_", "DATA_DIR", "DEV_GUILD", "SHARD_", "METRICS_")
        ):
            monkeypatch.delenv(name)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level

    def run(*argv: str, **env: str) -> Result:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        code = main(list(argv))
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return Result(code, out, err)

    try:
        yield run
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


async def test_the_cli_migrates_and_check_reports_postgresql(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    source = tmp_path / "lwa.sqlite3"
    await build_history(source)
    async with fresh_database() as url:
        done = await asyncio.to_thread(cli, "migrate", "--to", url, DATABASE_PATH=str(source))
        assert done.code == 0, done.err
        assert "  schedule_runs: 4 rows (schedules and runs)" in done.out
        assert "  trivia_scores: 7 rows (trivia)" in done.out
        assert "counts verified" in done.out and f"schema version {POSTGRES_SCHEMA}" in done.out
        again = await asyncio.to_thread(cli, "migrate", "--to", url, DATABASE_PATH=str(source))
        assert again.code == 0 and "replacing what it held" in again.out

        checked = await asyncio.to_thread(cli, "check", DISCORD_TOKEN=TOKEN, DATABASE_URL=url)
        assert checked.code == 0, checked.err
        db_name = url.rsplit("/", 1)[1]
        assert f"database: PostgreSQL database {db_name} on 127.0.0.1:5432" in checked.out
        assert f"schema version {POSTGRES_SCHEMA}" in checked.out

        store = await opened_postgres(url)
        await store.set_guild_timezone(77, "UTC")
        await store.close()
        other = tmp_path / "other.sqlite3"
        await build_history(other)
        refused = await asyncio.to_thread(cli, "migrate", "--to", url, DATABASE_PATH=str(other))
        assert refused.code == 1 and refused.err.count("\n") == 1
        assert "--replace" in refused.err
    sqlite_check = await asyncio.to_thread(
        cli, "check", DISCORD_TOKEN=TOKEN, DATABASE_PATH=str(source), DATABASE_URL=""
    )
    latest = max(number for number, _ in sqlite_migrations())
    assert f"database: SQLite file {source}, schema version {latest}" in sqlite_check.out


def test_a_bad_or_unreachable_url_is_one_line_and_exit_2(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    source = tmp_path / "lwa.sqlite3"
    sqlite3.connect(source).close()
    wrong = cli("migrate", "--to", "mysql://u@h/db", DATABASE_PATH=str(source))
    assert wrong.code == 2 and wrong.err.startswith("DATABASE_URL (--to): must be a PostgreSQL")
    url = f"postgresql://lwa:s3cret-pw@127.0.0.1:{closed_port()}/lwa"
    down = cli("migrate", "--to", url, DATABASE_PATH=str(source))
    assert down.code == 2 and down.err.count("\n") == 1
    assert down.err.startswith("DATABASE_URL (--to): cannot reach PostgreSQL at 127.0.0.1:")
    assert "s3cret-pw" not in down.err
    missing = cli("migrate", "--to", url, DATABASE_PATH=str(tmp_path / "none.sqlite3"))
    assert missing.code == 2 and missing.err.startswith("DATABASE_PATH: there is no SQLite")
    # The bot itself, on an unreachable DATABASE_URL: a configuration error too.
    run = cli("check", DISCORD_TOKEN=TOKEN, DATABASE_URL=url)
    assert run.code == 2 and run.err.startswith("DATABASE_URL: cannot reach PostgreSQL")
    assert "s3cret-pw" not in run.err


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgresql://u:p@127.0.0.1:99999/db", "has a port that is not a number from 1 to 65535"),
        ("postgresql://u:p@[bad/db", "has a `[` that does not open an IPv6 address"),
        ("postgresql://u:p@127.0.0.1:5432", "names no database"),
        ("postgresql://lwa:Xq7S3/abcK@127.0.0.1/lwa", "cannot be read"),
        ("postgresql://lwa:Lm#9Qz8vTr@127.0.0.1/lwa", "has a `#`"),
        ("postgresql://lwa:Rt5?Wn6Yb2@127.0.0.1/lwa", "cannot be read"),
        ("postgresql://lwa:Hk2@Ps9Vd4@127.0.0.1/lwa", "cannot be read"),
        ("postgresql://lwa:a/Zb#Yc?Xd@W@127.0.0.1/lwa", "has a `#`"),
    ],
)
def test_a_to_url_that_cannot_be_used_is_one_line_and_exit_2(
    tmp_path: Path, cli: Callable[..., Result], url: str, problem: str
) -> None:
    """`--to` is checked as DATABASE_URL is, and never printed: not even a part of the
    password (anything between `lwa:` and the host's `@`)."""
    source = tmp_path / "lwa.sqlite3"
    sqlite3.connect(source).close()
    result = cli("migrate", "--to", url, DATABASE_PATH=str(source))
    assert result.code == 2 and result.out == "" and result.err.count("\n") == 1, result.err
    assert result.err.startswith(f"DATABASE_URL (--to): {problem}")
    assert result.err.rstrip().endswith("(see .env.example)")
    password = url.split("lwa:", 1)[1].rsplit("@", 1)[0] if "lwa:" in url else ""
    pieces = [password[i : i + 3] for i in range(len(password) - 2)]
    assert [p for p in pieces if p in result.out + result.err] == []


async def test_the_cli_refuses_a_half_made_copy_a_bot_wrote_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Callable[..., Result]
) -> None:
    source = tmp_path / "lwa.sqlite3"
    await build_history(source)
    async with fresh_database() as url:
        with monkeypatch.context() as patch:
            interrupt_before(patch, "trivia")
            stopped = await asyncio.to_thread(
                cli, "migrate", "--to", url, DATABASE_PATH=str(source)
            )
        assert stopped.code == 1 and "running migrate again" in stopped.err
        store = await opened_postgres(url)
        try:
            await store.set_guild_timezone(77, "Europe/Paris")  # a bot ran on it meanwhile
        finally:
            await store.close()
        again = await asyncio.to_thread(cli, "migrate", "--to", url, DATABASE_PATH=str(source))
        assert again.code == 1 and again.out == "" and again.err.count("\n") == 1
        assert again.err.startswith("migrate: ") and "--replace" in again.err
        assert "replacing" not in again.out + again.err
        store = await opened_postgres(url)
        try:
            assert await store.guild_timezone(77) == "Europe/Paris"
            assert await store.guild_timezone(GUILD) == "Asia/Seoul"  # the first group's copy
        finally:
            await store.close()


# --- big tables, in batches, and a copy killed halfway ----------------------------------------


def add_games(path: Path, games: int) -> None:
    """`games` finished games (ids from 1001) of 5 questions, each answered by 8 players,
    written straight into the SQLite file: 40 rows of `trivia_answers` a game."""
    numbers = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "INSERT INTO trivia_games (id, guild_id, channel_id, starter_id, kind, difficulty,"
            " seconds, question_ids, choices, state, revealed, started_at, ended_at)"
            f" {numbers} SELECT 1001 + i, ?, 60 + i, 1, 'game', 'mixed', 20, '[\"t-a\"]',"
            " '[[\"A\",\"B\"]]', 'finished', 5, ?, ? FROM n",
            (games - 1, GUILD, T0.isoformat(), (T0 + dt.timedelta(minutes=2)).isoformat()),
        )
        db.execute(
            "INSERT INTO trivia_answers (game_id, question_index, user_id, choice_index,"
            f" answered_at) {numbers} SELECT 1001 + i / 40, i / 8 % 5, 300 + i % 8, i % 2,"
            " strftime('%Y-%m-%dT%H:%M:%S.000000+00:00', ?, '+' || (i % 600) || ' seconds')"
            " FROM n",
            (games * 40 - 1, T0.isoformat()),
        )


def sqlite_counts(path: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return {t: int(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in all_tables()}


async def postgres_counts(url: str) -> dict[str, int]:
    counts = {}
    for table in all_tables():
        where = f" WHERE key <> '{MARKER}'" if table == "meta" else ""
        counts[table] = (await fetch(url, f"SELECT COUNT(*) FROM {table}{where}"))[0][0]
    return counts


async def schema_of(url: str) -> set[tuple[str, ...]]:
    """Every index and constraint of the database, as PostgreSQL describes it."""
    indexes = await fetch(
        url, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
    )
    constraints = await fetch(
        url,
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE connamespace = current_schema()::regnamespace",
    )
    return {tuple(r) for r in [*indexes, *constraints]}


async def reference_schema() -> set[tuple[str, ...]]:
    """The indexes and constraints of a database the bot's own migrations made."""
    async with fresh_database() as url:
        store = await opened_postgres(url)
        await store.close()
        return await schema_of(url)


def cli_env(source: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "DATABASE_", "DATA_DIR", "DEV_GUILD", "SHARD_"))
    }
    return {**env, "DATABASE_PATH": str(source)}


async def test_a_copy_killed_in_the_middle_of_a_big_table_is_finished_by_running_it_again(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    """The real command, in a process of its own, killed (SIGKILL) while its progress shows
    the biggest table partly copied: the groups before it are kept, nothing of its group is,
    and running it again (no --replace: nothing but migrate wrote there) copies every row
    exactly once, with the indexes and keys the bot's migrations make."""
    source = tmp_path / "lwa.sqlite3"
    await build_history(source)
    add_games(source, 1_500)  # 60,000 answers: 12 batches, copied before their indexes
    expected = sqlite_counts(source)
    assert expected["trivia_answers"] == 60_008 >= max(BULK_ROWS, 10 * BATCH_ROWS)
    sqlite_store = await opened_sqlite(source)
    history = await snapshot(sqlite_store)
    await sqlite_store.close()
    async with fresh_database() as url:
        first = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bot", "migrate", "--to", url, "--progress-every", "0"),
            cwd=REPO_ROOT,
            env=cli_env(source),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert first.stderr is not None
        seen = []
        try:
            while True:
                line = (await asyncio.wait_for(first.stderr.readline(), 30)).decode()
                seen.append(line)
                partly = re.match(r"trivia_answers: ([\d,]+) / ([\d,]+) rows · ", line)
                if partly or not line:
                    break
        finally:
            first.kill()
            await first.wait()
        assert partly, "".join(seen)
        done, total = (int(n.replace(",", "")) for n in partly.groups())
        assert 0 < done < total == expected["trivia_answers"]
        assert "shuffle bags: committed (4 rows in 1 table)\n" in seen
        half = await postgres_counts(url)
        assert half["shuffle_bags"] == 4 and half["guild_settings"] == 1  # committed groups
        assert half["trivia_games"] == half["trivia_answers"] == 0  # the killed group: nothing

        again = await asyncio.to_thread(cli, "migrate", "--to", url, DATABASE_PATH=str(source))
        assert again.code == 0, again.err
        assert "counts verified, replacing what it held" in again.out
        assert "trivia_answers: 60,008 rows copied" in again.err
        assert await postgres_counts(url) == expected
        distinct = await fetch(
            url, "SELECT COUNT(DISTINCT (game_id, question_index, user_id)) FROM trivia_answers"
        )
        assert distinct[0][0] == expected["trivia_answers"]  # nothing twice
        assert await schema_of(url) == await reference_schema()
        store = await opened_postgres(url)
        try:
            assert await snapshot(store) == history
        finally:
            await store.close()


async def test_every_table_loaded_before_its_indexes_keeps_its_indexes_and_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every table with a row takes the bulk path here (its indexes, keys and foreign keys
    dropped and made again in its group's transaction): the same schema, the same history,
    and a second run over it is still this tool's own copy."""
    monkeypatch.setattr(migrate_module, "BULK_ROWS", 1)
    monkeypatch.setattr(migrate_module, "BATCH_ROWS", 3)  # several batches per table
    source = tmp_path / "lwa.sqlite3"
    await build_history(source)
    sqlite_store = await opened_sqlite(source)
    expected = await snapshot(sqlite_store)
    await sqlite_store.close()
    async with fresh_database() as url:
        await migrate(source, url)
        assert await schema_of(url) == await reference_schema()
        assert await postgres_counts(url) == sqlite_counts(source)
        assert (await migrate(source, url)).replaced  # no refusal: untouched since
        store = await opened_postgres(url)
        try:
            assert await snapshot(store) == expected
        finally:
            await store.close()


async def test_a_value_that_cannot_be_copied_fails_its_group_in_one_line(tmp_path: Path) -> None:
    source = tmp_path / "lwa.sqlite3"
    await build_history(source)
    with contextlib.closing(sqlite3.connect(source)) as db, db:
        db.execute("UPDATE trivia_answers SET answered_at = 'soon' WHERE user_id = 102")
    async with fresh_database() as url:
        with pytest.raises(MigrationFailed) as failed:
            await migrate(source, url)
        assert str(failed.value).startswith("trivia_answers: a value SQLite holds cannot be")
        assert "nothing of the trivia was kept" in str(failed.value)
        counts = await postgres_counts(url)
        assert counts["shuffle_bags"] == 4 and counts["trivia_games"] == 0


async def test_a_copy_an_older_version_finished_is_refused_unless_told(tmp_path: Path) -> None:
    """Its checksum is of another kind, which this version cannot check: it cannot tell
    whether a bot wrote there since."""
    source = tmp_path / "lwa.sqlite3"
    await build_history(source)
    async with fresh_database() as url:
        await migrate(source, url)
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                "UPDATE meta SET value = $1 WHERE key = $2",
                json.dumps(
                    {
                        "source": str(source.resolve()),
                        "state": "copied",
                        "checksum": "meta:0b9d2c6e4f0a1b3c5d7e9f1a2b3c4d5e;guild_settings:…",
                    }
                ),
                MARKER,
            )
        finally:
            await conn.close()
        with pytest.raises(MigrationRefused, match="by an older version of migrate"):
            await migrate(source, url)
        assert (await migrate(source, url, replace=True)).replaced


def test_progress_is_a_line_at_most_every_two_seconds_with_the_time_left() -> None:
    now = [1000.0]
    out: list[str] = []
    lines = ProgressLines(out.append, clock=lambda: now[0])

    def at(seconds: float, done: int) -> None:
        now[0] = 1000.0 + seconds
        lines.rows("trivia_answers", done, 4_000_000)

    at(0, 0)
    at(1.0, 300_000)  # not yet 2 s: nothing
    at(2.5, 750_000)
    at(4.0, 1_200_000)  # 1.5 s after the last line: nothing
    at(4.5, 1_350_000)
    at(13.0, 4_000_000)  # every row sent: the final line says it
    now[0] = 1013.5
    lines.table_copied("trivia_answers", 4_000_000)
    lines.rows("trivia_halves", 0, 0)
    lines.table_copied("trivia_halves", 0)
    lines.rows("trivia_asked", 0, 1)
    lines.table_copied("trivia_asked", 1)
    lines.indexing("trivia", ["trivia_answers"])
    lines.group_committed("trivia", 9, 4_000_001)
    assert out == [
        "trivia_answers: 750,000 / 4,000,000 rows · 300,000 rows/s · about 11 s left\n",
        "trivia_answers: 1,350,000 / 4,000,000 rows · 300,000 rows/s · about 9 s left\n",
        "trivia_answers: 4,000,000 rows copied in 14 s · 296,296 rows/s\n",
        "trivia_halves: 0 rows copied\n",
        "trivia_asked: 1 row copied\n",
        "trivia: indexing trivia_answers, then committing\n",
        "trivia: committed (4,000,001 rows in 9 tables)\n",
    ]


def test_on_a_terminal_progress_is_one_line_rewritten_in_place() -> None:
    now = [0.0]
    out: list[str] = []
    lines = ProgressLines(out.append, clock=lambda: now[0], live=True)
    lines.rows("schedule_runs", 0, 1_000_000)
    now[0] = 2.0
    lines.rows("schedule_runs", 100_000, 1_000_000)
    now[0] = 125.0
    lines.rows("schedule_runs", 200_000, 1_000_000)
    lines.close()  # stopped there: the line is ended
    lines.close()
    assert out == [
        "\rschedule_runs: 100,000 / 1,000,000 rows · 50,000 rows/s · about 18 s left\x1b[K",
        "\rschedule_runs: 200,000 / 1,000,000 rows · 1,600 rows/s · about 8 min left\x1b[K",
        "\n",
    ]
