"""/schedule add | list | remove | pause | resume | preview: moderators' daily posts (SPEC §6).

The posting itself is `bot.scheduler`; this cog only takes what moderators ask for (checked by
`bot.checks`), stores it and wakes the dispatcher.
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
from bot.domain.schedule import MAX_SCHEDULES_PER_GUILD, POST_KINDS, PostKind
from bot.errors import UserError
from bot.store.base import ScheduleRecord, TooManySchedules
from bot.ui import embeds
from bot.ui import trivia as trivia_ui

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot

CONTENT_CHOICES = [
    app_commands.Choice(name=info.choice, value=kind) for kind, info in POST_KINDS.items()
]
ScheduleId = app_commands.Transform[int, ScheduleNumber]


def not_found(schedule_id: int) -> UserError:
    # Also what another server's id gets: its schedules are never touched from here.
    return UserError(
        f"There is no schedule #{schedule_id} in this server. `/schedule list` shows their ids."
    )


class Schedules(commands.Cog):
    schedule = app_commands.Group(
        name="schedule",
        description="Daily posts in a channel: quotes, facts, on this day, trivia",
        guild_only=True,
        allowed_installs=SERVER_INSTALLS,
        default_permissions=MANAGE_SERVER,
    )

    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot

    async def _find(self, guild_id: int, schedule_id: int) -> ScheduleRecord:
        record = await self.bot.store.schedule(schedule_id, guild_id)
        if record is None:
            raise not_found(schedule_id)
        return record

    async def _changed(
        self, interaction: discord.Interaction, title: str, record: ScheduleRecord, detail: str
    ) -> None:
        if self.bot.dispatcher is not None:
            self.bot.dispatcher.wake()  # the due-time index changed
        await interaction.response.send_message(
            embed=embeds.schedule_changed_embed(title, record, detail), ephemeral=True
        )

    @schedule.command(name="add", description="Post something every day (or some days) at a time")
    @manage_server
    @app_commands.describe(
        channel="Where to post (a text or announcement channel)",
        content="What to post",
        time="Local time, 24-hour HH:MM, e.g. 09:00",
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
        tz = timezone or await self.bot.content.server_timezone(guild_id)
        day_set = days or rules.ALL_DAYS
        notes = role_notes(channel, role, guild_id)
        now = self.bot.clock.now()
        try:
            record = await self.bot.store.add_schedule(
                guild_id=guild_id,
                channel_id=channel.id,
                content=PostKind(content.value),
                local_time=time,
                timezone=tz,
                days=day_set,
                role_id=role.id if role else None,
                next_run_at=rules.next_run_after(time, tz, day_set, now),
                created_by=interaction.user.id,
                created_at=now,
                limit=MAX_SCHEDULES_PER_GUILD,
            )
        except TooManySchedules:
            raise UserError(
                f"This server already has {MAX_SCHEDULES_PER_GUILD} schedules, the most it can "
                "have. Remove one with `/schedule remove` first."
            ) from None
        if self.bot.dispatcher is not None:
            self.bot.dispatcher.wake()
        await interaction.response.send_message(
            embed=embeds.schedule_added_embed(record, notes), ephemeral=True
        )

    @schedule.command(name="list", description="Every scheduled post of this server")
    @manage_server
    async def list_(self, interaction: discord.Interaction) -> None:
        records = await self.bot.store.schedules(interaction.guild_id or 0)
        await interaction.response.send_message(
            embed=embeds.schedules_embed(records, MAX_SCHEDULES_PER_GUILD), ephemeral=True
        )

    @schedule.command(name="remove", description="Delete a scheduled post")
    @manage_server
    @app_commands.describe(id="The schedule's number (see /schedule list)")
    async def remove(self, interaction: discord.Interaction, id: ScheduleId) -> None:
        guild_id = interaction.guild_id or 0
        record = await self._find(guild_id, id)
        if not await self.bot.store.remove_schedule(id, guild_id):
            raise not_found(id)
        await self._changed(
            interaction, f"Schedule #{id} removed", record, "It will not post again."
        )

    @schedule.command(name="pause", description="Stop a scheduled post for now (resume it later)")
    @manage_server
    @app_commands.describe(id="The schedule's number (see /schedule list)")
    async def pause(self, interaction: discord.Interaction, id: ScheduleId) -> None:
        guild_id = interaction.guild_id or 0
        await self._find(guild_id, id)
        record = await self.bot.store.pause_schedule(id, guild_id)
        if record is None:
            raise not_found(id)
        await self._changed(
            interaction,
            f"Schedule #{id} paused",
            record,
            f"Resume it with `/schedule resume {id}`.",
        )

    @schedule.command(name="resume", description="Start a paused or failing schedule again")
    @manage_server
    @app_commands.describe(id="The schedule's number (see /schedule list)")
    async def resume(self, interaction: discord.Interaction, id: ScheduleId) -> None:
        guild_id = interaction.guild_id or 0
        current = await self._find(guild_id, id)
        if rules.usable_timezone(current.timezone) is None:
            raise UserError(
                f"Schedule #{id} uses the timezone “{current.timezone}”, which this host does "
                "not know. Remove it with `/schedule remove` and add it again with a timezone "
                "such as Asia/Seoul."
            )
        next_run = rules.next_run_after(
            current.local_time, current.timezone, current.days, self.bot.clock.now()
        )
        record = await self.bot.store.resume_schedule(id, guild_id, next_run)
        if record is None:
            raise not_found(id)
        await self._changed(
            interaction,
            f"Schedule #{id} resumed",
            record,
            f"Next post: <t:{int(record.next_run_at.timestamp())}:F>.",
        )

    @schedule.command(name="preview", description="See a sample of a scheduled post (only you)")
    @manage_server
    @app_commands.describe(content="Which kind of post")
    @app_commands.choices(content=CONTENT_CHOICES)
    async def preview(
        self, interaction: discord.Interaction, content: app_commands.Choice[str]
    ) -> None:
        kind, now = PostKind(content.value), self.bot.clock.now()
        view = discord.utils.MISSING
        if kind is PostKind.TRIVIA:
            question = self.bot.rng.choice(self.bot.dataset.questions)
            embed, view = trivia_ui.sample_question(question, self.bot.rng, now)
        else:
            guild_id = interaction.guild_id or 0
            tz = await self.bot.content.server_timezone(guild_id)
            post = await self.bot.content.daily(kind, guild_id, tz, now, sample=True)
            embed = embeds.daily_post_embed(post, self.bot.dataset)
        await interaction.response.send_message(
            embed=embeds.sample_post_embed(embed), view=view, ephemeral=True
        )


async def setup(bot: LoveWinsAllBot) -> None:
    await bot.add_cog(Schedules(bot))
