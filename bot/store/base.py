"""The storage interface the cogs, the scheduler and the CLI use (SPEC §7).

One protocol, so a second backend (PostgreSQL, SPEC §8) is a new class rather than a rewrite.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


class GameAlreadyRunning(Exception):
    """A channel already has a running game (the database's unique index said so)."""


@dataclass(frozen=True, slots=True)
class GameRecord:
    id: int
    guild_id: int
    channel_id: int
    starter_id: int
    kind: str
    difficulty: str
    seconds: int
    question_ids: tuple[str, ...]
    choices: tuple[tuple[str, ...], ...]
    state: str
    revealed: int
    current_message: int | None
    opened_at: tuple[dt.datetime, ...]
    started_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """One answer of a revealed question, as it goes into the leaderboard."""

    user_id: int
    question_id: str
    correct: bool
    points: int
    streak: int


@dataclass(frozen=True, slots=True)
class LeaderRow:
    rank: int
    user_id: int
    points: int
    correct: int
    answered: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


@dataclass(frozen=True, slots=True)
class PlayerStats:
    user_id: int
    points: int
    games: int
    answered: int
    correct: int
    best_streak: int
    rank: int | None

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


@dataclass(frozen=True, slots=True)
class Report:
    id: int
    guild_id: int
    channel_id: int
    question_id: str
    reporter_id: int
    reason: str
    created_at: dt.datetime


class Store(Protocol):
    async def open(self) -> None:
        """Create the database if needed and apply pending migrations."""

    async def close(self) -> None: ...

    async def schema_version(self) -> int: ...

    async def get_meta(self, key: str) -> str | None: ...

    async def set_meta(self, key: str, value: str) -> None: ...

    async def guild_timezone(self, guild_id: int) -> str | None:
        """The server's default timezone, or None when a moderator never set one."""

    async def set_guild_timezone(self, guild_id: int, timezone: str) -> None: ...

    async def draw(
        self,
        scope_id: int,
        kind: str,
        filter_key: str,
        candidates: Sequence[str],
        rng: random.Random,
    ) -> str:
        """Pick the next id from the (scope, kind, filter) shuffle bag, atomically.

        Nothing repeats within a round: an id comes again only after every other candidate
        has been drawn once.
        """

    async def bag_remaining(self, scope_id: int, kind: str, filter_key: str) -> list[str]: ...

    # --- trivia ---------------------------------------------------------------------------

    async def create_game(self, *, guild_id: int, channel_id: int, starter_id: int, kind: str,
                          difficulty: str, seconds: int, question_ids: Sequence[str],
                          choices: Sequence[Sequence[str]], started_at: dt.datetime) -> GameRecord:
        """Store a new running game and mark its questions as asked in the server.

        Raises GameAlreadyRunning when the channel has a running game (kind 'game').
        """

    async def game(self, game_id: int) -> GameRecord | None: ...

    async def running_game(self, channel_id: int) -> GameRecord | None: ...

    async def running_games(self) -> list[GameRecord]: ...

    async def open_question(self, game_id: int, index: int, opened_at: dt.datetime,
                            message_id: int) -> None: ...

    async def record_answer(self, game_id: int, index: int, user_id: int, choice_index: int,
                            answered_at: dt.datetime) -> bool:
        """Store an answer as it is made; False when the player had already answered."""

    async def game_answers(self, game_id: int) -> list[dict[int, tuple[int, dt.datetime]]]:
        """Every recorded answer: per question index, {user_id: (choice_index, answered_at)}."""

    async def record_reveal(self, game_id: int, index: int, rows: Sequence[ScoreRow],
                            revealed_at: dt.datetime) -> None:
        """Score a revealed question into the leaderboard, once (a repeat is ignored)."""

    async def end_game(self, game_id: int, state: str, ended_at: dt.datetime) -> None: ...

    async def last_asked(self, guild_id: int) -> Mapping[str, dt.datetime]: ...

    async def leaderboard(self, guild_id: int, since: dt.datetime | None,
                          limit: int = 10) -> list[LeaderRow]: ...

    async def leaderboard_row(self, guild_id: int, user_id: int,
                              since: dt.datetime | None) -> LeaderRow | None: ...

    async def player_stats(self, guild_id: int, user_id: int) -> PlayerStats: ...

    async def add_report(self, *, guild_id: int, channel_id: int, question_id: str,
                         reporter_id: int, reason: str, created_at: dt.datetime) -> int: ...

    async def reports(self, guild_id: int | None, limit: int = 50) -> list[Report]:
        """Newest first; every server's when `guild_id` is None (operators)."""
