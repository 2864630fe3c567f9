"""/settings timezone | language | check: a server's settings and a health check of its posts
(SPEC §6, §3a)."""

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
from bot.domain.language import Language, language_of
from bot.domain.records import ScheduleRecord
from bot.domain.schedule import ScheduleState
from bot.errors import PRIVATE, respond
from bot.i18n import render
from bot.ui import settings as settings_ui
from bot.ui.settings import ChannelHealth, Reach

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot

LANGUAGE_CHOICES = [
    app_commands.Choice(name="Korean (ko)", value=Language.KO.value),
    app_commands.Choice(name="English (en)", value=Language.EN.value),
]


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
        embed = settings_ui.timezone_set_embed(
            tz, self.bot.clock.now(), language_of(interaction.locale)
        )
        await respond(interaction, embed=embed)

    @settings.command(
        name="language", description="The language of what the bot posts in this server's channels"
    )
    @manage_server
    @app_commands.describe(lang="Trivia, reveals, standings and scheduled posts use it")
    @app_commands.choices(lang=LANGUAGE_CHOICES)
    async def language(
        self, interaction: discord.Interaction, lang: app_commands.Choice[str]
    ) -> None:
        chosen = Language(lang.value)
        await self.bot.servers.set_language(interaction.guild_id or 0, chosen)
        embed = settings_ui.language_set_embed(chosen, language_of(interaction.locale))
        await respond(interaction, embed=embed)

    @settings.command(name="check", description="Check the bot can post where schedules post")
    @manage_server
    async def check(self, interaction: discord.Interaction) -> None:
        reader = language_of(interaction.locale)
        guild_id = interaction.guild_id or 0
        by_channel = await self.bot.servers.schedules_by_channel(guild_id)
        guild = interaction.guild or self.bot.get_guild(guild_id)
        me = await bot_member(self.bot, guild) if guild else None
        health = [
            channel_health(guild, me, channel_id, records, reader)
            for channel_id, records in by_channel.items()
        ]
        view_channel = render("permission.view_channel", reader)
        lines = [settings_ui.channel_line(h, reader, view_channel) for h in health]
        chosen = await self.bot.servers.chosen_language(guild_id)
        preferred = interaction.guild_locale or (guild.preferred_locale if guild else None)
        embed = settings_ui.settings_check_embed(
            lines,
            await self.bot.servers.timezone(guild_id),
            chosen or language_of(preferred),
            chosen is not None,
            self.bot.dataset.version,
            all(h.well for h in health),
            reader,
        )
        await respond(interaction, embed=embed)


def channel_health(
    guild: discord.Guild | None,
    me: discord.Member | None,
    channel_id: int,
    records: list[ScheduleRecord],
    reader: Language,
) -> ChannelHealth:
    """Can the bot post where these schedules post, and are they running?"""
    ids = tuple(r.id for r in records)
    channel = guild.get_channel(channel_id) if guild else None
    if channel is None:
        return ChannelHealth(channel_id, ids, Reach.GONE)
    if me is None:
        return ChannelHealth(channel_id, ids, Reach.UNCHECKED)
    missing = missing_post_permissions(channel.permissions_for(me), scheduled=True)
    if missing:
        return ChannelHealth(
            channel_id, ids, Reach.MISSING, fix=permission_fix(missing, channel.name, reader)
        )
    stopped = tuple(r.id for r in records if r.state == ScheduleState.PAUSED or r.failing)
    return ChannelHealth(channel_id, ids, Reach.FINE, stopped=stopped)


async def setup(bot: LoveWinsAllBot) -> None:
    await bot.add_cog(ServerSettings(bot))
