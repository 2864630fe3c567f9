"""The loader reports every problem with its file, item id and field (SPEC §5, exit code 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.dataset import DatasetError, Problem, load_dataset
from tests.dataset_factory import VALID, write_dataset


def problems_for(tmp_path: Path, **overrides: str) -> list[Problem]:
    with pytest.raises(DatasetError) as caught:
        load_dataset(write_dataset(tmp_path, **overrides))
    return caught.value.problems


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def where(problem: Problem) -> tuple[str, str, str]:
    return problem.file, problem.item, problem.field


def test_the_valid_dataset_loads_with_its_counts(tmp_path: Path) -> None:
    dataset = load_dataset(write_dataset(tmp_path))
    assert dataset.counts() == {
        "quotes": 3,
        "facts": 2,
        "questions": 2,
        "events": 2,
        "sources": 2,
        "people": 2,
    }
    assert dataset.sources["02-untitled"].published is None
    assert dataset.quote("q-jam") is not None and dataset.fact("q-jam") is None
    assert len(dataset.version) == 12


def test_unknown_key(tmp_path: Path) -> None:
    facts = VALID["facts.toml"].replace('topic = "song"', 'topic = "song"\ncolour = "red"')
    assert where(only(problems_for(tmp_path, facts=facts))) == ("facts.toml", "f-one", "colour")


def test_missing_field(tmp_path: Path) -> None:
    facts = VALID["facts.toml"].replace('evidence = "No. 1"\n', "")
    problem = only(problems_for(tmp_path, facts=facts))
    assert where(problem) == ("facts.toml", "f-two", "evidence")
    assert "missing" in problem.message


def test_wrong_type(tmp_path: Path) -> None:
    trivia = VALID["trivia.toml"].replace('wrong = ["True"]', 'wrong = "True"')
    assert where(only(problems_for(tmp_path, trivia=trivia))) == ("trivia.toml", "t-true", "wrong")


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    trivia = VALID["trivia.toml"].replace('id = "t-true"', 'id = "f-one"')
    problem = only(problems_for(tmp_path, trivia=trivia))
    assert where(problem) == ("trivia.toml", "f-one", "id")
    assert "facts.toml" in problem.message


def test_dangling_source_reference(tmp_path: Path) -> None:
    timeline = VALID["timeline.toml"].replace(
        'source = "01-example"\nevidence = "December 11"',
        'source = "99-missing"\nevidence = "December 11"',
    )
    problem = only(problems_for(tmp_path, timeline=timeline))
    assert where(problem) == ("timeline.toml", "e-enlist", "source")
    assert "99-missing" in problem.message


def test_unknown_speaker(tmp_path: Path) -> None:
    quotes = VALID["quotes.toml"].replace('speaker = "v"', 'speaker = "suga"')
    assert where(only(problems_for(tmp_path, quotes=quotes))) == ("quotes.toml", "q-jam", "speaker")


def test_quote_not_contained_in_its_evidence(tmp_path: Path) -> None:
    quotes = VALID["quotes.toml"].replace('It was totally my jam."', 'It was totally my jam!"')
    problem = only(problems_for(tmp_path, quotes=quotes))
    assert where(problem) == ("quotes.toml", "q-jam", "text")
    assert "evidence" in problem.message


def test_evidence_too_long(tmp_path: Path) -> None:
    facts = VALID["facts.toml"].replace('evidence = "a ballad"', f'evidence = "{"x" * 401}"')
    problem = only(problems_for(tmp_path, facts=facts))
    assert where(problem) == ("facts.toml", "f-one", "evidence")
    assert "400" in problem.message


def test_choice_longer_than_a_button_label(tmp_path: Path) -> None:
    trivia = VALID["trivia.toml"].replace('"Na Hong-jin"', f'"{"N" * 81}"')
    assert where(only(problems_for(tmp_path, trivia=trivia))) == (
        "trivia.toml",
        "t-director",
        "wrong",
    )


def test_wrong_choices_repeating_or_containing_the_answer(tmp_path: Path) -> None:
    trivia = (
        VALID["trivia.toml"]
        .replace('"Park Chan-wook"', '"bong joon-ho"')
        .replace('wrong = ["True"]', 'wrong = ["false"]')
    )
    problems = problems_for(tmp_path, trivia=trivia)
    assert sorted(where(p) for p in problems) == [
        ("trivia.toml", "t-director", "wrong"),
        ("trivia.toml", "t-true", "wrong"),
    ]


def test_impossible_date_is_reported_for_its_file(tmp_path: Path) -> None:
    timeline = VALID["timeline.toml"].replace("date = 2023-12-11", "date = 2023-02-30")
    problem = only(problems_for(tmp_path, timeline=timeline))
    assert (problem.file, problem.item) == ("timeline.toml", "-")
    assert "TOML" in problem.message


def test_bad_time_and_timezone(tmp_path: Path) -> None:
    timeline = (
        VALID["timeline.toml"]
        .replace('time = "00:00"', 'time = "24:10"')
        .replace('"Asia/Seoul"', '"Asia/Sowul"')
    )
    problems = problems_for(tmp_path, timeline=timeline)
    assert sorted(where(p) for p in problems) == [
        ("timeline.toml", "e-mv", "time"),
        ("timeline.toml", "e-mv", "timezone"),
    ]


def test_bad_topic_and_difficulty(tmp_path: Path) -> None:
    facts = VALID["facts.toml"].replace('topic = "charts"', 'topic = "gossip"')
    trivia = VALID["trivia.toml"].replace('difficulty = "easy"', 'difficulty = "extreme"')
    problems = problems_for(tmp_path, facts=facts, trivia=trivia)
    assert sorted(where(p) for p in problems) == [
        ("facts.toml", "f-two", "topic"),
        ("trivia.toml", "t-director", "difficulty"),
    ]


def test_non_english_quote_needs_a_gloss(tmp_path: Path) -> None:
    quotes = VALID["quotes.toml"].replace('gloss = "Isn\'t this a one-of-a-kind casting?"\n', "")
    assert where(only(problems_for(tmp_path, quotes=quotes))) == ("quotes.toml", "q-ko", "gloss")


def test_bad_id(tmp_path: Path) -> None:
    facts = VALID["facts.toml"].replace('id = "f-one"', 'id = "F One"')
    assert where(only(problems_for(tmp_path, facts=facts))) == ("facts.toml", "F One", "id")


def test_missing_file(tmp_path: Path) -> None:
    folder = write_dataset(tmp_path)
    (folder / "people.toml").unlink()
    with pytest.raises(DatasetError) as caught:
        load_dataset(folder)
    problems = caught.value.problems
    assert ("people.toml", "-", "-") in [where(p) for p in problems]
    # Quotes name speakers that could not be loaded: reported too, all in one pass.
    assert ("quotes.toml", "q-jam", "speaker") in [where(p) for p in problems]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    facts = (
        VALID["facts.toml"]
        .replace('topic = "song"', 'topic = "nope"')
        .replace('evidence = "No. 1"\n', "")
    )
    quotes = VALID["quotes.toml"].replace('speaker = "v"', 'speaker = "nobody"')
    problems = problems_for(tmp_path, facts=facts, quotes=quotes)
    assert len(problems) == 3
    assert all(str(p).count(": ") >= 3 for p in problems)  # file: id: field: message


def test_question_topic_is_required_and_known(tmp_path: Path) -> None:
    trivia = (
        VALID["trivia.toml"]
        .replace('topic = "music-video"\n', "")
        .replace('topic = "song"', 'topic = "gossip"')
    )
    problems = problems_for(tmp_path, trivia=trivia)
    assert sorted(where(p) for p in problems) == [
        ("trivia.toml", "t-director", "topic"),
        ("trivia.toml", "t-true", "topic"),
    ]
    assert "missing" in next(p for p in problems if p.item == "t-director").message
    assert "gossip" in next(p for p in problems if p.item == "t-true").message


# A fact citing the Korean source of the valid dataset.
KOREAN_FACT = """
[[fact]]
id = "f-ko"
topic = "song"
text = "The song is a ballad."
source = "02-untitled"
evidence = "발라드"
text_ko = "이 곡은 발라드예요."
"""


def test_evidence_from_a_non_english_source_carries_its_english(tmp_path: Path) -> None:
    facts = VALID["facts.toml"] + KOREAN_FACT + 'evidence_en = "a ballad"\n'
    dataset = load_dataset(write_dataset(tmp_path, facts=facts))
    fact = dataset.fact("f-ko")
    assert fact is not None and fact.evidence_en == "a ballad"
    assert dataset.fact("f-one").evidence_en == ""  # type: ignore[union-attr]


def test_evidence_en_missing_for_a_non_english_source(tmp_path: Path) -> None:
    problem = only(problems_for(tmp_path, facts=VALID["facts.toml"] + KOREAN_FACT))
    assert where(problem) == ("facts.toml", "f-ko", "evidence_en")
    assert "missing" in problem.message and "'ko'" in problem.message


def test_evidence_en_is_not_expected_for_english_evidence(tmp_path: Path) -> None:
    trivia = VALID["trivia.toml"].replace(
        'evidence = "V didn\'t sing"', 'evidence = "V didn\'t sing"\nevidence_en = "V didn\'t sing"'
    )
    quotes = VALID["quotes.toml"].replace(
        'context = "IU TV"', 'context = "IU TV"\nevidence_en = "a one-of-a-kind casting"'
    )
    problems = problems_for(tmp_path, trivia=trivia, quotes=quotes)
    assert sorted(where(p) for p in problems) == [
        ("quotes.toml", "q-ko", "evidence_en"),
        ("trivia.toml", "t-true", "evidence_en"),
    ]
    assert all("not expected" in p.message for p in problems)


def test_evidence_en_too_long(tmp_path: Path) -> None:
    facts = VALID["facts.toml"] + KOREAN_FACT + f'evidence_en = "{"x" * 401}"\n'
    problem = only(problems_for(tmp_path, facts=facts))
    assert where(problem) == ("facts.toml", "f-ko", "evidence_en")
    assert "400" in problem.message


# --- Korean (SPEC §3a, §5) -------------------------------------------------------------------


def test_an_item_without_its_korean_is_refused_and_named(tmp_path: Path) -> None:
    facts = VALID["facts.toml"].replace('text_ko = "1위에 올랐어요."\n', "")
    trivia = VALID["trivia.toml"].replace('explanation_ko = "엄태화 감독이 연출했어요."\n', "")
    people = VALID["people.toml"].replace('name_ko = "뷔"\n', "")
    problems = problems_for(tmp_path, facts=facts, trivia=trivia, people=people)
    korean = [where(p) for p in problems if "Korean" in p.message]
    assert sorted(korean) == [
        ("facts.toml", "f-two", "text_ko"),
        ("people.toml", "v", "name_ko"),
        ("trivia.toml", "t-director", "explanation_ko"),
    ]


def test_a_passage_not_in_korean_needs_its_korean_and_a_korean_one_does_not(
    tmp_path: Path,
) -> None:
    facts = VALID["facts.toml"].replace('evidence_ko = "1위"\n', "")
    problem = only(problems_for(tmp_path, facts=facts))
    assert where(problem) == ("facts.toml", "f-two", "evidence_ko")
    korean = (
        VALID["facts.toml"] + KOREAN_FACT + 'evidence_en = "a ballad"\nevidence_ko = "발라드"\n'
    )
    problem = only(problems_for(tmp_path / "k", facts=korean))
    assert where(problem) == ("facts.toml", "f-ko", "evidence_ko")
    assert "not expected" in problem.message


@pytest.mark.parametrize(
    ("wrong_ko", "says"),
    [
        ('["봉준호", "박찬욱"]', "one for each"),
        ('["봉준호", "봉준호", "나홍진"]', "twice"),
        ('["봉준호", "엄태화", "나홍진"]', "contains the answer"),
        (f'["봉준호", "{"가" * 81}", "나홍진"]', "80"),
    ],
)
def test_korean_choices_match_the_english_ones(tmp_path: Path, wrong_ko: str, says: str) -> None:
    trivia = VALID["trivia.toml"].replace(
        'wrong_ko = ["봉준호", "박찬욱", "나홍진"]', f"wrong_ko = {wrong_ko}"
    )
    problem = only(problems_for(tmp_path, trivia=trivia))
    assert where(problem) == ("trivia.toml", "t-director", "wrong_ko") and says in problem.message


def test_a_quotes_korean_is_its_original_from_a_korean_source_or_a_translation(
    tmp_path: Path,
) -> None:
    from_english = VALID["quotes.toml"].replace(
        'original_source = "02-untitled"', 'original_source = "01-example"'
    )
    problem = only(problems_for(tmp_path, quotes=from_english))
    assert where(problem) == ("quotes.toml", "q-cafe", "original_source")
    both = VALID["quotes.toml"].replace(
        'original_source = "02-untitled"', 'original_source = "02-untitled"\ntext_ko = "카페"'
    )
    problem = only(problems_for(tmp_path / "b", quotes=both))
    assert where(problem) == ("quotes.toml", "q-cafe", "text_ko")
    in_korean = VALID["quotes.toml"].replace(
        'context_ko = "IU TV"', 'context_ko = "IU TV"\ntext_ko = "유일무이"'
    )
    problem = only(problems_for(tmp_path / "c", quotes=in_korean))
    assert where(problem) == ("quotes.toml", "q-ko", "text_ko")
    dataset = load_dataset(write_dataset(tmp_path / "ok"))
    cafe = dataset.quote("q-cafe")
    assert cafe is not None and (cafe.original_ko, cafe.original_source) == (
        "유일무이한 캐스팅",
        "02-untitled",
    )
