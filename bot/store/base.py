"""The storage interface the services, the scheduler and the CLI use (SPEC §7).

One protocol per aggregate (the database, settings, shuffle bags, trivia, schedules), together
`Store`: a second backend (PostgreSQL, SPEC §8) is a new class rather than a rewrite.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Protocol

from bot.domain.daily import Attempt, BoardRow, StreakRow
from bot.domain.records import (
    ChallengeDay,
    GameAlreadyRunning,
    GameRecord,
    LeaderRow,
    PlayerStats,
    Report,
    ReportStatus,
    ScheduleRecord,
    ScheduleRun,
    ScoreRow,
    StoreError,
    StoreUnavailable,
    TooManySchedules,
)
from bot.domain.schedule import PostKind
from bot.domain.shards import Shards
from bot.domain.trivia import DailyStreak, GameKind, GameState

__all__ = [
    "BagStore",
    "ChallengeStore",
    "DatabaseStore",
    "GameAlreadyRunning",
    "GameRecord",
    "GatewayStore",
    "LeaderRow",
    "PlayerStats",
    "Report",
    "ReportStatus",
    "ScheduleRecord",
    "ScheduleRun",
    "ScheduleStore",
    "ScoreRow",
    "SettingsStore",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "TooManySchedules",
    "TriviaStore",
]


class DatabaseStore(Protocol):
    """The database itself: opening, its schema, its health, and the bot's own small notes."""

    on_error: Callable[[str], None] | None
    """Told the kind of every error that made the database unusable for a moment
    (`unavailable`, `timeout`, `lost_connection`, `locked`, `full`, `read_only`, `other`):
    the operator's metrics."""

    @property
    def healthy(self) -> bool:
        """Whether the database answered its last use."""
        ...

    async def open(self, *, check_writable: bool = True) -> None:
        """Create the database if needed, apply pending migrations and, unless
        `check_writable` is False (readers such as `lwa-bot reports`), prove it can be
        written. Raises StoreError with one sentence for the operator."""

    async def close(self) -> None: ...

    async def schema_version(self) -> int: ...

    async def get_meta(self, key: str) -> str | None: ...

    async def set_meta(self, key: str, value: str) -> None: ...


class SettingsStore(Protocol):
    """A server's settings (SPEC §6 /settings)."""

    async def guild_timezone(self, guild_id: int) -> str | None:
        """The server's default timezone, or None when a moderator never set one."""

    async def set_guild_timezone(self, guild_id: int, timezone: str) -> None: ...

    async def guild_language(self, guild_id: int) -> str | None:
        """The language (`en`, `ko`) a moderator chose for the server's posts, or None."""

    async def set_guild_language(self, guild_id: int, language: str) -> None: ...


class BagStore(Protocol):
    """The shuffle bags of the no-repeat rule (SPEC §4)."""

    async def draw(
        self,
        scope_id: int,
        kind: str,
        filter_key: str,
        candidates: Sequence[str],
        rng: random.Random,
        *,
        exclusive: bool = False,
        within: Collection[str] | None = None,
    ) -> str:
        """Pick the next id from the (scope, kind, filter) shuffle bag, atomically; with
        `within`, one of those ids (a filtered draw from the same bag: see rotation.draw).

        Nothing repeats within a round: an id comes again only after every other candidate
        has been drawn once. `exclusive`: only this process draws from this bag (a server's
        channel, which only the process running the server's shard serves), so a backend may
        return the pick before the bag is written, and write it by `close()`; otherwise (a
        fan's own bag, which any process may serve) the pick is returned once written.
        """


