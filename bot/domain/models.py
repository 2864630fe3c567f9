"""The dataset's domain objects: plain frozen dataclasses, no Discord, no database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.domain.language import msg

# Topics of facts and trivia questions: the value stored in data/*.toml -> the catalogue id of
# the label fans see (a slash-command choice name and button-ish text, so keep labels short;
# the English label is also the choice's name Discord translates, from commands.po).
TOPICS: dict[str, str] = {
    "song": msg("topic.song"),
    "music-video": msg("topic.music-video"),
    "casting": msg("topic.casting"),
    "the-shoot": msg("topic.the-shoot"),
    "behind-the-scenes": msg("topic.behind-the-scenes"),
    "charts": msg("topic.charts"),
    "the-album": msg("topic.the-album"),
    "iu-and-v": msg("topic.iu-and-v"),
    "tour": msg("topic.tour"),
    "awards": msg("topic.awards"),
    "careers": msg("topic.careers"),
}

DIFFICULTIES: tuple[str, ...] = ("easy", "medium", "hard")


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    title: str
    publisher: str
    url: str
    published: dt.date | None  # None when the page shows no date
    language: str = "en"


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    description: str
    source: str
    aliases: tuple[str, ...] = ()
    name_ko: str = ""  # as Korean fans write it (아이유, 뷔, 엄태화 감독)
    description_ko: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True, slots=True)
class Quote:
    id: str
    speaker: str  # a Person id
    text: str  # verbatim from the source
    context: str  # where and when it was said
    source: str
    language: str = "en"
    date: dt.date | None = None
    evidence: str = ""
    # English rendering of a non-English `text`, made by the dataset (not the source).
    gloss: str = ""
    # Who translated `text` into English when the speaker did not say it in English.
    translation: str = ""
    # Another published rendering of the same words, noted rather than listed twice.
    variant: str = ""
    # The dataset's own English rendering of `evidence` when the source is not in English.
    evidence_en: str = ""
    context_ko: str = ""  # `context` in the dataset's Korean
    # A quote not said in Korean: its Korean original, verbatim from `original_source` (a
    # Korean source of the pack), or else the dataset's own Korean translation `text_ko`.
    original_ko: str = ""
    original_source: str = ""
    text_ko: str = ""
    # The dataset's own Korean rendering of `evidence` when the source is not in Korean.
    evidence_ko: str = ""
    # The card's context line (who, where, when; what about, when not this song), ≤ 80.
    setting: str = ""
    setting_ko: str = ""
    # An editors' note (sources that differ, another outlet's mistake): only behind Details.
    note: str = ""
    note_ko: str = ""
    # Why the fan-facing text names an outlet ("one-source", "sources-differ"), or "".
    attribution: str = ""


@dataclass(frozen=True, slots=True)
class Fact:
    id: str
    topic: str  # a key of TOPICS
    text: str  # in the dataset's own words
    source: str
    evidence: str  # verbatim passage of the source, at most 400 characters
    # The dataset's own English rendering of `evidence` when the source is not in English.
    evidence_en: str = ""
    text_ko: str = ""  # `text` in the dataset's Korean
    # The dataset's own Korean rendering of `evidence` when the source is not in Korean.
    evidence_ko: str = ""
    aside: bool = False  # far from the song's story: drawn only when its topic is asked for
    # An editors' note (sources that differ, another outlet's mistake): only behind Details.
    note: str = ""
    note_ko: str = ""
    # Why the fan-facing text names an outlet ("one-source", "sources-differ"), or "".
    attribution: str = ""


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    date: dt.date  # the calendar day in `timezone` (or as the source gives it)
    text: str
    source: str
    evidence: str
    time: dt.time | None = None  # local time of day, when known
    timezone: str = ""  # IANA name for `time`, e.g. "Asia/Seoul"
    # The dataset's own English rendering of `evidence` when the source is not in English.
    evidence_en: str = ""
    text_ko: str = ""
    evidence_ko: str = ""
    # An editors' note (sources that differ, another outlet's mistake): only behind Details.
    note: str = ""
    note_ko: str = ""
    # Why the fan-facing text names an outlet ("one-source", "sources-differ"), or "".
    attribution: str = ""


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    question: str
    answer: str
    wrong: tuple[str, ...]  # 1-3 distinct wrong choices
    difficulty: str  # one of DIFFICULTIES
    explanation: str
    source: str
    evidence: str
    topic: str = ""  # a key of TOPICS, for `/trivia play topic:`
    # The dataset's own English rendering of `evidence` when the source is not in English.
    evidence_en: str = ""
    # The question in the dataset's Korean: every part, the wrong choices in the same order.
    question_ko: str = ""
    answer_ko: str = ""
    wrong_ko: tuple[str, ...] = ()
    explanation_ko: str = ""
    evidence_ko: str = ""
    # Questions never shown in one game or on one day with this one (either gives the other's
    # answer away); symmetric: the loader adds each pair both ways.
    keep_apart: frozenset[str] = frozenset()
    # An editors' note (sources that differ, another outlet's mistake): only behind Details.
    note: str = ""
    note_ko: str = ""
    # Why the fan-facing text names an outlet ("one-source", "sources-differ"), or "".
    attribution: str = ""

    @property
    def choices(self) -> tuple[str, ...]:
        return (self.answer, *self.wrong)


@dataclass(frozen=True, slots=True)
class Dataset:
    sources: dict[str, Source]
    people: dict[str, Person]
    quotes: tuple[Quote, ...]
    facts: tuple[Fact, ...]
    events: tuple[Event, ...]
    questions: tuple[Question, ...]
    version: str = ""  # short content hash of the files, shown by /about and /settings check
    _by_id: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    def counts(self) -> dict[str, int]:
        return {
            "quotes": len(self.quotes),
            "facts": len(self.facts),
            "questions": len(self.questions),
            "events": len(self.events),
            "sources": len(self.sources),
            "people": len(self.people),
        }

    def quote(self, quote_id: str) -> Quote | None:
        item = self._by_id.get(quote_id)
        return item if isinstance(item, Quote) else None

    def fact(self, fact_id: str) -> Fact | None:
        item = self._by_id.get(fact_id)
        return item if isinstance(item, Fact) else None

    def question(self, question_id: str) -> Question | None:
        item = self._by_id.get(question_id)
        return item if isinstance(item, Question) else None

    def source_of(self, item: Quote | Fact | Event | Question | Person) -> Source:
        return self.sources[item.source]
