"""What the bot shows: a quote, a fact, a day's events, trivia questions, for a scope (a channel,
or a server for its scheduled posts), without repeats (SPEC §4, §6).

Used by the fan commands and the scheduler alike. Picks come from the dataset, the no-repeat
state from the store's shuffle bags; nothing here knows Discord.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import NamedTuple

from bot.domain import catalog, dates, rotation, trivia
from bot.domain import schedule as rules
from bot.domain.clock import Clock
from bot.domain.models import Dataset, Event, Fact, Question, Quote
from bot.domain.refusal import Refusal
from bot.domain.schedule import PostKind
from bot.store.base import Store


@dataclass(frozen=True)
class Day:
    """A calendar day of the timeline: its events, or, when it has none, the nearest ones."""

    month: int
    day: int
    today: dt.date  # for "N years ago"
    events: tuple[Event, ...]
    countdown: dates.Countdown | None  # only when `events` is empty


@dataclass(frozen=True)
class DailyPost:
    """What a scheduled quote, fact or on-this-day post shows."""

    kind: PostKind
    quote: Quote | None = None
    fact: Fact | None = None  # a fact post, or the fact an empty on-this-day shows instead
    day: Day | None = None  # an on-this-day post with events
    no_events_on: dt.date | None = None  # an on-this-day post that became a fact


# The one shuffle bag of each kind in a scope, under the key plain draws always had (filters
# draw from it too: rotation.draw's `within`).
PLAIN = {kind: rotation.filter_key(kind) for kind in ("quote", "fact")}


class BagScope(NamedTuple):
    """Whose shuffle bag a draw takes from: a server's channel (or, for scheduled posts, the
    server), which only the process running the server's shard serves (`exclusive`), or a
    fan's own, which any process may serve."""

    id: int
    exclusive: bool


def _no_quote(dataset: Dataset, speaker: str, search: str) -> Refusal:
    """No quote matches the filters: say which, and how to search more broadly."""
    if speaker and search:
        who = catalog.person_name(dataset.people[speaker])
        return Refusal("quote.none_found.speaker_words", speaker=who, search=search)
    if speaker:
        return Refusal(
            "quote.none_found.speaker", speaker=catalog.person_name(dataset.people[speaker])
        )
    if search:
        return Refusal("quote.none_found.words", search=search)
    return Refusal("quote.none_found")


class ContentService:
    def __init__(self, dataset: Dataset, store: Store, clock: Clock, rng: random.Random) -> None:
        self.dataset = dataset
        self.store = store
        self.clock = clock
        self.rng = rng

    # --- quotes and facts ---------------------------------------------------------------------

    async def quote(self, scope: BagScope, speaker: str = "", search: str = "") -> Quote:
        """A random quote matching the filters, not repeated in `scope` until the others were
        shown (the shuffle bag). Filtered or not, every quote is drawn from the scope's one
        bag, so a quote a filter showed does not come back under a plain `/quote`."""
        matching = catalog.quotes_matching(self.dataset, speaker or None, search or None)
        if not matching:
            raise _no_quote(self.dataset, speaker, search)
        ids = [q.id for q in self.dataset.quotes]
        within = {q.id for q in matching} if speaker or search else None
        picked = await self.store.draw(
            scope.id,
            "quote",
            PLAIN["quote"],
            ids,
            self.rng,
            exclusive=scope.exclusive,
            within=within,
        )
        quote = self.dataset.quote(picked)
        assert quote is not None  # the bag only holds ids of `matching`
        return quote

    def quote_by_id(self, quote_id: str) -> Quote:
        quote = self.dataset.quote(quote_id.strip().lower())
        if quote is None:
            raise Refusal("quote.unknown_id", quote_id=quote_id.strip()[:60])
        return quote

    async def fact(self, scope: BagScope, topic: str | None = None) -> Fact:
        """A random fact on `topic`, with the same no-repeat rule and the same one bag. With no
        topic, a fact about the song's story: the ones aside from it come only by topic."""
        facts = catalog.facts_about(self.dataset, topic)
        if topic is None:
            facts = [f for f in facts if not f.aside] or facts
        if not facts:
            raise Refusal("fact.none_on_topic")
        ids = [f.id for f in self.dataset.facts]
        within = {f.id for f in facts} if len(facts) < len(ids) else None
        picked = await self.store.draw(
            scope.id, "fact", PLAIN["fact"], ids, self.rng, exclusive=scope.exclusive, within=within
        )
        fact = self.dataset.fact(picked)
        assert fact is not None
        return fact

    # --- days -----------------------------------------------------------------------------------

    async def server_timezone(self, guild_id: int | None) -> str:
        """The server's timezone (`/settings timezone`), else UTC; one this host cannot use
        (set on another host) counts as unset."""
        stored = await self.store.guild_timezone(guild_id) if guild_id else None
        return rules.usable_timezone(stored) or "UTC"

    async def today(self, guild_id: int | None) -> dt.date:
        """Today's date in the server's timezone."""
        return dates.today_in(await self.server_timezone(guild_id), self.clock.now())

    def day(self, month: int, day: int, today: dt.date) -> Day:
        events = tuple(dates.events_on(self.dataset.events, month, day))
        if events:
            return Day(month, day, today, events, None)
        # Count from the asked-for day in this year (29 February falls back to the 28th).
        try:
            reference = dt.date(today.year, month, day)
        except ValueError:
            reference = dt.date(today.year, month, day - 1)
        return Day(month, day, today, (), dates.countdown(self.dataset.events, reference))

    # --- trivia ---------------------------------------------------------------------------------

    async def questions(
        self, guild_id: int, difficulty: str, count: int, topic: str | None = None
    ) -> list[Question]:
        """`count` questions (on `topic`, when given), the server's least recently asked first
        (Refusal when the dataset has fewer)."""
        last = await self.store.last_asked(guild_id)
        pool = [q for q in self.dataset.questions if topic is None or q.topic == topic]
        return trivia.pick_questions(pool, difficulty, count, last, self.rng)

    # --- scheduled posts ------------------------------------------------------------------------

    async def daily(
        self, kind: PostKind, guild_id: int, timezone: str, at: dt.datetime, *, sample: bool = False
    ) -> DailyPost:
        """A scheduled post's content. Real posts draw from the server's shuffle bag (no repeat
        until all were posted); a `sample` (a preview) leaves the bag alone."""

        server = BagScope(guild_id, exclusive=True)  # its runs are claimed by one process

        async def a_fact() -> Fact:
            if sample:
                return self.rng.choice(
                    [f for f in self.dataset.facts if not f.aside] or self.dataset.facts
                )
            return await self.fact(server)

        if kind is PostKind.QUOTE:
            quote = self.rng.choice(self.dataset.quotes) if sample else await self.quote(server)
            return DailyPost(kind, quote=quote)
        if kind is PostKind.FACT:
            return DailyPost(kind, fact=await a_fact())
        if kind is PostKind.ONTHISDAY:
            today = dates.today_in(timezone, at)
            day = self.day(today.month, today.day, today)
            if day.events:
                return DailyPost(kind, day=day)
            return DailyPost(kind, fact=await a_fact(), no_events_on=today)
        raise ValueError(f"not a post of the content service: {kind}")
