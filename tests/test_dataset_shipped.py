"""The shipped dataset keeps SPEC §5's integrity rules, checked against the source pack itself.

The source pack (`../shared/sources/`, beside the repository) holds the verbatim passages every
item was curated from: evidence and quotes must be found there word for word.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import re
import unicodedata
from collections import Counter

import pytest

from bot.config import DEFAULT_DATA_DIR
from bot.domain.dataset import FILES, load_dataset
from bot.domain.models import DIFFICULTIES, TOPICS, Dataset, Event, Fact, Person, Question, Quote
from tests.shared import SOURCE_PACK, need

# Every kind of curated item (a union, so that mypy sees their common fields).
Item = Quote | Fact | Event | Question

# Each topic is a `/trivia play topic:` choice; a default game is 5 questions.
MIN_QUESTIONS_PER_TOPIC = 5
MIN_CALENDAR_DAYS = 80


@functools.cache
def shipped() -> Dataset:
    return load_dataset(DEFAULT_DATA_DIR)


@functools.cache
def pack_text(source_id: str) -> str:
    need(SOURCE_PACK, "the source pack")
    path = SOURCE_PACK / f"{source_id}.txt"
    assert path.is_file(), f"{path.name} is not in the source pack beside the repository"
    body = path.read_text(encoding="utf-8").partition("\n---\n")[2]
    return body


def pack_header(source_id: str) -> dict[str, str]:
    need(SOURCE_PACK, "the source pack")
    text = (SOURCE_PACK / f"{source_id}.txt").read_text(encoding="utf-8")
    header = text.partition("\n---\n")[0]
    return {
        k.strip(): v.strip() for k, _, v in (line.partition(": ") for line in header.splitlines())
    }


def test_the_source_pack_is_beside_the_repository() -> None:
    need(SOURCE_PACK, "the source pack")
    assert (SOURCE_PACK / "FACTS.md").is_file(), "the source pack has no FACTS.md"


def test_counts_meet_the_curation_targets() -> None:
    counts = shipped().counts()
    assert counts["quotes"] >= 45
    assert counts["facts"] >= 200
    assert counts["events"] >= 90
    assert counts["questions"] >= 150
    by_difficulty = Counter(q.difficulty for q in shipped().questions)
    assert all(by_difficulty[d] >= 25 for d in DIFFICULTIES), by_difficulty


def test_every_difficulty_fills_a_twenty_question_game() -> None:
    by_difficulty = Counter(q.difficulty for q in shipped().questions)
    assert all(by_difficulty[d] >= 20 for d in DIFFICULTIES), by_difficulty


def test_every_topic_has_facts() -> None:
    topics = Counter(f.topic for f in shipped().facts)
    assert set(topics) == set(TOPICS), topics


def test_every_question_has_a_topic_and_every_topic_fills_a_game() -> None:
    topics = Counter(q.topic for q in shipped().questions)
    assert set(topics) <= set(TOPICS), set(topics) - set(TOPICS)
    thin = {t: topics[t] for t in TOPICS if topics[t] < MIN_QUESTIONS_PER_TOPIC}
    assert thin == {}, f"topics with too few questions for a default game: {thin}"


def test_topic_labels_fit_a_choice_name() -> None:
    assert all(0 < len(label) <= 100 for label in TOPICS.values())
    assert len(set(TOPICS.values())) == len(TOPICS)


def test_the_timeline_covers_the_whole_year() -> None:
    days = {(e.date.month, e.date.day) for e in shipped().events}
    assert len(days) >= MIN_CALENDAR_DAYS, f"events on only {len(days)} calendar days"
    months = {month for month, _ in days}
    assert months == set(range(1, 13)), f"no events in months {set(range(1, 13)) - months}"
    busiest = Counter((e.date.month, e.date.day) for e in shipped().events).most_common(1)[0]
    assert busiest[1] <= 10, f"/onthisday shows 10 events a day; {busiest} has more"


def test_every_evidence_is_verbatim_in_its_source() -> None:
    data = shipped()
    items: list[Item] = [
        *data.facts,
        *data.events,
        *data.questions,
        *(q for q in data.quotes if q.evidence),
    ]
    missing = [item.id for item in items if item.evidence not in pack_text(item.source)]
    assert missing == [], f"evidence not found word for word in its source: {missing}"


def test_every_quote_is_verbatim_in_its_source() -> None:
    missing = [q.id for q in shipped().quotes if q.text not in pack_text(q.source)]
    assert missing == [], f"quotes not found word for word in their source: {missing}"


def test_every_korean_original_is_verbatim_in_its_korean_source() -> None:
    """A quote shown in Korean as the speaker's own words is copied from a Korean source of
    the pack (anything else is the bot's translation, and marked as such)."""
    data = shipped()
    originals = [q for q in data.quotes if q.original_ko]
    assert originals, "the pack has the Korean original of some quotes"
    missing = [
        q.id
        for q in originals
        if data.sources[q.original_source].language != "ko"
        or q.original_ko not in pack_text(q.original_source)
    ]
    assert missing == [], f"Korean originals not found word for word: {missing}"


def test_every_item_speaks_korean() -> None:
    """The loader requires it; this names what a Korean reader gets for every kind."""
    data = shipped()
    assert all(f.text_ko for f in data.facts) and all(e.text_ko for e in data.events)
    assert all(q.question_ko and q.answer_ko and q.explanation_ko for q in data.questions)
    assert all(len(q.wrong_ko) == len(q.wrong) for q in data.questions)
    assert all(q.context_ko for q in data.quotes)
    assert all(q.language == "ko" or q.original_ko or q.text_ko for q in data.quotes), (
        "a quote a Korean reader cannot read"
    )
    assert all(p.name_ko for p in data.people.values())


def test_every_source_is_cited_and_none_is_low_reliability() -> None:
    data = shipped()
    citing: tuple[Item | Person, ...] = (
        *data.quotes,
        *data.facts,
        *data.events,
        *data.questions,
        *data.people.values(),
    )
    cited = {item.source for item in citing}
    assert set(data.sources) - cited == set(), "sources nobody cites"
    low = [
        s
        for s in data.sources
        if "LOW RELIABILITY" in pack_header(s).get("publisher", "") or "LOW-RELIABILITY" in s
    ]
    assert low == []


@pytest.mark.parametrize("field", ["url", "publisher"])
def test_sources_match_the_pack_headers(field: str) -> None:
    wrong = []
    for source in shipped().sources.values():
        header = pack_header(source.id)
        value = getattr(source, field)
        if field == "url" and value != header["url"]:
            wrong.append(source.id)
        if field == "publisher" and not header["publisher"].startswith(value):
            wrong.append(source.id)
    assert wrong == []


def test_ids_are_unique_across_every_file() -> None:
    data = shipped()
    items: tuple[Item, ...] = (*data.quotes, *data.facts, *data.events, *data.questions)
    ids = [i.id for i in items]
    ids += list(data.people) + list(data.sources)
    assert [i for i, n in Counter(ids).items() if n > 1] == []


def test_quote_translations_are_marked() -> None:
    for quote in shipped().quotes:
        if quote.language != "en":
            assert quote.gloss, f"{quote.id}: a non-English quote needs the dataset's gloss"


def _items_with_evidence(data: Dataset) -> list[Fact | Event | Question | Quote]:
    return [*data.facts, *data.events, *data.questions, *(q for q in data.quotes if q.evidence)]


def test_evidence_en_is_there_exactly_when_the_evidence_is_not_english() -> None:
    data = shipped()
    wrong = [
        item.id
        for item in _items_with_evidence(data)
        if bool(item.evidence_en) != (data.sources[item.source].language != "en")
    ]
    assert wrong == []
    same = [i.id for i in _items_with_evidence(data) if i.evidence_en.strip() == i.evidence.strip()]
    assert same == [], "evidence_en must be an English rendering, not a copy of the evidence"


# Letters of the scripts of the pack's pages that are not written in the Latin alphabet.
_SCRIPTS = {
    "ko": re.compile(r"[\uac00-\ud7a3]"),
    "ja": re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]"),
}
_ANY_SCRIPT = re.compile(r"[\uac00-\ud7a3\u3040-\u30ff\u4e00-\u9fff]")