class TriviaStore(Protocol):
    """Trivia games, their answers and reveals, the leaderboards, and reports (SPEC §4)."""

    async def create_game(
        self,
        *,
        guild_id: int,
        channel_id: int,
        starter_id: int,
        kind: GameKind,
        difficulty: str,
        seconds: int,
        question_ids: Sequence[str],
        choices: Sequence[Sequence[str]],
        started_at: dt.datetime,
        run_key: str | None = None,
        topic: str | None = None,
    ) -> GameRecord:
        """Store a new running game and mark its questions as asked in the server.

        Raises GameAlreadyRunning when the channel has a running game (kind 'game').
        `run_key` ties a daily question to its scheduled run (see `game_for_run`).
        """

    async def game(self, game_id: int) -> GameRecord | None: ...

    async def game_for_run(self, run_key: str) -> GameRecord | None:
        """The daily question made for a scheduled run, whatever state it is in."""

    async def running_game(self, channel_id: int) -> GameRecord | None: ...

    async def running_games(self, *, shards: Shards | None = None) -> list[GameRecord]:
        """Every running game, by id; with `shards`, only those of servers in these shards."""

    async def open_question(
        self, game_id: int, index: int, opened_at: dt.datetime, message_id: int | None
    ) -> None:
        """Record that question `index` opened, with its message when it is already known."""

    async def set_question_message(self, game_id: int, message_id: int) -> None: ...

    async def record_answer(
        self, game_id: int, index: int, user_id: int, choice_index: int, answered_at: dt.datetime
    ) -> bool:
        """Store an answer as it is made; False when the player had already answered."""

    async def game_answers(self, game_id: int) -> list[dict[int, tuple[int, dt.datetime]]]:
        """Every recorded answer: per question index, {user_id: (choice_index, answered_at)}."""

    async def record_half(
        self, game_id: int, index: int, user_id: int, used_at: dt.datetime
    ) -> bool:
        """Store that a player used 50/50 on question `index`; False when they had already."""

    async def game_halves(self, game_id: int) -> list[set[int]]:
        """Who used 50/50, per question index."""

    async def record_reveal(
        self,
        game_id: int,
        index: int,
        rows: Sequence[ScoreRow],
        revealed_at: dt.datetime,
        *,
        timezone: str = "UTC",
        daily: bool = False,
    ) -> None:
        """Score a revealed question into the leaderboard, once (a repeat is ignored): its
        weeks and months are the server's (`timezone`). A `daily` question also moves its
        players' daily streaks on (`DailyStreak.after`, from the server's latest daily) and
        becomes the server's latest daily, in the same transaction and one reveal of the
        server at a time, so two reveals at the same moment never lose a streak."""

    async def daily_streaks(self, guild_id: int, user_ids: Sequence[int]) -> dict[int, DailyStreak]:
        """The players' daily streaks in the server, as last recorded."""

    async def latest_daily(self, guild_id: int) -> int | None:
        """The server's daily question whose reveal was recorded last, if any."""

    async def end_game(self, game_id: int, state: GameState, ended_at: dt.datetime) -> None: ...

    async def last_asked(self, guild_id: int) -> Mapping[str, dt.datetime]: ...

    async def leaderboard(self, guild_id: int, period: str, limit: int = 10) -> list[LeaderRow]:
        """Top players of a leaderboard bucket (`bot.domain.trivia.period_key`); only players
        with points are ranked."""

    async def leaderboard_row(
        self, guild_id: int, user_id: int, period: str
    ) -> LeaderRow | None: ...

    async def player_stats(self, guild_id: int, user_id: int) -> PlayerStats: ...

    async def add_report(
        self,
        *,
        guild_id: int,
        channel_id: int,
        question_id: str,
        reporter_id: int,
        reason: str,
        created_at: dt.datetime,
    ) -> int: ...

    async def reports(self, guild_id: int | None, limit: int = 50) -> list[Report]:
        """Newest first, whatever became of them; every server's when `guild_id` is None
        (operators)."""

    async def open_reports(self, guild_id: int, limit: int = 200) -> list[Report]:
        """The server's reports no moderator resolved yet, oldest first."""

    async def resolve_reports(
        self,
        *,
        guild_id: int,
        question_id: str,
        up_to: int,
        status: ReportStatus,
        resolved_by: int,
        resolved_at: dt.datetime,
    ) -> list[Report]:
        """Record the outcome (fixed or dismissed) of the server's open reports about a
        question, those up to id `up_to` (the ones the moderator saw), in one transaction;
        the reports resolved now, as they are now (none when another moderator was first)."""

    async def untold_reporters(self, limit: int = 100_000) -> list[int]:
        """The fans with an outcome of a report they have not been told yet (a small read: the
        partial index trivia_reports_untold holds only those reports)."""

    async def tell_outcomes(
        self, reporter_id: int, told_at: dt.datetime, limit: int = 10
    ) -> list[Report]:
        """The outcomes of the fan's reports they have not been told yet, recorded as told
        now: each is returned once, whoever asks at the same moment. Cheap when there is
        nothing to tell (one read, no write)."""


class ChallengeStore(Protocol):
    """The daily challenge (SPEC §4 /daily): its days, fans' attempts, runs of days and boards.
    `day` is always the challenge's number (`bot.domain.daily.number_of`)."""

    async def challenge_day(self, day: int) -> ChallengeDay | None:
        """The day's questions, if anyone played it yet."""

    async def pin_challenge_day(
        self,
        day: int,
        question_ids: Sequence[str],
        choices: Sequence[Sequence[str]],
        at: dt.datetime,
    ) -> ChallengeDay:
        """Pin the day's questions unless another process did first; the ones pinned."""

    async def start_challenge(
        self, user_id: int, day: int, at: dt.datetime, guild_id: int | None
    ) -> Attempt:
        """The fan's attempt at the day, started at `at` unless it was started before; in a
        server, the fan is on its board for the day."""

    async def challenge_attempt(self, user_id: int, day: int) -> Attempt | None: ...

    async def answer_challenge(
        self, user_id: int, day: int, index: int, choice: int, correct: bool, at: dt.datetime
    ) -> tuple[bool, Attempt | None]:
        """Record the answer to question `index` if it is the one the fan is on (the last
        one also finishes the attempt and moves their run of days on, in the same
        transaction): whether it was recorded, and the attempt as it stands."""

    async def share_challenge(self, guild_id: int, day: int, user_id: int, at: dt.datetime) -> bool:
        """Note the fan shared the day's result in the server (and is on its board): False if
        they already had."""

    async def challenge_board(
        self, guild_id: int, day: int, limit: int = 10
    ) -> tuple[list[BoardRow], int]:
        """The server's finished attempts of the day, best first, and how many there are."""

    async def challenge_streaks(self, guild_id: int, today: int, limit: int = 5) -> list[StreakRow]:
        """The longest runs of days still alive on `today` among the server's players."""


