"""Load and validate the curated dataset in data/*.toml (SPEC §5).

`load_dataset(folder)` returns a `Dataset` or raises `DatasetError` listing every problem found,
each naming the file, the item id, the field and what is wrong, so a curator fixes them all in one
pass instead of one per run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.domain.models import (
    DIFFICULTIES,
    TOPICS,
    Dataset,
    Event,
    Fact,
    Person,
    Question,
    Quote,
    Source,
)

FILES = ("sources.toml", "people.toml", "quotes.toml", "facts.toml", "timeline.toml", "trivia.toml")

# Ids travel inside button custom_ids (100 characters at most), so keep them short and plain.
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")
MAX_EVIDENCE = 400
MAX_CHOICE = 80  # a button label
MAX_TEXT = 1000  # facts, events, questions, explanations: comfortably inside an embed
MAX_QUOTE = 3000  # an embed description holds 4096
MAX_SETTING = 80  # a quote card's context line: one line on a phone
MAX_SHORT = 200  # names, context lines, titles of sources
# Every item has its Korean text (SPEC §3a, §5). While the dataset's Korean is being written the
# loader checks what is there; once it is complete, a missing Korean text is a problem too.
KOREAN_REQUIRED = True


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    item: str  # the item's id, or "-" when the file itself is at fault
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.item}: {self.field}: {self.message}"


class DatasetError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the dataset")
        self.problems = problems


# One field of a TOML table: its expected Python type(s) and whether it must be present.
@dataclass(frozen=True, slots=True)
class _Field:
    types: tuple[type, ...]
    required: bool = True
    max_len: int | None = None


_STR = (str,)
# The verbatim passage behind an item of the dataset's own words, with its renderings in the
# languages its source is not in; and that item's own text in Korean.
_EVIDENCE = {
    "source": _Field(_STR),
    "evidence": _Field(_STR, max_len=MAX_EVIDENCE),
    "evidence_en": _Field(_STR, required=False, max_len=MAX_EVIDENCE),
    "evidence_ko": _Field(_STR, required=False, max_len=MAX_EVIDENCE),
}
# What stays out of the fan-facing text: an editors' note (sources that differ, another
# outlet's mistake), shown only behind Details; and, where the fan-facing text does name an
# outlet, why it must (`attribution`: the claim rests on one source, or the sources differ).
_NOTES = {
    "note": _Field(_STR, required=False, max_len=MAX_SHORT * 2),
    "note_ko": _Field(_STR, required=False, max_len=MAX_SHORT * 2),
    "attribution": _Field(_STR, required=False, max_len=20),
}
ATTRIBUTIONS = ("one-source", "sources-differ")
_TEXT = {
    "text": _Field(_STR, max_len=MAX_TEXT),
    "text_ko": _Field(_STR, required=False, max_len=MAX_TEXT),
    **_EVIDENCE,
    **_NOTES,
}
_SCHEMAS: dict[str, tuple[str, dict[str, _Field]]] = {
    "sources.toml": (
        "source",
        {
            "id": _Field(_STR),
            "title": _Field(_STR, max_len=256),
            "publisher": _Field(_STR, max_len=MAX_SHORT),
            "url": _Field(_STR, max_len=512),
            "published": _Field((dt.date, str)),
            "language": _Field(_STR, max_len=10),
        },
    ),
    "people.toml": (
        "person",
        {
            "id": _Field(_STR),
            "name": _Field(_STR, max_len=100),
            "aliases": _Field((list,), required=False),
            "description": _Field(_STR, max_len=MAX_SHORT),
            "source": _Field(_STR),
            "name_ko": _Field(_STR, required=False, max_len=100),
            "description_ko": _Field(_STR, required=False, max_len=MAX_SHORT),
        },
    ),
    "quotes.toml": (
        "quote",
        {
            "id": _Field(_STR),
            "speaker": _Field(_STR),
            "text": _Field(_STR, max_len=MAX_QUOTE),
            "context": _Field(_STR, max_len=MAX_SHORT * 2),
            "source": _Field(_STR),
            "evidence": _Field(_STR, required=False, max_len=MAX_EVIDENCE),
            "date": _Field((dt.date,), required=False),
            "language": _Field(_STR, required=False, max_len=10),
            "gloss": _Field(_STR, required=False, max_len=MAX_QUOTE),
            "translation": _Field(_STR, required=False, max_len=MAX_SHORT),
            "variant": _Field(_STR, required=False, max_len=MAX_TEXT),
            "evidence_en": _Field(_STR, required=False, max_len=MAX_EVIDENCE),
            "context_ko": _Field(_STR, required=False, max_len=MAX_SHORT * 2),
            "original_ko": _Field(_STR, required=False, max_len=MAX_QUOTE),
            "original_source": _Field(_STR, required=False),
            "text_ko": _Field(_STR, required=False, max_len=MAX_QUOTE),
            "evidence_ko": _Field(_STR, required=False, max_len=MAX_EVIDENCE),
            # The card's context line: who, where, when (and what about, when not this song).
            "setting": _Field(_STR, required=False, max_len=MAX_SETTING),
            "setting_ko": _Field(_STR, required=False, max_len=MAX_SETTING),
            **_NOTES,
        },
    ),
    "facts.toml": (
        "fact",
        {
            "id": _Field(_STR),
            "topic": _Field(_STR),
            # Far from the song's story: drawn only when a fan asks for its topic.
            "aside": _Field((bool,), required=False),
            **_TEXT,
        },
    ),
    "timeline.toml": (
        "event",
        {
            "id": _Field(_STR),
            "date": _Field((dt.date,)),
            "time": _Field(_STR, required=False),
            "timezone": _Field(_STR, required=False),
            **_TEXT,
        },
    ),
    "trivia.toml": (
        "question",
        {
            "id": _Field(_STR),
            "question": _Field(_STR, max_len=MAX_TEXT),
            "answer": _Field(_STR, max_len=MAX_CHOICE),
            "wrong": _Field((list,)),
            "difficulty": _Field(_STR),
            "topic": _Field(_STR),
            "explanation": _Field(_STR, max_len=MAX_TEXT),
            "question_ko": _Field(_STR, required=False, max_len=MAX_TEXT),
            "answer_ko": _Field(_STR, required=False, max_len=MAX_CHOICE),
            "wrong_ko": _Field((list,), required=False),
            "explanation_ko": _Field(_STR, required=False, max_len=MAX_TEXT),
            # Questions whose text or choices give this one's answer away (or the other way
            # round): never in one game, never on one day's post.
            "keep_apart": _Field((list,), required=False),
            **_EVIDENCE,
            **_NOTES,
        },
    ),
}


class _Checker:
    """Collects problems while the items are read; nothing stops at the first one."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.seen_ids: dict[str, str] = {}  # id -> file it was first seen in

    def add(self, file: str, item: str, field: str, message: str) -> None:
        self.problems.append(Problem(file, item, field, message))

    def items(self, file: str, doc: dict[str, Any]) -> Iterable[dict[str, Any]]:
        """Yield the well-formed tables of `file`, reporting shape problems of the others."""
        key, schema = _SCHEMAS[file]
        for extra in sorted(set(doc) - {key}):
            self.add(file, "-", extra, f"unknown top-level key (expected [[{key}]] tables)")
        tables = doc.get(key, [])
        if not isinstance(tables, list):
            self.add(file, "-", key, f"must be an array of tables: [[{key}]]")
            return
        for position, table in enumerate(tables, start=1):
            item_id = table.get("id") if isinstance(table.get("id"), str) else f"#{position}"
            ok = True
            for name in sorted(set(table) - set(schema)):
                self.add(file, item_id, name, "unknown key")
                ok = False
            for name, spec in schema.items():
                if name not in table:
                    if spec.required:
                        self.add(file, item_id, name, "missing")
                        ok = False
                    continue
                value = table[name]
                if not isinstance(value, spec.types) or (
                    isinstance(value, bool) and bool not in spec.types
                ):
                    wanted = " or ".join(t.__name__ for t in spec.types)
                    self.add(file, item_id, name, f"must be a {wanted}, got {value!r}")
                    ok = False
                    continue
                if isinstance(value, str):
                    if not value.strip() and name not in ("title", "url"):
                        self.add(file, item_id, name, "is empty")
                        ok = False
                    elif spec.max_len is not None and len(value) > spec.max_len:
                        self.add(
                            file,
                            item_id,
                            name,
                            f"is {len(value)} characters long; at most {spec.max_len}",
                        )
                        ok = False
            if not ok:
                continue
            if not ID_PATTERN.match(item_id):
                self.add(file, item_id, "id", "must be 1-48 lowercase letters, digits or dashes")
                continue
            if item_id in self.seen_ids:
                self.add(file, item_id, "id", f"duplicate id (also in {self.seen_ids[item_id]})")
                continue
            self.seen_ids[item_id] = file
            yield table

    def source_ref(self, file: str, item: dict[str, Any], sources: dict[str, Source]) -> bool:
        if item["source"] not in sources:
            self.add(file, item["id"], "source", f"unknown source {item['source']!r}")
            return False
        return True

    def evidence_en(self, file: str, item: dict[str, Any], sources: dict[str, Source]) -> bool:
        """`evidence_en` is there exactly when there is evidence from a source not in English."""
        source = sources.get(item["source"])
        if source is None:
            return True  # already reported as an unknown source
        needed = bool(item.get("evidence")) and source.language != "en"
        if needed and "evidence_en" not in item:
            self.add(
                file,
                item["id"],
                "evidence_en",
                f"missing: evidence from a {source.language!r} source needs an English rendering",
            )
            return False
        if not needed and "evidence_en" in item:
            why = "the source is in English" if item.get("evidence") else "there is no evidence"
            self.add(file, item["id"], "evidence_en", f"not expected: {why}")
            return False
        return True

    def evidence_ko(self, file: str, item: dict[str, Any], sources: dict[str, Source]) -> bool:
        """`evidence_ko` is there exactly when there is evidence from a source not in Korean."""
        source = sources.get(item["source"])
        if source is None:
            return True  # already reported as an unknown source
        needed = bool(item.get("evidence")) and source.language != "ko"
        if needed and "evidence_ko" not in item and KOREAN_REQUIRED:
            self.add(
                file,
                item["id"],
                "evidence_ko",
                f"missing: evidence from a {source.language!r} source needs a Korean rendering",
            )
            return False
        if not needed and "evidence_ko" in item:
            why = "the source is in Korean" if item.get("evidence") else "there is no evidence"
            self.add(file, item["id"], "evidence_ko", f"not expected: {why}")
            return False
        return True

    def korean(self, file: str, item: dict[str, Any], *names: str) -> bool:
        """The item's own Korean texts `names` are there (once the dataset's Korean is)."""
        missing = [name for name in names if name not in item]
        for name in missing if KOREAN_REQUIRED else []:
            self.add(file, item["id"], name, "missing: every item has its Korean text")
        return not (missing and KOREAN_REQUIRED)

    def notes(self, file: str, item: dict[str, Any]) -> bool:
        """`attribution` is one of ATTRIBUTIONS; `note_ko` is there with `note`."""
        ok = True
        if "attribution" in item and item["attribution"] not in ATTRIBUTIONS:
            wanted = ", ".join(ATTRIBUTIONS)
            self.add(file, item["id"], "attribution", f"must be one of {wanted}")
            ok = False
        if "note" in item:
            ok = self.korean(file, item, "note_ko") and ok
        elif "note_ko" in item:
            self.add(file, item["id"], "note_ko", "not expected: there is no `note`")
            ok = False
        return ok

    def topic(self, file: str, item: dict[str, Any]) -> bool:
        if item["topic"] not in TOPICS:
            self.add(
                file,
                item["id"],
                "topic",
                f"unknown topic {item['topic']!r}; one of {', '.join(TOPICS)}",
            )
            return False
        return True


