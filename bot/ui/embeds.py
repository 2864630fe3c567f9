"""Domain objects -> discord.Embed, in one style (SPEC §3), in the reader's language (§3a).

Every fact-bearing embed names its source. Every text is clipped to Discord's limits here, so no
caller has to think about them. Every word comes from the catalogue (`bot/locales/*/fans.po`);
a dataset item is shown in Korean to Korean readers when it has its Korean text (`*_ko`), and
people's words are never put in their mouths: a translation is marked as the bot's own.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Protocol

import discord
from babel.dates import format_date, format_skeleton

from bot.domain import catalog, dates
from bot.domain.models import TOPICS, Dataset, Event, Fact, Question, Quote, Source
from bot.domain.schedule import ALL_DAYS
from bot.i18n import Language, format_day, msg, render
from bot.services.content import DailyPost, Day

COLOUR = discord.Colour(0x9B7EDE)
ERROR_COLOUR = discord.Colour(0xE0707A)

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048

EN = Language.EN


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


# --- dates, names and sources as the reader writes them ---------------------------------------


def long_date(day: dt.date, language: Language = EN) -> str:
    """24 January 2024 · 2024년 1월 24일."""
    return format_day(day, language)


def short_date(day: dt.date, language: Language = EN) -> str:
    """24 Jan 2024 · 2024. 1. 24."""
    if language is Language.KO:
        return format_date(day, format="medium", locale="ko")
    return f"{day.day} {day.strftime('%b')} {day.year}"


def day_label(month: int, day: int, language: Language = EN) -> str:
    """A calendar day without its year: 24 January · 1월 24일."""
    any_year = dt.date(2000, month, day)  # 2000 is a leap year: 29 February exists
    if language is Language.KO:
        return format_skeleton("MMMMd", any_year, locale="ko")
    return f"{day} {any_year.strftime('%B')}"


def topic_label(topic: str, language: Language = EN) -> str:
    """A topic as fans read it ("Charts and records", "차트와 기록")."""
    return render(TOPICS[topic], language)


def date_examples(language: Language = EN) -> str:
    """The dates /onthisday reads, as examples for a reader who typed one it could not."""
    return ", ".join(f"`{example}`" for example in dates.date_examples(language))


def short_source(source: Source, language: Language = EN) -> str:
    """The one source line of a reply: "[NME](url) · 16 Jan 2024" (the date when known)."""
    name = source.publisher.replace("[", "(").replace("]", ")")
    label = f"[{name}]({source.url})" if source.url else name
    if source.published is None:
        return label
    return f"{label} · {short_date(source.published, language)}"


def source_line(source: Source, language: Language = EN) -> str:
    """The full source: '[Publisher: Title](url) — 24 January 2024', with what is known."""
    label = f"{source.publisher}: {clip(source.title, 200)}" if source.title else source.publisher
    label = clip(label.replace("[", "(").replace("]", ")"), 300)
    linked = f"[{label}]({source.url})" if source.url else label
    if source.published is None:
        return linked
    return f"{linked} — {long_date(source.published, language)}"


# --- what a reader is shown of an item --------------------------------------------------------


# A quote and the bot's translation of it, together, at most this long in a reply (a phone
# screen, SPEC §3); longer, the reply shows the translation (marked) and "Details" the words
# as published.
QUOTE_AND_TRANSLATION_MAX = 480


@dataclass(frozen=True)
class QuoteWords:
    """A quote as one reader is shown it: the words (as said, or as published), the bot's
    translation below them when the reader needs one (with its label's id), and the source
    of the words shown. `note`: the id of a line under words that are the bot's translation."""

    text: str
    source: Source
    translation: str = ""
    translation_label: str = ""
    korean_original: bool = False  # `text` is the Korean original from a Korean source
    note: str = ""

    @property
    def published(self) -> bool:
        """Whether `text` is the quote as its source published it."""
        return not self.korean_original and not self.note


def quote_words(quote: Quote, dataset: Dataset, language: Language = EN) -> QuoteWords:
    """What of `quote` a reader sees. English readers: the text as published, with the bot's
    English under a quote not said in English. Korean readers: a quote said in Korean as said;
    else its Korean original from a Korean source when the dataset has one, else the published
    text with the bot's Korean translation under it, or, when both would not fit a phone, the
    translation alone, marked, the published text one click away (SPEC §3a: nobody is quoted
    in words they did not say)."""
    source = dataset.source_of(quote)
    if language is Language.KO and quote.language != "ko":
        original = dataset.sources.get(quote.original_source)
        if quote.original_ko and original is not None:
            return QuoteWords(quote.original_ko, original, korean_original=True)
        if quote.text_ko:
            if len(quote.text) + len(quote.text_ko) > QUOTE_AND_TRANSLATION_MAX:
                return QuoteWords(quote.text_ko, source, note=msg("quote.translated_note"))
            return QuoteWords(quote.text, source, quote.text_ko, msg("translation.korean"))
    if quote.gloss and quote.language != language.value:  # the gloss: English of other words
        return QuoteWords(quote.text, source, quote.gloss, msg("translation.english"))
    return QuoteWords(quote.text, source)


def quote_embed(quote: Quote, dataset: Dataset, language: Language = EN) -> discord.Embed:
    """A quote as a fan sees it: the words, who said them, one line of where and when (and
    what about), where from; the rest is behind "Details", the id too (cards show no ids)."""
    speaker = catalog.person_name(dataset.people[quote.speaker])
    words = quote_words(quote, dataset, language)
    shown = f"“{words.text}”"
    if words.note:
        shown += f"\n-# {render(words.note, language)}"
    setting = quote_setting(quote, language)
    if setting:
        shown += f"\n— *{setting}*"
    embed = _embed(render("quote.title", language, speaker=speaker), shown)
    if words.translation:
        _field(embed, render(words.translation_label, language), f"“{words.translation}”")
    source_name = msg("source.korean_original") if words.korean_original else msg("source.one")
    _field(embed, render(source_name, language), short_source(words.source, language))
    return embed


def quote_setting(quote: Quote, language: Language = EN) -> str:
    """A quote's context line in the reader's language: who, where, when."""
    return quote.setting_ko if language is Language.KO and quote.setting_ko else quote.setting


def editors_note(item: Quote | Fact | Event | Question, language: Language = EN) -> str:
    """What the editors say about an item's sources (shown only behind Details)."""
    return item.note_ko if language is Language.KO and item.note_ko else item.note


def fact_text(fact: Fact, language: Language = EN) -> str:
    """A fact in the reader's language (the English while its Korean is not written yet)."""
    return fact.text_ko if language is Language.KO and fact.text_ko else fact.text


def event_text(event: Event, language: Language = EN) -> str:
    return event.text_ko if language is Language.KO and event.text_ko else event.text


def fact_embed(fact: Fact, dataset: Dataset, language: Language = EN) -> discord.Embed:
    title = render("fact.title", language, topic=topic_label(fact.topic, language))
    embed = _embed(title, fact_text(fact, language))
    _field(embed, render("source.one", language), short_source(dataset.source_of(fact), language))
    return embed


class HasPassage(Protocol):
    @property
    def evidence(self) -> str: ...
    @property
    def evidence_en(self) -> str: ...
    @property
    def evidence_ko(self) -> str: ...


def passage_translation(
    item: HasPassage, source: Source, language: Language = EN
) -> tuple[str, str] | None:
    """The bot's rendering of an item's passage that the reader needs beside it, with the id
    of its label: for Korean readers the Korean (`evidence_ko`) of a passage not in Korean;
    for English readers (and while the Korean is not written yet) the English (`evidence_en`)
    of a passage not in English."""
    if language is Language.KO:
        if source.language == "ko":
            return None
        if item.evidence_ko:
            return msg("translation.korean"), item.evidence_ko
    if item.evidence_en:
        return msg("translation.english"), item.evidence_en
    return None


def evidence_fields(
    embed: discord.Embed, item: HasPassage, source: Source, language: Language = EN
) -> None:
    """The source's own words, and the bot's rendering of them in the reader's language when
    they are in another (SPEC §3)."""
    _field(embed, render("evidence.passage", language), f"> {item.evidence}")
    translation = passage_translation(item, source, language)
    if translation is not None:
        label, text = translation
        _field(embed, render(label, language), f"> {text}")


# --- on this day ------------------------------------------------------------------------------


def when(event: Event, today: dt.date, language: Language = EN) -> str:
    """How long ago an event was on `today` (a day of the server's calendar, or the
    anniversary it is counted at), in whole years: "this year", "last year", "1 year ago",
    "2 years ago"; for one still to come "next year", "in 1 year", "in 2 years" (2년 전, 1년 후).
    Within a year but in another calendar year is "last year" or "next year", not "this year"."""
    ago = dates.years_ago(event.date, today)
    if ago == 0 and event.date.year < today.year:
        return render("onthisday.last_year", language)
    if ago == 0 and event.date.year > today.year:
        return render("onthisday.next_year", language)
    if ago == 0:
        return render("onthisday.this_year", language)
    if ago == 1:
        return render("onthisday.one_year_ago", language)
    if ago == -1:
        return render("onthisday.in_one_year", language)
    if ago < 0:
        return render("onthisday.in_years", language, years=-ago)
    return render("onthisday.years_ago", language, years=ago)


def event_line(event: Event, language: Language = EN) -> str:
    """An event's text, after its local time when it has one ("18:00 KST, …") and the text
    does not already say it ("… released at 6 PM KST" is not told its time twice)."""
    text = event_text(event, language)
    if event.time is None or says_time(text, event.time, language):
        return text
    if language is Language.KO:  # 오후 6시, 오전 10:30 (CLDR's Korean forms), 자정, 정오
        clock = _KOREAN_HOURS.get(event.time) or format_skeleton(
            "h" if event.time.minute == 0 else "hm",
            dt.datetime.combine(event.date, event.time),
            locale="ko",
        )
    else:
        clock = event.time.strftime("%H:%M")
    if event.timezone == "Asia/Seoul":
        at = render("onthisday.at_kst", language, time=clock)
    else:
        at = render("onthisday.at_zone", language, time=clock, zone=event.timezone)
    return f"{at}, {text}"


_KOREAN_HOURS = {dt.time(0): "자정", dt.time(12): "정오"}


def says_time(text: str, time: dt.time, language: Language) -> bool:
    """Whether `text` already names `time` the way the dataset writes times: 6 PM, 6:30 PM,
    18:00, midnight; 오후 6시, 오후 6시 30분, 자정."""
    hour = time.hour % 12 or 12
    if language is Language.KO:
        half = "오전" if time.hour < 12 else "오후"
        minutes = f" {time.minute}분" if time.minute else ""
        forms = [f"{half} {hour}시{minutes}", f"{time.hour}시{minutes}"]
        forms += [_KOREAN_HOURS[time]] if time in _KOREAN_HOURS else []
    else:
        half = "am" if time.hour < 12 else "pm"
        clock = f"{hour}:{time.minute:02d}" if time.minute else str(hour)
        forms = [f"{clock} {half}", f"{clock}{half}", time.strftime("%H:%M")]
        forms += {dt.time(0): ["midnight"], dt.time(12): ["noon"]}.get(time, [])
    said = text.casefold()
    return any(re.search(rf"(?<![\d:]){re.escape(form)}(?![\d:])", said) for form in forms)


# What a day's reply may spend on its events: a busy day lists as many as fit, and says how
# many more are behind "Details" (an event's own text is never cut).
DAY_EVENTS_BUDGET = 440


def onthisday_embed(
    month: int,
    day: int,
    events: list[Event],
    today: dt.date,
    dataset: Dataset,
    language: Language = EN,
) -> discord.Embed:
    """A day's events, one line each ("**2024** · 2 years ago — …"), and where they are from."""
    lines: list[str] = []
    used = 0
    at = dates.nearest_anniversary(month, day, today)  # the years, counted at the anniversary
    for event in events:
        line = f"**{event.date.year}** · {when(event, at, language)} — "
        line += event_line(event, language)
        if lines and used + len(line) > DAY_EVENTS_BUDGET:
            break
        lines.append(line)
        used += len(line) + 1
    more = len(events) - len(lines)
    if more:
        lines.append(render("onthisday.more", language, count=more))
    title = render("onthisday.title", language, day=day_label(month, day, language))
    embed = _embed(title, "\n".join(lines))
    publishers = list(dict.fromkeys(dataset.source_of(e).publisher for e in events))
    name = msg("source.many") if len(publishers) > 1 else msg("source.one")
    _field(embed, render(name, language), ", ".join(publishers))
    return embed


def _in_days(days: int, language: Language) -> str:
    if days == 1:
        return render("onthisday.tomorrow", language)
    return render("onthisday.in_days", language, days=days)


def _days_ago(days: int, language: Language) -> str:
    if days == 1:
        return render("onthisday.yesterday", language)
    return render("onthisday.days_ago", language, days=days)


def day_embed(day: Day, dataset: Dataset, language: Language = EN) -> discord.Embed:
    """/onthisday: the day's events, or the nearest ones when it has none."""
    if day.events or day.countdown is None:
        return onthisday_embed(day.month, day.day, list(day.events), day.today, dataset, language)
    return empty_day_embed(day.month, day.day, day.countdown, dataset, language)


def empty_day_embed(
    month: int,
    day: int,
    countdown: dates.Countdown,
    dataset: Dataset,
    language: Language = EN,
) -> discord.Embed:
    """A day without events: the next anniversary (its first event; "Details" shows the
    day) and how long ago the last one was."""
    label = day_label(month, day, language)
    lines = [render("onthisday.empty", language, day=label)]
    if countdown.next_day is not None:
        next_day = day_label(countdown.next_day.month, countdown.next_day.day, language)
        lines.append(
            render(
                "onthisday.next",
                language,
                day=next_day,
                when=_in_days(countdown.days_until, language),
            )
        )
        for event in countdown.next_events[:1]:
            lines.append(f"**{event.date.year}** — {event_line(event, language)}")
    if countdown.previous_day is not None:
        previous = day_label(countdown.previous_day.month, countdown.previous_day.day, language)
        lines.append(
            render(
                "onthisday.previous",
                language,
                day=previous,
                when=_days_ago(countdown.days_since, language),
            )
        )
    title = render("onthisday.title", language, day=label)
    return _embed(title, clip("\n".join(lines), DESCRIPTION_MAX))


# --- scheduled posts --------------------------------------------------------------------------


def daily_post_embed(
    post: DailyPost,
    dataset: Dataset,
    days: frozenset[int] = ALL_DAYS,
    *,
    language: Language = EN,
) -> discord.Embed:
    """A scheduled quote, fact or on-this-day post, under its header (from its days), in the
    server's `language`."""
    if post.quote is not None:
        embed = quote_embed(post.quote, dataset, language)
    elif post.day is not None:
        embed = day_embed(post.day, dataset, language)
    elif post.fact is not None:
        embed = fact_embed(post.fact, dataset, language)
    else:
        raise ValueError(f"an empty {post.kind} post")
    # The schedules' own words (bot/ui/schedules.py builds on this module, hence imported here).
    from bot.ui.schedules import post_title

    title = post_title(post.kind, days, language)
    return scheduled_embed(title, embed, no_events_on=post.no_events_on, language=language)


EMBED_TOTAL_MAX = 6000


def scheduled_embed(
    title: str,
    embed: discord.Embed,
    no_events_on: dt.date | None = None,
    *,
    language: Language = EN,
) -> discord.Embed:
    """A scheduled post: the usual embed under a small header ("Daily quote", "Weekdays
    quote", "Quote · Mon, Wed, Fri"). With `no_events_on`, an on-this-day post that is a fact
    instead says so."""
    embed.set_author(name=title)
    if no_events_on is not None:
        day = day_label(no_events_on.month, no_events_on.day, language)
        note = f"*{render('onthisday.fact_instead', language, day=day)}*"
        embed.description = clip(f"{note}\n\n{embed.description or ''}", DESCRIPTION_MAX)
    return embed


# --- about and the sources --------------------------------------------------------------------


def about_embed(dataset: Dataset, version: str, language: Language = EN) -> discord.Embed:
    counts = dataset.counts()
    embed = _embed(render("about.title", language), render("about.description", language))
    _field(
        embed,
        render("about.dataset.name", language),
        render(
            "about.dataset.value",
            language,
            quotes=counts["quotes"],
            facts=counts["facts"],
            questions=counts["questions"],
            events=counts["events"],
            sources=counts["sources"],
        ),
    )
    _field(embed, render("about.commands.name", language), render("about.commands.value", language))
    _field(embed, render("source.many", language), render("about.sources.value", language))
    _footer(embed, render("about.footer", language, version=version))
    return embed


SOURCES_PER_PAGE = 10


def sources_page_count(dataset: Dataset) -> int:
    return max(1, -(-len(dataset.sources) // SOURCES_PER_PAGE))


def sources_embed(dataset: Dataset, page: int, language: Language = EN) -> discord.Embed:
    ordered = sorted(
        dataset.sources.values(), key=lambda s: (s.published or dt.date.max, s.publisher, s.id)
    )
    pages = sources_page_count(dataset)
    page = min(max(page, 0), pages - 1)
    chunk = ordered[page * SOURCES_PER_PAGE : (page + 1) * SOURCES_PER_PAGE]
    lines = [
        f"{page * SOURCES_PER_PAGE + i}. {source_line(s, language)}" for i, s in enumerate(chunk, 1)
    ]
    title = render("sources.title", language, page=page + 1, pages=pages)
    embed = _embed(title, join_within(lines, DESCRIPTION_MAX))
    _footer(
        embed,
        render("sources.footer", language, count=len(dataset.sources)),
    )
    return embed


# --- help and the welcome post ----------------------------------------------------------------

# A command (as typed, in every language) and the id of what it does ("" for a line of
# sub-commands that needs no words).
FAN_COMMANDS = (
    ("/quote", msg("help.quote")),
    ("/fact", msg("help.fact")),
    ("/onthisday", msg("help.onthisday")),
    ("/daily play", msg("help.daily_play")),
    ("/about", msg("help.about")),
    ("/help", msg("help.help")),
)
GAME_COMMANDS = (
    ("/trivia play", msg("help.trivia_play")),
    ("/trivia stop · leaderboard · stats", ""),
    ("/daily board", ""),
)
MODERATOR_COMMANDS = (
    ("/schedule add", msg("help.schedule_add")),
    ("/schedule list · preview · pause · resume · remove", ""),
    ("/settings timezone · language · check", ""),
    ("/trivia reports", msg("help.trivia_reports")),
)


def _command_lines(commands: tuple[tuple[str, str], ...], language: Language) -> str:
    return "\n".join(
        f"`{name}` — {render(what, language)}" if what else f"`{name}`" for name, what in commands
    )


def help_embed(*, in_server: bool, moderator: bool, language: Language = EN) -> discord.Embed:
    """/help: the commands the member can use here, one line each, grouped (a command's
    options show in Discord as it is typed)."""
    embed = _embed(render("help.title", language), "")
    _field(embed, render("help.everyone", language), _command_lines(FAN_COMMANDS, language))
    if in_server:
        _field(embed, render("help.trivia_here", language), _command_lines(GAME_COMMANDS, language))
    else:
        _field(
            embed, render("help.trivia_elsewhere", language), render("help.servers_only", language)
        )
    if moderator:
        _field(
            embed,
            render("help.moderators", language),
            _command_lines(MODERATOR_COMMANDS, language),
        )
    return embed


def welcome_embed(language: Language = EN) -> discord.Embed:
    """Posted once, when the bot joins a server, in the server's language."""
    embed = _embed(render("welcome.title", language), render("welcome.description", language))
    _field(embed, render("welcome.try.name", language), render("welcome.try.value", language))
    _field(embed, render("help.moderators", language), render("welcome.moderators.value", language))
    return embed
