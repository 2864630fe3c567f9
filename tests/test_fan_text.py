"""What fans read of the shipped dataset: a quote with its context line, items in fans' words
(no editors' notes, no outlet named without a reason), and no question that gives another's
answer away unless the two are kept apart.

A fan reads a card, a question and its choices; where the sources disagree or one outlet's
mistake needs a word, that goes behind Details (`note`). An outlet is named in a fan-facing
text only where the claim rests on it (`attribution`).
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata

from bot.config import DEFAULT_DATA_DIR
from bot.domain.dataset import MAX_SETTING, load_dataset
from bot.domain.models import Dataset, Event, Fact, Question, Quote

Item = Quote | Fact | Event | Question


@functools.cache
def shipped() -> Dataset:
    return load_dataset(DEFAULT_DATA_DIR)


def _items() -> list[Item]:
    data = shipped()
    return [*data.quotes, *data.facts, *data.events, *data.questions]


def fan_texts(item: Item) -> list[tuple[str, str]]:
    """(field, text) of what a fan reads on the card or the question itself, both languages."""
    if isinstance(item, Quote):
        return [("setting", item.setting), ("setting_ko", item.setting_ko)]
    if isinstance(item, Question):
        return [
            ("question", item.question),
            ("question_ko", item.question_ko),
            *((f"choice {n}", text) for n, text in enumerate(item.choices)),
        ]
    return [("text", item.text), ("text_ko", item.text_ko)]


# --- outlets ---------------------------------------------------------------------------------

# Outlet names that are also ordinary words or names of charts ("Billboard's Global 200", a
# song's tempo): they cite an outlet only in a citation's words.
ORDINARY = {"Billboard", "Tempo", "Dispatch", "Deadline", "Mint"}
CITATION = r"(?:according to {name}|{name} (?:said|says|reported|reports|wrote|writes|noted))"
KOREAN_CITATION = re.compile(r"에 따르면|보도(?:했|에|한|된)")


@functools.cache
def outlet_patterns() -> list[tuple[str, re.Pattern[str]]]:
    names: set[str] = set()
    for source in shipped().sources.values():
        for name in source.publisher.split(" / "):
            names.add(name.strip())
            # "Xports News" is also written "Xports"; "Star News" is not just any "Star".
            short = re.sub(r"\s+(?:news|news agency)$", "", name.strip(), flags=re.I)
            if short != name.strip() and (len(short) >= 5 or " " in short):
                names.add(short)
    patterns = []
    for name in sorted(names):
        escaped = re.escape(name)
        if name in ORDINARY:
            pattern = re.compile(CITATION.format(name=escaped), re.I)
        else:
            pattern = re.compile(rf"(?<![\w.]){escaped}(?![\w])")
        patterns.append((name, pattern))
    return patterns


def named_outlets(text: str) -> list[str]:
    found = [name for name, pattern in outlet_patterns() if pattern.search(text)]
    if re.search(r"\baccording to\b", text, re.I) and not found:
        found.append("according to …")
    if KOREAN_CITATION.search(text):
        found.append("에 따르면/보도")
    return found


def test_outlets_are_recognised() -> None:
    assert named_outlets("According to Kbizoom, the shoot took a week.") == ["Kbizoom"]
    assert named_outlets("Billboard's Global 200 chart") == []
    assert named_outlets("according to Billboard, it topped") == ["Billboard"]
    assert named_outlets("NME reported it") == ["NME"]
    assert named_outlets("스포츠경향 보도에 따르면") != []
    assert named_outlets("The song topped Melon within an hour.") == []
    assert named_outlets("a concert at The Star Theatre") == []  # not Star News


def test_no_fan_facing_text_names_an_outlet_without_a_reason() -> None:
    """An outlet is named on a card or in a question only where the claim rests on it: the
    item says why (`attribution`: one source, or sources that differ)."""
    unexplained = [
        f"{item.id} {field}: {', '.join(names)} — {text[:90]}"
        for item in _items()
        if not item.attribution
        for field, text in fan_texts(item)
        if (names := named_outlets(text))
    ]
    assert not unexplained, (
        f"{len(unexplained)} fan-facing texts name an outlet with no `attribution`:\n"
        + "\n".join(unexplained)
    )


# --- editors' notes --------------------------------------------------------------------------

EDITORS_WORDS = re.compile(
    r"\((?=[^)]*\b(?:mistake|sources?|reports?|article|outlets?|says|said|date[sd]?|name)\b)"
    r"[^)]*\)|\((?=[^)]*(?:보도|기사|출처|오류|잘못))[^)]*\)",
    re.I,
)


def test_editors_notes_stay_behind_details() -> None:
    """A parenthesis about sources, reports or another outlet's mistake is an editors' note:
    it belongs in `note` (shown behind Details), not in what the fan reads first."""
    found = [
        f"{item.id} {field}: {match.group(0)}"
        for item in _items()
        for field, text in [
            *fan_texts(item),
            *(
                [("explanation", item.explanation), ("explanation_ko", item.explanation_ko)]
                if isinstance(item, Question)
                else []
            ),
        ]
        for match in EDITORS_WORDS.finditer(text)
    ]
    assert not found, "editors' notes in fan-facing text:\n" + "\n".join(found)


# --- quotes ----------------------------------------------------------------------------------


def test_every_quote_has_a_short_context_line_in_both_languages() -> None:
    """The card's one context line: who, where, when, in a phone's line."""
    missing = [q.id for q in shipped().quotes if not (q.setting and q.setting_ko)]
    assert not missing, f"quotes without `setting` and `setting_ko`: {missing}"
    too_long = [
        (q.id, len(text))
        for q in shipped().quotes
        for text in (q.setting, q.setting_ko)
        if len(text) > MAX_SETTING
    ]
    assert not too_long, too_long


# --- give-aways ------------------------------------------------------------------------------

SONG = re.compile(r"love wins all", re.I)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[“”\"'‘’«»「」]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _distinctive(answer: str) -> str | None:
    """An answer distinctive enough that finding it in another text gives it away."""
    folded = _fold(answer).rstrip(".")
    if len(folded) < 5 or folded in {"true", "false", "참", "거짓"}:
        return None
    return folded


@functools.cache
def _shown_texts(shown: Question) -> tuple[str, str]:
    """What a question shows, folded, in English and in Korean (its text and, at the reveal,
    its answer); the song's own title masked."""
    english = " \n ".join(_fold(SONG.sub("\u2022", t)) for t in (shown.question, shown.answer))
    korean = " \n ".join(_fold(SONG.sub("\u2022", t)) for t in (shown.question_ko, shown.answer_ko))
    return english, korean


