"""What fans earned and reported (SPEC §4): leaderboards, a player's stats, question reports.

The trivia runner (`games.py`) writes scores as questions are revealed; this reads them for
`/trivia leaderboard`, `/trivia stats` and `/trivia reports`, and keeps fans' reports.
Leaderboard weeks and months begin in the server's timezone.

A report stays open until a moderator of its server resolves it (the question fixed, or the
report dismissed); the reporter is told the outcome once, after their next interaction with
the bot (`news`). So that this costs the other fans nothing, the process keeps in memory who
has an outcome to hear: read from the database (one small indexed read) every `NEWS_RELOAD`,
and kept up to date between reads with the reports this process resolves and tells. An
outcome recorded by another process sharing the database is heard of at the next reload.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.domain import trivia
from bot.domain.clock import Clock
from bot.domain.records import LeaderRow, PlayerStats, Report, ReportStatus
from bot.services.content import ContentService
from bot.store.base import Store

TOP = 10  # players a leaderboard shows
NEWS_RELOAD = dt.timedelta(minutes=10)  # who has news, read again from the database
NEWS_RETRY = dt.timedelta(minutes=1)  # … or, when the database did not answer, tried again
NEWS_AT_ONCE = 10  # outcomes told in one follow-up; more wait for the next interaction


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
        self._waiting: set[int] = set()  # fans with an outcome not told yet, as last known
        self._reload_at: dt.datetime | None = None  # when to read them again (None: never read)
        self._reloading: set[int] | None = None  # while reading: fans resolved meanwhile

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

    async def open_reports(self, guild_id: int) -> list[Report]:
        """The server's reports no moderator resolved yet, oldest first."""
        return await self.store.open_reports(guild_id)

    async def resolve(
        self, *, guild_id: int, question_id: str, up_to: int, status: ReportStatus, moderator: int
    ) -> list[Report]:
        """A moderator's verdict on the server's open reports about a question (those up to
        `up_to`, the ones they saw): fixed or dismissed. The reports resolved now (none when
        another moderator was first); each reporter hears of it at their next interaction."""
        resolved = await self.store.resolve_reports(
            guild_id=guild_id,
            question_id=question_id,
            up_to=up_to,
            status=status,
            resolved_by=moderator,
            resolved_at=self.clock.now(),
        )
        reporters = {report.reporter_id for report in resolved}
        self._waiting |= reporters
        if self._reloading is not None:
            self._reloading |= reporters
        return resolved

    def _due_reload(self) -> bool:
        return self._reloading is None and (
            self._reload_at is None or self._reload_at <= self.clock.now()
        )

    def may_have_news(self, user_id: int) -> bool:
        """Whether `news` has anything to do for this fan: they may have an outcome to hear,
        or who has is due to be read again (no I/O)."""
        return user_id in self._waiting or self._due_reload()

    async def news(self, user_id: int) -> list[Report]:
        """The outcomes of the fan's reports not told yet, each returned once (recorded as
        told): to be told after an interaction of theirs was answered, never before."""
        if self._due_reload():
            await self._reload()
        if user_id not in self._waiting:
            return []
        told = await self.store.tell_outcomes(user_id, self.clock.now(), limit=NEWS_AT_ONCE)
        if len(told) < NEWS_AT_ONCE:  # all of theirs (or told elsewhere meanwhile)
            self._waiting.discard(user_id)
        return told

    async def _reload(self) -> None:
        """Read again who has an outcome to hear (one at a time; meanwhile the fans this
        process resolves reports of are kept aside, so none is lost)."""
        self._reloading = set()
        try:
            waiting = set(await self.store.untold_reporters())
        except BaseException:
            self._reload_at = self.clock.now() + NEWS_RETRY  # as known before, till then
            raise
        else:
            self._waiting = waiting | self._reloading
            self._reload_at = self.clock.now() + NEWS_RELOAD
        finally:
            self._reloading = None

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
