"""`/trivia leaderboard`, `/trivia stats`, reports and `/settings`, below Discord: the services
`bot.services.scores` and `bot.services.servers` on a real SQLite store."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.clock import FakeClock
from bot.domain.dataset import load_dataset
from bot.domain.records import ScoreRow
from bot.domain.schedule import ALL_DAYS, PostKind
from bot.domain.trivia import GameKind
from bot.services.content import ContentService
from bot.services.scores import Scores
from bot.services.servers import ServerSettings
from bot.store.sqlite import SQLiteStore
from tests.dataset_factory import write_dataset

# Monday 8 January 2024, 00:30 in Seoul: still Sunday the 7th in UTC.
NOW = dt.datetime(2024, 1, 7, 15, 30, tzinfo=dt.UTC)
GUILD, FAN, OTHER_FAN = 10, 501, 502


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "lwa.sqlite3", FakeClock(NOW))
    await store.open()
    yield store
    await store.close()


def scores_of(store: SQLiteStore, tmp_path: Path) -> Scores:
    clock = FakeClock(NOW)
    dataset = load_dataset(write_dataset(tmp_path / "data"))
    return Scores(store, ContentService(dataset, store, clock, random.Random(1)), clock)


async def test_a_week_begins_in_the_servers_timezone(store: SQLiteStore, tmp_path: Path) -> None:
    servers, scores = ServerSettings(store), scores_of(store, tmp_path)
    await servers.set_timezone(GUILD, "Asia/Seoul")
    assert await servers.timezone(GUILD) == "Asia/Seoul"
    game = await store.create_game(
        guild_id=GUILD,
        channel_id=20,
        starter_id=FAN,
        kind=GameKind.GAME,
        difficulty="mixed",
        seconds=20,
        question_ids=["t-director"],
        choices=[("a", "b")],
        started_at=NOW,
    )
    await store.record_reveal(
        game.id, 0, [ScoreRow(FAN, "t-director", True, 900, 1)], NOW, timezone="Asia/Seoul"
    )
    board = await scores.leaderboard(GUILD, OTHER_FAN, "week")
    # Monday 00:00 in Seoul, not Monday in UTC (tomorrow) nor the UTC week (a week ago).
    assert board.since == dt.datetime(2024, 1, 7, 15, 0, tzinfo=dt.UTC)
    assert board.timezone == "Asia/Seoul"
    assert [(r.user_id, r.points) for r in board.rows] == [(FAN, 900)]
    assert board.caller is None  # the asking fan has no points
    assert (await scores.player(GUILD, FAN)).points == 900


async def test_reports_are_kept_and_listed_newest_first(store: SQLiteStore, tmp_path: Path) -> None:
    scores = scores_of(store, tmp_path)
    first = await scores.report(
        guild_id=GUILD, channel_id=20, question_id="t-a", reporter_id=FAN, reason="two answers"
    )
    second = await scores.report(
        guild_id=GUILD, channel_id=20, question_id="t-b", reporter_id=FAN, reason="out of date"
    )
    assert [r.id for r in await scores.reports(GUILD)] == [second, first]
    assert [r.created_at for r in await scores.reports(None)] == [NOW, NOW]


async def test_a_servers_schedules_are_grouped_by_their_channel(store: SQLiteStore) -> None:
    for channel, content in ((30, PostKind.QUOTE), (31, PostKind.FACT), (30, PostKind.TRIVIA)):
        await store.add_schedule(
            guild_id=GUILD,
            channel_id=channel,
            content=content,
            local_time=dt.time(9),
            timezone="UTC",
            days=ALL_DAYS,
            role_id=None,
            next_run_at=NOW,
            created_by=FAN,
            created_at=NOW,
            limit=25,
        )
    grouped = await ServerSettings(store).schedules_by_channel(GUILD)
    assert {c: [r.content for r in rs] for c, rs in grouped.items()} == {
        30: [PostKind.QUOTE, PostKind.TRIVIA],
        31: [PostKind.FACT],
    }
    assert await ServerSettings(store).schedules_by_channel(GUILD + 1) == {}
