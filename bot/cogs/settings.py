"""/settings timezone | check: a server's settings and a health check of its posts (SPEC §6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import (
    MANAGE_SERVER,
    SERVER_INSTALLS,
    Timezone,
    bot_member,
    manage_server,
    missing_post_permissions,
    permission_fix,
)
from bot.domain.records import ScheduleRecord
from bot.domain.schedule import ScheduleState
from bot.errors import PRIVATE, respond
from bot.ui import settings as settings_ui

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot


class ServerSettings(commands.Cog):
    settings = app_commands.Group(
        name="settings",
        description="This server's settings for the bot",
        guild_only=True,
        allowed_installs=SERVER_INSTALLS,
        default_permissions=MANAGE_SERVER,
        extras={PRIVATE: True},
    )

    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot

    @settings.command(name="timezone", description="Set the server's timezone (schedules, dates)")
    @manage_server
    @app_commands.describe(tz="An IANA timezone such as Asia/Seoul, Europe/Berlin or UTC")
    async def timezone(
        self, interaction: discord.Interaction, tz: app_commands.Transform[str, Timezone]
    ) -> None:
        await self.bot.servers.set_timezone(interaction.guild_id or 0, tz)
        await respond(interaction, embed=settings_ui.timezone_set_embed(tz, self.bot.clock.now()))

    @settings.command(name="check", description="Check the bot can post where schedules post")
    @manage_server
    async def check(self, interaction: discord.Interaction) -> None:
        guild_id = interaction.guild_id or 0
        by_channel = await self.bot.servers.schedules_by_channel(guild_id)
        guild = interaction.guild or self.bot.get_guild(guild_id)
        me = await bot_member(self.bot, guild) if guild else None
        health = [
            channel_health(guild, me, channel_id, records)
            for channel_id, records in by_channel.items()
        ]
        lines = [line for _, line in health]
        timezone = await self.bot.servers.timezone(guild_id)
        all_well = all(well for well, _ in health)
        await respond(
            interaction,
            embed=settings_ui.settings_check_embed(
                lines, timezone, self.bot.dataset.version, all_well
            ),
        )


def channel_health(
    guild: discord.Guild | None,
    me: discord.Member | None,
    channel_id: int,
    records: list[ScheduleRecord],
) -> tuple[bool, str]:
    """One line of /settings check: can the bot post where these schedules post? With
    whether all is well there (no permission missing, no schedule paused or failing)."""
    ids = ", ".join(f"#{r.id}" for r in records)
    channel = guild.get_channel(channel_id) if guild else None
    if channel is None:
        return False, (
            f"❌ <#{channel_id}> (schedules {ids}): the channel was deleted or I can't see it. "
            "Remove those schedules, or give my role **View Channel** there."
        )
    if me is None:
        return False, (
            f"❔ <#{channel_id}> ({ids}): I couldn't check my permissions. "
            "Run `/settings check` again in a minute."
        )
    missing = missing_post_permissions(channel.permissions_for(me), scheduled=True)
    if missing:
        return False, f"❌ <#{channel_id}> ({ids}): {permission_fix(missing, channel.name)}"
    line = f"✅ <#{channel_id}> ({ids}): I can view, send, embed and read the history here."
    stopped = [r for r in records if r.state == ScheduleState.PAUSED or r.failing]
    if stopped:
        which = ", ".join(f"#{r.id}" for r in stopped)
        line += f" {which} paused or failing: `/schedule resume` restarts them."
    return not stopped, line


async def setup(bot: LoveWinsAllBot) -> None:
    await bot.add_cog(ServerSettings(bot))
