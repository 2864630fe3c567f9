"""Domain objects -> discord.Embed, in one style (SPEC §3).

Every fact-bearing embed names its source. Every text is clipped to Discord's limits here, so no
caller has to think about them.
"""

from __future__ import annotations

import datetime as dt

import discord

from bot.domain import dates
from bot.domain.models import TOPICS, Dataset, Event, Fact, Quote, Source
from bot.domain.schedule import (
    ALL_DAYS,
    post_title,
)
from bot.services.content import DailyPost, Day

COLOUR = discord.Colour(0x9B7EDE)
ERROR_COLOUR = discord.Colour(0xE0707A)

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048


def clip(text: str, limit: int) -> str:
    """Shorten `text` to at most `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def join_within(lines: list[str], limit: int) -> str:
    """Join whole lines while they fit in `limit` characters (a cut line would break a link)."""
    kept: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > limit:
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(kept)


def _embed(title: str, description: str = "", colour: discord.Colour = COLOUR) -> discord.Embed:
    return discord.Embed(
        title=clip(title, TITLE_MAX), description=clip(description, DESCRIPTION_MAX), colour=colour
    )


def _field(embed: discord.Embed, name: str, value: str, inline: bool = False) -> None:
    embed.add_field(
        name=clip(name, FIELD_NAME_MAX), value=clip(value, FIELD_VALUE_MAX), inline=inline
    )


def _footer(embed: discord.Embed, text: str) -> None:
    embed.set_footer(text=clip(text, FOOTER_MAX))


def long_date(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%B')} {day.year}"


def short_date(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%b')} {day.year}"


def short_source(source: Source) -> str:
    """The one source line of a reply: "[NME](url) · 16 Jan 2024" (the date when known)."""
    name = source.publisher.replace("[", "(").replace("]", ")")
    label = f"[{name}]({source.url})" if source.url else name
    return f"{label} · {short_date(source.published)}" if source.published else label


def source_line(source: Source) -> str:
    """The full source: '[Publisher: Title](url) — 24 January 2024', with what is known."""
    label = f"{source.publisher}: {clip(source.title, 200)}" if source.title else source.publisher
    label = clip(label.replace("[", "(").replace("]", ")"), 300)
    linked = f"[{label}]({source.url})" if source.url else label
    return f"{linked} — {long_date(source.published)}" if source.published else linked


def quote_embed(quote: Quote, dataset: Dataset) -> discord.Embed:
    """A quote as a fan sees it: the words, who said them, where from (the rest is behind
    "Details")."""
    speaker = dataset.people[quote.speaker]
    embed = _embed(f"{speaker.name} said", f"“{quote.text}”")
    if quote.gloss:
        _field(embed, "In English (the bot's translation)", f"“{quote.gloss}”")
    _field(embed, "Source", short_source(dataset.source_of(quote)))
    _footer(embed, f"Quote {quote.id}")
    return embed


def fact_embed(fact: Fact, dataset: Dataset) -> discord.Embed:
    embed = _embed(f"Fact · {TOPICS[fact.topic]}", fact.text)
    _field(embed, "Source", short_source(dataset.source_of(fact)))
    _footer(embed, f"Fact {fact.id}")
    return embed


def evidence_fields(embed: discord.Embed, evidence: str, evidence_en: str) -> None:
    """The source's own words, and the bot's English rendering of them when they are not
    English (SPEC §3)."""
    _field(embed, "From the source", f"> {evidence}")
    if evidence_en:
        _field(embed, "In English (the bot's translation)", f"> {evidence_en}")


def _day_label(month: int, day: int) -> str:
    return f"{day} {dt.date(2000, month, day).strftime('%B')}"  # 2000 is a leap year


def _when(event: Event, today: dt.date) -> str:
    ago = dates.years_ago(event.date, today)
    if ago == 0:
        return "this year"
    if ago < 0:
        return f"in {-ago} years"
    return "1 year ago" if ago == 1 else f"{ago} years ago"


def _event_line(event: Event) -> str:
    time = ""
    if event.time is not None:
        zone = "KST" if event.timezone == "Asia/Seoul" else event.timezone
        time = f"{event.time.strftime('%H:%M')} {zone}, "
    return f"{time}{event.text}"


# What a day's reply may spend on its events: a busy day lists as many as fit, and says how
# many more are behind "Details" (an event's own text is never cut).
DAY_EVENTS_BUDGET = 440


def onthisday_embed(
    month: int, day: int, events: list[Event], today: dt.date, dataset: Dataset
) -> discord.Embed:
    """A day's events, one line each ("**2024** · 2 years ago — …"), and where they are from."""
    lines: list[str] = []
    used = 0
    for event in events:
        line = f"**{event.date.year}** · {_when(event, today)} — {_event_line(event)}"
        if lines and used + len(line) > DAY_EVENTS_BUDGET:
            break
        lines.append(line)
        used += len(line) + 1
    more = len(events) - len(lines)
    if more:
        lines.append(f"…and {more} more on this day: **Details** shows them.")
    embed = _embed(f"On this day: {_day_label(month, day)}", "\n".join(lines))
    publishers = list(dict.fromkeys(dataset.source_of(e).publisher for e in events))
    _field(embed, "Sources" if len(publishers) > 1 else "Source", ", ".join(publishers))
    return embed


