"""/about: what the bot is, the dataset's counts, its version and every source (SPEC §4); the
reply and the sources' pages are `bot.ui.content`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import anywhere
from bot.errors import respond
from bot.i18n import language_of
from bot.ui.content import SourcesPageButton, about_message

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot


class About(commands.Cog):
    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot

    @app_commands.command(name="about", description="What this bot is, its dataset and its sources")
    @anywhere
    async def about(self, interaction: discord.Interaction) -> None:
        await respond(interaction, **about_message(self.bot, language_of(interaction.locale)))


async def setup(bot: LoveWinsAllBot) -> None:
    bot.add_dynamic_items(SourcesPageButton)
    await bot.add_cog(About(bot))
