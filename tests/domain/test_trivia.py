from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.clock import FakeClock
from bot.domain.language import Language
from bot.domain.models import Question
from bot.domain.trivia import (
    AnswerOutcome,
    DailyStreak,
    EndReason,
    GameStateError,
    HalfOutcome,
    NotEnoughQuestions,
    Recap,
    TriviaGame,
    asked,
    choice_text,
    explained,
    korean_choices,
    period_key,
    period_keys,
    period_start,
    pick_questions,
    score_for,
    shuffled_choices,
)

START = datetime(2024, 1, 24, 12, 0, tzinfo=UTC)
ALICE, BOB, CAROL = 101, 202, 303


def question(qid: str, difficulty: str = "easy", wrong: int = 3) -> Question:
    return Question(
        id=qid,
        question=f"What is {qid}?",
        answer=f"{qid}-right",
        wrong=tuple(f"{qid}-wrong{n}" for n in range(wrong)),
        difficulty=difficulty,
        explanation="Because.",
        source="src",
        evidence="...",
    )


def new_game(count: int = 3, seconds: int = 20, seed: int = 0) -> TriviaGame:
    return TriviaGame.start(
        game_id=1,
        channel_id=55,
        starter_id=ALICE,
        questions=[question(f"q{n}") for n in range(count)],
        seconds=seconds,
        rng=random.Random(seed),
    )


def right(game: TriviaGame) -> int:
    index = game.current_index
    assert index is not None
    return game.correct_index(index)


def wrong(game: TriviaGame) -> int:
    return (right(game) + 1) % len(game.choices[game.current_index or 0])


# --- scoring ---------------------------------------------------------------------------------


def test_score_for_follows_the_formula() -> None:
    assert score_for(0, 20) == 1000
    assert score_for(10, 20) == 750  # half time
    assert score_for(20, 20) == 500  # the last moment
    assert score_for(5, 20) == 875
    assert score_for(1, 60) == 992  # 991.67 rounds up
    assert score_for(-3, 20) == 1000  # clock skew never gives more than 1000
    assert score_for(25, 20) == 500  # nor less than 500
    with pytest.raises(ValueError):
        score_for(1, 0)


# --- choosing questions ----------------------------------------------------------------------


def test_pick_questions_filters_by_difficulty_without_repeats() -> None:
    pool = [question(f"e{n}", "easy") for n in range(5)] + [
        question(f"h{n}", "hard") for n in range(3)
    ]
    picked = pick_questions(pool + pool[:2], "easy", 5, {}, random.Random(1))
    assert sorted(q.id for q in picked) == [f"e{n}" for n in range(5)]
    mixed = pick_questions(pool, "mixed", 8, {}, random.Random(1))
    assert len({q.id for q in mixed}) == 8
    with pytest.raises(NotEnoughQuestions) as caught:
        pick_questions(pool, "hard", 4, {}, random.Random(1))
    assert caught.value.available == 3
    assert "3" in str(caught.value)
    with pytest.raises(NotEnoughQuestions) as caught:
        pick_questions(pool, "medium", 1, {}, random.Random(1))
    assert caught.value.available == 0
    with pytest.raises(ValueError):
        pick_questions(pool, "impossible", 1, {}, random.Random(1))


def test_pick_questions_prefers_the_least_recently_asked() -> None:
    pool = [question(f"q{n}") for n in range(6)]
    asked = {
        "q0": START - timedelta(days=1),
        "q1": START - timedelta(days=10),
        "q2": START - timedelta(days=5),
        "q3": START,
    }
    for seed in range(10):
        picked = [q.id for q in pick_questions(pool, "mixed", 4, asked, random.Random(seed))]
        assert sorted(picked[:2]) == ["q4", "q5"]  # never asked first
        assert picked[2:] == ["q1", "q2"]  # then the oldest


def test_choices_are_shuffled_per_game() -> None:
    q = question("q")
    orders = {shuffled_choices(q, random.Random(seed)) for seed in range(20)}
    assert len(orders) > 1
    assert all(sorted(order) == sorted(q.choices) for order in orders)


# --- in Korean ---------------------------------------------------------------------------------