def _read(folder: Path, file: str, checker: _Checker) -> dict[str, Any]:
    path = folder / file
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        checker.add(file, "-", "-", f"file not found in {folder}")
    except tomllib.TOMLDecodeError as exc:  # includes impossible dates such as 2024-02-30
        checker.add(file, "-", "-", f"not valid TOML: {exc}")
    return {}


def _parse_sources(doc: dict[str, Any], c: _Checker) -> dict[str, Source]:
    sources: dict[str, Source] = {}
    for t in c.items("sources.toml", doc):
        published = t["published"]
        if isinstance(published, dt.datetime) or (
            isinstance(published, str) and published != "unknown"
        ):
            c.add("sources.toml", t["id"], "published", 'must be a date or "unknown"')
            continue
        if not t["title"].strip() and not t["url"].strip():
            c.add(
                "sources.toml",
                t["id"],
                "title",
                "is empty and so is url: the source can't be found",
            )
            continue
        if t["url"] and not t["url"].startswith(("https://", "http://")):
            c.add("sources.toml", t["id"], "url", "must start with https:// or http://")
            continue
        sources[t["id"]] = Source(
            id=t["id"],
            title=t["title"].strip(),
            publisher=t["publisher"],
            url=t["url"],
            published=published if isinstance(published, dt.date) else None,
            language=t["language"],
        )
    return sources


