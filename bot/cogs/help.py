"""/help (in the asker's language), and the welcome post when the bot joins a server (in the
server's) (SPEC §4, §3a)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import anywhere, missing_post_permissions
from bot.errors import PRIVATE, respond
from bot.i18n import language_of
from bot.ui import embeds

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot


class Help(commands.Cog):
    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="help",
        description="Every command you can use here, one line each",
        extras={PRIVATE: True},
    )
    @anywhere
    async def help(self, interaction: discord.Interaction) -> None:
        in_server = interaction.guild_id is not None and interaction.is_guild_integration()
        moderator = in_server and interaction.permissions.manage_guild
        language = language_of(interaction.locale)
        embed = embeds.help_embed(in_server=in_server, moderator=moderator, language=language)
        await respond(interaction, embed=embed)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        """A short welcome with the first steps, in the server's system channel when the bot
        may post there; nowhere otherwise."""
        channel, me = guild.system_channel, guild.me
        if channel is None or me is None:
            return
        if missing_post_permissions(channel.permissions_for(me)):
            return
        language = await self.bot.servers.language(guild.id, guild.preferred_locale)
        with contextlib.suppress(discord.HTTPException):  # a courtesy: refused, nothing is lost
            await channel.send(embed=embeds.welcome_embed(language))


async def setup(bot: LoveWinsAllBot) -> None:
    await bot.add_cog(Help(bot))