def director() -> Question:
    return Question(
        id="t-director",
        question="Who directed the music video?",
        answer="Um Tae-hwa",
        wrong=("Bong Joon-ho", "Park Chan-wook"),
        difficulty="easy",
        explanation="Um Tae-hwa directed it.",
        source="src",
        evidence="...",
        question_ko="뮤직비디오는 누가 연출했나요?",
        answer_ko="엄태화",
        wrong_ko=("봉준호", "박찬욱"),
        explanation_ko="엄태화 감독이 연출했어요.",
    )


def test_a_korean_reader_reads_the_question_and_each_choice_in_korean() -> None:
    q = director()
    game_order = shuffled_choices(q, random.Random(3))  # how a game keeps them: English labels
    by_position = dict(zip(q.choices, korean_choices(q), strict=True))
    assert [choice_text(q, label, Language.KO) for label in game_order] == [
        by_position[label] for label in game_order
    ]
    assert choice_text(q, "Park Chan-wook", Language.KO) == "박찬욱"  # the same position
    assert choice_text(q, "Um Tae-hwa", Language.KO) == "엄태화"
    assert asked(q, Language.KO) == "뮤직비디오는 누가 연출했나요?"
    assert explained(q, Language.KO) == "엄태화 감독이 연출했어요."
    # An English reader keeps the dataset's English.
    assert [choice_text(q, label, Language.EN) for label in game_order] == list(game_order)
    assert (asked(q, Language.EN), explained(q, Language.EN)) == (q.question, q.explanation)


def test_korean_text_the_dataset_lacks_reads_in_english() -> None:
    partial = replace(director(), wrong_ko=("봉준호",), explanation_ko="")
    assert korean_choices(partial) == ("엄태화", "봉준호", "")
    assert choice_text(partial, "Park Chan-wook", Language.KO) == "Park Chan-wook"
    assert explained(partial, Language.KO) == partial.explanation
    none = question("q1")
    assert asked(none, Language.KO) == none.question
    assert [choice_text(none, c, Language.KO) for c in none.choices] == list(none.choices)
    # A label the question does not have (the dataset changed under a game) stays as it is.
    assert choice_text(director(), "Bong Joon-ho ", Language.KO) == "Bong Joon-ho "


# --- answering -------------------------------------------------------------------------------


def test_a_question_view_says_which_question_it_is() -> None:
    clock = FakeClock(START)
    game = new_game(count=3)
    view = game.open_question(clock.now())
    assert (view.number, view.total) == (1, 3)
    assert view.question.id == "q0"
    assert sorted(view.choices) == sorted(view.question.choices)
    assert view.closes_at == START + timedelta(seconds=20)


def test_first_click_locks_second_click_is_already_answered() -> None:
    clock = FakeClock(START)
    game = new_game()
    game.open_question(clock.now())
    clock.advance(3)
    first = game.answer(ALICE, wrong(game), clock.now())
    assert first.outcome is AnswerOutcome.LOCKED
    assert first.choice_index == wrong(game)
    clock.advance(1)
    second = game.answer(ALICE, right(game), clock.now())
    assert second.outcome is AnswerOutcome.ALREADY_ANSWERED
    assert second.choice_index == wrong(game)  # the first answer is kept
    reveal = game.reveal(clock.now())
    assert [(r.user_id, r.correct, r.points) for r in reveal.results] == [(ALICE, False, 0)]


def test_an_answer_withdrawn_because_it_was_not_saved_can_be_given_again() -> None:
    clock = FakeClock(START)
    game = new_game()
    game.open_question(clock.now())
    assert game.answer(ALICE, wrong(game), clock.now()).outcome is AnswerOutcome.LOCKED
    game.withdraw(ALICE, 0)  # the row could not be written
    correct = right(game)
    again = game.answer(ALICE, correct, clock.now())
    assert again.outcome is AnswerOutcome.LOCKED and again.choice_index == correct
    reveal = game.reveal(clock.now())
    assert [(r.user_id, r.correct) for r in reveal.results] == [(ALICE, True)]
    game.withdraw(ALICE, 0)  # after the reveal: nothing changes
    assert game.answers(0)[ALICE][0] == correct