def _parse_people(
    doc: dict[str, Any], c: _Checker, sources: dict[str, Source]
) -> dict[str, Person]:
    people: dict[str, Person] = {}
    for t in c.items("people.toml", doc):
        aliases = t.get("aliases", [])
        if not all(isinstance(a, str) and a.strip() and len(a) <= 100 for a in aliases):
            c.add("people.toml", t["id"], "aliases", "must be a list of names (1-100 characters)")
            continue
        ok = c.korean("people.toml", t, "name_ko", "description_ko")
        if c.source_ref("people.toml", t, sources) and ok:
            people[t["id"]] = Person(
                id=t["id"],
                name=t["name"],
                description=t["description"],
                source=t["source"],
                aliases=tuple(aliases),
                name_ko=t.get("name_ko", ""),
                description_ko=t.get("description_ko", ""),
            )
    return people


def _parse_quotes(
    doc: dict[str, Any], c: _Checker, sources: dict[str, Source], people: dict[str, Person]
) -> list[Quote]:
    quotes: list[Quote] = []
    for t in c.items("quotes.toml", doc):
        ok = c.source_ref("quotes.toml", t, sources)
        ok = c.evidence_en("quotes.toml", t, sources) and ok
        if t["speaker"] not in people:
            c.add("quotes.toml", t["id"], "speaker", f"unknown person {t['speaker']!r}")
            ok = False
        evidence = t.get("evidence", "")
        if evidence and t["text"] not in evidence:
            c.add("quotes.toml", t["id"], "text", "is not contained in its evidence")
            ok = False
        language = t.get("language", "en")
        if language != "en" and not t.get("gloss"):
            c.add(
                "quotes.toml",
                t["id"],
                "gloss",
                f"missing: a {language!r} quote needs an English gloss",
            )
            ok = False
        ok = c.evidence_ko("quotes.toml", t, sources) and ok
        ok = c.korean("quotes.toml", t, "context_ko") and ok
        ok = c.notes("quotes.toml", t) and ok
        if "setting" in t:
            ok = c.korean("quotes.toml", t, "setting_ko") and ok
        ok = _quote_in_korean(t, c, sources, language) and ok
        if ok:
            quotes.append(
                Quote(
                    id=t["id"],
                    speaker=t["speaker"],
                    text=t["text"],
                    context=t["context"],
                    source=t["source"],
                    language=language,
                    date=t.get("date"),
                    evidence=evidence,
                    gloss=t.get("gloss", ""),
                    translation=t.get("translation", ""),
                    variant=t.get("variant", ""),
                    evidence_en=t.get("evidence_en", ""),
                    context_ko=t.get("context_ko", ""),
                    original_ko=t.get("original_ko", ""),
                    original_source=t.get("original_source", ""),
                    text_ko=t.get("text_ko", ""),
                    evidence_ko=t.get("evidence_ko", ""),
                    setting=t.get("setting", ""),
                    setting_ko=t.get("setting_ko", ""),
                    note=t.get("note", ""),
                    note_ko=t.get("note_ko", ""),
                    attribution=t.get("attribution", ""),
                )
            )
    return quotes


