"""The shipped dataset keeps SPEC §5's integrity rules, checked against the source pack itself.

The source pack (`../shared/sources/`, beside the repository) holds the verbatim passages every
item was curated from: evidence and quotes must be found there word for word.
"""

from __future__ import annotations

import functools
from collections import Counter

import pytest

from bot.config import DEFAULT_DATA_DIR
from bot.domain.dataset import load_dataset
from bot.domain.models import DIFFICULTIES, TOPICS, Dataset
from tests.shared import SOURCE_PACK, need


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
    assert counts["quotes"] >= 35
    assert counts["facts"] >= 80
    assert counts["events"] >= 25
    assert counts["questions"] >= 100
    by_difficulty = Counter(q.difficulty for q in shipped().questions)
    assert all(by_difficulty[d] >= 25 for d in DIFFICULTIES), by_difficulty


def test_every_difficulty_fills_a_twenty_question_game() -> None:
    by_difficulty = Counter(q.difficulty for q in shipped().questions)
    assert all(by_difficulty[d] >= 20 for d in DIFFICULTIES), by_difficulty


def test_every_topic_has_facts() -> None:
    topics = Counter(f.topic for f in shipped().facts)
    assert set(topics) == set(TOPICS), topics


def test_every_evidence_is_verbatim_in_its_source() -> None:
    data = shipped()
    items = [*data.facts, *data.events, *data.questions, *(q for q in data.quotes if q.evidence)]
    missing = [item.id for item in items if item.evidence not in pack_text(item.source)]
    assert missing == [], f"evidence not found word for word in its source: {missing}"


def test_every_quote_is_verbatim_in_its_source() -> None:
    missing = [q.id for q in shipped().quotes if q.text not in pack_text(q.source)]
    assert missing == [], f"quotes not found word for word in their source: {missing}"


def test_every_source_is_cited_and_none_is_low_reliability() -> None:
    data = shipped()
    cited = {
        item.source
        for item in (
            *data.quotes,
            *data.facts,
            *data.events,
            *data.questions,
            *data.people.values(),
        )
    }
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
    ids = [i.id for i in (*data.quotes, *data.facts, *data.events, *data.questions)]
    ids += list(data.people) + list(data.sources)
    assert [i for i, n in Counter(ids).items() if n > 1] == []


def test_quote_translations_are_marked() -> None:
    for quote in shipped().quotes:
        if quote.language != "en":
            assert quote.gloss, f"{quote.id}: a non-English quote needs the dataset's gloss"


def test_trivia_choices_fit_buttons_and_are_distinct() -> None:
    for q in shipped().questions:
        choices = [c.casefold().strip() for c in q.choices]
        assert len(set(choices)) == len(choices), q.id
        assert all(len(c) <= 80 for c in q.choices), q.id
