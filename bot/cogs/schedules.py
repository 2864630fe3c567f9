"""/schedule add | list | remove | pause | resume | preview: moderators' daily posts (SPEC §6).

The rules are `bot.services.schedules` (as `bot.schedules`) and the posting is `bot.scheduler`;
this cog reads what moderators ask for (checked by `bot.checks`) and shows the result.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import (
    MANAGE_SERVER,
    SERVER_INSTALLS,
    Days,
    PostChannel,
    ScheduleNumber,
    TimeOfDay,
    Timezone,
    manage_server,
    role_notes,
)
from bot.domain import schedule as rules
from bot.domain.records import ScheduleRecord
from bot.domain.schedule import MAX_SCHEDULES_PER_GUILD, POST_KINDS, PostKind
from bot.errors import PRIVATE, respond
from bot.i18n import language_of
from bot.ui import embeds
from bot.ui import schedules as schedules_ui
from bot.ui import trivia as trivia_ui

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot

CONTENT_CHOICES = [
    app_commands.Choice(name=info.choice, value=kind) for kind, info in POST_KINDS.items()
]
ScheduleId = app_commands.Transform[int, ScheduleNumber]


class Schedules(commands.Cog):
    schedule = app_commands.Group(
        name="schedule",
        description="Daily posts in a channel: quotes, facts, on this day, trivia",
        guild_only=True,
        allowed_installs=SERVER_INSTALLS,
        default_permissions=MANAGE_SERVER,
        extras={PRIVATE: True},
    )

    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot
        self.schedules = bot.schedules

    async def _changed(
        self, interaction: discord.Interaction, change: str, record: ScheduleRecord
    ) -> None:
        language = language_of(interaction.locale)
        embed = schedules_ui.schedule_changed_embed(change, record, language)
        await respond(interaction, embed=embed)

    @schedule.command(name="add", description="Post something every day (or some days) at a time")
    @manage_server
    @app_commands.describe(
        channel="Where to post (a text or announcement channel)",
        content="What to post",
        time="Local time, as you say it: 09:00, 9am, 9:30 pm, 21:00",
        timezone="Timezone, e.g. Asia/Seoul (default: the server's timezone, else UTC)",
        days="daily (default), weekdays, weekends, or days such as mon,wed,fri",
        role="A role to mention with each post (the only ping the bot makes)",
    )
    @app_commands.choices(content=CONTENT_CHOICES)
    async def add(
        self,
        interaction: discord.Interaction,
        channel: app_commands.Transform[discord.abc.GuildChannel, PostChannel],
        content: app_commands.Choice[str],
        time: app_commands.Transform[dt.time, TimeOfDay],
        timezone: app_commands.Transform[str, Timezone] | None = None,
        days: app_commands.Transform[frozenset[int], Days] | None = None,
        role: discord.Role | None = None,
    ) -> None:
        guild_id = interaction.guild_id or 0
        language = language_of(interaction.locale)
        notes = role_notes(channel, role, guild_id, language)
        record = await self.schedules.add(
            guild_id=guild_id,
            channel_id=channel.id,
            content=PostKind(content.value),
            local_time=time,
            timezone=timezone or await self.bot.content.server_timezone(guild_id),
            days=days or rules.ALL_DAYS,
            role_id=role.id if role else None,
            created_by=interaction.user.id,
        )
        await respond(interaction, embed=schedules_ui.schedule_added_embed(record, notes, language))

    @schedule.command(name="list", description="Every scheduled post of this server")
    @manage_server
    async def list_(self, interaction: discord.Interaction) -> None:
        records = await self.schedules.in_server(interaction.guild_id or 0)
        language = language_of(interaction.locale)
        embed = schedules_ui.schedules_embed(records, MAX_SCHEDULES_PER_GUILD, language)
        await respond(interaction, embed=embed)

    @schedule.command(name="remove", description="Delete a scheduled post")
    @manage_server
    @app_commands.describe(id="The schedule's number (see /schedule list)")
    async def remove(self, interaction: discord.Interaction, id: ScheduleId) -> None:
        record = await self.schedules.remove(interaction.guild_id or 0, id)
        await self._changed(interaction, "removed", record)

    @schedule.command(name="pause", description="Stop a scheduled post for now (resume it later)")
    @manage_server
    @app_commands.describe(id="The schedule's number (see /schedule list)")
    async def pause(self, interaction: discord.Interaction, id: ScheduleId) -> None:
        record = await self.schedules.pause(interaction.guild_id or 0, id)
        await self._changed(interaction, "paused", record)

    @schedule.command(name="resume", description="Start a paused or failing schedule again")
    @manage_server
    @app_commands.describe(id="The schedule's number (see /schedule list)")
    async def resume(self, interaction: discord.Interaction, id: ScheduleId) -> None:
        record = await self.schedules.resume(interaction.guild_id or 0, id)
        await self._changed(interaction, "resumed", record)

    @schedule.command(name="preview", description="See a sample of a scheduled post (only you)")
    @manage_server
    @app_commands.describe(content="Which kind of post")
    @app_commands.choices(content=CONTENT_CHOICES)
    async def preview(
        self, interaction: discord.Interaction, content: app_commands.Choice[str]
    ) -> None:
        kind, now = PostKind(content.value), self.bot.clock.now()
        language = language_of(interaction.locale)  # a reply: the moderator's language
        view = discord.utils.MISSING
        if kind is PostKind.TRIVIA:
            question = self.bot.rng.choice(self.bot.dataset.questions)
            title = schedules_ui.post_title(kind, rules.ALL_DAYS, language)
            embed, view = trivia_ui.sample_question(
                question, self.bot.rng, now, language=language, title=title
            )
        else:
            guild_id = interaction.guild_id or 0
            tz = await self.bot.content.server_timezone(guild_id)
            post = await self.bot.content.daily(kind, guild_id, tz, now, sample=True)
            embed = embeds.daily_post_embed(post, self.bot.dataset, language=language)
        sample = schedules_ui.sample_post_embed(embed, language)
        await respond(interaction, embed=sample, view=view)


async def setup(bot: LoveWinsAllBot) -> None:
    await bot.add_cog(Schedules(bot))
