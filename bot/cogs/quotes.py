"""/quote and its persistent "Another quote" button (SPEC §4)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import Speaker, anywhere
from bot.domain.models import Person
from bot.errors import OneErrorPath, respond
from bot.services.content import BagScope
from bot.ui import embeds
from bot.ui.details import details_view

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot

SEARCH_MAX = 40  # keeps the button's custom_id (which carries the filters) under 100 characters


class AnotherQuoteButton(
    OneErrorPath,
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"lwa:quote:(?P<speaker>[a-z0-9-]*):(?P<search>.*)",
):
    """Carries the filters in its custom_id, so it keeps working after a restart."""

    def __init__(self, speaker: str = "", search: str = "") -> None:
        self.speaker, self.search = speaker, search
        super().__init__(
            discord.ui.Button(
                label="Another quote",
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
        await respond(
            interaction, **await quote_reply(bot, bot.scope(interaction), self.speaker, self.search)
        )


async def quote_reply(
    bot: LoveWinsAllBot, scope: BagScope, speaker: str, search: str
) -> dict[str, Any]:
    quote = await bot.content.quote(scope, speaker, search)
    return {
        "embed": embeds.quote_embed(quote, bot.dataset),
        "view": quote_view(quote.id, speaker, search),
    }


def quote_view(quote_id: str, speaker: str, search: str) -> discord.ui.View:
    return details_view("quote", quote_id, AnotherQuoteButton(speaker, search))


class Quotes(commands.Cog):
    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="quote", description="A quote from IU, V, Um Tae-hwa and others about “Love wins all”"
    )
    @anywhere
    @app_commands.describe(
        speaker="Who said it (IU, V, Um Tae-hwa…)",
        search="Words the quote must contain",
        id="Show one quote by its id (in the footer of every quote)",
    )
    async def quote(
        self,
        interaction: discord.Interaction,
        speaker: app_commands.Transform[Person, Speaker] | None = None,
        search: app_commands.Range[str, 1, SEARCH_MAX] | None = None,
        id: app_commands.Range[str, 1, 60] | None = None,
    ) -> None:
        if id is not None:
            quote = self.bot.content.quote_by_id(id)
            await respond(
                interaction,
                embed=embeds.quote_embed(quote, self.bot.dataset),
                view=quote_view(quote.id, "", ""),
            )
            return
        search_text = " ".join((search or "").split())
        speaker_id = speaker.id if speaker is not None else ""
        scope = self.bot.scope(interaction)
        await respond(interaction, **await quote_reply(self.bot, scope, speaker_id, search_text))


async def setup(bot: LoveWinsAllBot) -> None:
    bot.add_dynamic_items(AnotherQuoteButton)
    await bot.add_cog(Quotes(bot))
