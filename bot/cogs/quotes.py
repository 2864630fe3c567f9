"""/quote [speaker] [search] [id] (SPEC §4); its reply and "Another quote" are `bot.ui.content`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import Speaker, anywhere
from bot.domain.models import Person
from bot.errors import respond
from bot.i18n import language_of
from bot.ui.content import SEARCH_MAX, AnotherQuoteButton, quote_message

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot


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
        language = language_of(interaction.locale)
        if id is not None:
            quote = self.bot.content.quote_by_id(id)
            await respond(interaction, **quote_message(self.bot, quote, "", "", language))
            return
        search_text = " ".join((search or "").split())
        speaker_id = speaker.id if speaker is not None else ""
        scope = self.bot.scope(interaction)
        quote = await self.bot.content.quote(scope, speaker_id, search_text)
        reply = quote_message(self.bot, quote, speaker_id, search_text, language)
        await respond(interaction, **reply)


async def setup(bot: LoveWinsAllBot) -> None:
    bot.add_dynamic_items(AnotherQuoteButton)
    await bot.add_cog(Quotes(bot))