def _quote_in_korean(
    t: dict[str, Any], c: _Checker, sources: dict[str, Source], language: str
) -> bool:
    """A quote said in Korean is its own Korean. Any other has its Korean original, verbatim
    from a Korean source of the pack (`original_ko`, `original_source`), or else the dataset's
    own Korean translation (`text_ko`), never both: nobody is quoted in words they did not say."""
    file, item = "quotes.toml", t["id"]
    korean = [name for name in ("original_ko", "text_ko") if name in t]
    if language == "ko":
        for name in korean:
            c.add(file, item, name, "not expected: the quote is in Korean already")
        return not korean
    if len(korean) == 2:
        c.add(file, item, "text_ko", "not expected beside original_ko: one Korean, not two")
        return False
    if "original_ko" in t or "original_source" in t:
        source = sources.get(str(t.get("original_source", "")))
        if "original_ko" not in t:
            c.add(file, item, "original_ko", "missing: original_source names where it is from")
            return False
        if source is None:
            c.add(file, item, "original_source", "missing or unknown: where the original is from")
            return False
        if source.language != "ko":
            c.add(file, item, "original_source", f"is a {source.language!r} source, not Korean")
            return False
        return True
    return c.korean(file, t, "text_ko")


def _parse_facts(doc: dict[str, Any], c: _Checker, sources: dict[str, Source]) -> list[Fact]:
    facts: list[Fact] = []
    for t in c.items("facts.toml", doc):
        ok = c.source_ref("facts.toml", t, sources)
        ok = c.evidence_en("facts.toml", t, sources) and ok
        ok = c.evidence_ko("facts.toml", t, sources) and ok
        ok = c.korean("facts.toml", t, "text_ko") and ok
        ok = c.notes("facts.toml", t) and ok
        ok = c.topic("facts.toml", t) and ok
        if ok:
            facts.append(
                Fact(
                    id=t["id"],
                    topic=t["topic"],
                    text=t["text"],
                    source=t["source"],
                    evidence=t["evidence"],
                    evidence_en=t.get("evidence_en", ""),
                    text_ko=t.get("text_ko", ""),
                    evidence_ko=t.get("evidence_ko", ""),
                    aside=t.get("aside", False),
                    note=t.get("note", ""),
                    note_ko=t.get("note_ko", ""),
                    attribution=t.get("attribution", ""),
                )
            )
    return facts


