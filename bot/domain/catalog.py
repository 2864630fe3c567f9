"""Finding things in the dataset the way fans ask for them: by name, alias, words, topic, in
English or in Korean (뷔, 엄태화 감독; words of a quote's Korean)."""

from __future__ import annotations

from bot.domain.models import Dataset, Fact, Person, Quote
from bot.domain.refusal import Bilingual
from bot.domain.search import matches_all_words, normalize


def person_name(person: Person) -> Bilingual:
    """A person's name as English and as Korean fans write it (아이유, 뷔, 엄태화 감독)."""
    return Bilingual(person.name, person.name_ko or person.name)


def _names(person: Person) -> tuple[str, ...]:
    """Every name fans may type for `person`: name, aliases and the Korean name."""
    return (*person.names, person.name_ko) if person.name_ko else person.names


def find_person(dataset: Dataset, text: str) -> Person | None:
    """The person whose id, name or alias is `text` (case- and accent-insensitive)."""
    wanted = normalize(text.strip())
    if not wanted:
        return None
    for person in dataset.people.values():
        if wanted == normalize(person.id) or any(wanted == normalize(n) for n in _names(person)):
            return person
    return None


def speakers(dataset: Dataset) -> list[Person]:
    """People with at least one quote, most quoted first."""
    counts: dict[str, int] = {}
    for quote in dataset.quotes:
        counts[quote.speaker] = counts.get(quote.speaker, 0) + 1
    return sorted((dataset.people[p] for p in counts), key=lambda p: (-counts[p.id], p.name))


def people_matching(dataset: Dataset, typed: str, limit: int = 25) -> list[Person]:
    """Speakers whose name or an alias contains what was typed; prefix matches first."""
    wanted = normalize(typed.strip())
    ranked: list[tuple[int, Person]] = []
    for person in speakers(dataset):
        names = [normalize(n) for n in _names(person)]
        if not wanted or any(n.startswith(wanted) for n in names):
            ranked.append((0, person))
        elif any(wanted in n for n in names):
            ranked.append((1, person))
    ranked.sort(key=lambda rp: rp[0])
    return [p for _, p in ranked[:limit]]


def quotes_matching(dataset: Dataset, speaker: str | None, search: str | None) -> list[Quote]:
    """Quotes by `speaker` (a person id) with every word of `search` in one of their
    renderings: the text, its English gloss, its Korean original or translation."""
    found = []
    for quote in dataset.quotes:
        if speaker and quote.speaker != speaker:
            continue
        renderings = (quote.text, quote.gloss, quote.original_ko, quote.text_ko)
        if search and not any(matches_all_words(r, search) for r in renderings if r):
            continue
        found.append(quote)
    return found


def facts_about(dataset: Dataset, topic: str | None) -> list[Fact]:
    return [f for f in dataset.facts if topic is None or f.topic == topic]
