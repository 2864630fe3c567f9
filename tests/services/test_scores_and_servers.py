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
from bot.domain.records import Report, ReportStatus, ScoreRow
from bot.domain.schedule import ALL_DAYS, PostKind
from bot.domain.trivia import GameKind
from bot.services.content import ContentService
from bot.services.scores import NEWS_RELOAD, Scores
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


class CountingStore(SQLiteStore):
    """The store, counting what the news of fans cost it."""

    reads = 0

    async def untold_reporters(self, limit: int = 100_000) -> list[int]:
        self.reads += 1
        return await super().untold_reporters(limit)

    async def tell_outcomes(
        self, reporter_id: int, told_at: dt.datetime, limit: int = 10
    ) -> list[Report]:
        self.reads += 1
        return await super().tell_outcomes(reporter_id, told_at, limit)


async def test_a_reporter_hears_the_outcome_once_and_other_fans_cost_nothing(
    tmp_path: Path,
) -> None:
    store = CountingStore(tmp_path / "counted.sqlite3", FakeClock(NOW))
    await store.open()
    try:
        scores = scores_of(store, tmp_path)
        report = await scores.report(
            guild_id=GUILD, channel_id=20, question_id="t-a", reporter_id=FAN, reason="two answers"
        )
        assert await scores.news(FAN) == []  # open: nothing to tell yet (who has news: read)
        assert store.reads == 1
        assert not scores.may_have_news(FAN) and not scores.may_have_news(OTHER_FAN)
        assert await scores.news(OTHER_FAN) == [] and store.reads == 1  # no read for them

        resolved = await scores.resolve(
            guild_id=GUILD, question_id="t-a", up_to=report, status=ReportStatus.FIXED, moderator=7
        )
        assert [(r.id, r.resolved_by, r.resolved_at) for r in resolved] == [(report, 7, NOW)]
        assert scores.may_have_news(FAN) and not scores.may_have_news(OTHER_FAN)
        told = await scores.news(FAN)
        assert [(r.id, r.status, r.told_at) for r in told] == [(report, ReportStatus.FIXED, NOW)]
        assert await scores.news(FAN) == [] and not scores.may_have_news(FAN)  # told once
        assert await scores.open_reports(GUILD) == []

        # Resolved by another process on the same database: heard of at the next reload.
        again = await scores.report(
            guild_id=GUILD, channel_id=20, question_id="t-b", reporter_id=FAN, reason="out of date"
        )
        elsewhere = Scores(store, scores.content, scores.clock)
        await elsewhere.resolve(
            guild_id=GUILD,
            question_id="t-b",
            up_to=again,
            status=ReportStatus.DISMISSED,
            moderator=7,
        )
        assert await scores.news(FAN) == []
        assert isinstance(scores.clock, FakeClock)
        scores.clock.advance(NEWS_RELOAD)
        assert scores.may_have_news(OTHER_FAN)  # due to read who has news again
        assert [(r.id, r.status) for r in await scores.news(FAN)] == [
            (again, ReportStatus.DISMISSED)
        ]
    finally:
        await store.close()


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
