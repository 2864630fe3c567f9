"""/settings timezone | check: a server's settings and a health check of its posts (SPEC §6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs.errors import UserError
from bot.cogs.schedules import (
    MANAGE_SERVER,
    bot_member,
    permission_fix,
    require_manage_server,
    timezone_choices,
)
from bot.domain import schedule as rules
from bot.permissions import missing_post_permissions
from bot.store.base import ScheduleRecord
from bot.ui import embeds

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot


class Settings(commands.Cog):
    settings = app_commands.Group(
        name="settings",
        description="This server's settings for the bot",
        guild_only=True,
        default_permissions=MANAGE_SERVER,
    )

    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot

    @settings.command(name="timezone", description="Set the server's timezone (schedules, dates)")
    @app_commands.describe(tz="An IANA timezone such as Asia/Seoul, Europe/Berlin or UTC")
    async def timezone(
        self, interaction: discord.Interaction, tz: app_commands.Range[str, 1, 64]
    ) -> None:
        guild_id = require_manage_server(interaction)
        try:
            name = rules.parse_timezone(tz)
        except rules.ScheduleInputError as error:
            raise UserError(str(error)) from None
        await self.bot.store.set_guild_timezone(guild_id, name)
        await interaction.response.send_message(
            embed=embeds.timezone_set_embed(name, self.bot.clock.now()), ephemeral=True
        )

    @timezone.autocomplete("tz")
    async def tz_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return timezone_choices(current)

    @settings.command(name="check", description="Check the bot can post where schedules post")
    async def check(self, interaction: discord.Interaction) -> None:
        guild_id = require_manage_server(interaction)
        records = await self.bot.store.schedules(guild_id)
        by_channel: dict[int, list[ScheduleRecord]] = {}
        for record in records:
            by_channel.setdefault(record.channel_id, []).append(record)
        guild = interaction.guild or self.bot.get_guild(guild_id)
        me = await bot_member(self.bot, guild) if guild else None
        lines: list[str] = []
        all_well = True
        for channel_id, in_channel in by_channel.items():
            ids = ", ".join(f"#{r.id}" for r in in_channel)
            channel = guild.get_channel(channel_id) if guild else None
            if channel is None:
                all_well = False
                lines.append(
                    f"❌ <#{channel_id}> (schedules {ids}): the channel was deleted or I can't see "
                    "it. Remove those schedules, or give my role **View Channel** there."
                )
                continue
            if me is None:
                all_well = False
                lines.append(f"❔ <#{channel_id}> ({ids}): I couldn't check my permissions.")
                continue
            missing = missing_post_permissions(channel.permissions_for(me))
            if missing:
                all_well = False
                lines.append(f"❌ <#{channel_id}> ({ids}): {permission_fix(missing, channel.name)}")
                continue
            line = f"✅ <#{channel_id}> ({ids}): I can view, send and embed here."
            stopped = [r for r in in_channel if r.state == "paused" or r.failing]
            if stopped:
                which = ", ".join(f"#{r.id}" for r in stopped)
                line += f" {which} paused or failing: `/schedule resume` restarts them."
            lines.append(line)
        timezone = await self.bot.store.guild_timezone(guild_id)
        await interaction.response.send_message(
            embed=embeds.settings_check_embed(lines, timezone, self.bot.dataset.version, all_well),
            ephemeral=True,
        )


async def setup(bot: LoveWinsAllBot) -> None:
    await bot.add_cog(Settings(bot))