def test_clicks_after_the_deadline_or_the_reveal_are_closed() -> None:
    clock = FakeClock(START)
    game = new_game(seconds=20)
    assert game.answer(ALICE, 0, clock.now()).outcome is AnswerOutcome.CLOSED  # nothing open
    game.open_question(clock.now())
    clock.advance(20)
    assert game.answer(ALICE, right(game), clock.now()).outcome is AnswerOutcome.LOCKED
    clock.advance(0.001)
    late = game.answer(BOB, right(game), clock.now())
    assert late.outcome is AnswerOutcome.CLOSED
    assert late.choice_index is None
    reveal = game.reveal(clock.now())
    assert [r.user_id for r in reveal.results] == [ALICE]
    assert reveal.results[0].points == 500
    after_reveal = game.answer(CAROL, 0, clock.now(), question_index=0)
    assert after_reveal.outcome is AnswerOutcome.CLOSED
    # Alice clicking her old button learns what she had locked
    assert game.answer(ALICE, 0, clock.now(), question_index=0).choice_index == reveal.correct_index
    # a click on the first question's button while the second is open
    game.open_question(clock.now())
    assert game.answer(BOB, 0, clock.now(), question_index=0).outcome is AnswerOutcome.CLOSED
    assert game.answer(BOB, 0, clock.now(), question_index=1).outcome is AnswerOutcome.LOCKED


def test_points_follow_the_time_of_the_answer() -> None:
    clock = FakeClock(START)
    game = new_game(seconds=20)
    game.open_question(clock.now())
    game.answer(ALICE, right(game), clock.now())
    clock.advance(10)
    game.answer(BOB, right(game), clock.now())
    clock.advance(5)
    game.answer(CAROL, wrong(game), clock.now())
    reveal = game.reveal(START + timedelta(seconds=20))
    assert [(r.user_id, r.points) for r in reveal.results] == [
        (ALICE, 1000),
        (BOB, 750),
        (CAROL, 0),
    ]
    assert (reveal.right, reveal.answered) == (2, 3)
    assert reveal.correct_choice == "q0-right"
    assert not reveal.finished


def test_streaks_count_correct_answers_in_a_row() -> None:
    clock = FakeClock(START)
    game = new_game(count=5)
    # Alice: right, right, wrong, right, right -> streak 2 at the end, best 2
    # Bob: right, right, right, missing, right -> best 3, then 1
    plan: dict[int, list[bool | None]] = {
        ALICE: [True, True, False, True, True],
        BOB: [True, True, True, None, True],
    }
    streaks: dict[int, list[int]] = {ALICE: [], BOB: []}
    for index in range(5):
        game.open_question(clock.now())
        for user, answers in plan.items():
            if answers[index] is not None:
                game.answer(user, right(game) if answers[index] else wrong(game), clock.now())
        reveal = game.reveal(clock.now() + timedelta(seconds=20))
        for result in reveal.results:
            streaks[result.user_id].append(result.streak)
        clock.advance(30)
    assert streaks[ALICE] == [1, 2, 0, 1, 2]
    assert streaks[BOB] == [1, 2, 3, 1]  # missing a question broke the streak
    best = {s.user_id: s.best_streak for s in game.standings()}
    assert best == {ALICE: 2, BOB: 3}
    assert game.finished
    assert game.ended is EndReason.COMPLETED


def test_the_recap_names_the_fastest_the_longest_streak_and_the_toughest_question() -> None:
    game = new_game(count=3)
    # (seconds after the question opened, answered right) per player and question
    plan: dict[int, list[tuple[float, bool] | None]] = {
        ALICE: [(4.0, True), (6.5, True), (3.0, False)],
        BOB: [(2.4, True), (9.0, False), None],
        CAROL: [(8.0, False), (1.5, False), (5.0, False)],
    }
    for index in range(3):
        opened = START + timedelta(minutes=index)
        game.open_question(opened)
        for user, answers in plan.items():
            planned = answers[index]
            if planned is not None:
                seconds, is_right = planned
                choice = right(game) if is_right else wrong(game)
                game.answer(user, choice, opened + timedelta(seconds=seconds))
        game.reveal(opened + timedelta(seconds=20))
    recap = game.recap()
    assert recap.fastest == (BOB, 2.4)  # Carol's 1.5 s answer was wrong
    assert recap.longest_streak == (ALICE, 2)
    assert recap.hardest is not None
    question, right_count, answered = recap.hardest
    assert (question.id, right_count, answered) == ("q2", 0, 2)


