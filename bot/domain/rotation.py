"""Random picks that do not repeat (SPEC §4): the shuffle bag and least-recently-used picking.

Pure logic over item ids; the store persists each bag as the list of ids still to come.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from bot.domain.search import words

_MAX_FILTER_KEY = 200
_HASH_CHARS = 16


def draw(
    candidates: Sequence[str],
    remaining: Sequence[str],
    rng: random.Random,
    last: str | None = None,
    within: Collection[str] | None = None,
) -> tuple[str, list[str]]:
    """Draw the next id from a shuffle bag; returns (pick, the bag's new remaining ids).

    Ids no longer among `candidates` are dropped from the bag (the dataset may have changed);
    new candidates join at the next refill. An empty bag is refilled with all candidates in a
    new random order, and `last` (the previous pick) does not open the new round, so the same
    item is never shown twice in a row.

    `within`: a filtered draw (a speaker, a topic) from the same bag, so what a filter shows
    counts against the whole rotation: the pick is one of `within` still in the bag. When none
    is left, the filter's items (but `last`) go back into the bag: the fan asked for them again.
    """
    if not candidates:
        raise ValueError("nothing to draw from: no candidates")
    allowed = set(candidates)
    bag = [item for item in dict.fromkeys(remaining) if item in allowed]
    if not bag:
        bag = list(dict.fromkeys(candidates))
        rng.shuffle(bag)
        if last is not None and len(bag) >= 2 and bag[0] == last:
            swap_with = rng.randrange(1, len(bag))
            bag[0], bag[swap_with] = bag[swap_with], bag[0]
    if within is None:
        return bag[0], bag[1:]
    wanted = [item for item in dict.fromkeys(candidates) if item in within]
    if not wanted:
        raise ValueError("nothing to draw from: no candidate is within the filter")
    options = [item for item in bag if item in within]
    if not options:  # every item of the filter was shown this round: they come back
        options = [item for item in wanted if item != last] or wanted
        bag += options
    elif len(options) >= 2 and last in options:
        options.remove(last)
    pick = rng.choice(options)
    bag.remove(pick)
    return pick, bag


def filter_key(kind: str, **filters: str | int | None) -> str:
    """A short, stable key naming one bag: the kind plus its filters, e.g.
    "quote|search=camcorder|speaker=v". Filter order, case, accents and the order of words do
    not matter; empty filters are left out. Longer than 200 characters: the tail is hashed."""
    parts = [kind]
    for name in sorted(filters):
        value = filters[name]
        normalized = "" if value is None else " ".join(sorted(set(words(str(value)))))
        if not normalized:  # "", None and pure punctuation all mean "no filter"
            continue
        parts.append(f"{name}={normalized}")
    key = "|".join(parts)
    if len(key) <= _MAX_FILTER_KEY:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:_HASH_CHARS]
    return f"{key[: _MAX_FILTER_KEY - _HASH_CHARS - 1]}#{digest}"


def least_recently_used(
    candidates: Sequence[str],
    last_used: Mapping[str, datetime],
    count: int,
    rng: random.Random,
) -> list[str]:
    """Up to `count` distinct ids: never-used ones first (in random order), then the ones used
    longest ago. Ties between equally old ones are broken at random."""
    if count <= 0:
        return []
    unique = list(dict.fromkeys(candidates))
    never_used = [item for item in unique if item not in last_used]
    used = [item for item in unique if item in last_used]
    rng.shuffle(never_used)
    rng.shuffle(used)  # the stable sort below then breaks ties at random
    used.sort(key=lambda item: last_used[item])
    return (never_used + used)[:count]
