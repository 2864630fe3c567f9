"""What fans earned and reported (SPEC §4): leaderboards, a player's stats, question reports.

The trivia runner (`games.py`) writes scores as questions are revealed; this reads them for
`/trivia leaderboard`, `/trivia stats` and `/trivia reports`, and keeps fans' reports.
Leaderboard weeks and months begin in the server's timezone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.domain import trivia
from bot.domain.clock import Clock
from bot.domain.records import LeaderRow, PlayerStats, Report
from bot.services.content import ContentService
from bot.store.base import Store

TOP = 10  # players a leaderboard shows


@dataclass(frozen=True)
class Leaderboard:
    rows: list[LeaderRow]  # the top players with points
    caller: LeaderRow | None  # the asking player's own row, when ranked
    since: dt.datetime | None  # when the period began (None: all time)
    timezone: str  # the server's, where weeks and months begin


class Scores:
    def __init__(self, store: Store, content: ContentService, clock: Clock) -> None:
        self.store = store
        self.content = content
        self.clock = clock

    async def leaderboard(self, guild_id: int, user_id: int, period: str) -> Leaderboard:
        """The server's top players of `period` (`all`, `week` or `month`), and the asking
        player's own row."""
        now = self.clock.now()
        timezone = await self.content.server_timezone(guild_id)
        bucket = trivia.period_key(period, now, timezone)
        return Leaderboard(
            rows=await self.store.leaderboard(guild_id, bucket, limit=TOP),
            caller=await self.store.leaderboard_row(guild_id, user_id, bucket),
            since=trivia.period_start(period, now, timezone),
            timezone=timezone,
        )

    async def player(self, guild_id: int, user_id: int) -> PlayerStats:
        return await self.store.player_stats(guild_id, user_id)

    async def reports(self, guild_id: int | None, limit: int = 20) -> list[Report]:
        """The newest reports of a server (every server's for operators: None)."""
        return await self.store.reports(guild_id, limit=limit)

    async def report(
        self, *, guild_id: int, channel_id: int, question_id: str, reporter_id: int, reason: str
    ) -> int:
        """Keep a fan's report about a question; its number."""
        return await self.store.add_report(
            guild_id=guild_id,
            channel_id=channel_id,
            question_id=question_id,
            reporter_id=reporter_id,
            reason=reason,
            created_at=self.clock.now(),
        )