def test_a_one_question_game_without_a_right_answer_has_no_highlights() -> None:
    game = new_game(count=1)
    game.open_question(START)
    game.answer(ALICE, wrong(game), START + timedelta(seconds=3))
    game.reveal(START + timedelta(seconds=20))
    assert game.recap() == Recap()  # no right answer, no streak, no second question


# --- 50/50 -----------------------------------------------------------------------------------


def medium_game(count: int = 2, seconds: int = 20) -> TriviaGame:
    return TriviaGame.start(
        game_id=2,
        channel_id=55,
        starter_id=ALICE,
        questions=[question(f"m{n}", difficulty="medium") for n in range(count)],
        seconds=seconds,
        rng=random.Random(3),
    )


@pytest.mark.parametrize("seed", range(20))
def test_fifty_fifty_leaves_the_right_choice_and_one_wrong_one(seed: int) -> None:
    game = medium_game()
    game.open_question(START)
    shown = game.fifty_fifty(ALICE, START + timedelta(seconds=1), random.Random(seed))
    assert shown.outcome is HalfOutcome.SHOWN
    assert len(shown.left) == 2 and right(game) in shown.left
    assert list(shown.left) == sorted(shown.left)  # in the order the question shows them


def test_fifty_fifty_once_per_player_only_before_answering_and_in_time() -> None:
    game = medium_game()
    game.open_question(START)
    rng, soon = random.Random(1), START + timedelta(seconds=2)
    assert game.fifty_fifty(ALICE, soon, rng).outcome is HalfOutcome.SHOWN
    assert game.fifty_fifty(ALICE, soon, rng).outcome is HalfOutcome.USED
    game.answer(BOB, wrong(game), soon)
    assert game.fifty_fifty(BOB, soon, rng).outcome is HalfOutcome.ANSWERED
    late = START + timedelta(seconds=21)
    assert game.fifty_fifty(CAROL, late, rng).outcome is HalfOutcome.CLOSED
    assert game.fifty_fifty(CAROL, soon, rng, question_index=1).outcome is HalfOutcome.CLOSED
    easy = new_game()
    easy.open_question(START)
    assert easy.fifty_fifty(ALICE, soon, rng).outcome is HalfOutcome.NOT_OFFERED


def test_a_right_answer_after_fifty_fifty_scores_half() -> None:
    game = medium_game()
    game.open_question(START)
    at = START + timedelta(seconds=5)
    game.fifty_fifty(ALICE, at, random.Random(1))
    game.answer(ALICE, right(game), at)
    game.answer(BOB, right(game), at)
    points = {r.user_id: r.points for r in game.reveal(START + timedelta(seconds=20)).results}
    assert points[BOB] == score_for(5, 20) == 875
    assert points[ALICE] == 438  # half of 875, rounded up


def test_a_restored_game_remembers_who_used_fifty_fifty() -> None:
    game = medium_game()
    game.open_question(START)
    at = START + timedelta(seconds=5)
    game.fifty_fifty(ALICE, at, random.Random(1))
    game.answer(ALICE, right(game), at)
    restored = TriviaGame.restore(
        game_id=2,
        channel_id=55,
        starter_id=ALICE,
        questions=game.questions,
        choices=game.choices,
        seconds=20,
        opened_at=game.opened_at,
        answers=[game.answers(0)],
        revealed=0,
        halved=[{ALICE}],
    )
    assert restored.used_fifty_fifty(ALICE, 0)
    [result] = restored.reveal(START + timedelta(seconds=20)).results
    assert result.points == 438


# --- ending ----------------------------------------------------------------------------------


def play_silently(game: TriviaGame, clock: FakeClock) -> bool:
    game.open_question(clock.now())
    clock.advance(20)
    return game.reveal(clock.now()).ended_silent


def test_two_silent_questions_in_a_row_end_the_game() -> None:
    clock = FakeClock(START)
    game = new_game(count=5)
    assert not play_silently(game, clock)
    assert game.has_next
    assert play_silently(game, clock)
    assert game.finished
    assert not game.has_next
    assert game.ended is EndReason.SILENT
    with pytest.raises(GameStateError):
        game.open_question(clock.now())


