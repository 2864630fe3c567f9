"""What the store keeps, as the rest of the bot sees it: games, scores, leaderboards, reports,
schedules and their runs (SPEC §7); and how the store says no (unavailable for now, a game
already running, too many schedules). Plain values: the store returns them, services pass them
on, the ui renders them, and none of those needs the store to know their shape.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.schedule import PostKind, RunState, ScheduleState
from bot.domain.trivia import GameKind, GameState


class StoreError(Exception):
    """The database cannot be opened or migrated; the message says why, for the operator."""


class StoreUnavailable(StoreError):
    """The database cannot be written (or read) right now: locked by another program for
    longer than the busy timeout, a full disk, read-only, its file gone. What was being done
    is not done; trying again later may work."""


class GameAlreadyRunning(Exception):
    """A channel already has a running game (the database's unique index said so)."""


@dataclass(frozen=True, slots=True)
class GameRecord:
    id: int
    guild_id: int
    channel_id: int
    starter_id: int
    kind: GameKind
    difficulty: str
    seconds: int
    question_ids: tuple[str, ...]
    choices: tuple[tuple[str, ...], ...]
    state: GameState
    revealed: int
    current_message: int | None
    opened_at: tuple[dt.datetime, ...]
    started_at: dt.datetime
    run_key: str | None = None  # the scheduled run a daily question was posted for
    topic: str | None = None  # a game's, when one was chosen


@dataclass(frozen=True, slots=True)
class ChallengeDay:
    """A daily challenge's questions as the store pinned them the first time anyone played
    it, and each one's choices in the order shown."""

    question_ids: tuple[str, ...]
    choices: tuple[tuple[str, ...], ...]


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
    daily_streak: int = 0  # daily questions answered right in a row, up to the latest
    best_daily_streak: int = 0
    fifty_fifties: int = 0  # 50/50s used in this server's games

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


class ReportStatus(StrEnum):
    """What became of a fan's report about a trivia question: open until a moderator of its
    server marks the question fixed, or dismisses the report (the question stays as it is)."""

    OPEN = "open"
    FIXED = "fixed"
    DISMISSED = "dismissed"


@dataclass(frozen=True, slots=True)
class Report:
    id: int
    guild_id: int
    channel_id: int
    question_id: str
    reporter_id: int
    reason: str
    created_at: dt.datetime
    status: ReportStatus = ReportStatus.OPEN
    resolved_by: int | None = None  # the moderator who resolved it
    resolved_at: dt.datetime | None = None
    told_at: dt.datetime | None = None  # when the reporter was told the outcome (once)


class TooManySchedules(Exception):
    """The server already has the most schedules allowed (checked inside the transaction)."""


@dataclass(frozen=True, slots=True)
class ScheduleRecord:
    """A moderator's scheduled post (SPEC §6). `state` is 'active' or 'paused'; an active
    schedule whose last runs failed is "failing" (`failing_reason` says why)."""

    id: int
    guild_id: int
    channel_id: int
    content: PostKind
    local_time: dt.time
    timezone: str
    days: frozenset[int]  # 0 = Monday
    role_id: int | None
    state: ScheduleState
    failing_reason: str | None
    failures: int  # consecutive failed runs
    next_run_at: dt.datetime
    created_by: int
    created_at: dt.datetime

    @property
    def failing(self) -> bool:
        return self.failing_reason is not None


@dataclass(frozen=True, slots=True)
class ScheduleRun:
    """One run of a schedule: the schedule as it was when the run was claimed, and when the
    run was due. `(schedule.id, due_at)` identifies it (and its Discord nonce)."""

    schedule: ScheduleRecord
    due_at: dt.datetime
    state: RunState
    claimed_at: dt.datetime
