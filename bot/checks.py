"""discord.py's own checks, and Transformers that turn what a member typed into what a command
needs, or into a `UserError` saying how to type it (SPEC §3, §6).

A command declares what it takes (`Transform[str, Timezone]`, `Transform[Person, Speaker]`) and
gets a valid value or never runs: validation and autocomplete live here, once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

from bot.domain import catalog
from bot.domain import schedule as rules
from bot.domain.models import Person
from bot.domain.records import StoreUnavailable
from bot.domain.refusal import Bilingual, Refusal
from bot.errors import BotCannot, UserError
from bot.i18n import Language, language_of, render
from bot.ui.embeds import clip
from bot.ui.notices import permission_names
from bot.ui.schedules import schedule_choice

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot

# What the bot needs in a channel to post an embed there, by discord.py's names (the catalogue
# has Discord's name of each, `permission.<name>`, in both languages).
POST_PERMISSIONS = ("view_channel", "send_messages", "embed_links")
# Scheduled posts also read the channel's history: after a restart, the bot looks there for a
# post it may have sent before it went down, so it never posts one twice.
SCHEDULE_PERMISSIONS = (*POST_PERMISSIONS, "read_message_history")
T = TypeVar("T")
MAX_SCHEDULE_NUMBER = 2**53 - 1
POST_CHANNEL_TYPES = (discord.ChannelType.text, discord.ChannelType.news)
MANAGE_SERVER = discord.Permissions(manage_guild=True)
AUTOCOMPLETE_SECONDS = 2.0  # Discord drops suggestions not given within 3 s


# Where a command works (SPEC §4): the fan commands also as a user-installed app, in DMs and in
# any server; trivia, schedules and settings only in servers that installed the bot.
def anywhere(command: T) -> T:
    """Usable as a user-installed app too: in DMs, group DMs and any server."""
    command = app_commands.allowed_installs(guilds=True, users=True)(command)
    return app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)(command)


SERVER_INSTALLS = app_commands.AppInstallationType(guild=True, user=False)  # with guild_only

# Moderators' commands: hidden by default from members without Manage Server (a group's
# `default_permissions=MANAGE_SERVER`), and checked again when run (a server can show them to
# anyone). A failed check is a kind sentence naming the permission (bot/errors.py).
manage_server = app_commands.checks.has_permissions(manage_guild=True)


def missing_post_permissions(
    permissions: discord.Permissions, *, scheduled: bool = False
) -> list[str]:
    """The permissions the bot lacks to post an embed in a channel (`scheduled`: a schedule's
    posts), by discord.py's names (`send_messages`). Only the ones really missing: without
    View Channel nothing else counts, and without Send Messages Discord takes Embed Links away
    too (it was not denied: granting Send Messages brings it back)."""
    needed = SCHEDULE_PERMISSIONS if scheduled else POST_PERMISSIONS
    missing = [name for name in needed if not getattr(permissions, name)]
    if "view_channel" in missing:
        return ["view_channel"]
    if "send_messages" in missing:
        return [name for name in missing if name != "embed_links"]
    return missing


def can_fix_permissions(permissions: discord.Permissions) -> bool:
    """Whether a member can change what the bot may do in a channel (a moderator's job)."""
    return permissions.administrator or permissions.manage_roles or permissions.manage_channels


def permission_fix(missing: list[str], channel_name: str, language: Language = Language.EN) -> str:
    """What the bot lacks in a channel (`missing_post_permissions`) and how to give it, in
    `language`."""
    return render(
        "channel.missing_permissions",
        language,
        permissions=permission_names(missing, language, bold=True),
        channel=channel_name,
    )


def _bot(interaction: discord.Interaction[Any]) -> LoveWinsAllBot:
    return interaction.client  # type: ignore[no-any-return]


async def bot_member(bot: LoveWinsAllBot, guild: discord.Guild) -> discord.Member | None:
    me: discord.Member | None = guild.me  # the bot's own member is cached even without members
    if me is None and bot.user is not None:
        try:
            me = await guild.fetch_member(bot.user.id)
        except discord.HTTPException:
            return None
    return me


class _Text(app_commands.Transformer[Any]):
    """A string option of at most `longest` characters."""

    longest = 100

    @property
    def min_value(self) -> int:
        return 1

    @property
    def max_value(self) -> int:
        return self.longest


class Timezone(_Text):
    """An IANA region name, case-insensitive, with autocomplete."""

    longest = 64

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> str:
        try:
            return rules.parse_timezone(str(value))
        except Refusal as error:
            raise UserError(error.message, **error.params) from None

    async def autocomplete(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], value: str, /
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=name, value=name)
            for name in rules.timezone_suggestions(value, limit=25)
        ]


class Days(_Text):
    """`daily`, `weekdays`, `weekends` or a list of day names such as `mon,wed,fri`."""

    longest = 60

    async def transform(
        self, interaction: discord.Interaction[Any], value: Any, /
    ) -> frozenset[int]:
        try:
            return rules.parse_days(str(value))
        except Refusal as error:
            raise UserError(error.message, **error.params) from None


