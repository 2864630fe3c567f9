"""Questions kept apart (`Question.keep_apart`: one gives the other's answer away) are never
drawn into one game, and a question kept apart from one asked lately comes last."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.dataset import load_dataset
from bot.domain.models import Question
from bot.domain.trivia import NotEnoughQuestions, pick_questions, recently_asked
from tests.dataset_factory import VALID, write_dataset

NOW = datetime(2024, 9, 22, 9, 0, tzinfo=UTC)
SEEDS = range(60)


def question(qid: str, difficulty: str = "easy", apart: tuple[str, ...] = ()) -> Question:
    return Question(
        id=qid,
        question=f"What is {qid}?",
        answer=f"{qid}-right",
        wrong=(f"{qid}-wrong",),
        difficulty=difficulty,
        explanation="Because.",
        source="src",
        evidence="...",
        keep_apart=frozenset(apart),
    )


def pool_of(*ids: str, apart: tuple[tuple[str, str], ...] = ()) -> list[Question]:
    """Questions `ids`, each pair of `apart` kept apart both ways (as the loader makes it)."""
    partners: dict[str, set[str]] = {qid: set() for qid in ids}
    for a, b in apart:
        partners[a].add(b)
        partners[b].add(a)
    return [question(qid, apart=tuple(sorted(partners[qid]))) for qid in ids]


def ids(picked: list[Question]) -> set[str]:
    return {q.id for q in picked}


def test_a_game_never_holds_two_questions_kept_apart() -> None:
    pool = pool_of("a", "b", "c", "d", "e", "f", apart=(("a", "b"), ("c", "d")))
    for seed in SEEDS:
        picked = ids(pick_questions(pool, "mixed", 4, {}, random.Random(seed)))
        assert len(picked) == 4
        assert not {"a", "b"} <= picked, seed
        assert not {"c", "d"} <= picked, seed


def test_without_keep_apart_the_same_draw_would_hold_both() -> None:
    """The check above is not luck: the same seeds draw both when they are not kept apart."""
    kept = pool_of("a", "b", "c", apart=(("a", "b"),))
    loose = pool_of("a", "b", "c")
    together = [
        s
        for s in SEEDS
        if ids(pick_questions(loose, "mixed", 2, {}, random.Random(s))) == {"a", "b"}
    ]
    assert together, "no seed draws a and b together: the test proves nothing"
    for seed in together:
        picked = ids(pick_questions(kept, "mixed", 2, {}, random.Random(seed)))
        assert picked in ({"a", "c"}, {"b", "c"}), seed


def test_nothing_kept_apart_leaves_the_draw_as_it_was() -> None:
    """Questions kept apart only from questions outside the pool draw exactly as before."""
    asked = {"q1": NOW - timedelta(days=9), "q2": NOW - timedelta(days=30)}
    plain = [question(f"q{n}") for n in range(6)]
    elsewhere = [replace(q, keep_apart=frozenset({"not-in-pool"})) for q in plain]
    for seed in SEEDS:
        a = pick_questions(plain, "mixed", 4, asked, random.Random(seed))
        b = pick_questions(elsewhere, "mixed", 4, asked, random.Random(seed))
        assert [q.id for q in a] == [q.id for q in b]


def test_the_least_recently_asked_still_come_first() -> None:
    pool = pool_of("a", "b", "old", "new", apart=(("a", "b"),))
    asked = {"old": NOW - timedelta(days=40), "new": NOW - timedelta(days=3)}
    for seed in SEEDS:
        picked = [q.id for q in pick_questions(pool, "mixed", 2, asked, random.Random(seed))]
        # a and b were never asked, but only one of them may come; then the oldest
        assert picked[0] in ("a", "b") and picked[1] == "old", seed


def test_a_question_kept_apart_from_several_gives_way_when_it_must() -> None:
    """Four questions fit when the one kept apart from three others stays out, even when it
    was asked least recently: the largest game is found, not the first greedy one."""
    pool = pool_of("hub", "x", "y", "z", "w", apart=(("hub", "x"), ("hub", "y"), ("hub", "z")))
    asked = {qid: NOW - timedelta(days=10 * n) for n, qid in enumerate(("w", "z", "y", "x"), 1)}
    for seed in SEEDS:
        picked = ids(pick_questions(pool, "mixed", 4, asked, random.Random(seed)))
        assert picked == {"x", "y", "z", "w"}, seed
    # with room for the hub, it comes first: it was never asked
    assert "hub" in ids(pick_questions(pool, "mixed", 2, asked, random.Random(0)))


def test_too_few_questions_that_can_go_together() -> None:
    pool = pool_of(
        "hub", "x", "y", "z", apart=(("hub", "x"), ("hub", "y"), ("hub", "z"), ("x", "y"))
    )
    assert len(pick_questions(pool, "mixed", 2, {}, random.Random(1))) == 2
    with pytest.raises(NotEnoughQuestions) as caught:
        pick_questions(pool, "mixed", 3, {}, random.Random(1))
    assert caught.value.available == 2  # x or y, with z


def test_only_the_chosen_difficulty_counts() -> None:
    easy = question("easy-one", "easy", apart=("hard-one",))
    hard = question("hard-one", "hard", apart=("easy-one",))
    other = question("easy-two", "easy")
    picked = pick_questions([easy, hard, other], "easy", 2, {}, random.Random(3))
    assert ids(picked) == {"easy-one", "easy-two"}


# --- questions asked lately: a day's questions, the daily question of the day before ---------


def test_recently_asked_is_the_day_up_to_the_latest_question() -> None:
    asked = {
        "latest": NOW,
        "this-morning": NOW - timedelta(hours=5),
        "yesterday": NOW - timedelta(hours=24),
        "before": NOW - timedelta(hours=25),
    }
    assert recently_asked(asked) == {"latest", "this-morning", "yesterday"}
    assert recently_asked({}) == frozenset()


def test_the_daily_question_is_not_kept_apart_from_the_day_before() -> None:
    """Yesterday's daily question was "told"; today's is never the one it gives away (or that
    gives it away), though that one was never asked and so would come first."""
    pool = pool_of("told", "gives-away", "q1", "q2", apart=(("told", "gives-away"),))
    asked = {
        "told": NOW - timedelta(days=1),
        "q1": NOW - timedelta(days=20),
        "q2": NOW - timedelta(days=10),
    }
    for seed in SEEDS:
        (picked,) = pick_questions(pool, "mixed", 1, asked, random.Random(seed))
        assert picked.id == "q1", seed


def test_a_game_after_another_the_same_day_keeps_apart_from_it() -> None:
    pool = pool_of("a", "b", "c", "d", "e", apart=(("a", "d"), ("b", "e")))
    earlier_game = {"a": NOW - timedelta(hours=2), "b": NOW - timedelta(hours=2)}
    for seed in SEEDS:
        picked = ids(pick_questions(pool, "mixed", 1, earlier_game, random.Random(seed)))
        assert picked == {"c"}, seed


def test_questions_asked_long_ago_hold_nothing_back() -> None:
    pool = pool_of("told", "gives-away", "q1", apart=(("told", "gives-away"),))
    asked = {"told": NOW - timedelta(days=30), "q1": NOW - timedelta(days=2)}
    for seed in SEEDS:
        (picked,) = pick_questions(pool, "mixed", 1, asked, random.Random(seed))
        assert picked.id == "gives-away", seed  # never asked; "told" is a month old


def test_a_question_kept_apart_from_a_recent_one_comes_when_nothing_else_is_left() -> None:
    pool = pool_of("told", "gives-away", apart=(("told", "gives-away"),))
    (picked,) = pick_questions(pool[1:], "mixed", 1, {"told": NOW}, random.Random(0))
    assert picked.id == "gives-away"


# --- with the loader: `keep_apart` written on one side only -----------------------------------

THIRD = """
[[question]]
id = "t-director-film"
question = "Which film did the video's director make before it?"
answer = "Concrete Utopia"
wrong = ["Parasite", "Decision to Leave", "Oldboy"]
difficulty = "easy"
topic = "music-video"
keep_apart = ["t-director"]
explanation = "Um Tae-hwa made Concrete Utopia."
source = "01-example"
evidence = "directed by Um Tae-hwa"
question_ko = "뮤직비디오 감독이 그전에 만든 영화는 무엇일까요?"
answer_ko = "콘크리트 유토피아"
wrong_ko = ["기생충", "헤어질 결심", "올드보이"]
explanation_ko = "엄태화 감독이 '콘크리트 유토피아'를 만들었어요."
evidence_ko = "엄태화 감독 연출"
"""


def test_a_pair_kept_apart_on_one_side_is_kept_apart_in_every_draw(tmp_path: Path) -> None:
    data = load_dataset(write_dataset(tmp_path, trivia=VALID["trivia.toml"] + THIRD))
    by_id = {q.id: q for q in data.questions}
    assert "t-director-film" in by_id["t-director"].keep_apart  # made symmetric
    for seed in SEEDS:
        picked = ids(pick_questions(data.questions, "mixed", 2, {}, random.Random(seed)))
        assert picked != {"t-director", "t-director-film"}, seed
        assert "t-true" in picked, seed
