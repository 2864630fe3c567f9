"""/daily play | board: the daily challenge (SPEC §4). Played privately anywhere a fan can use
the bot (a user install too: DMs, group DMs, any server); the board is a server's.

The challenge is `bot.services.daily` (as `bot.daily`); its messages and buttons are
`bot.ui.daily`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import PRIVATE, respond
from bot.i18n import language_of
from bot.ui.daily import DailyChoiceButton, PlayButton, ShareButton, board_embed, play_here

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot


class Daily(commands.Cog):
    daily_group = app_commands.Group(
        name="daily",
        description="The daily challenge: three questions a day, the same for everyone",
        allowed_installs=app_commands.AppInstallationType(guild=True, user=True),
        allowed_contexts=app_commands.AppCommandContext(
            guild=True, dm_channel=True, private_channel=True
        ),
    )

    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot

    @daily_group.command(
        name="play", description="Today's three questions, just for you", extras={PRIVATE: True}
    )
    async def play(self, interaction: discord.Interaction) -> None:
        await play_here(interaction)

    @daily_group.command(
        name="board", description="Who in this server played today, and the longest streaks"
    )
    async def board(self, interaction: discord.Interaction) -> None:
        board = await self.bot.daily.board(interaction.guild_id)
        await respond(interaction, embed=board_embed(board, language_of(interaction.locale)))


async def setup(bot: LoveWinsAllBot) -> None:
    bot.add_dynamic_items(DailyChoiceButton, PlayButton, ShareButton)
    await bot.add_cog(Daily(bot))