def _short(day: dt.date) -> str:
    return _day_label(day.month, day.day)


def _in_days(days: int) -> str:
    return "tomorrow" if days == 1 else f"in {days} days"


def day_embed(day: Day, dataset: Dataset) -> discord.Embed:
    """/onthisday: the day's events, or the nearest ones when it has none."""
    if day.events or day.countdown is None:
        return onthisday_embed(day.month, day.day, list(day.events), day.today, dataset)
    return empty_day_embed(day.month, day.day, day.countdown, dataset)


def daily_post_embed(
    post: DailyPost, dataset: Dataset, days: frozenset[int] = ALL_DAYS
) -> discord.Embed:
    """A scheduled quote, fact or on-this-day post, under its header (from its days)."""
    if post.quote is not None:
        embed = quote_embed(post.quote, dataset)
    elif post.day is not None:
        embed = day_embed(post.day, dataset)
    elif post.fact is not None:
        embed = fact_embed(post.fact, dataset)
    else:
        raise ValueError(f"an empty {post.kind} post")
    return scheduled_embed(post_title(post.kind, days), embed, no_events_on=post.no_events_on)


def empty_day_embed(
    month: int, day: int, countdown: dates.Countdown, dataset: Dataset
) -> discord.Embed:
    """A day without events: the next anniversary (its first event; "Details" shows the
    day) and how long ago the last one was."""
    lines = [f"Nothing in the story of “Love wins all” happened on {_day_label(month, day)}."]
    if countdown.next_day is not None:
        lines.append(
            f"The next anniversary is **{_short(countdown.next_day)}**,"
            f" {_in_days(countdown.days_until)}:"
        )
        for event in countdown.next_events[:1]:
            lines.append(f"**{event.date.year}** — {_event_line(event)}")
    if countdown.previous_day is not None:
        ago = countdown.days_since
        lines.append(
            f"The most recent was **{_short(countdown.previous_day)}**,"
            f" {'yesterday' if ago == 1 else f'{ago} days ago'}."
        )
    return _embed(f"On this day: {_day_label(month, day)}", clip("\n".join(lines), DESCRIPTION_MAX))


def about_embed(dataset: Dataset, version: str) -> discord.Embed:
    counts = dataset.counts()
    embed = _embed(
        "Love Wins All bot",
        "A fan bot for “Love wins all”, IU's January 2024 single, with V of BTS in the music "
        "video directed by Um Tae-hwa. Quotes, facts, trivia and on-this-day posts — every "
        "item traced to a published article, with the passage that supports it.",
    )
    _field(
        embed,
        "Dataset",
        f"{counts['quotes']} quotes · {counts['facts']} facts · {counts['questions']} trivia "
        f"questions · {counts['events']} timeline events · {counts['sources']} sources",
    )
    _field(embed, "Commands", "`/help` lists every command you can use where you are.")
    _field(embed, "Sources", "Press **All sources** for every article, with its link.")
    _footer(embed, f"Version {version} · dataset {dataset.version}")
    return embed


