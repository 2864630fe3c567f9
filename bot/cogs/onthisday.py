"""/onthisday [date] (SPEC §4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain import dates
from bot.errors import UserError
from bot.ui import embeds

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot


class OnThisDay(commands.Cog):
    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="onthisday", description="What happened on this day in the story of “Love wins all”"
    )
    @app_commands.describe(date="A day such as 01-24, Jan 24 or 24 January (default: today)")
    async def onthisday(
        self, interaction: discord.Interaction, date: app_commands.Range[str, 1, 40] | None = None
    ) -> None:
        today = await self.bot.content.today(interaction.guild_id)
        if date:
            try:
                wanted = dates.parse_day(date)
            except dates.DateParseError as error:
                examples = ", ".join(f"`{e}`" for e in dates.DATE_EXAMPLES)
                raise UserError(f"{error} Try a date like {examples}.") from None
            month, day = wanted.month, wanted.day
        else:
            month, day = today.month, today.day
        await interaction.response.send_message(
            embed=embeds.day_embed(self.bot.content.day(month, day, today), self.bot.dataset)
        )


async def setup(bot: LoveWinsAllBot) -> None:
    await bot.add_cog(OnThisDay(bot))
