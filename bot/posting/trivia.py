"""The trivia runner's port on Discord (`DiscordTriviaChannel`): questions, reveals, standings
and notices in a game's channel.

REST only (a partial channel: no cache needed), rendered by `bot.ui`. Discord's errors become
the runner's own words: a channel that was deleted, or where the bot may no longer post, is
`ChannelGone`; no answer (a timeout, a lost connection, a server error) is
`ChannelUnreachable`, since the request may have arrived.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import discord

from bot.domain.records import GameRecord
from bot.domain.trivia import GameKind, OpenQuestion, Reveal, Standing
from bot.i18n import Language
from bot.posting.scheduled import NO_ANSWER, describe
from bot.services.games import ChannelGone, ChannelUnreachable
from bot.ui import notices
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


class DiscordTriviaChannel:
    """`bot.services.games.TriviaChannel` on Discord."""

    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot

    def _channel(self, game: GameRecord) -> discord.PartialMessageable:
        return self.bot.get_partial_messageable(game.channel_id, guild_id=game.guild_id)

    def _message(self, game: GameRecord, message_id: int) -> discord.PartialMessage:
        return self._channel(game).get_partial_message(message_id)

    async def post_question(self, game: GameRecord, question: OpenQuestion, nonce: str) -> int:
        with _channel_errors():
            message = await self._channel(game).send(
                embed=ui.question_embed(question),
                view=ui.question_view(game.id, question),
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
        with _channel_errors():
            await self._message(game, message_id).edit(
                embed=ui.reveal_embed(reveal, total, self.bot.dataset, daily, streaks),
                view=ui.reveal_view(game.id, reveal),
            )

    async def close_question(
        self, game: GameRecord, message_id: int, question: OpenQuestion
    ) -> None:
        with _channel_errors():
            await self._message(game, message_id).edit(view=ui.closed_view(game.id, question))

    async def post_standings(self, game: GameRecord, standings: list[Standing], note: str) -> None:
        with _channel_errors():
            await self._channel(game).send(
                embed=ui.standings_embed(standings, "Final standings", note)
            )

    async def post_notice(self, game: GameRecord, text: str) -> None:
        with _channel_errors():
            await self._channel(game).send(embed=notices.user_error_embed(text, Language.EN))
