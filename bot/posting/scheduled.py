"""The scheduler's port on Discord (`ScheduledPosts`): what a run posts, how it is sent, and
how it is found again in its channel.

REST only (a partial channel: no cache needed), rendered by `bot.ui` in the server's language
(SPEC §3a). Discord's errors become the scheduler's own words: a channel that was deleted, or
where the bot may no longer post, is `PostRefused`; no answer (a timeout, a lost connection, a
server error) is `PostUncertain`, since the request may have arrived. Why a schedule fails is
kept as a message of the catalogue (`bot.domain.schedule.stored_reason`), shown later to each
moderator in their language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

import aiohttp
import discord

from bot.checks import missing_post_permissions
from bot.domain.records import ScheduleRecord, ScheduleRun
from bot.domain.schedule import PostKind, stored_reason
from bot.i18n import Language, msg
from bot.scheduler import CannotTell, PostRefused, PostRejected, PostUncertain
from bot.services.content import DailyPost
from bot.ui import content, details, embeds
from bot.ui import trivia as ui
from bot.ui.schedules import post_title

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot

# What "Discord did not answer" looks like from discord.py and aiohttp: the request may or may
# not have been carried out.
NO_ANSWER: tuple[type[BaseException], ...] = (
    discord.DiscordServerError,
    TimeoutError,
    OSError,
    aiohttp.ClientError,
)
# Looking for a post: from a little before its run was claimed (clocks differ), 100 messages a
# page, at most this many pages (the post comes right after the claim, near the start).
LOOK_BACK = dt.timedelta(minutes=5)
LOOK_PAGES = 10


def describe(error: BaseException) -> str:
    if isinstance(error, discord.HTTPException):
        return f"HTTP {error.status}: {error.text or error.__class__.__name__}"[:300]
    return f"{error.__class__.__name__}: {error}"[:300]


# --- scheduled posts --------------------------------------------------------------------------


class _RoleToPing:
    """The one role a schedule pings, for `AllowedMentions.roles`. discord.py writes each role's
    `.id` into `allowed_mentions.roles` as it is, and Discord's published schema has those
    snowflakes as strings (a `discord.Object` would write a JSON number)."""

    def __init__(self, role_id: int) -> None:
        self.id = str(role_id)


def role_mentions(role_id: int) -> discord.AllowedMentions:
    """Allowed mentions that ping this role and nothing else: `{"parse": [], "roles": [id]}`."""
    roles = cast("list[discord.abc.Snowflake]", [_RoleToPing(role_id)])
    return discord.AllowedMentions(everyone=False, users=False, roles=roles, replied_user=False)


@dataclass(frozen=True)
class OutgoingPost:
    embed: discord.Embed
    view: discord.ui.View


class ChannelRest(Protocol):
    """The two REST calls scheduled posts make (Discord's errors come through as raised)."""

    async def send(
        self,
        channel_id: int,
        *,
        guild_id: int,
        content: str | None,
        embed: discord.Embed,
        view: discord.ui.View,
        nonce: str,
        allowed_mentions: discord.AllowedMentions,
    ) -> int:
        """POST the message; its id."""
        ...

    async def history(self, channel_id: int, *, after: int, limit: int) -> list[dict[str, Any]]:
        """GET the `limit` messages right after message id `after`, as Discord gives them."""
        ...


class DiscordRest:
    """`ChannelRest` through discord.py's HTTP client: no channel cache needed."""

    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot

    async def send(
        self,
        channel_id: int,
        *,
        guild_id: int,
        content: str | None,
        embed: discord.Embed,
        view: discord.ui.View,
        nonce: str,
        allowed_mentions: discord.AllowedMentions,
    ) -> int:
        channel = self.bot.get_partial_messageable(channel_id, guild_id=guild_id)
        # discord.py sends `enforce_nonce` with a nonce.
        message = await channel.send(
            content=content, embed=embed, view=view, nonce=nonce, allowed_mentions=allowed_mentions
        )
        return message.id

    async def history(self, channel_id: int, *, after: int, limit: int) -> list[dict[str, Any]]:
        messages = await self.bot.http.logs_from(channel_id, limit, after=after)
        return cast("list[dict[str, Any]]", messages)


class ScheduledPosts:
    """`bot.scheduler.Poster` on Discord: what a run posts (a quote, fact or on-this-day from
    the content service, or a daily question from the trivia runner), how it is sent, and how
    it is recognised in its channel: every post carries its run's marker in a button's
    custom_id (the run's nonce under "Details"; a daily question's answers name its game)."""

    def __init__(self, bot: LoveWinsAllBot, rest: ChannelRest | None = None) -> None:
        self.bot = bot
        self.rest: ChannelRest = rest or DiscordRest(bot)

    async def language(self, schedule: ScheduleRecord) -> Language:
        """The language of the server's posts: a moderator's choice, else the server's
        preferred locale (from the bot's cache), else English."""
        guild = self.bot.get_guild(schedule.guild_id)
        preferred = guild.preferred_locale if guild is not None else None
        return await self.bot.servers.language(schedule.guild_id, preferred)

    async def make(self, run: ScheduleRun, nonce: str) -> OutgoingPost:
        schedule = run.schedule
        language = await self.language(schedule)
        title = post_title(schedule.content, schedule.days, language)
        if schedule.content is PostKind.TRIVIA:
            record, question = await self.bot.games.prepare_daily(
                guild_id=schedule.guild_id,
                channel_id=schedule.channel_id,
                starter_id=self.bot.user.id if self.bot.user else 0,
                run_key=nonce,
            )
            return OutgoingPost(
                ui.question_embed(question, title, language=language),
                ui.question_view(record.id, question, language=language),
            )
        daily = await self.bot.content.daily(
            schedule.content, schedule.guild_id, schedule.timezone, run.due_at
        )
        kind, key = _details_of(daily)
        # The buttons of a reply: "Another …" (a quote or a fact, as /quote and /fact give)
        # and "Details", which also marks the run.
        another: list[discord.ui.Item[Any]] = []
        if kind == "quote":
            another.append(content.AnotherQuoteButton(language=language))
        elif kind == "fact":
            another.append(content.AnotherFactButton(language=language))
        return OutgoingPost(
            embeds.daily_post_embed(daily, self.bot.dataset, schedule.days, language=language),
            details.details_view(kind, key, *another, run=nonce, language=language),
        )

    async def send(self, run: ScheduleRun, post: object, nonce: str) -> int:
        assert isinstance(post, OutgoingPost)
        schedule = run.schedule
        role = schedule.role_id
        try:
            return await self.rest.send(
                schedule.channel_id,
                guild_id=schedule.guild_id,
                content=f"<@&{role}>" if role else None,
                embed=post.embed,
                view=post.view,
                nonce=nonce,
                # The role a moderator chose is the only ping the bot ever makes.
                allowed_mentions=role_mentions(role) if role else discord.AllowedMentions.none(),
            )
        except (discord.Forbidden, discord.NotFound) as error:
            raise PostRefused(explain_failure(self.bot, schedule, error), describe(error)) from None
        except NO_ANSWER as error:
            raise PostUncertain(describe(error)) from None
        except discord.HTTPException as error:
            raise PostRejected(describe(error)) from None

    async def find(self, run: ScheduleRun, nonce: str) -> int | None:
        schedule = run.schedule
        if schedule.content is PostKind.TRIVIA:
            game = await self.bot.games.daily_game(nonce)
            if game is None:
                return None  # a daily question is made before it is sent: none, none sent
            if game.current_message is not None:
                return game.current_message  # already known to be out
            game_id = game.id

            def wanted(custom_id: str) -> bool:
                return ui.asks_question_of(custom_id, game_id)

        else:

            def wanted(custom_id: str) -> bool:
                return details.marks_run(custom_id, nonce)

        return await self._look(schedule, run.claimed_at - LOOK_BACK, wanted)

    async def _look(
        self, schedule: ScheduleRecord, since: dt.datetime, wanted: Callable[[str], bool]
    ) -> int | None:
        """The bot's own message in the schedule's channel, sent after `since`, with a button
        that is `wanted`; None when there is none. Raises CannotTell when the bot may not read
        the channel's history (Discord then shows no message at all)."""
        reason = _unreadable(self.bot, schedule)
        if reason is not None:
            raise CannotTell(reason)
        me = self.bot.user.id if self.bot.user else None
        after = discord.utils.time_snowflake(since, high=False)
        for _page in range(LOOK_PAGES):
            try:
                messages = await self.rest.history(schedule.channel_id, after=after, limit=100)
            except (discord.Forbidden, discord.NotFound):
                return None  # nothing can be there for the bot: a send will say why
            except NO_ANSWER as error:
                raise PostUncertain(describe(error)) from None
            for message in messages:
                if me is not None and int(message["author"]["id"]) != me:
                    continue
                if any(wanted(custom_id) for custom_id in _custom_ids(message)):
                    return int(message["id"])
            if len(messages) < 100:
                return None
            after = max(int(m["id"]) for m in messages)
        return None

    async def posted(self, run: ScheduleRun, message_id: int, nonce: str) -> None:
        if run.schedule.content is PostKind.TRIVIA:
            await self.bot.games.daily_posted(nonce, message_id)

    async def abandoned(self, run: ScheduleRun, nonce: str) -> None:
        if run.schedule.content is PostKind.TRIVIA:
            await self.bot.games.void_daily(nonce)


def _details_of(post: DailyPost) -> tuple[str, str]:
    """What "Details" under a scheduled post opens."""
    if post.quote is not None:
        return "quote", post.quote.id
    if post.day is not None:
        return "day", f"{post.day.month:02d}-{post.day.day:02d}"
    if post.fact is not None:
        return "fact", post.fact.id
    raise ValueError(f"an empty {post.kind} post")


def _custom_ids(message: Mapping[str, Any]) -> Iterator[str]:
    """Every custom_id of a message's components (raw API data), however nested."""
    stack: list[Any] = list(message.get("components") or [])
    while stack:
        component = stack.pop()
        if not isinstance(component, dict):
            continue
        custom_id = component.get("custom_id")
        if isinstance(custom_id, str):
            yield custom_id
        stack.extend(component.get("components") or [])


def _unreadable(bot: LoveWinsAllBot, schedule: ScheduleRecord) -> str | None:
    """Why the bot may not read the channel's history (a stored reason), from its cache (None
    when it may, or when the cache cannot say)."""
    guild = bot.get_guild(schedule.guild_id)
    channel = guild.get_channel(schedule.channel_id) if guild else None
    me = guild.me if guild else None
    if channel is None or me is None or channel.permissions_for(me).read_message_history:
        return None
    return stored_reason(msg("schedule.failing.no_history"), channel=channel.name)


def explain_failure(
    bot: LoveWinsAllBot, schedule: ScheduleRecord, error: discord.HTTPException
) -> str:
    """Why Discord refused a scheduled post, and what fixes it, from the bot's own cache: a
    stored reason, shown later to each moderator in their language."""
    guild = bot.get_guild(schedule.guild_id)
    channel = guild.get_channel(schedule.channel_id) if guild else None
    if channel is None:
        if isinstance(error, discord.NotFound) or guild is not None:
            return stored_reason(msg("schedule.failing.channel_deleted"))
        return stored_reason(msg("schedule.failing.server_unreachable"))
    if isinstance(error, discord.NotFound):
        return stored_reason(msg("schedule.failing.channel_not_found"), channel=channel.name)
    me = guild.me if guild else None
    missing = missing_post_permissions(channel.permissions_for(me), scheduled=True) if me else []
    if missing:
        return stored_reason(
            msg("schedule.failing.lost_permissions"), permissions=missing, channel=channel.name
        )
    return stored_reason(
        msg("schedule.failing.refused"),
        channel=channel.name,
        error=(error.text or "Forbidden")[:150],
    )
