"""The trivia runner's port on Discord (`DiscordTriviaChannel`): questions, reveals, standings
and notices in a game's channel.

REST only (a partial channel: no cache needed), rendered by `bot.ui` in the server's language.
Discord's errors become the runner's own words: a channel that was deleted, or where the bot
may no longer post, is `ChannelGone`; no answer (a timeout, a lost connection, a server error)
is `ChannelUnreachable`, since the request may have arrived.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import discord

from bot.domain.records import GameRecord
from bot.domain.trivia import GameKind, OpenQuestion, Recap, Rematch, Reveal, Standing
from bot.i18n import Language
from bot.posting.scheduled import NO_ANSWER, describe
from bot.services.games import ChannelGone, ChannelUnreachable, Notice
from bot.ui import trivia as ui

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot


@contextlib.contextmanager
def _channel_errors() -> Iterator[None]:
    try:
        yield
    except (discord.Forbidden, discord.NotFound) as error:
        raise ChannelGone(f"{error.status}: {error.text}") from error
    except NO_ANSWER as error:
        raise ChannelUnreachable(describe(error)) from error
    except discord.HTTPException as error:
        if error.status != 429:
            raise
        # Still rate limited after discord.py's own tries: not done, and worth trying again
        # in a moment, like a Discord that did not answer.
        raise ChannelUnreachable(describe(error)) from error


# Languages decided for games still being played; a game's last post forgets its own, and the
# oldest go first past this many (a game stopped by /trivia stop posts no last word).
REMEMBERED_GAMES = 2000


class DiscordTriviaChannel:
    """`bot.services.games.TriviaChannel` on Discord: every post in the server's language
    (`/settings language`, else the server's preferred locale, else English), decided once per
    game so that a game never changes language halfway."""

    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot
        self._languages: dict[int, Language] = {}  # game id -> the language of its posts

    async def language(self, game: GameRecord) -> Language:
        """The language of the game's posts: its server's, decided at its first post."""
        known = self._languages.get(game.id)
        if known is not None:
            return known
        guild = self.bot.get_guild(game.guild_id)
        preferred = guild.preferred_locale if guild is not None else None
        language = await self.bot.servers.language(game.guild_id, preferred)
        self._languages[game.id] = language
        while len(self._languages) > REMEMBERED_GAMES:
            self._languages.pop(next(iter(self._languages)))
        return language

    def _done(self, game: GameRecord) -> None:
        self._languages.pop(game.id, None)

    def _channel(self, game: GameRecord) -> discord.PartialMessageable:
        return self.bot.get_partial_messageable(game.channel_id, guild_id=game.guild_id)

    def _message(self, game: GameRecord, message_id: int) -> discord.PartialMessage:
        return self._channel(game).get_partial_message(message_id)

    async def post_question(self, game: GameRecord, question: OpenQuestion, nonce: str) -> int:
        language = await self.language(game)
        with _channel_errors():
            message = await self._channel(game).send(
                embed=ui.question_embed(question, language=language),
                view=ui.question_view(
                    game.id, question, fifty_fifty=game.kind is GameKind.GAME, language=language
                ),
                nonce=nonce,
            )
        return message.id

    async def show_reveal(
        self,
        game: GameRecord,
        message_id: int,
        reveal: Reveal,
        total: int,
        streaks: Mapping[int, int],
    ) -> None:
        daily = game.kind == GameKind.DAILY
        language = await self.language(game)
        with _channel_errors():
            await self._message(game, message_id).edit(
                embed=ui.reveal_embed(
                    reveal, total, self.bot.dataset, daily, streaks, language=language
                ),
                view=ui.reveal_view(game.id, reveal, daily=daily, language=language),
            )
        if daily:  # a daily question's reveal is its last post
            self._done(game)

    async def close_question(
        self, game: GameRecord, message_id: int, question: OpenQuestion
    ) -> None:
        language = await self.language(game)
        with _channel_errors():
            await self._message(game, message_id).edit(
                view=ui.closed_view(game.id, question, language=language)
            )

    async def post_standings(
        self,
        game: GameRecord,
        standings: list[Standing],
        recap: Recap,
        note: Notice | None,
        rematch: Rematch | None,
    ) -> None:
        language = await self.language(game)
        self._done(game)
        text = ui.notice_text(note, language) if note is not None else ""
        embed = ui.standings_embed(standings, note=text, recap=recap, language=language)
        with _channel_errors():
            if rematch is None:
                await self._channel(game).send(embed=embed)
            else:
                view = ui.play_again_view(rematch, language)
                await self._channel(game).send(embed=embed, view=view)

    async def post_notice(self, game: GameRecord, notice: Notice) -> None:
        language = await self.language(game)
        self._done(game)
        with _channel_errors():
            await self._channel(game).send(embed=ui.notice_embed(notice, language))