class ScheduleStore(Protocol):
    """Moderators' schedules and their runs (SPEC §6)."""

    async def add_schedule(
        self,
        *,
        guild_id: int,
        channel_id: int,
        content: PostKind,
        local_time: dt.time,
        timezone: str,
        days: frozenset[int],
        role_id: int | None,
        next_run_at: dt.datetime,
        created_by: int,
        created_at: dt.datetime,
        limit: int,
    ) -> ScheduleRecord:
        """Store a new active schedule. Raises TooManySchedules when the server already has
        `limit` schedules (counted in the same transaction)."""

    async def schedule(self, schedule_id: int, guild_id: int) -> ScheduleRecord | None:
        """The schedule with that id in that server; None for another server's."""

    async def schedules(self, guild_id: int) -> list[ScheduleRecord]:
        """Every schedule of the server, by id."""

    async def remove_schedule(self, schedule_id: int, guild_id: int) -> bool:
        """Delete the server's schedule (and its runs); False when it has none with that id."""

    async def pause_schedule(self, schedule_id: int, guild_id: int) -> ScheduleRecord | None: ...

    async def resume_schedule(
        self, schedule_id: int, guild_id: int, next_run_at: dt.datetime
    ) -> ScheduleRecord | None:
        """Make the schedule active again from `next_run_at`, forgetting past failures."""

    async def next_due_at(self, *, shards: Shards | None = None) -> dt.datetime | None:
        """When the earliest active schedule is due (the head of the due-time index); with
        `shards`, the earliest of servers in these shards."""

    async def claim_due_runs(
        self,
        now: dt.datetime,
        *,
        grace: dt.timedelta,
        limit: int,
        shards: Shards | None = None,
    ) -> list[ScheduleRun]:
        """Atomically claim up to `limit` runs due at or before `now`: record each as 'claimed'
        and advance its schedule to the next run. A run is claimed once only, whoever claims,
        even by two processes on one database at the same moment.

        After downtime, a schedule's next run is counted from `now - grace` at the earliest,
        so runs missed long ago are not claimed one by one. With `shards`, only runs of
        servers in these shards (`(guild_id >> 22) % count`; no server counts as shard 0)."""

    async def sent_run(
        self, schedule_id: int, due_at: dt.datetime
    ) -> tuple[int, dt.datetime] | None:
        """(message id, sent at) of a run recorded as sent; None otherwise."""
        ...

    async def unfinished_runs(self, *, shards: Shards | None = None) -> list[ScheduleRun]:
        """Runs claimed but never recorded as sent, skipped or failed (a crash in between);
        with `shards`, only those of servers in these shards."""

    async def mark_run_sent(
        self, schedule_id: int, due_at: dt.datetime, message_id: int, sent_at: dt.datetime
    ) -> None:
        """Record the run as sent and the schedule as healthy again (failures reset)."""

    async def mark_run_skipped(
        self, schedule_id: int, due_at: dt.datetime, reason: str
    ) -> None: ...

    async def mark_run_failed(
        self,
        schedule_id: int,
        due_at: dt.datetime,
        error: str,
        *,
        failing_reason: str | None,
        pause_after: int,
    ) -> ScheduleRecord | None:
        """Record a failed run. With `failing_reason` (the channel is gone or the bot lost a
        permission) the schedule becomes failing and pauses itself after `pause_after` failures
        in a row. A run already sent is left as it is. Returns the schedule as it is now."""


class GatewayStore(Protocol):
    """What processes sharing the database coordinate about Discord's gateway (SPEC §8)."""

    async def claim_identify_slot(
        self, bucket: int, now: dt.datetime, spacing: dt.timedelta
    ) -> dt.datetime:
        """Reserve the next moment this IDENTIFY bucket (`shard_id % max_concurrency`) may
        IDENTIFY: `max(now, last reserved + spacing)`, stored and returned, atomically across
        processes. The caller waits until then; nothing is held meanwhile."""


class Store(
    DatabaseStore,
    SettingsStore,
    BagStore,
    TriviaStore,
    ChallengeStore,
    ScheduleStore,
    GatewayStore,
    Protocol,
):
    """Everything the bot keeps (SPEC §7). A backend implements all of it; the store contract
    tests (tests/store) run against every backend."""