def test_silent_answered_silent_does_not_end_the_game() -> None:
    clock = FakeClock(START)
    game = new_game(count=4)
    assert not play_silently(game, clock)
    game.open_question(clock.now())
    game.answer(ALICE, wrong(game), clock.now())
    assert not game.reveal(clock.now() + timedelta(seconds=20)).ended_silent
    assert not play_silently(game, clock)
    assert game.has_next
    assert not game.finished


def test_the_last_reveal_finishes_the_game() -> None:
    clock = FakeClock(START)
    game = new_game(count=1)
    game.open_question(clock.now())
    game.answer(ALICE, right(game), clock.now())
    reveal = game.reveal(clock.now())
    assert reveal.finished
    assert not reveal.ended_silent
    assert not game.has_next
    with pytest.raises(GameStateError):
        game.reveal(clock.now())


def test_stop_keeps_revealed_points_and_drops_the_open_question() -> None:
    clock = FakeClock(START)
    game = new_game(count=3)
    game.open_question(clock.now())
    game.answer(ALICE, right(game), clock.now())
    game.reveal(clock.now())
    game.open_question(clock.now())
    game.answer(BOB, right(game), clock.now())
    game.stop()
    assert game.finished
    assert game.ended is EndReason.STOPPED
    assert game.answer(CAROL, 0, clock.now()).outcome is AnswerOutcome.CLOSED
    assert [(s.user_id, s.points) for s in game.standings()] == [(ALICE, 1000)]


# --- standings and restarts ------------------------------------------------------------------


def test_standings_by_points_then_correct_then_earliest_first_answer() -> None:
    clock = FakeClock(START)
    game = new_game(count=2, seconds=20)
    # Q1: Carol answers first (wrong), Bob right at 10 s (750), Alice right at 10 s (750)
    game.open_question(clock.now())
    game.answer(CAROL, wrong(game), clock.now())
    clock.advance(10)
    game.answer(BOB, right(game), clock.now())
    game.answer(ALICE, right(game), clock.now() + timedelta(milliseconds=1))
    clock.advance(10)
    game.reveal(clock.now())
    # Q2: only Carol, right at 0 s (1000)
    game.open_question(clock.now())
    game.answer(CAROL, right(game), clock.now())
    game.reveal(clock.now() + timedelta(seconds=20))
    standings = game.standings()
    assert [(s.user_id, s.points, s.correct, s.answered) for s in standings] == [
        (CAROL, 1000, 1, 2),
        (BOB, 750, 1, 1),  # tied with Alice on points and correct, but answered first
        (ALICE, 750, 1, 1),
    ]


def test_standings_prefer_more_correct_answers_on_equal_points() -> None:
    clock = FakeClock(START)
    game = new_game(count=2, seconds=20)
    # Q1: Alice right at once (1000), Bob right at the last moment (500)
    opened = clock.now()
    game.open_question(opened)
    game.answer(ALICE, right(game), opened)
    game.answer(BOB, right(game), opened + timedelta(seconds=20))
    game.reveal(opened + timedelta(seconds=20))
    # Q2: Alice wrong, Bob right at the last moment (500): 1000 points each
    opened = clock.advance(30)
    game.open_question(opened)
    game.answer(ALICE, wrong(game), opened)
    game.answer(BOB, right(game), opened + timedelta(seconds=20))
    game.reveal(opened + timedelta(seconds=20))
    standings = game.standings()
    assert [(s.user_id, s.points, s.correct) for s in standings] == [
        (BOB, 1000, 2),
        (ALICE, 1000, 1),
    ]


def played_game(clock: FakeClock) -> TriviaGame:
    """Three questions revealed, the fourth open with one answer."""
    game = new_game(count=5, seconds=20, seed=7)
    script = [
        {ALICE: (True, 2), BOB: (False, 5)},
        {ALICE: (True, 9), BOB: (True, 1), CAROL: (True, 19)},
        {BOB: (True, 4)},
        {CAROL: (False, 3)},
    ]
    for index, answers in enumerate(script):
        opened = clock.now()
        game.open_question(opened)
        for user, (is_right, after) in answers.items():
            choice = right(game) if is_right else wrong(game)
            game.answer(user, choice, opened + timedelta(seconds=after))
        if index < 3:
            clock.advance(20)
            game.reveal(clock.now())
            clock.advance(3)
    return game