def test_source_languages_match_the_pages() -> None:
    """`language` decides `evidence_en`: it is the header's, and the page is written in it.

    Pages in Korean or Japanese still carry Latin song titles, and English pages Korean ones, so
    a quarter of the letters is the line (the pack's pages sit far from it on either side).
    """
    wrong = []
    for source in shipped().sources.values():
        header = pack_header(source.id).get("language")
        if header is not None and header != source.language:
            wrong.append((source.id, source.language, f"header says {header}"))
            continue
        body = pack_text(source.id)
        letters = len(re.findall(r"\w", body)) or 1
        script = _SCRIPTS.get(source.language)
        share = len((script or _ANY_SCRIPT).findall(body)) / letters
        if (script is not None and share < 0.25) or (script is None and share >= 0.25):
            wrong.append((source.id, source.language, f"{share:.0%} of the letters disagree"))
    assert wrong == []


def test_trivia_choices_fit_buttons_and_are_distinct() -> None:
    for q in shipped().questions:
        choices = [c.casefold().strip() for c in q.choices]
        assert len(set(choices)) == len(choices), q.id
        assert all(len(c) <= 80 for c in q.choices), q.id


def _normal(text: str) -> str:
    """Case, accents, punctuation and articles do not make a different answer."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    words = re.sub(r"[^\w\s]", " ", text).split()
    return " ".join(w for w in words if w not in {"a", "an", "the"})


def test_no_wrong_choice_is_the_answer_in_other_words() -> None:
    same = [
        (q.id, w) for q in shipped().questions for w in q.wrong if _normal(w) == _normal(q.answer)
    ]
    assert same == []
    repeated = [
        q.id for q in shipped().questions if len({_normal(c) for c in q.choices}) < len(q.choices)
    ]
    assert repeated == [], "two choices that are the same in other words"


def test_no_two_questions_ask_the_same_thing() -> None:
    by_answer: dict[str, list[Question]] = {}
    for q in shipped().questions:
        by_answer.setdefault(_normal(q.answer), []).append(q)
    twins = [
        (a.id, b.id)
        for questions in by_answer.values()
        for a, b in itertools.combinations(questions, 2)
        if difflib.SequenceMatcher(None, _normal(a.question), _normal(b.question)).ratio() >= 0.8
    ]
    assert twins == [], "the same answer to (nearly) the same question"


def _retired_ids() -> dict[str, set[str]]:
    """The ids listed in `# retired ids (never reuse them): …` comments at the top of each file."""
    retired: dict[str, set[str]] = {}
    for file in FILES:
        lines = (DEFAULT_DATA_DIR / file).read_text(encoding="utf-8").splitlines()
        text, listing = "", False
        for line in lines:
            if line.startswith("# retired ids"):
                text, listing = line.partition(":")[2], True
            elif listing and line.startswith("#   "):
                text += " " + line[1:]
            else:
                listing = False
        retired[file] = {i.strip(" .") for i in text.split(",") if i.strip(" .")}
    return retired


def test_retired_ids_are_never_reused() -> None:
    data = shipped()
    items: tuple[Item, ...] = (*data.quotes, *data.facts, *data.events, *data.questions)
    ids = {i.id for i in items}
    retired = set().union(*_retired_ids().values())
    assert "t-melon-7pm" in retired, "the retired-ids comment of trivia.toml could not be read"
    assert retired & ids == set()