_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _parse_events(doc: dict[str, Any], c: _Checker, sources: dict[str, Source]) -> list[Event]:
    events: list[Event] = []
    for t in c.items("timeline.toml", doc):
        ok = c.source_ref("timeline.toml", t, sources)
        ok = c.evidence_en("timeline.toml", t, sources) and ok
        ok = c.evidence_ko("timeline.toml", t, sources) and ok
        ok = c.korean("timeline.toml", t, "text_ko") and ok
        ok = c.notes("timeline.toml", t) and ok
        if isinstance(t["date"], dt.datetime):
            c.add("timeline.toml", t["id"], "date", "must be a date without a time (use `time`)")
            ok = False
        time: dt.time | None = None
        if "time" in t:
            match = _TIME.match(t["time"])
            if not match:
                c.add(
                    "timeline.toml", t["id"], "time", f"must be HH:MM (24-hour), got {t['time']!r}"
                )
                ok = False
            else:
                time = dt.time(int(match[1]), int(match[2]))
            if not t.get("timezone"):
                c.add("timeline.toml", t["id"], "timezone", "missing: a time needs its timezone")
                ok = False
        if t.get("timezone"):
            try:
                zoneinfo.ZoneInfo(t["timezone"])
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                c.add("timeline.toml", t["id"], "timezone", f"unknown timezone {t['timezone']!r}")
                ok = False
        if ok:
            events.append(
                Event(
                    id=t["id"],
                    date=t["date"],
                    text=t["text"],
                    source=t["source"],
                    evidence=t["evidence"],
                    time=time,
                    timezone=t.get("timezone", ""),
                    evidence_en=t.get("evidence_en", ""),
                    text_ko=t.get("text_ko", ""),
                    evidence_ko=t.get("evidence_ko", ""),
                    note=t.get("note", ""),
                    note_ko=t.get("note_ko", ""),
                    attribution=t.get("attribution", ""),
                )
            )
    return events


