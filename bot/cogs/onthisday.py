"""/onthisday [date] (SPEC §4): a date typed in English or Korean (`Jan 24`, `1월 24일`), the
reply in the asker's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import MISSING

from bot.checks import anywhere
from bot.domain import dates
from bot.errors import UserError, respond
from bot.i18n import language_of, render
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
        language = language_of(interaction.locale)
        today = await self.bot.content.today(interaction.guild_id)
        if date:
            try:
                wanted = dates.parse_day(date)
            except dates.DateParseError as error:
                problem = render(error.message, language, **error.params)
                examples = embeds.date_examples(language)
                raise UserError("onthisday.bad_date", problem=problem, examples=examples) from None
            month, day = wanted.month, wanted.day
        else:
            month, day = today.month, today.day
        found = self.bot.content.day(month, day, today)
        # "Details": the day's events in full (their years counted at the reader's today), or
        # on an empty day the next anniversary's, counted at that anniversary.
        next_day = found.countdown.next_day if found.countdown else None
        if found.events:
            key: str | None = dates.day_key(month, day)
        else:
            key = dates.day_key(next_day.month, next_day.day, next_day) if next_day else None
        view = details_view("day", key, language=language) if key else MISSING
        embed = embeds.day_embed(found, self.bot.dataset, language)
        await respond(interaction, embed=embed, view=view)


async def setup(bot: LoveWinsAllBot) -> None:
    await bot.add_cog(OnThisDay(bot))