def test_restore_replays_to_the_same_totals() -> None:
    clock = FakeClock(START)
    game = played_game(clock)
    restored = TriviaGame.restore(
        game_id=game.game_id,
        channel_id=game.channel_id,
        starter_id=game.starter_id,
        questions=game.questions,
        choices=[list(c) for c in game.choices],
        seconds=game.seconds,
        opened_at=list(game.opened_at),
        answers=[game.answers(k) for k in range(len(game.opened_at))],
        revealed=game.revealed,
    )
    assert restored.standings() == game.standings()
    assert restored.current_index == game.current_index == 3
    assert restored.answers(3) == game.answers(3)
    assert restored.choices == game.choices
    # both carry on identically
    for g in (game, restored):
        assert g.answer(CAROL, 0, clock.now()).outcome is AnswerOutcome.ALREADY_ANSWERED
        g.answer(ALICE, right(g), g.opened_at[3] + timedelta(seconds=10))
    assert restored.reveal(clock.now()) == game.reveal(clock.now())
    assert restored.standings() == game.standings()
    assert restored.silent_in_a_row == game.silent_in_a_row


def test_restore_keeps_a_stopped_or_silent_game_ended() -> None:
    clock = FakeClock(START)
    game = new_game(count=4)
    play_silently(game, clock)
    play_silently(game, clock)
    restored = TriviaGame.restore(
        game_id=1,
        channel_id=55,
        starter_id=ALICE,
        questions=game.questions,
        choices=game.choices,
        seconds=20,
        opened_at=game.opened_at,
        answers=[],
        revealed=2,
    )
    assert restored.ended is EndReason.SILENT
    stopped = TriviaGame.restore(
        game_id=1,
        channel_id=55,
        starter_id=ALICE,
        questions=game.questions,
        choices=game.choices,
        seconds=20,
        opened_at=game.opened_at[:1],
        answers=[],
        revealed=1,
        ended=EndReason.STOPPED,
    )
    assert stopped.ended is EndReason.STOPPED
    assert not stopped.has_next


def test_a_game_refuses_inconsistent_setups() -> None:
    q = question("q")
    with pytest.raises(ValueError):
        TriviaGame(
            game_id=1, channel_id=1, starter_id=1, questions=[q], choices=[("x", "y")], seconds=20
        )
    with pytest.raises(ValueError):
        TriviaGame(
            game_id=1,
            channel_id=1,
            starter_id=1,
            questions=[q, q],
            choices=[q.choices] * 2,
            seconds=20,
        )
    with pytest.raises(ValueError):
        TriviaGame(game_id=1, channel_id=1, starter_id=1, questions=[], choices=[], seconds=20)


def test_leaderboard_weeks_and_months_start_in_the_servers_timezone() -> None:
    # Monday 5 February 2024, 02:00 in Seoul is still Sunday 4 February in UTC.
    at = datetime(2024, 2, 4, 17, 0, tzinfo=UTC)
    assert period_key("week", at) == "week:2024-01-29"
    assert period_key("week", at, "Asia/Seoul") == "week:2024-02-05"
    start = period_start("week", at, "Asia/Seoul")
    assert start is not None and start.isoformat() == "2024-02-05T00:00:00+09:00"
    assert period_key("month", datetime(2024, 1, 31, 16, 0, tzinfo=UTC), "Asia/Seoul") == (
        "month:2024-02-01"
    )
    assert period_keys(at, "Asia/Seoul") == ("all", "week:2024-02-05", "month:2024-02-01")


def test_a_daily_streak_counts_questions_answered_right_in_a_row() -> None:
    streak = DailyStreak()
    streak = streak.after(10, None, correct=True)
    assert (streak.current, streak.best) == (1, 1)
    streak = streak.after(11, 10, correct=True)  # the next daily question
    assert (streak.current, streak.best) == (2, 2)
    assert streak.after(11, 10, correct=True) == streak  # the same reveal, recorded again
    missed = streak.after(13, 12, correct=True)  # question 12 went unanswered
    assert (missed.current, missed.best) == (1, 2)
    wrong = streak.after(12, 11, correct=False)
    assert (wrong.current, wrong.best) == (0, 2)
    assert streak.as_of(11) == 2 and streak.as_of(12) == 0  # lost once a question is missed