def _parse_questions(
    doc: dict[str, Any], c: _Checker, sources: dict[str, Source]
) -> list[Question]:
    questions: list[Question] = []
    for t in c.items("trivia.toml", doc):
        ok = c.source_ref("trivia.toml", t, sources)
        ok = c.evidence_en("trivia.toml", t, sources) and ok
        ok = c.evidence_ko("trivia.toml", t, sources) and ok
        ok = c.korean("trivia.toml", t, "question_ko", "answer_ko", "wrong_ko") and ok
        ok = c.korean("trivia.toml", t, "explanation_ko") and ok
        ok = _korean_choices(t, c) and ok
        ok = c.notes("trivia.toml", t) and ok
        keep_apart = t.get("keep_apart", [])
        if not all(isinstance(other, str) and other != t["id"] for other in keep_apart):
            c.add("trivia.toml", t["id"], "keep_apart", "must list other questions' ids")
            ok = False
        ok = c.topic("trivia.toml", t) and ok
        wrong = t["wrong"]
        if t["difficulty"] not in DIFFICULTIES:
            c.add("trivia.toml", t["id"], "difficulty", f"must be one of {', '.join(DIFFICULTIES)}")
            ok = False
        if not 1 <= len(wrong) <= 3 or not all(isinstance(w, str) and w.strip() for w in wrong):
            c.add(
                "trivia.toml", t["id"], "wrong", "must list 1 to 3 wrong choices (non-empty text)"
            )
            ok = False
        else:
            folded = [w.strip().casefold() for w in wrong]
            if len(set(folded)) != len(folded):
                c.add("trivia.toml", t["id"], "wrong", "has the same choice twice")
                ok = False
            if t["answer"].strip().casefold() in folded:
                c.add("trivia.toml", t["id"], "wrong", "contains the answer")
                ok = False
            too_long = [w for w in wrong if len(w) > MAX_CHOICE]
            if too_long:
                c.add(
                    "trivia.toml",
                    t["id"],
                    "wrong",
                    f"choice {too_long[0]!r} is over {MAX_CHOICE} characters (a button label)",
                )
                ok = False
        if ok:
            questions.append(
                Question(
                    id=t["id"],
                    question=t["question"],
                    answer=t["answer"],
                    wrong=tuple(wrong),
                    difficulty=t["difficulty"],
                    explanation=t["explanation"],
                    source=t["source"],
                    evidence=t["evidence"],
                    topic=t["topic"],
                    evidence_en=t.get("evidence_en", ""),
                    question_ko=t.get("question_ko", ""),
                    answer_ko=t.get("answer_ko", ""),
                    wrong_ko=tuple(t.get("wrong_ko", ())),
                    explanation_ko=t.get("explanation_ko", ""),
                    evidence_ko=t.get("evidence_ko", ""),
                    keep_apart=frozenset(t.get("keep_apart", ())),
                    note=t.get("note", ""),
                    note_ko=t.get("note_ko", ""),
                    attribution=t.get("attribution", ""),
                )
            )
    return questions


def _keep_apart_both_ways(questions: list[Question], c: _Checker) -> list[Question]:
    """Every `keep_apart` names a question; a pair kept apart is kept apart from both sides."""
    ids = {q.id for q in questions}
    apart: dict[str, set[str]] = {q.id: set() for q in questions}
    for q in questions:
        for other in sorted(q.keep_apart):
            if other not in ids:
                c.add("trivia.toml", q.id, "keep_apart", f"unknown question {other!r}")
                continue
            apart[q.id].add(other)
            apart[other].add(q.id)
    return [replace(q, keep_apart=frozenset(apart[q.id])) for q in questions]


