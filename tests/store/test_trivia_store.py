"""Trivia persistence, the store contract against every backend: answers, reveals, leaderboard
periods, reports."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.domain.records import GameAlreadyRunning, GameRecord, ReportStatus, ScoreRow
from bot.domain.trivia import GameKind, GameState, period_key
from bot.store.base import Store
from tests.store.conftest import Backend

GUILD, CHANNEL = 100, 200
T0 = dt.datetime(2024, 1, 24, 9, 0, tzinfo=dt.UTC)  # a Wednesday
DAY = dt.timedelta(days=1)


async def new_game(
    store: Store,
    channel: int = CHANNEL,
    kind: GameKind = GameKind.GAME,
    at: dt.datetime = T0,
    questions: tuple[str, ...] = ("t-a", "t-b"),
) -> GameRecord:
    return await store.create_game(
        guild_id=GUILD,
        channel_id=channel,
        starter_id=1,
        kind=kind,
        difficulty="mixed",
        seconds=20,
        question_ids=questions,
        choices=[("A", "B", "C")] * len(questions),
        started_at=at,
    )


async def score(
    store: Store, game: GameRecord, index: int, at: dt.datetime, *rows: tuple[int, bool, int]
) -> None:
    await store.record_reveal(
        game.id,
        index,
        [
            ScoreRow(user_id=u, question_id=game.question_ids[index], correct=c, points=p, streak=1)
            for u, c, p in rows
        ],
        at,
    )


async def test_a_game_round_trips(store: Store) -> None:
    game = await new_game(store)
    assert game.state == "running" and game.revealed == 0 and game.opened_at == ()
    await store.open_question(game.id, 0, T0, message_id=555)
    reloaded = await store.game(game.id)
    assert reloaded is not None
    assert reloaded.opened_at == (T0,)
    assert reloaded.current_message == 555
    assert reloaded.choices == (("A", "B", "C"), ("A", "B", "C"))
    assert await store.running_games() == [reloaded]
    assert await store.running_game(CHANNEL) == reloaded


async def test_one_running_game_per_channel(store: Store) -> None:
    first = await new_game(store)
    with pytest.raises(GameAlreadyRunning):
        await new_game(store)
    await new_game(store, channel=CHANNEL + 1)  # another channel is fine
    await new_game(store, kind=GameKind.DAILY)  # daily questions don't block a game
    await store.end_game(first.id, GameState.FINISHED, T0)
    await new_game(store)  # and once it ended, a new one can start


async def test_one_answer_per_player_per_question_even_when_clicks_race(store: Store) -> None:
    game = await new_game(store)
    await store.open_question(game.id, 0, T0, 1)
    results = await asyncio.gather(
        *(store.record_answer(game.id, 0, 7, c % 3, T0) for c in range(10))
    )
    assert results.count(True) == 1
    stored = await store.game_answers(game.id)
    assert len(stored) == 1 and list(stored[0]) == [7]


async def test_a_fifty_fifty_is_kept_once_per_player_per_question_and_counted(
    store: Store,
) -> None:
    game = await new_game(store)
    await store.open_question(game.id, 0, T0, 1)
    used = await asyncio.gather(*(store.record_half(game.id, 0, 7, T0) for _ in range(5)))
    assert used.count(True) == 1  # two clicks racing: one 50/50
    await store.open_question(game.id, 1, T0, 2)
    assert await store.record_half(game.id, 1, 8, T0)
    assert await store.game_halves(game.id) == [{7}, {8}]  # what a restart replays
    assert (await store.player_stats(GUILD, 7)).fifty_fifties == 1
    assert (await store.player_stats(GUILD, 9)).fifty_fifties == 0


async def test_many_players_answers_are_all_kept(store: Store) -> None:
    game = await new_game(store)
    await store.open_question(game.id, 0, T0, 1)
    ok = await asyncio.gather(
        *(
            store.record_answer(game.id, 0, user, user % 3, T0 + dt.timedelta(milliseconds=user))
            for user in range(200)
        )
    )
    assert all(ok)
    assert len((await store.game_answers(game.id))[0]) == 200


async def test_a_reveal_is_scored_once(store: Store) -> None:
    game = await new_game(store)
    await score(store, game, 0, T0, (1, True, 900), (2, False, 0))
    await score(store, game, 0, T0, (1, True, 900), (2, False, 0))  # e.g. recovery repeats it
    rows = await store.leaderboard(GUILD, "all")
    assert [(r.user_id, r.points, r.correct, r.answered) for r in rows] == [(1, 900, 1, 1)]
    stats = await store.player_stats(GUILD, 2)  # a player without points is not ranked
    assert (stats.answered, stats.correct, stats.rank) == (1, 0, None)
    assert (await store.game(game.id)).revealed == 1  # type: ignore[union-attr]


async def test_leaderboard_periods(store: Store) -> None:
    game = await new_game(store, questions=("t-a", "t-b", "t-c"))
    last_month = dt.datetime(2023, 12, 30, 12, tzinfo=dt.UTC)
    sunday = dt.datetime(2024, 1, 21, 23, 59, tzinfo=dt.UTC)  # the week before T0's week
    monday = dt.datetime(2024, 1, 22, 0, 0, tzinfo=dt.UTC)  # T0's week starts here
    await score(store, game, 0, last_month, (1, True, 1000))
    await score(store, game, 1, sunday, (2, True, 800))
    await score(store, game, 2, monday, (3, True, 600), (1, True, 500))

    def table(rows: list) -> list[tuple[int, int]]:  # type: ignore[type-arg]
        return [(r.user_id, r.points) for r in rows]

    assert period_key("week", T0) == "week:2024-01-22"  # T0's Monday
    assert period_key("month", T0) == "month:2024-01-01"
    assert table(await store.leaderboard(GUILD, "all")) == [(1, 1500), (2, 800), (3, 600)]
    assert table(await store.leaderboard(GUILD, period_key("month", T0))) == [
        (2, 800),
        (3, 600),
        (1, 500),
    ]
    assert table(await store.leaderboard(GUILD, period_key("week", T0))) == [(3, 600), (1, 500)]
    assert table(await store.leaderboard(GUILD, period_key("week", sunday))) == [(2, 800)]
    assert table(await store.leaderboard(GUILD, period_key("month", last_month))) == [(1, 1000)]
    assert await store.leaderboard(GUILD + 1, "all") == []  # another server sees nothing


async def test_top_ten_and_the_callers_own_rank(store: Store) -> None:
    game = await new_game(store)
    await score(store, game, 0, T0, *((u, True, 1000 - u) for u in range(1, 13)))
    top = await store.leaderboard(GUILD, "all", limit=10)
    assert [r.rank for r in top] == list(range(1, 11))
    twelfth = await store.leaderboard_row(GUILD, 12, "all")
    assert twelfth is not None and twelfth.rank == 12 and twelfth.points == 988
    assert await store.leaderboard_row(GUILD, 99, "all") is None


async def test_player_stats(store: Store) -> None:
    one = await new_game(store)
    await store.end_game(one.id, GameState.FINISHED, T0)
    two = await new_game(store)
    await store.record_reveal(one.id, 0, [ScoreRow(5, "t-a", True, 900, 1)], T0)
    await store.record_reveal(one.id, 1, [ScoreRow(5, "t-b", True, 700, 2)], T0)
    await store.record_reveal(
        two.id, 0, [ScoreRow(5, "t-a", False, 0, 0), ScoreRow(6, "t-a", True, 1000, 1)], T0
    )
    stats = await store.player_stats(GUILD, 5)
    assert (stats.points, stats.games, stats.answered, stats.correct, stats.best_streak) == (
        1600,
        2,
        3,
        2,
        2,
    )
    assert stats.rank == 1 and round(stats.accuracy, 2) == 0.67
    nobody = await store.player_stats(GUILD, 404)
    assert (nobody.points, nobody.games, nobody.rank) == (0, 0, None)


async def test_last_asked_is_updated_by_each_game(store: Store) -> None:
    await new_game(store, questions=("t-a", "t-b"))
    later = T0 + dt.timedelta(days=1)
    await new_game(store, channel=CHANNEL + 1, at=later, questions=("t-b",))
    assert await store.last_asked(GUILD) == {"t-a": T0, "t-b": later}


async def test_reports_per_server_and_for_operators(store: Store) -> None:
    await store.add_report(
        guild_id=1,
        channel_id=2,
        question_id="t-a",
        reporter_id=3,
        reason="Two answers are right",
        created_at=T0,
    )
    await store.add_report(
        guild_id=9, channel_id=2, question_id="t-b", reporter_id=4, reason="Typo", created_at=T0
    )
    assert [r.question_id for r in await store.reports(1)] == ["t-a"]
    assert [r.question_id for r in await store.reports(None)] == ["t-b", "t-a"]


async def add_report(store: Store, question: str, reporter: int, guild: int = GUILD) -> int:
    return await store.add_report(
        guild_id=guild,
        channel_id=CHANNEL,
        question_id=question,
        reporter_id=reporter,
        reason=f"{reporter} thinks {question} is wrong",
        created_at=T0,
    )


async def test_a_reports_outcome_is_recorded_and_told_to_its_reporter_once(store: Store) -> None:
    first = await add_report(store, "t-a", reporter=7)
    second = await add_report(store, "t-a", reporter=8)
    other = await add_report(store, "t-b", reporter=7)
    elsewhere = await add_report(store, "t-a", reporter=7, guild=GUILD + 1)
    assert [r.id for r in await store.open_reports(GUILD)] == [first, second, other]
    assert all(
        r.status == ReportStatus.OPEN and r.resolved_at is None for r in await store.reports(None)
    )
    assert await store.tell_outcomes(7, T0) == []  # nothing resolved: nothing to tell
    assert await store.untold_reporters() == []

    later = T0 + DAY
    resolved = await store.resolve_reports(
        guild_id=GUILD,
        question_id="t-a",
        up_to=second,
        status=ReportStatus.FIXED,
        resolved_by=99,
        resolved_at=later,
    )
    assert [(r.id, r.status, r.resolved_by, r.resolved_at) for r in resolved] == [
        (first, ReportStatus.FIXED, 99, later),
        (second, ReportStatus.FIXED, 99, later),
    ]
    # The other question and the other server's report of the same question stay open.
    assert [r.id for r in await store.open_reports(GUILD)] == [other]
    assert [r.id for r in await store.open_reports(GUILD + 1)] == [elsewhere]
    again = await store.resolve_reports(
        guild_id=GUILD,
        question_id="t-a",
        up_to=second,
        status=ReportStatus.DISMISSED,
        resolved_by=98,
        resolved_at=later,
    )
    assert again == []  # another moderator was first: the outcome stays
    kept = {r.id: r for r in await store.reports(None)}
    assert kept[first].status == ReportStatus.FIXED and kept[first].resolved_by == 99

    assert sorted(await store.untold_reporters()) == [7, 8]
    told_at = later + DAY
    told = await store.tell_outcomes(7, told_at)
    assert [(r.id, r.status, r.told_at) for r in told] == [(first, ReportStatus.FIXED, told_at)]
    assert await store.tell_outcomes(7, told_at) == []  # told once
    assert [r.id for r in await store.tell_outcomes(8, told_at)] == [second]
    assert await store.untold_reporters() == []
    assert (await store.reports(None))[-1].told_at == told_at  # `first`, as kept


async def test_a_report_made_after_the_moderator_looked_stays_open(store: Store) -> None:
    seen = await add_report(store, "t-a", reporter=7)
    later = await add_report(store, "t-a", reporter=8)
    resolved = await store.resolve_reports(
        guild_id=GUILD,
        question_id="t-a",
        up_to=seen,
        status=ReportStatus.DISMISSED,
        resolved_by=99,
        resolved_at=T0,
    )
    assert [r.id for r in resolved] == [seen]
    assert [r.id for r in await store.open_reports(GUILD)] == [later]


async def test_an_outcome_is_told_once_when_two_interactions_ask_at_once(
    store: Store, backend: Backend
) -> None:
    report = await add_report(store, "t-a", reporter=7)
    await store.resolve_reports(
        guild_id=GUILD,
        question_id="t-a",
        up_to=report,
        status=ReportStatus.FIXED,
        resolved_by=99,
        resolved_at=T0,
    )
    other = await backend.open()  # another process on the same database
    try:
        told = await asyncio.gather(*(s.tell_outcomes(7, T0 + DAY) for s in (store, other) * 5))
    finally:
        await other.close()
    assert sorted(r.id for batch in told for r in batch) == [report]


async def test_period_totals_add_up_to_the_all_time_totals(store: Store) -> None:
    game = await new_game(store, questions=("t-a", "t-b", "t-c"))
    days = [T0, T0 + dt.timedelta(days=40), T0 + dt.timedelta(days=41)]
    await score(store, game, 0, days[0], (1, True, 700), (2, True, 900))
    await score(store, game, 1, days[1], (1, True, 650), (2, False, 0))
    await score(store, game, 2, days[2], (3, True, 1000))
    all_time = await store.leaderboard(GUILD, "all")
    assert [(r.user_id, r.points) for r in all_time] == [(1, 1350), (3, 1000), (2, 900)]
    months: dict[int, int] = {}
    for key in {period_key("month", d) for d in days}:
        for r in await store.leaderboard(GUILD, key):
            months[r.user_id] = months.get(r.user_id, 0) + r.points
    assert months == {r.user_id: r.points for r in all_time}
    third = await store.leaderboard_row(GUILD, 2, "all")
    assert third is not None and third.rank == 3
    # No points in March: not ranked that month.
    assert await store.leaderboard_row(GUILD, 2, period_key("month", days[1])) is None


async def test_daily_reveals_at_the_same_moment_each_move_the_streak_on(
    store: Store, backend: Backend
) -> None:
    """A daily question revealed (the fan right: a streak of 1), then two more revealed at the
    same moment, from two connections (two processes): the fan is right on both, and the
    streak counts all three; the server's latest daily is whichever was recorded last."""
    fan = 5

    async def daily(at: dt.datetime) -> GameRecord:
        game = await new_game(store, kind=GameKind.DAILY, questions=("t-a",), at=at)
        await store.open_question(game.id, 0, at, message_id=None)
        return game

    first = await daily(T0)
    await store.record_reveal(first.id, 0, [ScoreRow(fan, "t-a", True, 900, 1)], T0, daily=True)
    assert await store.latest_daily(GUILD) == first.id
    one, two = await daily(T0 + DAY), await daily(T0 + DAY)
    other = await backend.open()
    try:
        await asyncio.gather(
            *(
                s.record_reveal(g.id, 0, [ScoreRow(fan, "t-a", True, 900, 1)], T0 + DAY, daily=True)
                for s, g in ((store, one), (other, two))
            )
        )
    finally:
        await other.close()
    streak = (await store.daily_streaks(GUILD, [fan]))[fan]
    assert (streak.current, streak.best) == (3, 3)
    assert await store.latest_daily(GUILD) == streak.last_game_id
    assert streak.last_game_id in (one.id, two.id)
    stats = await store.player_stats(GUILD, fan)
    assert (stats.daily_streak, stats.best_daily_streak) == (3, 3)
