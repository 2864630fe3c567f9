"""/onthisday [date] (SPEC §4)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs.errors import UserError
from bot.domain import dates
from bot.domain.schedule import usable_timezone
from bot.ui import embeds

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot


async def server_today(bot: LoveWinsAllBot, guild_id: int | None) -> tuple[str, dt.date]:
    """Today's date in the server's timezone (`/settings timezone`), else in UTC."""
    stored = await bot.store.guild_timezone(guild_id) if guild_id else None
    tz = usable_timezone(stored) or "UTC"
    return tz, dates.today_in(tz, bot.clock.now())


def onthisday_embed(bot: LoveWinsAllBot, month: int, day: int, today: dt.date) -> discord.Embed:
    events = dates.events_on(bot.dataset.events, month, day)
    if events:
        return embeds.onthisday_embed(month, day, events, today, bot.dataset)
    # Count from the asked-for day in this year (29 February falls back to the 28th).
    try:
        reference = dt.date(today.year, month, day)
    except ValueError:
        reference = dt.date(today.year, month, day - 1)
    countdown = dates.countdown(bot.dataset.events, reference)
    return embeds.empty_day_embed(month, day, countdown, bot.dataset)


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
        _, today = await server_today(self.bot, interaction.guild_id)
        if date:
            try:
                wanted = dates.parse_day(date)
            except dates.DateParseError as error:
                examples = ", ".join(f"`{e}`" for e in dates.DATE_EXAMPLES)
                raise UserError(f"{error} Try a date like {examples}.") from None
            month, day = wanted.month, wanted.day
        else:
            month, day = today.month, today.day
        await interaction.response.send_message(embed=onthisday_embed(self.bot, month, day, today))


async def setup(bot: LoveWinsAllBot) -> None:
    await bot.add_cog(OnThisDay(bot))