SOURCES_PER_PAGE = 10


def sources_page_count(dataset: Dataset) -> int:
    return max(1, -(-len(dataset.sources) // SOURCES_PER_PAGE))


def sources_embed(dataset: Dataset, page: int) -> discord.Embed:
    ordered = sorted(
        dataset.sources.values(), key=lambda s: (s.published or dt.date.max, s.publisher, s.id)
    )
    pages = sources_page_count(dataset)
    page = min(max(page, 0), pages - 1)
    chunk = ordered[page * SOURCES_PER_PAGE : (page + 1) * SOURCES_PER_PAGE]
    lines = [f"{page * SOURCES_PER_PAGE + i}. {source_line(s)}" for i, s in enumerate(chunk, 1)]
    embed = _embed(f"Sources ({page + 1}/{pages})", join_within(lines, DESCRIPTION_MAX))
    _footer(embed, f"{len(dataset.sources)} published articles · dataset {dataset.version}")
    return embed


FAN_COMMANDS = (
    ("/quote", "a quote from IU, V and the others"),
    ("/fact", "a fact about the song and its video"),
    ("/onthisday", "this day (or any day) in the story"),
    ("/about", "the bot and its sources"),
    ("/help", "this list"),
)
GAME_COMMANDS = (
    ("/trivia play", "a quiz for everyone in the channel"),
    ("/trivia stop · leaderboard · stats", ""),
)
MODERATOR_COMMANDS = (
    ("/schedule add", "a daily post in a channel"),
    ("/schedule list · preview · pause · resume · remove", ""),
    ("/settings timezone · check", ""),
    ("/trivia reports", "questions fans reported"),
)


def _command_lines(commands: tuple[tuple[str, str], ...]) -> str:
    return "\n".join(f"`{name}` — {what}" if what else f"`{name}`" for name, what in commands)


def help_embed(*, in_server: bool, moderator: bool) -> discord.Embed:
    """/help: the commands the member can use here, one line each, grouped (a command's
    options show in Discord as it is typed)."""
    embed = _embed("What I can do", "")
    _field(embed, "Everyone", _command_lines(FAN_COMMANDS))
    if in_server:
        _field(embed, "Trivia in this server", _command_lines(GAME_COMMANDS))
    else:
        _field(embed, "Trivia and daily posts", "In servers that added the bot.")
    if moderator:
        _field(embed, "Moderators", _command_lines(MODERATOR_COMMANDS))
    return embed


def welcome_embed() -> discord.Embed:
    """Posted once, when the bot joins a server."""
    embed = _embed(
        "Hello! 💜",
        "I'm a fan bot for “Love wins all”, IU's song with V of BTS. Every quote and fact I "
        "show comes from a published article, with its source.",
    )
    _field(
        embed,
        "Try",
        "`/quote` · `/fact` · `/onthisday` · `/trivia play` with friends in a channel",
    )
    _field(
        embed,
        "Moderators",
        "`/schedule add` posts a quote, fact or trivia question every day; "
        "`/settings timezone` sets the server's time. `/help` lists everything.",
    )
    return embed


# --- schedules ------------------------------------------------------------------------------

EMBED_TOTAL_MAX = 6000


def scheduled_embed(
    title: str, embed: discord.Embed, no_events_on: dt.date | None = None
) -> discord.Embed:
    """A scheduled post: the usual embed under a small header ("Daily quote", "Weekdays
    quote", "Quote · Mon, Wed, Fri"). With `no_events_on`, an on-this-day post that is a fact
    instead says so."""
    embed.set_author(name=title)
    if no_events_on is not None:
        note = (
            f"*Nothing in the story of “Love wins all” happened on "
            f"{_day_label(no_events_on.month, no_events_on.day)}, so here is a fact instead.*"
        )
        embed.description = clip(f"{note}\n\n{embed.description or ''}", DESCRIPTION_MAX)
    return embed
