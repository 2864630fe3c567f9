"""The daily challenge's persistence, the store contract against every backend: a day pinned
once, one attempt a fan a day, answers in order and never twice, the run of days, the board."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot.domain.daily import BoardRow, StreakRow
from bot.store.base import Store
from tests.store.conftest import Backend

T0 = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)  # 10:00 in Korea, challenge #1049
DAY = 1049
GUILD, OTHER_GUILD = 100, 101
IDS = ("t-a", "t-b", "t-c")
CHOICES = (("A", "B"), ("C", "D", "E"), ("F", "G"))


async def played(
    store: Store, user: int, day: int, marks: tuple[bool, bool, bool], seconds: int
) -> None:
    """A fan plays day `day` to the end in `seconds`, answering right where `marks` says."""
    start = T0 + dt.timedelta(days=day - DAY)
    await store.pin_challenge_day(day, IDS, CHOICES, start)
    await store.start_challenge(user, day, start, GUILD)
    for index, right in enumerate(marks):
        at = start + dt.timedelta(seconds=seconds * (index + 1) / 3)
        recorded, _ = await store.answer_challenge(user, day, index, 0, right, at)
        assert recorded


async def test_a_day_is_pinned_once(store: Store) -> None:
    assert await store.challenge_day(DAY) is None
    first = await store.pin_challenge_day(DAY, IDS, CHOICES, T0)
    second = await store.pin_challenge_day(DAY, ("t-x", "t-y", "t-z"), CHOICES, T0)
    assert first == second == await store.challenge_day(DAY)
    assert first.question_ids == IDS and first.choices == CHOICES


async def test_an_attempt_takes_each_answer_once_in_order_and_finishes_with_the_third(
    store: Store,
) -> None:
    await store.pin_challenge_day(DAY, IDS, CHOICES, T0)
    attempt = await store.start_challenge(7, DAY, T0, None)
    again = await store.start_challenge(7, DAY, T0 + dt.timedelta(minutes=5), None)
    assert attempt.started_at == again.started_at == T0 and attempt.next_index == 0

    # The second question before the first: not the one the fan is on.
    skipped, now = await store.answer_challenge(7, DAY, 1, 0, True, T0)
    assert not skipped and now is not None and now.answers == ()
    recorded, now = await store.answer_challenge(7, DAY, 0, 1, True, T0 + dt.timedelta(seconds=4))
    assert recorded and now is not None and now.next_index == 1
    twice, now = await store.answer_challenge(7, DAY, 0, 0, False, T0 + dt.timedelta(seconds=5))
    assert not twice and now is not None and [a.choice for a in now.answers] == [1]
    await store.answer_challenge(7, DAY, 1, 2, False, T0 + dt.timedelta(seconds=9))
    recorded, done = await store.answer_challenge(7, DAY, 2, 0, True, T0 + dt.timedelta(seconds=31))
    assert recorded and done is not None and done.result is not None
    assert done.result.marks == (True, False, True) and done.result.seconds == 31
    assert done.result.streak == 1 and done.next_index is None

    read = await store.challenge_attempt(7, DAY)
    assert read == done
    late, _ = await store.answer_challenge(7, DAY, 2, 1, False, T0 + dt.timedelta(seconds=40))
    assert not late
    assert await store.challenge_attempt(8, DAY) is None


async def test_two_devices_answering_at_once_count_once(backend: Backend, store: Store) -> None:
    other = await backend.open()  # another process on the same database
    try:
        await store.pin_challenge_day(DAY, IDS, CHOICES, T0)
        await store.start_challenge(7, DAY, T0, None)
        for index in range(3):
            results = await asyncio.gather(
                store.answer_challenge(7, DAY, index, 0, True, T0 + dt.timedelta(seconds=index)),
                other.answer_challenge(7, DAY, index, 1, False, T0 + dt.timedelta(seconds=index)),
            )
            assert sorted(recorded for recorded, _ in results) == [False, True]
        attempt = await store.challenge_attempt(7, DAY)
        assert attempt is not None and attempt.result is not None
        assert len(attempt.answers) == 3 and attempt.result.streak == 1
        rows = await backend.execute(
            "SELECT current, best FROM challenge_streaks WHERE user_id = 7"
        )
        assert rows == [(1, 1)]
    finally:
        await other.close()


async def test_days_in_a_row_make_a_streak_and_a_missed_day_ends_it(store: Store) -> None:
    for day in (DAY, DAY + 1, DAY + 2):
        await played(store, 7, day, (True, True, False), 20)
    third = await store.challenge_attempt(7, DAY + 2)
    assert third is not None and third.result is not None and third.result.streak == 3
    assert await store.challenge_streaks(GUILD, DAY + 3) == [StreakRow(7, 3)]
    assert await store.challenge_streaks(GUILD, DAY + 4) == []  # a day missed: gone
    await played(store, 7, DAY + 4, (False, False, False), 20)
    fifth = await store.challenge_attempt(7, DAY + 4)
    assert fifth is not None and fifth.result is not None and fifth.result.streak == 1


async def test_the_board_shows_the_servers_players_best_first(store: Store) -> None:
    await played(store, 1, DAY, (True, False, True), 30)
    await played(store, 2, DAY, (True, True, True), 50)
    await played(store, 3, DAY, (True, True, True), 40)
    await store.pin_challenge_day(DAY, IDS, CHOICES, T0)
    await store.start_challenge(4, DAY, T0, GUILD)  # started, not finished: not on the board
    await store.start_challenge(5, DAY, T0, OTHER_GUILD)  # another server's
    rows, players = await store.challenge_board(GUILD, DAY)
    assert [row.user_id for row in rows] == [3, 2, 1] and players == 3
    assert rows[0] == BoardRow(3, 3, 3, 40, 1)
    top, players = await store.challenge_board(GUILD, DAY, limit=1)
    assert [row.user_id for row in top] == [3] and players == 3
    assert await store.challenge_board(OTHER_GUILD, DAY) == ([], 0)


async def test_a_result_is_shared_once_per_server_and_puts_the_fan_on_its_board(
    store: Store,
) -> None:
    await store.pin_challenge_day(DAY, IDS, CHOICES, T0)
    await store.start_challenge(9, DAY, T0, None)  # played in a DM
    for index in range(3):
        await store.answer_challenge(9, DAY, index, 0, True, T0 + dt.timedelta(seconds=index + 1))
    assert await store.challenge_board(GUILD, DAY) == ([], 0)
    assert await store.share_challenge(GUILD, DAY, 9, T0)
    assert not await store.share_challenge(GUILD, DAY, 9, T0)
    assert await store.share_challenge(OTHER_GUILD, DAY, 9, T0)
    rows, _ = await store.challenge_board(GUILD, DAY)
    assert [row.user_id for row in rows] == [9]
