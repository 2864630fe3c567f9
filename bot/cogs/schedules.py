"""/schedule add | list | remove | pause | resume | preview: moderators' daily posts (SPEC §6).

The posting itself is `bot.scheduler`; this cog only checks what moderators ask for, stores it
and wakes the dispatcher.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs.errors import UserError
from bot.domain import schedule as rules
from bot.domain import trivia
from bot.permissions import missing_post_permissions
from bot.scheduler import MAX_SCHEDULES_PER_GUILD, post_embed
from bot.store.base import ScheduleRecord, TooManySchedules
from bot.ui import embeds
from bot.ui import trivia as trivia_ui

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot

CONTENT_CHOICES = [
    app_commands.Choice(name="Quote", value="quote"),
    app_commands.Choice(name="Fact", value="fact"),
    app_commands.Choice(name="On this day", value="onthisday"),
    app_commands.Choice(name="Trivia question (open for an hour)", value="trivia"),
]
POST_CHANNEL_TYPES = (discord.ChannelType.text, discord.ChannelType.news)
MANAGE_SERVER = discord.Permissions(manage_guild=True)
# The largest schedule number /schedule remove|pause|resume take. Discord bounds an integer
# option's min_value/max_value to ±(2^53 − 1), the integers a JavaScript number holds exactly.
MAX_SCHEDULE_ID = 2**53 - 1


def require_manage_server(interaction: discord.Interaction) -> int:
    """The server's id, when the member may manage its scheduled posts (checked at run time
    too: a server can change who sees the command)."""
    if interaction.guild_id is None:
        raise UserError("Scheduled posts belong to a server: use this command in one.")
    if not interaction.permissions.manage_guild:
        raise UserError(
            "Only members with the **Manage Server** permission can manage scheduled posts "
            "and settings. Ask a moderator if you'd like a daily post here."
        )
    return interaction.guild_id


async def bot_member(bot: LoveWinsAllBot, guild: discord.Guild) -> discord.Member | None:
    me: discord.Member | None = guild.me  # the bot's own member is cached even without members
    if me is None and bot.user is not None:
        try:
            me = await guild.fetch_member(bot.user.id)
        except discord.HTTPException:
            return None
    return me


def permission_fix(missing: list[str], channel_name: str) -> str:
    names = " and ".join(f"**{name}**" for name in missing)
    return (
        f"I'm missing {names} in #{channel_name}. Give my role {names} in that channel's "
        "settings (Edit Channel → Permissions), or pick another channel."
    )


def timezone_choices(current: str) -> list[app_commands.Choice[str]]:
    return [
        app_commands.Choice(name=name, value=name)
        for name in rules.timezone_suggestions(current, limit=25)
    ]


class PostChannel(app_commands.Transformer[Any]):
    """A text or announcement channel option, kept as Discord resolved it (checked by hand so
    a wrong channel gets a clear sentence, not a generic error)."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return list(POST_CHANNEL_TYPES)

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> Any:
        return value


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
        default_permissions=MANAGE_SERVER,
    )

    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot

    def _wake_dispatcher(self) -> None:
        dispatcher = getattr(self.bot, "dispatcher", None)
        if dispatcher is not None:
            dispatcher.wake()

    async def _post_channel(
        self, interaction: discord.Interaction, guild_id: int, value: Any
    ) -> discord.abc.GuildChannel:
        channel_guild = getattr(value, "guild_id", guild_id)
        if channel_guild != guild_id:
            raise UserError("That channel belongs to another server. Pick one of this server's.")
        channel_type = getattr(value, "type", None)
        if channel_type not in POST_CHANNEL_TYPES:
            raise UserError(
                "Scheduled posts go in a text or announcement channel; pick one of those."
            )
        guild = interaction.guild or self.bot.get_guild(guild_id)
        channel = guild.get_channel(int(value.id)) if guild else None
        if guild is None or channel is None:
            raise UserError(
                "I can't see that channel. Give my role **View Channel** there (Edit Channel → "
                "Permissions), or pick another channel."
            )
        me = await bot_member(self.bot, guild)
        if me is None:
            raise UserError("I couldn't check my permissions in that channel; try again shortly.")
        missing = missing_post_permissions(channel.permissions_for(me))
        if missing:
            raise UserError(permission_fix(missing, channel.name))
        return channel

    async def _find(self, guild_id: int, schedule_id: int) -> ScheduleRecord:
        record = await self.bot.store.schedule(schedule_id, guild_id)
        if record is None:
            raise not_found(schedule_id)
        return record

    @schedule.command(name="add", description="Post something every day (or some days) at a time")
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
        channel: app_commands.Transform[app_commands.AppCommandChannel, PostChannel],
        content: app_commands.Choice[str],
        time: app_commands.Range[str, 1, 10],
        timezone: app_commands.Range[str, 1, 64] | None = None,
        days: app_commands.Range[str, 1, 60] | None = None,
        role: discord.Role | None = None,
    ) -> None:
        guild_id = require_manage_server(interaction)
        target = await self._post_channel(interaction, guild_id, channel)
        try:
            local_time = rules.parse_time(time)
            if timezone:
                tz = rules.parse_timezone(timezone)
            else:
                tz = rules.usable_timezone(await self.bot.store.guild_timezone(guild_id)) or "UTC"
            day_set = rules.parse_days(days or "daily")
        except rules.ScheduleInputError as error:
            raise UserError(str(error)) from None
        notes: list[str] = []
        if role is not None:
            if role.id == guild_id or role.is_default():
                raise UserError("@everyone can't be mentioned by scheduled posts; pick a role.")
            if target.guild.get_role(role.id) is None:
                raise UserError("That role belongs to another server. Pick one of this server's.")
            me = target.guild.me
            if (
                not role.mentionable
                and me is not None
                and not (target.permissions_for(me).mention_everyone)
            ):
                notes.append(
                    f"{role.mention} is not mentionable and I don't have **Mention Everyone**, "
                    "so posts will show the role without notifying it. Make the role "
                    "mentionable (Server Settings → Roles) to ping it."
                )
        now = self.bot.clock.now()
        try:
            record = await self.bot.store.add_schedule(
                guild_id=guild_id,
                channel_id=target.id,
                content=content.value,
                local_time=local_time,
                timezone=tz,
                days=day_set,
                role_id=role.id if role else None,
                next_run_at=rules.next_run_after(local_time, tz, day_set, now),
                created_by=interaction.user.id,
                created_at=now,
                limit=MAX_SCHEDULES_PER_GUILD,
            )
        except TooManySchedules:
            raise UserError(
                f"This server already has {MAX_SCHEDULES_PER_GUILD} schedules, the most it can "
                "have. Remove one with `/schedule remove` first."
            ) from None
        self._wake_dispatcher()
        await interaction.response.send_message(
            embed=embeds.schedule_added_embed(record, notes), ephemeral=True
        )

    @add.autocomplete("timezone")
    async def add_timezone_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return timezone_choices(current)

    @schedule.command(name="list", description="Every scheduled post of this server")
    async def list_(self, interaction: discord.Interaction) -> None:
        guild_id = require_manage_server(interaction)
        records = await self.bot.store.schedules(guild_id)
        await interaction.response.send_message(
            embed=embeds.schedules_embed(records, MAX_SCHEDULES_PER_GUILD), ephemeral=True
        )

    @schedule.command(name="remove", description="Delete a scheduled post")
    @app_commands.describe(id="The schedule's number (see /schedule list)")
    async def remove(
        self, interaction: discord.Interaction, id: app_commands.Range[int, 1, MAX_SCHEDULE_ID]
    ) -> None:
        guild_id = require_manage_server(interaction)
        record = await self._find(guild_id, id)
        if not await self.bot.store.remove_schedule(id, guild_id):
            raise not_found(id)
        self._wake_dispatcher()
        await interaction.response.send_message(
            embed=embeds.schedule_changed_embed(
                f"Schedule #{id} removed", record, "It will not post again."
            ),
            ephemeral=True,
        )

    @schedule.command(name="pause", description="Stop a scheduled post for now (resume it later)")
    @app_commands.describe(id="The schedule's number (see /schedule list)")
    async def pause(
        self, interaction: discord.Interaction, id: app_commands.Range[int, 1, MAX_SCHEDULE_ID]
    ) -> None:
        guild_id = require_manage_server(interaction)
        await self._find(guild_id, id)
        record = await self.bot.store.pause_schedule(id, guild_id)
        if record is None:
            raise not_found(id)
        self._wake_dispatcher()
        await interaction.response.send_message(
            embed=embeds.schedule_changed_embed(
                f"Schedule #{id} paused", record, f"Resume it with `/schedule resume {id}`."
            ),
            ephemeral=True,
        )

    @schedule.command(name="resume", description="Start a paused or failing schedule again")
    @app_commands.describe(id="The schedule's number (see /schedule list)")
    async def resume(
        self, interaction: discord.Interaction, id: app_commands.Range[int, 1, MAX_SCHEDULE_ID]
    ) -> None:
        guild_id = require_manage_server(interaction)
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
        self._wake_dispatcher()
        await interaction.response.send_message(
            embed=embeds.schedule_changed_embed(
                f"Schedule #{id} resumed",
                record,
                f"Next post: <t:{int(record.next_run_at.timestamp())}:F>.",
            ),
            ephemeral=True,
        )

    @schedule.command(name="preview", description="See a sample of a scheduled post (only you)")
    @app_commands.describe(content="Which kind of post")
    @app_commands.choices(content=CONTENT_CHOICES)
    async def preview(
        self, interaction: discord.Interaction, content: app_commands.Choice[str]
    ) -> None:
        guild_id = require_manage_server(interaction)
        now = self.bot.clock.now()
        if content.value == "trivia":
            embed = self._trivia_sample()
        else:
            tz = rules.usable_timezone(await self.bot.store.guild_timezone(guild_id)) or "UTC"
            embed = await post_embed(self.bot, guild_id, content.value, tz, now, sample=True)
        await interaction.response.send_message(
            embed=embeds.sample_post_embed(embed), ephemeral=True
        )

    def _trivia_sample(self) -> discord.Embed:
        question = self.bot.rng.choice(self.bot.dataset.questions)
        choices = trivia.shuffled_choices(question, self.bot.rng)
        game = trivia.TriviaGame(
            game_id=0,
            channel_id=0,
            starter_id=0,
            questions=[question],
            choices=[choices],
            seconds=60 * 60,
        )
        view = game.open_question(self.bot.clock.now())
        embed = trivia_ui.question_embed(view, "mixed", daily=True)
        return embeds.scheduled_embed("trivia", embed)


async def setup(bot: LoveWinsAllBot) -> None:
    await bot.add_cog(Schedules(bot))
