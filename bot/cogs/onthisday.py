"""/onthisday [date] (SPEC §4)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import MISSING

from bot.checks import anywhere
from bot.domain import dates
from bot.errors import UserError, respond
from bot.ui import embeds
from bot.ui.details import details_view

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot


class OnThisDay(commands.Cog):
    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="onthisday", description="What happened on this day in the story of “Love wins all”"
    )
    @anywhere
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
        found = self.bot.content.day(month, day, today)
        # "Details": the day's events in full, or the next anniversary's on an empty day.
        if found.events:
            detailed: dt.date | None = dt.date(2000, month, day)  # 2000: a leap year
        else:
            detailed = found.countdown.next_day if found.countdown else None
        key = f"{detailed.month:02d}-{detailed.day:02d}" if detailed else ""
        view = details_view("day", key) if detailed else MISSING
        await respond(interaction, embed=embeds.day_embed(found, self.bot.dataset), view=view)


async def setup(bot: LoveWinsAllBot) -> None:
    await bot.add_cog(OnThisDay(bot))
