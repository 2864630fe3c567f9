"""The daily challenge's rules (SPEC §4 /daily): the day in Korea, the day's three questions,
the run of days, the board's order."""

from __future__ import annotations

import datetime as dt
import random

from bot.config import DEFAULT_DATA_DIR
from bot.domain import daily
from bot.domain.daily import BoardRow, Streak
from bot.domain.dataset import load_dataset

SHIPPED = load_dataset(DEFAULT_DATA_DIR).questions


def test_a_day_is_the_calendar_day_in_korea() -> None:
    assert daily.number_of(dt.date(2024, 1, 24)) == 1  # the song's release day is #1
    last_of_first = dt.datetime(2024, 1, 24, 14, 59, 59, tzinfo=dt.UTC)  # 23:59:59 in Seoul
    assert daily.today_number(last_of_first) == 1
    assert daily.today_number(last_of_first + dt.timedelta(seconds=1)) == 2
    assert daily.next_starts_at(last_of_first) == dt.datetime(2024, 1, 24, 15, tzinfo=dt.UTC)
    assert daily.starts_at(2) == dt.datetime(2024, 1, 24, 15, tzinfo=dt.UTC)


def test_a_days_challenge_takes_answers_until_a_little_past_its_midnight() -> None:
    end = daily.starts_at(2)
    assert daily.takes_answers(1, end - dt.timedelta(seconds=1))
    assert daily.takes_answers(1, end + daily.GRACE - dt.timedelta(seconds=1))
    assert not daily.takes_answers(1, end + daily.GRACE)
    assert not daily.takes_answers(3, end)  # tomorrow's has not begun


def test_every_fan_gets_the_same_questions_whatever_order_the_pool_is_in() -> None:
    shuffled = list(SHIPPED)
    random.Random(7).shuffle(shuffled)
    for number in (1, 47, 1049, 5000):
        assert daily.day_questions(number, SHIPPED) == daily.day_questions(number, shuffled)
    assert daily.day_questions(1049, SHIPPED) != daily.day_questions(1050, SHIPPED)
    # The choices' order too.
    question = daily.day_questions(1049, SHIPPED)[0]
    assert daily.day_choices(1049, question) == daily.day_choices(1049, question)
    assert sorted(daily.day_choices(1049, question)) == sorted(question.choices)


def test_no_question_returns_before_the_whole_pool_was_dealt() -> None:
    seen: list[str] = []
    number = 1
    while True:
        ids = [q.id for q in daily.day_questions(number, SHIPPED)]
        if set(ids) & set(seen):
            break
        seen += ids
        number += 1
    # A round leaves out at most the few that fit no day of it (kept apart from the rest).
    assert len(seen) == len(set(seen)) >= len(SHIPPED) - 2


def test_a_day_never_holds_two_questions_kept_apart_and_goes_easiest_first() -> None:
    order = {"easy": 0, "medium": 1, "hard": 2}
    for number in range(1, 800):
        questions = daily.day_questions(number, SHIPPED)
        assert len({q.id for q in questions}) == daily.QUESTIONS_PER_DAY
        for question in questions:
            assert not question.keep_apart & {q.id for q in questions}
        levels = [order[q.difficulty] for q in questions]
        assert levels == sorted(levels)


def test_a_streak_counts_days_in_a_row() -> None:
    streak = Streak().after(10).after(11)
    assert streak == Streak(2, 2, 11)
    assert streak.after(11) == streak and streak.after(9) == streak  # once; older ones neither
    assert streak.after(13) == Streak(1, 2, 13)
    assert streak.as_of(12) == 2 and streak.as_of(13) == 0


def test_the_board_is_most_right_then_fastest_and_equal_results_share_a_rank() -> None:
    rows = [
        BoardRow(1, 2, 3, 20, 1),
        BoardRow(2, 3, 3, 50, 1),
        BoardRow(3, 3, 3, 40, 4),
        BoardRow(4, 2, 3, 20, 2),
    ]
    ranks = [(rank, row.user_id) for rank, row in daily.ranked(rows)]
    assert ranks == [(1, 3), (2, 2), (3, 1), (3, 4)]
