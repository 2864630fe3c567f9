"""The replies of `/quote`, `/fact` and `/about`, and their buttons: "Another quote", "Another
fact" and the pages of the sources, in the reader's language.

The buttons are `DynamicItem`s whose custom_id carries what they need (the filters, the topic,
the page), so they keep working after a restart. A click asks the content service for a new
pick (`bot.content`) and renders it here, as the command did, in the clicker's language.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot import __version__
from bot.domain.models import TOPICS, Fact, Quote
from bot.errors import OneErrorPath, respond
from bot.i18n import Language, language_of, render
from bot.ui import embeds
from bot.ui.details import details_view

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot

SEARCH_MAX = 40  # keeps the button's custom_id (which carries the filters) under 100 characters


# --- quotes ---------------------------------------------------------------------------------------


class AnotherQuoteButton(
    OneErrorPath,
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"lwa:quote:(?P<speaker>[a-z0-9-]*):(?P<search>.*)",
):
    """Carries the filters in its custom_id, so it keeps working after a restart."""

    def __init__(
        self, speaker: str = "", search: str = "", *, language: Language = Language.EN
    ) -> None:
        self.speaker, self.search = speaker, search
        super().__init__(
            discord.ui.Button(
                label=render("quote.another", language),
                style=discord.ButtonStyle.primary,
                emoji="💜",
                custom_id=f"lwa:quote:{speaker}:{search}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> AnotherQuoteButton:
        return cls(match["speaker"], match["search"])

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        bot: LoveWinsAllBot = interaction.client
        if self.speaker and self.speaker not in bot.dataset.people:
            self.speaker = ""  # the dataset changed since the button was made
        quote = await bot.content.quote(bot.scope(interaction), self.speaker, self.search)
        language = language_of(interaction.locale)
        await respond(interaction, **quote_message(bot, quote, self.speaker, self.search, language))


def quote_message(
    bot: LoveWinsAllBot,
    quote: Quote,
    speaker: str,
    search: str,
    language: Language = Language.EN,
) -> dict[str, Any]:
    """A quote as a reply: its embed, "Another quote" (same filters) and "Details"."""
    another = AnotherQuoteButton(speaker, search, language=language)
    view = details_view("quote", quote.id, another, language=language)
    return {"embed": embeds.quote_embed(quote, bot.dataset, language), "view": view}


# --- facts ----------------------------------------------------------------------------------------


class AnotherFactButton(
    OneErrorPath,
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"lwa:fact:(?P<topic>[a-z0-9-]*)",
):
    """Carries the topic in its custom_id, so it keeps working after a restart."""

    def __init__(self, topic: str = "", *, language: Language = Language.EN) -> None:
        self.topic = topic
        super().__init__(
            discord.ui.Button(
                label=render("fact.another", language),
                style=discord.ButtonStyle.primary,
                emoji="💜",
                custom_id=f"lwa:fact:{topic}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> AnotherFactButton:
        return cls(match["topic"])

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        bot: LoveWinsAllBot = interaction.client
        topic = self.topic if self.topic in TOPICS else ""  # the dataset may have changed
        fact = await bot.content.fact(bot.scope(interaction), topic or None)
        language = language_of(interaction.locale)
        await respond(interaction, **fact_message(bot, fact, topic, language))


def fact_message(
    bot: LoveWinsAllBot, fact: Fact, topic: str, language: Language = Language.EN
) -> dict[str, Any]:
    """A fact as a reply: its embed, "Another fact" (same topic) and "Details"."""
    another = AnotherFactButton(topic, language=language)
    view = details_view("fact", fact.id, another, language=language)
    return {"embed": embeds.fact_embed(fact, bot.dataset, language), "view": view}


# --- about and its sources ------------------------------------------------------------------------


class SourcesPageButton(
    OneErrorPath,
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"lwa:sources:(?P<page>\d{1,3}):(?P<mode>new|edit)",
):
    """Opens (mode new) or turns (mode edit) the ephemeral, paged list of sources (from the
    dataset in memory: nothing to wait for, and a page turn is an edit, which cannot follow a
    deferral)."""

    private, defers = True, False

    def __init__(self, page: int, mode: str, label: str) -> None:
        self.page, self.mode = page, mode
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"lwa:sources:{page}:{mode}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> SourcesPageButton:
        return cls(int(match["page"]), match["mode"], "")  # a click's label is not shown again

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        bot: LoveWinsAllBot = interaction.client
        language = language_of(interaction.locale)
        embed = embeds.sources_embed(bot.dataset, self.page, language)
        view = sources_view(bot, self.page, language)
        if self.mode == "edit":
            await interaction.response.edit_message(embed=embed, view=view)
        else:
            await respond(interaction, embed=embed, view=view, ephemeral=True)


def sources_view(
    bot: LoveWinsAllBot, page: int, language: Language = Language.EN
) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    pages = embeds.sources_page_count(bot.dataset)
    if page > 0:
        view.add_item(SourcesPageButton(page - 1, "edit", render("sources.previous", language)))
    if page < pages - 1:
        view.add_item(SourcesPageButton(page + 1, "edit", render("sources.next", language)))
    return view


def about_message(bot: LoveWinsAllBot, language: Language = Language.EN) -> dict[str, Any]:
    """What the bot is, with the button that opens every source."""
    view = discord.ui.View(timeout=None)
    view.add_item(SourcesPageButton(0, "new", render("about.all_sources", language)))
    return {"embed": embeds.about_embed(bot.dataset, __version__, language), "view": view}
