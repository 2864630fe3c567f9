"""What a reply keeps one click away (SPEC §3): context, other renderings, the source's own words
with the bot's English rendering, and the full source.

The "Details" button is a `DynamicItem` whose custom_id names the item, so it answers after a
restart too; the answer is ephemeral (only the fan who asked sees it).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.domain import dates
from bot.domain.models import Dataset, Event, Fact, Question, Quote
from bot.errors import OneErrorPath, UserError, respond
from bot.ui.embeds import (
    COLOUR,
    DESCRIPTION_MAX,
    clip,
    evidence_fields,
    join_within,
    long_date,
    source_line,
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
    in the channel when it cannot know whether a send arrived (bot/scheduler.py)."""

    private = True

    def __init__(self, kind: str, key: str, run: str | None = None) -> None:
        self.kind, self.key, self.run = kind, key, run
        marker = f":{run}" if run is not None else ""
        super().__init__(
            discord.ui.Button(
                label="Details",
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
        embed = details_embed(bot.dataset, self.kind, self.key, bot.clock.now().date())
        await respond(interaction, embed=embed)


def marks_run(custom_id: str, run: str) -> bool:
    """Whether a button's custom_id is the marker of scheduled run `run` (its nonce)."""
    match = DetailsButton.__discord_ui_compiled_template__.fullmatch(custom_id)
    return match is not None and match["run"] == run


def details_embed(dataset: Dataset, kind: str, key: str, today: dt.date) -> discord.Embed:
    if kind == "quote" and (quote := dataset.quote(key)) is not None:
        return quote_details(quote, dataset)
    if kind == "fact" and (fact := dataset.fact(key)) is not None:
        return fact_details(fact, dataset)
    if kind == "question" and (question := dataset.question(key)) is not None:
        return question_details(question, dataset)
    if kind == "day" and (day := _month_day(key)) is not None:
        return day_details(dataset, *day, today)
    raise UserError("That item is no longer in the dataset, so there is nothing more to show.")


def _embed(title: str) -> discord.Embed:
    return discord.Embed(title=clip(title, 256), colour=COLOUR)


def _field(embed: discord.Embed, name: str, value: str) -> None:
    embed.add_field(name=clip(name, 256), value=clip(value, 1024), inline=False)


def quote_details(quote: Quote, dataset: Dataset) -> discord.Embed:
    embed = _embed(f"About this quote by {dataset.people[quote.speaker].name}")
    when = f" ({long_date(quote.date)})" if quote.date else ""
    _field(embed, "Where it was said", quote.context + when)
    if quote.translation:
        _field(embed, "Translation", quote.translation)
    if quote.variant:
        _field(embed, "Also published as", f"“{quote.variant}”")
    if quote.evidence and quote.evidence != quote.text:
        evidence_fields(embed, quote.evidence, quote.evidence_en)
    _field(embed, "Source", source_line(dataset.source_of(quote)))
    embed.set_footer(text=f"Quote {quote.id}")
    return embed


def fact_details(fact: Fact, dataset: Dataset) -> discord.Embed:
    embed = _embed("Where this fact comes from")
    evidence_fields(embed, fact.evidence, fact.evidence_en)
    _field(embed, "Source", source_line(dataset.source_of(fact)))
    embed.set_footer(text=f"Fact {fact.id}")
    return embed


def question_details(question: Question, dataset: Dataset) -> discord.Embed:
    embed = _embed("Where this answer comes from")
    evidence_fields(embed, question.evidence, question.evidence_en)
    _field(embed, "Source", source_line(dataset.source_of(question)))
    embed.set_footer(text=f"Question {question.id}")
    return embed


def _event_details(event: Event, dataset: Dataset) -> str:
    lines = [f"> {event.evidence}"]
    if event.evidence_en:
        lines.append(f"> *In English (the bot's translation):* {event.evidence_en}")
    lines.append(f"-# {source_line(dataset.source_of(event))}")
    return "\n".join(lines)


def day_details(dataset: Dataset, month: int, day: int, today: dt.date) -> discord.Embed:
    """Every event of the day, each with its passage and full source (in one embed: Discord
    counts every embed of a message against one 6,000-character total)."""
    events = dates.events_on(dataset.events, month, day)
    label = f"{day} {dt.date(2000, month, day).strftime('%B')}"
    blocks = [
        f"**{e.date.year}** ({dates.years_ago(e.date, today)} years ago) — {e.text}\n"
        + _event_details(e, dataset)
        for e in events
    ]
    embed = _embed(f"On this day, {label}: the sources")
    embed.description = join_within(blocks, DESCRIPTION_MAX) or "Nothing happened on this day."
    return embed


def _month_day(key: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"(\d{2})-(\d{2})", key)
    if match is None:
        return None
    month, day = int(match[1]), int(match[2])
    try:
        dt.date(2000, month, day)  # a leap year: 29 February exists
    except ValueError:
        return None
    return month, day


def details_view(
    kind: str, key: str, *more: discord.ui.Item[Any], run: str | None = None
) -> discord.ui.View:
    """A reply's buttons: the ones given, then "Details" (marked with a scheduled `run`)."""
    view = discord.ui.View(timeout=None)
    for item in more:
        view.add_item(item)
    view.add_item(DetailsButton(kind, key, run))
    return view