class TimeOfDay(_Text):
    """A local time: `HH:MM` on the 24-hour clock, or as fans write it (`9am`, `오후 9시 30분`)."""

    longest = 20

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> dt.time:
        try:
            return rules.parse_time(str(value))
        except Refusal as error:
            raise UserError(error.message, **error.params) from None


class Speaker(app_commands.Transformer[Any]):
    """A person of the dataset, by name or alias ("V", "Taehyung", "뷔"), with autocomplete."""

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> Person:
        dataset = _bot(interaction).dataset
        person = catalog.find_person(dataset, str(value))
        if person is None:
            names = [catalog.person_name(p) for p in catalog.speakers(dataset)]
            raise UserError(
                "speaker.unknown",
                typed=clip(str(value), 40),
                names=Bilingual(", ".join(n.en for n in names), ", ".join(n.ko for n in names)),
            )
        return person

    async def autocomplete(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], value: str, /
    ) -> list[app_commands.Choice[str]]:
        language = language_of(interaction.locale)
        return [
            app_commands.Choice(name=clip(_person_label(p, language), 100), value=p.id)
            for p in catalog.people_matching(_bot(interaction).dataset, value)
        ]


def _person_label(person: Person, language: Language) -> str:
    """A person as the reader writes the name, with a few other names fans use: "V (Taehyung,
    Kim Taehyung, …)", "뷔 (V, Taehyung, …)"."""
    first = person.name_ko if language is Language.KO and person.name_ko else person.name
    others = [n for n in (person.name, *person.aliases) if n != first][:3]
    return f"{first} ({', '.join(others)})" if others else first


class PostChannel(app_commands.Transformer[Any]):
    """A channel of this server where the bot can post on a schedule: a text or announcement
    channel in which it can view, send, embed and read the history. Anything else is refused,
    naming what to fix."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return list(POST_CHANNEL_TYPES)

    async def transform(
        self, interaction: discord.Interaction[Any], value: Any, /
    ) -> discord.abc.GuildChannel:
        bot = _bot(interaction)
        guild_id = interaction.guild_id
        if getattr(value, "guild_id", guild_id) != guild_id:
            raise UserError("channel.other_server")
        if getattr(value, "type", None) not in POST_CHANNEL_TYPES:
            raise UserError("channel.not_text")
        guild = interaction.guild or (bot.get_guild(guild_id) if guild_id else None)
        channel = guild.get_channel(int(value.id)) if guild else None
        if guild is None or channel is None:
            raise BotCannot("channel.cannot_see")
        me = await bot_member(bot, guild)
        if me is None:
            raise BotCannot("channel.cannot_check")
        missing = missing_post_permissions(channel.permissions_for(me), scheduled=True)
        if missing:
            language = language_of(interaction.locale)
            permissions = permission_names(missing, language, bold=True)
            raise BotCannot(
                "channel.missing_permissions", permissions=permissions, channel=channel.name
            )
        return channel


def role_notes(
    channel: discord.abc.GuildChannel,
    role: discord.Role | None,
    guild_id: int,
    language: Language,
) -> list[str]:
    """The role a post mentions: refused if it is @everyone or another server's; a note (in
    `language`) when it will show without notifying anyone."""
    if role is None:
        return []
    if role.id == guild_id or role.is_default():
        raise UserError("role.everyone")
    if channel.guild.get_role(role.id) is None:
        raise UserError("role.other_server")
    me = channel.guild.me
    if role.mentionable or me is None or channel.permissions_for(me).mention_everyone:
        return []
    permission = permission_names(["mention_everyone"], language)
    return [render("role.not_mentionable", language, role=role.mention, permission=permission)]


class ScheduleNumber(app_commands.Transformer[Any]):
    """A schedule's number, with autocomplete over the server's schedules ("#3 · Daily quote
    in #daily at 09:00 Asia/Seoul"). Discord bounds an integer option to ±(2^53 − 1)."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.integer

    @property
    def min_value(self) -> int:
        return 1

    @property
    def max_value(self) -> int:
        return MAX_SCHEDULE_NUMBER

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> int:
        return int(value)

    async def autocomplete(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], value: int | float | str, /
    ) -> list[app_commands.Choice[int]]:
        bot = _bot(interaction)
        typed = str(value or "").strip().lstrip("#")
        guild = interaction.guild
        try:  # a suggestion cannot be deferred: none rather than one Discord no longer wants
            records = await asyncio.wait_for(
                bot.schedules.in_server(interaction.guild_id or 0), AUTOCOMPLETE_SECONDS
            )
        except (TimeoutError, StoreUnavailable):
            return []
        language = language_of(interaction.locale)
        choices = []
        for record in records:
            if not str(record.id).startswith(typed):
                continue
            channel = guild.get_channel(record.channel_id) if guild else None
            label = schedule_choice(record, channel.name if channel else None, language)
            choices.append(app_commands.Choice(name=clip(label, 100), value=record.id))
        return choices[:25]
