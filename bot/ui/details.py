"""What a reply keeps one click away (SPEC §3): context, other renderings, the source's own words
with the bot's rendering of them in the reader's language, and the full source.

The "Details" button is a `DynamicItem` whose custom_id names the item, so it answers after a
restart too; the answer is ephemeral (only the fan who asked sees it).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.domain import catalog, dates
from bot.domain.models import Dataset, Event, Fact, Question, Quote
from bot.domain.records import StoreUnavailable
from bot.errors import OneErrorPath, UserError, respond
from bot.i18n import Language, language_of, render
from bot.ui.embeds import (
    COLOUR,
    DESCRIPTION_MAX,
    clip,
    day_label,
    editors_note,
    event_text,
    evidence_fields,
    join_within,
    long_date,
    passage_translation,
    quote_words,
    source_line,
    when,
)

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot

KINDS = ("quote", "fact", "question", "day")


class DetailsButton(
    OneErrorPath,
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=(
        rf"lwa:details:(?P<kind>{'|'.join(KINDS)}):(?P<key>[a-z0-9-]{{1,60}})"
        r"(?::(?P<run>\d{1,19}))?"
    ),
):
    """ "Details" under a quote, a fact, a day or a revealed question. Under a scheduled post
    it also carries the run's nonce (`run`): the marker by which the bot recognises that post
    in the channel when it cannot know whether a send arrived (bot/scheduler.py). Its label is
    in the language of the message it is under; its answer in the clicker's."""

    private = True

    def __init__(
        self, kind: str, key: str, run: str | None = None, *, language: Language = Language.EN
    ) -> None:
        self.kind, self.key, self.run = kind, key, run
        marker = f":{run}" if run is not None else ""
        super().__init__(
            discord.ui.Button(
                label=render("details.button", language),
                emoji="📖",
                style=discord.ButtonStyle.secondary,
                custom_id=f"lwa:details:{kind}:{key}{marker}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> DetailsButton:
        return cls(match["kind"], match["key"], match["run"])

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        bot: LoveWinsAllBot = interaction.client
        language = language_of(interaction.locale)
        if self.kind == "day":  # "N years ago": the server's today, in its timezone
            today = await _server_today(bot, interaction.guild_id)
        else:
            today = bot.clock.now().astimezone(dt.UTC).date()
        embed = details_embed(bot.dataset, self.kind, self.key, today, language)
        await respond(interaction, embed=embed)


async def _server_today(bot: LoveWinsAllBot, guild_id: int | None) -> dt.date:
    """Today where the fan clicked: the server's date in its timezone (UTC in DMs), as
    /onthisday counts; UTC's while the database does not answer (the passages matter more)."""
    try:
        return await bot.content.today(guild_id)
    except StoreUnavailable:
        return bot.clock.now().astimezone(dt.UTC).date()


def marks_run(custom_id: str, run: str) -> bool:
    """Whether a button's custom_id is the marker of scheduled run `run` (its nonce)."""
    match = DetailsButton.__discord_ui_compiled_template__.fullmatch(custom_id)
    return match is not None and match["run"] == run


def details_embed(
    dataset: Dataset, kind: str, key: str, today: dt.date, language: Language = Language.EN
) -> discord.Embed:
    if kind == "quote" and (quote := dataset.quote(key)) is not None:
        return quote_details(quote, dataset, language)
    if kind == "fact" and (fact := dataset.fact(key)) is not None:
        return fact_details(fact, dataset, language)
    if kind == "question" and (question := dataset.question(key)) is not None:
        return question_details(question, dataset, language)
    if kind == "day" and (day := dates.read_day_key(key)) is not None:
        month, day_of_month, anniversary = day  # an anniversary's years are counted at it
        return day_details(dataset, month, day_of_month, anniversary or today, language)
    raise UserError("details.gone")


def _embed(title: str) -> discord.Embed:
    return discord.Embed(title=clip(title, 256), colour=COLOUR)


def _field(embed: discord.Embed, name: str, value: str) -> None:
    embed.add_field(name=clip(name, 256), value=clip(value, 1024), inline=False)


def _note(embed: discord.Embed, item: Quote | Fact | Question, language: Language) -> None:
    """The editors' note on the item's sources, when it has one."""
    note = editors_note(item, language)
    if note:
        _field(embed, render("details.note", language), note)


def quote_details(
    quote: Quote, dataset: Dataset, language: Language = Language.EN
) -> discord.Embed:
    """Where the words were said, how they were published (and translated), the passage of
    the source with the bot's rendering of it, and the full sources."""
    speaker = catalog.person_name(dataset.people[quote.speaker])
    embed = _embed(render("details.quote.title", language, speaker=speaker))
    context = quote.context_ko if language is Language.KO and quote.context_ko else quote.context
    said = f" ({long_date(quote.date, language)})" if quote.date else ""
    _field(embed, render("details.quote.where", language), context + said)
    shown = quote_words(quote, dataset, language)
    if not shown.published:  # the reply showed other words: here is what was published
        _field(embed, render("details.quote.published", language), f"“{quote.text}”")
    if quote.translation:
        _field(embed, render("details.quote.translation", language), quote.translation)
    if quote.variant:
        _field(embed, render("details.quote.variant", language), f"“{quote.variant}”")
    source = dataset.source_of(quote)
    if quote.evidence and quote.evidence != quote.text:
        evidence_fields(embed, quote, source, language)
    _note(embed, quote, language)
    _field(embed, render("source.one", language), source_line(source, language))
    if shown.korean_original:
        _field(
            embed,
            render("source.korean_original", language),
            source_line(shown.source, language),
        )
    embed.set_footer(text=render("quote.footer", language, quote_id=quote.id))
    return embed


def fact_details(fact: Fact, dataset: Dataset, language: Language = Language.EN) -> discord.Embed:
    embed = _embed(render("details.fact.title", language))
    source = dataset.source_of(fact)
    evidence_fields(embed, fact, source, language)
    _note(embed, fact, language)
    _field(embed, render("source.one", language), source_line(source, language))
    embed.set_footer(text=render("fact.footer", language, fact_id=fact.id))
    return embed


def question_details(
    question: Question, dataset: Dataset, language: Language = Language.EN
) -> discord.Embed:
    embed = _embed(render("details.question.title", language))
    source = dataset.source_of(question)
    evidence_fields(embed, question, source, language)
    _note(embed, question, language)
    _field(embed, render("source.one", language), source_line(source, language))
    embed.set_footer(text=render("details.question.footer", language, question_id=question.id))
    return embed


def _event_details(event: Event, dataset: Dataset, language: Language) -> str:
    source = dataset.source_of(event)
    lines = [f"> {event.evidence}"]
    translation = passage_translation(event, source, language)
    if translation is not None:
        label, text = translation
        lines.append(f"> *{render(label, language)}:* {text}")
    note = editors_note(event, language)
    if note:
        lines.append(f"-# {render('details.note', language)}: {note}")
    lines.append(f"-# {source_line(source, language)}")
    return "\n".join(lines)


def day_details(
    dataset: Dataset, month: int, day: int, today: dt.date, language: Language = Language.EN
) -> discord.Embed:
    """Every event of the day, each with its passage and full source (in one embed: Discord
    counts every embed of a message against one 6,000-character total), and how many years
    ago it was on `today` (the reader's today, or the anniversary it is counted at)."""
    events = dates.events_on(dataset.events, month, day)
    at = dates.nearest_anniversary(month, day, today)  # the years, counted at the anniversary
    blocks = [
        f"**{e.date.year}** ({when(e, at, language)}) — {event_text(e, language)}\n"
        + _event_details(e, dataset, language)
        for e in events
    ]
    title = render("details.day.title", language, day=day_label(month, day, language))
    embed = _embed(title)
    empty = render("details.day.empty", language)
    embed.description = join_within(blocks, DESCRIPTION_MAX) or empty
    return embed


def details_view(
    kind: str,
    key: str,
    *more: discord.ui.Item[Any],
    run: str | None = None,
    language: Language = Language.EN,
) -> discord.ui.View:
    """A reply's buttons: the ones given, then "Details" (marked with a scheduled `run`), in
    the reply's `language`."""
    view = discord.ui.View(timeout=None)
    for item in more:
        view.add_item(item)
    view.add_item(DetailsButton(kind, key, run, language=language))
    return view