def _korean_choices(t: dict[str, Any], c: _Checker) -> bool:
    """The Korean wrong choices: one for each English one, in the same order, each a button
    label, none twice and none the answer."""
    if "wrong_ko" not in t:
        return True
    wrong_ko, wrong = t["wrong_ko"], t["wrong"]
    problem = ""
    if not all(isinstance(w, str) and w.strip() for w in wrong_ko):
        problem = "must list non-empty texts"
    elif isinstance(wrong, list) and len(wrong_ko) != len(wrong):
        problem = f"has {len(wrong_ko)} choices; `wrong` has {len(wrong)} (one for each, in order)"
    elif any(len(w) > MAX_CHOICE for w in wrong_ko):
        problem = f"has a choice over {MAX_CHOICE} characters (a button label)"
    elif len({w.strip().casefold() for w in wrong_ko}) != len(wrong_ko):
        problem = "has the same choice twice"
    elif str(t.get("answer_ko", "")).strip().casefold() in {w.strip().casefold() for w in wrong_ko}:
        problem = "contains the answer"
    if problem:
        c.add("trivia.toml", t["id"], "wrong_ko", problem)
    return not problem


def dataset_version(folder: Path) -> str:
    digest = hashlib.sha256()
    for file in FILES:
        path = folder / file
        digest.update(file.encode())
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()[:12]


def load_dataset(folder: Path) -> Dataset:
    """Read and validate every file; raise DatasetError with all problems, or return the Dataset."""
    c = _Checker()
    docs = {file: _read(folder, file, c) for file in FILES}
    sources = _parse_sources(docs["sources.toml"], c)
    people = _parse_people(docs["people.toml"], c, sources)
    parsers: list[Callable[[], list[Any]]] = [
        lambda: _parse_quotes(docs["quotes.toml"], c, sources, people),
        lambda: _parse_facts(docs["facts.toml"], c, sources),
        lambda: _parse_events(docs["timeline.toml"], c, sources),
        lambda: _parse_questions(docs["trivia.toml"], c, sources),
    ]
    quotes, facts, events, questions = (parse() for parse in parsers)
    questions = _keep_apart_both_ways(questions, c)
    if c.problems:
        raise DatasetError(c.problems)
    by_id: dict[str, object] = {item.id: item for item in (*quotes, *facts, *events, *questions)}
    return Dataset(
        sources=sources,
        people=people,
        quotes=tuple(quotes),
        facts=tuple(facts),
        events=tuple(sorted(events, key=lambda e: (e.date, e.time or dt.time.min))),
        questions=tuple(questions),
        version=dataset_version(folder),
        _by_id=by_id,
    )


@dataclass(frozen=True, slots=True)
class Coverage:
    """How much of one kind of item the dataset has in Korean."""

    kind: str
    korean: int
    total: int


def korean_coverage(dataset: Dataset) -> list[Coverage]:
    """Per kind of item, how many have all their Korean text (`check` prints it; the loader
    refuses a dataset with gaps, so anything short of whole means a gap in a check-free load)."""

    def count(kind: str, items: Iterable[Any], whole: Callable[[Any], bool]) -> Coverage:
        listed = list(items)
        return Coverage(kind, sum(1 for item in listed if whole(item)), len(listed))

    return [
        count("quotes", dataset.quotes, _quote_has_korean),
        count("facts", dataset.facts, lambda f: bool(f.text_ko)),
        count(
            "questions",
            dataset.questions,
            lambda q: (
                bool(q.question_ko and q.answer_ko and len(q.wrong_ko) == len(q.wrong))
                and bool(q.explanation_ko or not q.explanation)
            ),
        ),
        count("events", dataset.events, lambda e: bool(e.text_ko)),
        count("people", dataset.people.values(), lambda p: bool(p.name_ko)),
    ]


def _quote_has_korean(quote: Quote) -> bool:
    words = quote.language == "ko" or bool(quote.original_ko or quote.text_ko)
    return words and bool(quote.context_ko or not quote.context)