@functools.cache
def _needle(answer: str) -> re.Pattern[str] | None:
    needle = _distinctive(answer)
    return None if needle is None else re.compile(rf"(?<!\w){re.escape(needle)}(?!\w)")


def gives_away(shown: Question, asked: Question) -> bool:
    """Whether `shown`'s text or its answer (shown at its reveal) gives `asked`'s answer away,
    in either language. A wrong choice names a thing without saying what it is."""
    english, korean = _shown_texts(shown)
    for answer, haystack in ((asked.answer, english), (asked.answer_ko, korean)):
        needle = _needle(answer)
        if needle is not None and needle.search(haystack):
            return True
    return False


def giveaway_pairs() -> list[tuple[str, str]]:
    questions = shipped().questions
    return [
        (shown.id, asked.id)
        for shown, asked in itertools.permutations(questions, 2)
        if gives_away(shown, asked)
    ]


def test_giveaways_are_recognised() -> None:
    asked = Question("a", "What was its first title?", "Love wins", ("Hate",), "easy", "", "s", "")
    shown = Question("b", 'Why was "Love wins" renamed?', "x", ("y",), "easy", "", "s", "")
    song = Question("c", 'Who sang "Love wins all"?', "IU", ("V",), "easy", "", "s", "")
    assert gives_away(shown, asked)
    assert not gives_away(song, asked)  # the song's own title is not the old one


def test_no_question_gives_another_away_unless_they_are_kept_apart() -> None:
    """Every pair where one question's text or choices give the other's answer away is either
    rephrased or kept apart (`keep_apart`: never in one game, never on one day)."""
    by_id = {q.id: q for q in shipped().questions}
    loose = [
        f"{shown} shows the answer of {asked} ({by_id[asked].answer!r})"
        for shown, asked in giveaway_pairs()
        if shown not in by_id[asked].keep_apart
    ]
    assert not loose, "\n".join(loose)


# The independent audit of December 2026 (../shared/audits/data-audit-2026-12.md): each
# question, the questions that gave its answer away, and the words that did.
AUDITED = [
    ("t-melon-one-hour", "t-melon-reform", r"one-hour"),
    ("t-original-title", "t-announce-date", r"then called"),
    ("t-original-title", "t-poster-controversy-tf", r"the title \W*love wins\W"),
    ("t-original-title", "t-supreme-court", r"slogan \W*love wins"),
    ("t-hunters", "t-nemo", r"flying object hunts"),
    ("t-genre", "t-ballad-series", r"big ballads"),
    ("t-queerbaiting", "t-supreme-court", r"same-sex"),
]


def test_the_audited_giveaways_are_rephrased_or_kept_apart() -> None:
    by_id = {q.id: q for q in shipped().questions}
    open_rows = [
        f"{shown} still shows {asked}'s answer ({words})"
        for asked, shown, words in AUDITED
        if asked in by_id
        and shown in by_id
        and shown not in by_id[asked].keep_apart
        and re.search(words, " ".join((by_id[shown].question, *by_id[shown].choices)), re.I)
    ]
    assert not open_rows, "\n".join(open_rows)
