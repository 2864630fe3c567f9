"""The SQL both backends share: the statements, the row mapping and the store methods built on
them (`SqlStore`), over a small execute/fetch interface (`Session`) each backend implements.

Every statement is written once, with `?` placeholders, and rendered for both databases at
import (`sql`): a backend only picks its text (`Sql.sqlite` or `Sql.postgres`), so a call does
no string work. What the two databases do differently is said once, in `SQLITE` and
`POSTGRES` (`Dialect`): placeholders, instants, a list of ids in a query, the larger of two
values, row locks and the id of a new row. What differs on purpose (connections, health,
transactions, concurrency) stays in `bot.store.sqlite` and `bot.store.postgres`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

from bot.domain import schedule as schedule_rules
from bot.domain.clock import Clock
from bot.domain.daily import (
    QUESTIONS_PER_DAY,
    Answer,
    Attempt,
    BoardRow,
    Result,
    Streak,
    StreakRow,
    elapsed_seconds,
    marks,
)
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
    TooManySchedules,
)
from bot.domain.schedule import PostKind, RunState, ScheduleState, unusable_reason
from bot.domain.shards import Shards
from bot.domain.trivia import DailyStreak, GameKind, GameState, period_keys, streaks_after
from bot.store.common import next_identify_slot, shard_ids

log = logging.getLogger(__name__)
T = TypeVar("T")

# --- instants: one conversion pair per dialect ------------------------------------------------


def utc(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime")
    return instant.astimezone(dt.UTC)


def iso(instant: dt.datetime) -> str:
    """An instant as UTC ISO text: how SQLite stores every instant (so they sort and compare as
    strings), and how both keep the instants inside JSON text (a game's opened_at)."""
    return utc(instant).isoformat(timespec="microseconds")


def _from_iso(text: Any) -> dt.datetime:
    return dt.datetime.fromisoformat(str(text))


def _aware(value: Any) -> dt.datetime:
    """asyncpg gives TIMESTAMPTZ as an aware UTC datetime, as the SQLite store returns it."""
    instant: dt.datetime = value
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=dt.UTC)


# --- the two dialects -------------------------------------------------------------------------


def _numbered(text: str) -> str:
    """`?` placeholders as asyncpg's `$1`, `$2`, … (no statement has a `?` in a literal)."""
    counter = iter(range(1, 10_000))
    return re.sub(r"\?", lambda _: f"${next(counter)}", text)


@dataclass(frozen=True, slots=True)
class Dialect:
    """What one database does differently in the shared statements and their values."""

    placeholders: Callable[[str], str]
    greatest: str  # the larger of two values: `{greatest}(a, b)`
    lock_rows: str  # after a SELECT whose rows the transaction then changes: `{lock_rows}`
    skip_locked: str  # … and whose locked rows another process's claim passes by
    returning_id: str  # after an INSERT whose new id the store needs
    in_list: Callable[[int], str]  # `column {ids}`: the column is one of n ids …
    list_args: Callable[[Sequence[int]], tuple[object, ...]]  # … given as these parameters
    write_instant: Callable[[dt.datetime], object]
    read_instant: Callable[[Any], dt.datetime]


SQLITE = Dialect(
    placeholders=lambda text: text,
    greatest="MAX",  # SQLite's MAX with two arguments is scalar
    # A writing transaction already has the database to itself (BEGIN IMMEDIATE).
    lock_rows="",
    skip_locked="",
    returning_id="",  # the cursor has it (lastrowid), without a row to fetch
    in_list=lambda count: f"IN ({', '.join('?' * count)})",
    list_args=tuple,
    write_instant=iso,
    read_instant=_from_iso,
)
POSTGRES = Dialect(
    placeholders=_numbered,
    greatest="GREATEST",
    lock_rows=" FOR UPDATE",
    skip_locked=" FOR UPDATE SKIP LOCKED",
    returning_id=" RETURNING id",
    # One array parameter, whatever the count: one statement text, prepared once.
    in_list=lambda _count: "= ANY(?::bigint[])",
    list_args=lambda ids: (list(ids),),
    write_instant=utc,
    read_instant=_aware,
)


def _render(dialect: Dialect, template: str, count: int = 0) -> str:
    """`template` for `dialect`; `count`: how many ids its `{ids}` holds (SQLite). No template
    has a brace of its own, so `str.format` fills exactly the dialect fields."""
    text = template.format(
        greatest=dialect.greatest,
        lock_rows=dialect.lock_rows,
        skip_locked=dialect.skip_locked,
        ids=dialect.in_list(count),
    )
    return dialect.placeholders(text)


# --- statements -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sql:
    """One statement's text for each database. (A statement only one backend runs, kept in
    that backend's module, is written the same way; its other text is never used.)"""

    sqlite: str
    postgres: str


def sql(template: str, *, returning_id: bool = False) -> Sql:
    """The statement `template` (with `?` placeholders and the dialect fields of `_render`),
    rendered for both databases; `returning_id`: `Session.insert` runs it."""
    return Sql(
        _render(SQLITE, template) + (SQLITE.returning_id if returning_id else ""),
        _render(POSTGRES, template) + (POSTGRES.returning_id if returning_id else ""),
    )


class ListSql:
    """A statement with a list of ids in it (`{ids}`). SQLite needs a placeholder per id, so
    its text is rendered per length, once, at first use; PostgreSQL's is one text."""

    __slots__ = ("_by_count", "_postgres", "_template")
    CACHED_LENGTHS = 256  # more distinct lengths than this are rendered at each use

    def __init__(self, template: str) -> None:
        self._template = template
        self._postgres = _render(POSTGRES, template)
        self._by_count: dict[int, Sql] = {}

    def sized(self, count: int) -> Sql:
        found = self._by_count.get(count)
        if found is None:
            found = Sql(_render(SQLITE, self._template, count), self._postgres)
            if len(self._by_count) < self.CACHED_LENGTHS:
                self._by_count[count] = found
        return found


@dataclass(frozen=True, slots=True)
class ShardSql:
    """A statement filtered on this process's shards (`{shards}`): without the filter when the
    process serves every server, else with `((guild_id >> 22) % count)` among its shards."""

    everything: Sql
    some: ListSql


def in_shards(template: str, column: str) -> ShardSql:
    """`template` whose `{shards}` filters `column` (a server id; no server counts as 0)."""
    return ShardSql(
        everything=sql(template.replace("{shards}", "")),
        some=ListSql(template.replace("{shards}", f" AND (({column} >> 22) % ?) {{ids}}")),
    )


GAME_COLUMNS = (
    "id, guild_id, channel_id, starter_id, kind, difficulty, seconds, question_ids,"
    " choices, state, revealed, current_message, opened_at, started_at, run_key, topic"
)
SCHEDULE_COLUMNS = (
    "s.id, s.guild_id, s.channel_id, s.content, s.local_time, s.timezone,"
    " s.days, s.role_id, s.state, s.failing_reason, s.failures,"
    " s.next_run_at, s.created_by, s.created_at"
)
SCHEDULE_TIMEZONE = 5  # where the timezone is in a schedule row (a damaged row's reason)
REPORT_COLUMNS = (
    "id, guild_id, channel_id, question_id, reporter_id, reason, created_at,"
    " status, resolved_by, resolved_at, told_at"
)

GET_META = sql("SELECT value FROM meta WHERE key = ?")
SET_META = sql(
    "INSERT INTO meta (key, value) VALUES (?, ?)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
GUILD_TIMEZONE = sql("SELECT timezone FROM guild_settings WHERE guild_id = ?")
SET_GUILD_TIMEZONE = sql(
    "INSERT INTO guild_settings (guild_id, timezone, updated_at) VALUES (?, ?, ?)"
    " ON CONFLICT (guild_id) DO UPDATE SET timezone = excluded.timezone,"
    " updated_at = excluded.updated_at"
)
GUILD_LANGUAGE = sql("SELECT language FROM guild_languages WHERE guild_id = ?")
SET_GUILD_LANGUAGE = sql(
    "INSERT INTO guild_languages (guild_id, language, updated_at) VALUES (?, ?, ?)"
    " ON CONFLICT (guild_id) DO UPDATE SET language = excluded.language,"
    " updated_at = excluded.updated_at"
)

NEW_GAME = sql(
    "INSERT INTO trivia_games (guild_id, channel_id, starter_id, kind, difficulty,"
    " seconds, question_ids, choices, started_at, run_key, topic)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    returning_id=True,
)
MARK_ASKED = sql(
    "INSERT INTO trivia_asked (guild_id, question_id, asked_at) VALUES (?, ?, ?)"
    " ON CONFLICT (guild_id, question_id) DO UPDATE SET asked_at = excluded.asked_at"
)
GAME = sql(f"SELECT {GAME_COLUMNS} FROM trivia_games WHERE id = ?")
GAME_FOR_RUN = sql(f"SELECT {GAME_COLUMNS} FROM trivia_games WHERE run_key = ?")
RUNNING_GAME = sql(
    f"SELECT {GAME_COLUMNS} FROM trivia_games"
    " WHERE channel_id = ? AND state = 'running' AND kind = 'game'"
)
RUNNING_GAMES = in_shards(
    f"SELECT {GAME_COLUMNS} FROM trivia_games WHERE state = 'running'{{shards}} ORDER BY id",
    "guild_id",
)
OPENED_AT = sql("SELECT opened_at FROM trivia_games WHERE id = ?{lock_rows}")
OPEN_QUESTION = sql("UPDATE trivia_games SET opened_at = ?, current_message = ? WHERE id = ?")
SET_QUESTION_MESSAGE = sql("UPDATE trivia_games SET current_message = ? WHERE id = ?")
RECORD_ANSWER = sql(
    "INSERT INTO trivia_answers (game_id, question_index, user_id, choice_index, answered_at)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
GAME_ANSWERS = sql(
    "SELECT question_index, user_id, choice_index, answered_at FROM trivia_answers"
    " WHERE game_id = ? ORDER BY question_index"
)
DAILY_STREAKS = ListSql(
    "SELECT user_id, current, best, last_game_id FROM daily_streaks"
    " WHERE guild_id = ? AND user_id {ids}"
)
LATEST_DAILY = sql("SELECT game_id FROM daily_latest WHERE guild_id = ?")
REVEALED = sql("SELECT guild_id, revealed FROM trivia_games WHERE id = ?{lock_rows}")
SCORE = sql(
    "INSERT INTO trivia_scores (game_id, question_index, guild_id, user_id, question_id,"
    " correct, points, streak, revealed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT DO NOTHING"
)
ADD_TO_TOTALS = sql(
    "INSERT INTO trivia_totals (guild_id, period, user_id, points, correct, answered,"
    " best_streak, first_scored_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?)"
    " ON CONFLICT (guild_id, period, user_id) DO UPDATE SET"
    " points = trivia_totals.points + excluded.points,"
    " correct = trivia_totals.correct + excluded.correct,"
    " answered = trivia_totals.answered + 1,"
    " best_streak = {greatest}(trivia_totals.best_streak, excluded.best_streak)"
)
SET_REVEALED = sql("UPDATE trivia_games SET revealed = ? WHERE id = ?")
SET_DAILY_STREAK = sql(
    "INSERT INTO daily_streaks (guild_id, user_id, current, best, last_game_id)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, user_id) DO UPDATE SET"
    " current = excluded.current, best = excluded.best, last_game_id = excluded.last_game_id"
)
SET_LATEST_DAILY = sql(
    "INSERT INTO daily_latest (guild_id, game_id) VALUES (?, ?)"
    " ON CONFLICT (guild_id) DO UPDATE SET game_id = excluded.game_id"
)
END_GAME = sql(
    "UPDATE trivia_games SET state = ?, ended_at = ?, current_message = NULL"
    " WHERE id = ? AND state = 'running'"
)
LAST_ASKED = sql("SELECT question_id, asked_at FROM trivia_asked WHERE guild_id = ?")
LEADERBOARD = sql(
    "SELECT user_id, points, correct, answered,"
    " RANK() OVER (ORDER BY points DESC, correct DESC) AS rank FROM trivia_totals"
    " WHERE guild_id = ? AND period = ? AND points > 0"
    " ORDER BY points DESC, correct DESC, first_scored_at, user_id LIMIT ?"
)
# The rank is 1 + how many have more points (or as many points and more correct).
LEADERBOARD_ROW = sql(
    "SELECT me.user_id, me.points, me.correct, me.answered, 1 + (SELECT COUNT(*)"
    " FROM trivia_totals AS other WHERE other.guild_id = me.guild_id"
    " AND other.period = me.period AND (other.points > me.points"
    " OR (other.points = me.points AND other.correct > me.correct))) AS rank"
    " FROM trivia_totals AS me WHERE me.guild_id = ? AND me.period = ?"
    " AND me.user_id = ? AND me.points > 0"
)
PLAYER_TOTALS = sql(
    "SELECT points, correct, answered, best_streak FROM trivia_totals"
    " WHERE guild_id = ? AND period = 'all' AND user_id = ?"
)
RECORD_HALF = sql(
    "INSERT INTO trivia_halves (game_id, question_index, user_id, used_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT DO NOTHING"
)
GAME_HALVES = sql("SELECT question_index, user_id FROM trivia_halves WHERE game_id = ?")
PLAYER_HALVES = sql(
    "SELECT COUNT(*) FROM trivia_halves JOIN trivia_games ON trivia_games.id = game_id"
    " WHERE trivia_games.guild_id = ? AND user_id = ?"
)
PLAYER_GAMES = sql(
    "SELECT COUNT(DISTINCT game_id) FROM trivia_scores WHERE guild_id = ? AND user_id = ?"
)
ADD_REPORT = sql(
    "INSERT INTO trivia_reports (guild_id, channel_id, question_id, reporter_id, reason,"
    " created_at) VALUES (?, ?, ?, ?, ?, ?)",
    returning_id=True,
)
GUILD_REPORTS = sql(
    f"SELECT {REPORT_COLUMNS} FROM trivia_reports WHERE guild_id = ? ORDER BY id DESC LIMIT ?"
)
ALL_REPORTS = sql(f"SELECT {REPORT_COLUMNS} FROM trivia_reports ORDER BY id DESC LIMIT ?")
# A server's open reports, in the order they came (/trivia reports).
OPEN_REPORTS = sql(
    f"SELECT {REPORT_COLUMNS} FROM trivia_reports WHERE guild_id = ? AND status = 'open'"
    " ORDER BY id LIMIT ?"
)
# The open reports of one question in a server, up to the newest a moderator saw; locked until
# their outcome is written.
OPEN_REPORTS_OF_QUESTION = sql(
    f"SELECT {REPORT_COLUMNS} FROM trivia_reports WHERE guild_id = ? AND question_id = ?"
    " AND id <= ? AND status = 'open' ORDER BY id{lock_rows}"
)
RESOLVE_REPORTS = ListSql(
    "UPDATE trivia_reports SET status = ?, resolved_by = ?, resolved_at = ?"
    " WHERE id {ids} AND status = 'open'"
)
# Outcomes a reporter has not been told (the partial index trivia_reports_untold holds only
# these, so asking after a fan's interaction stays cheap); then claimed, locked until told.
_UNTOLD = (
    f"SELECT {REPORT_COLUMNS} FROM trivia_reports"
    " WHERE reporter_id = ? AND status <> 'open' AND told_at IS NULL ORDER BY id LIMIT ?"
)
UNTOLD_OUTCOMES = sql(_UNTOLD)
UNTOLD_REPORTERS = sql(
    "SELECT DISTINCT reporter_id FROM trivia_reports"
    " WHERE status <> 'open' AND told_at IS NULL LIMIT ?"
)
CLAIM_UNTOLD_OUTCOMES = sql(_UNTOLD + "{lock_rows}")
MARK_TOLD = ListSql("UPDATE trivia_reports SET told_at = ? WHERE id {ids} AND told_at IS NULL")

COUNT_SCHEDULES = sql("SELECT COUNT(*) FROM schedules WHERE guild_id = ?")
NEW_SCHEDULE = sql(
    "INSERT INTO schedules (guild_id, channel_id, content, local_time, timezone, days,"
    " role_id, next_run_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    returning_id=True,
)
SCHEDULE = sql(f"SELECT {SCHEDULE_COLUMNS} FROM schedules s WHERE s.id = ?")
GUILD_SCHEDULE = sql(
    f"SELECT {SCHEDULE_COLUMNS} FROM schedules s WHERE s.id = ? AND s.guild_id = ?"
)
GUILD_SCHEDULES = sql(
    f"SELECT {SCHEDULE_COLUMNS} FROM schedules s WHERE s.guild_id = ? ORDER BY s.id"
)
REMOVE_SCHEDULE = sql("DELETE FROM schedules WHERE id = ? AND guild_id = ?")
PAUSE_SCHEDULE = sql("UPDATE schedules SET state = 'paused' WHERE id = ? AND guild_id = ?")
RESUME_SCHEDULE = sql(
    "UPDATE schedules SET state = 'active', failing_reason = NULL, failures = 0,"
    " next_run_at = ? WHERE id = ? AND guild_id = ?"
)
PAUSE_UNUSABLE = sql("UPDATE schedules SET state = 'paused', failing_reason = ? WHERE id = ?")
NEXT_DUE_AT = in_shards(
    "SELECT MIN(next_run_at) FROM schedules WHERE state = 'active'{shards}", "guild_id"
)
# The due schedules, oldest first. On PostgreSQL they stay locked until the claim commits, and
# another process claiming at the same moment skips them and takes the next ones.
DUE_SCHEDULES = in_shards(
    f"SELECT {SCHEDULE_COLUMNS} FROM schedules s"
    " WHERE s.state = 'active' AND s.next_run_at <= ?{shards}"
    " ORDER BY s.next_run_at, s.id LIMIT ?{skip_locked}",
    "s.guild_id",
)
SENT_RUN = sql(
    "SELECT message_id, sent_at FROM schedule_runs"
    " WHERE schedule_id = ? AND due_at = ? AND state = 'sent'"
)
MARK_RUN_SENT = sql(
    "UPDATE schedule_runs SET state = 'sent', message_id = ?, sent_at = ?, error = NULL"
    " WHERE schedule_id = ? AND due_at = ?"
)
SCHEDULE_HEALTHY = sql("UPDATE schedules SET failures = 0, failing_reason = NULL WHERE id = ?")
MARK_RUN_SKIPPED = sql(
    "UPDATE schedule_runs SET state = 'skipped', error = ?"
    " WHERE schedule_id = ? AND due_at = ? AND state = 'claimed'"
)
MARK_RUN_FAILED = sql(
    "UPDATE schedule_runs SET state = 'failed', error = ?"
    " WHERE schedule_id = ? AND due_at = ? AND state = 'claimed'"
)
COUNT_FAILURE = sql(
    "UPDATE schedules SET failures = failures + 1, failing_reason = ?,"
    " state = CASE WHEN failures + 1 >= ? THEN 'paused' ELSE state END WHERE id = ?"
)
IDENTIFY_SLOT = sql("SELECT slot_at FROM identify_slots WHERE bucket = ?")
SET_IDENTIFY_SLOT = sql(
    "INSERT INTO identify_slots (bucket, slot_at) VALUES (?, ?)"
    " ON CONFLICT (bucket) DO UPDATE SET slot_at = excluded.slot_at"
)

# The daily challenge (/daily): a day's pinned questions, a fan's attempt and answers, their
# run of days, and who played in which server.
CHALLENGE_DAY = sql("SELECT question_ids, choices FROM challenge_days WHERE day = ?")
PIN_CHALLENGE_DAY = sql(
    "INSERT INTO challenge_days (day, question_ids, choices, created_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (day) DO NOTHING"
)
START_ATTEMPT = sql(
    "INSERT INTO challenge_attempts (user_id, day, started_at) VALUES (?, ?, ?)"
    " ON CONFLICT (user_id, day) DO NOTHING"
)
ATTEMPT = sql(
    "SELECT started_at, finished_at, correct, seconds, streak FROM challenge_attempts"
    " WHERE user_id = ? AND day = ?"
)
# An answer's transaction holds its attempt's row: two devices answering at once take turns.
LOCK_ATTEMPT = sql(
    "SELECT started_at, finished_at, correct, seconds, streak FROM challenge_attempts"
    " WHERE user_id = ? AND day = ?{lock_rows}"
)
ATTEMPT_ANSWERS = sql(
    "SELECT question_index, choice_index, correct, answered_at FROM challenge_answers"
    " WHERE user_id = ? AND day = ? ORDER BY question_index"
)
ADD_CHALLENGE_ANSWER = sql(
    "INSERT INTO challenge_answers (user_id, day, question_index, choice_index, correct,"
    " answered_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
FINISH_ATTEMPT = sql(
    "UPDATE challenge_attempts SET finished_at = ?, correct = ?, seconds = ?, streak = ?"
    " WHERE user_id = ? AND day = ? AND finished_at IS NULL"
)
CHALLENGE_STREAK = sql(
    "SELECT current, best, last_day FROM challenge_streaks WHERE user_id = ?{lock_rows}"
)
SET_CHALLENGE_STREAK = sql(
    "INSERT INTO challenge_streaks (user_id, current, best, last_day) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (user_id) DO UPDATE SET current = excluded.current, best = excluded.best,"
    " last_day = excluded.last_day"
)
ON_BOARD = sql(
    "INSERT INTO challenge_boards (guild_id, day, user_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
)
# A result is shared once per server and day: the first share writes `shared_at`, a second
# changes no row.
SHARE_ON_BOARD = sql(
    "INSERT INTO challenge_boards (guild_id, day, user_id, shared_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (guild_id, day, user_id) DO UPDATE SET shared_at = excluded.shared_at"
    " WHERE challenge_boards.shared_at IS NULL"
)
BOARD = sql(
    "SELECT a.user_id, a.correct, a.seconds, a.streak FROM challenge_boards AS b"
    " JOIN challenge_attempts AS a ON a.user_id = b.user_id AND a.day = b.day"
    " WHERE b.guild_id = ? AND b.day = ? AND a.finished_at IS NOT NULL"
    " ORDER BY a.correct DESC, a.seconds, a.user_id LIMIT ?"
)
BOARD_PLAYERS = sql(
    "SELECT COUNT(*) FROM challenge_boards AS b"
    " JOIN challenge_attempts AS a ON a.user_id = b.user_id AND a.day = b.day"
    " WHERE b.guild_id = ? AND b.day = ? AND a.finished_at IS NOT NULL"
)
BOARD_STREAKS = sql(
    "SELECT s.user_id, s.current FROM challenge_streaks AS s"
    " WHERE s.last_day >= ? AND s.current > 0 AND s.user_id IN"
    " (SELECT b.user_id FROM challenge_boards AS b WHERE b.guild_id = ?)"
    " ORDER BY s.current DESC, s.last_day DESC, s.user_id LIMIT ?"
)

# --- how a backend runs them ------------------------------------------------------------------


class Row(Protocol):
    """A result row (a tuple from SQLite, a Record from asyncpg), read by position."""

    def __getitem__(self, index: int, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...


class Session(Protocol):
    """One backend's way to run a statement: on its own (committed by itself, `_auto`), or in
    a transaction (`Transaction`)."""

    async def rows(self, q: Sql, *args: object) -> Sequence[Row]: ...

    async def row(self, q: Sql, *args: object) -> Row | None:
        """The first row: every statement read this way selects one row at most."""

    async def value(self, q: Sql, *args: object) -> Any:
        """The first column of the first row; None without a row."""

    async def execute(self, q: Sql, *args: object) -> int:
        """Run a statement that changes rows; how many it changed."""

    async def insert(self, q: Sql, *args: object) -> int:
        """Run an INSERT made with `returning_id`; the new row's id."""


class Transaction(Session, Protocol):
    """The statements of one transaction (`SqlStore._transaction`)."""

    async def execute_many(self, q: Sql, args: Iterable[Sequence[object]]) -> None:
        """Run a statement once per parameter row (a batch is written in a transaction)."""


class Turn(enum.Enum):
    """What writing transactions take turns about, across processes (`SqlStore._take_turn`),
    with the key they take turns on."""

    SCHEDULE_LIMIT = "a server's schedules counted and added"
    DAILY = "a server's daily reveals moving streaks on"
    IDENTIFY = "an IDENTIFY bucket's slot read and moved"


class SqlStore(ABC):
    """The Store methods whose SQL both backends share. A backend provides `_dialect`, `_auto`
    (statements on their own), `_transaction` and `_take_turn`, and the rest of the Store:
    opening, health, the shuffle-bag draw, and the claim and recovery of scheduled runs (with
    `_due_schedules` and `_usable_runs` from here)."""

    _dialect: ClassVar[Dialect]
    _DUPLICATE: ClassVar[tuple[type[BaseException], ...]]  # a unique key refused a row
    _clock: Clock
    _auto: Session

    @abstractmethod
    async def _transaction(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        """`work` in one transaction, committed when it returns (rolled back if it raises)."""

    @abstractmethod
    async def _take_turn(self, tx: Transaction, turn: Turn, key: int) -> None:
        """Make `tx` wait for, then hold until it ends, the turn of `turn` on `key`."""

    def _in_shards(self, q: ShardSql, shards: Shards | None) -> tuple[Sql, tuple[object, ...]]:
        """The statement for these shards and its shard parameters (none for all shards)."""
        ids = shard_ids(shards)
        if ids is None or shards is None:
            return q.everything, ()
        return q.some.sized(len(ids)), (shards.count, *self._dialect.list_args(ids))

    # --- row mapping ----------------------------------------------------------------------

    def _game(self, row: Row) -> GameRecord:
        return GameRecord(
            id=int(row[0]),
            guild_id=int(row[1]),
            channel_id=int(row[2]),
            starter_id=int(row[3]),
            kind=GameKind(row[4]),
            difficulty=str(row[5]),
            seconds=int(row[6]),
            question_ids=tuple(json.loads(str(row[7]))),
            choices=tuple(tuple(c) for c in json.loads(str(row[8]))),
            state=GameState(row[9]),
            revealed=int(row[10]),
            current_message=int(row[11]) if row[11] is not None else None,
            opened_at=tuple(_from_iso(t) for t in json.loads(str(row[12]))),
            started_at=self._dialect.read_instant(row[13]),
            run_key=str(row[14]) if row[14] is not None else None,
            topic=str(row[15]) if row[15] is not None else None,
        )

    def _schedule(self, row: Row) -> ScheduleRecord:
        """The first columns of `row` (SCHEDULE_COLUMNS) as a schedule."""
        read_instant = self._dialect.read_instant
        return ScheduleRecord(
            id=int(row[0]),
            guild_id=int(row[1]),
            channel_id=int(row[2]),
            content=PostKind(row[3]),
            local_time=dt.time.fromisoformat(str(row[4])),
            timezone=str(row[5]),
            days=schedule_rules.parse_days(str(row[6])),
            role_id=int(row[7]) if row[7] is not None else None,
            state=ScheduleState(row[8]),
            failing_reason=str(row[9]) if row[9] else None,
            failures=int(row[10]),
            next_run_at=read_instant(row[11]),
            created_by=int(row[12]),
            created_at=read_instant(row[13]),
        )

    @staticmethod
    def _leader(row: Row) -> LeaderRow:
        user, points, correct, answered, rank = row
        return LeaderRow(
            rank=int(rank),
            user_id=int(user),
            points=int(points),
            correct=int(correct),
            answered=int(answered),
        )

    def _report(self, row: Row) -> Report:
        (
            report_id,
            guild_id,
            channel_id,
            question_id,
            reporter_id,
            reason,
            created_at,
            status,
            resolved_by,
            resolved_at,
            told_at,
        ) = row
        read_instant = self._dialect.read_instant
        return Report(
            id=int(report_id),
            guild_id=int(guild_id),
            channel_id=int(channel_id),
            question_id=str(question_id),
            reporter_id=int(reporter_id),
            reason=str(reason),
            created_at=read_instant(created_at),
            status=ReportStatus(status),
            resolved_by=int(resolved_by) if resolved_by is not None else None,
            resolved_at=read_instant(resolved_at) if resolved_at is not None else None,
            told_at=read_instant(told_at) if told_at is not None else None,
        )

    # --- meta and settings ----------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        value = await self._auto.value(GET_META, key)
        return str(value) if value is not None else None

    async def set_meta(self, key: str, value: str) -> None:
        await self._auto.execute(SET_META, key, value)

    async def guild_timezone(self, guild_id: int) -> str | None:
        value = await self._auto.value(GUILD_TIMEZONE, guild_id)
        return str(value) if value is not None else None

    async def set_guild_timezone(self, guild_id: int, timezone: str) -> None:
        now = self._dialect.write_instant(self._clock.now())
        await self._auto.execute(SET_GUILD_TIMEZONE, guild_id, timezone, now)

    async def guild_language(self, guild_id: int) -> str | None:
        value = await self._auto.value(GUILD_LANGUAGE, guild_id)
        return str(value) if value is not None else None

    async def set_guild_language(self, guild_id: int, language: str) -> None:
        now = self._dialect.write_instant(self._clock.now())
        await self._auto.execute(SET_GUILD_LANGUAGE, guild_id, language, now)

    # --- trivia -----------------------------------------------------------------------------

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
        started = self._dialect.write_instant(started_at)

        async def work(tx: Transaction) -> int:
            game_id = await tx.insert(
                NEW_GAME,
                guild_id,
                channel_id,
                starter_id,
                kind,
                difficulty,
                seconds,
                json.dumps(list(question_ids)),
                json.dumps([list(c) for c in choices]),
                started,
                run_key,
                topic,
            )
            await tx.execute_many(  # in one order: concurrent games never deadlock
                MARK_ASKED, [(guild_id, qid, started) for qid in sorted(set(question_ids))]
            )
            return game_id

        try:
            game_id = await self._transaction(work)
        except self._DUPLICATE as exc:  # the channel's one running game
            raise GameAlreadyRunning(channel_id) from exc
        record = await self.game(game_id)
        assert record is not None
        return record

    async def game(self, game_id: int) -> GameRecord | None:
        row = await self._auto.row(GAME, game_id)
        return self._game(row) if row else None

    async def game_for_run(self, run_key: str) -> GameRecord | None:
        row = await self._auto.row(GAME_FOR_RUN, run_key)
        return self._game(row) if row else None

    async def running_game(self, channel_id: int) -> GameRecord | None:
        row = await self._auto.row(RUNNING_GAME, channel_id)
        return self._game(row) if row else None

    async def running_games(self, *, shards: Shards | None = None) -> list[GameRecord]:
        q, args = self._in_shards(RUNNING_GAMES, shards)
        return [self._game(row) for row in await self._auto.rows(q, *args)]

    async def open_question(
        self, game_id: int, index: int, opened_at: dt.datetime, message_id: int | None
    ) -> None:
        async def work(tx: Transaction) -> None:
            text = await tx.value(OPENED_AT, game_id)
            opened = json.loads(text) if text is not None else []
            if len(opened) != index:
                raise ValueError(f"game {game_id}: question {index} opened out of order")
            opened.append(iso(opened_at))
            await tx.execute(OPEN_QUESTION, json.dumps(opened), message_id, game_id)

        await self._transaction(work)

    async def set_question_message(self, game_id: int, message_id: int) -> None:
        await self._auto.execute(SET_QUESTION_MESSAGE, message_id, game_id)

    async def record_answer(
        self, game_id: int, index: int, user_id: int, choice_index: int, answered_at: dt.datetime
    ) -> bool:
        at = self._dialect.write_instant(answered_at)
        added = await self._auto.execute(RECORD_ANSWER, game_id, index, user_id, choice_index, at)
        return added == 1

    async def record_half(
        self, game_id: int, index: int, user_id: int, used_at: dt.datetime
    ) -> bool:
        at = self._dialect.write_instant(used_at)
        return await self._auto.execute(RECORD_HALF, game_id, index, user_id, at) == 1

    async def game_halves(self, game_id: int) -> list[set[int]]:
        halves: list[set[int]] = []
        for index, user_id in await self._auto.rows(GAME_HALVES, game_id):
            while len(halves) <= index:
                halves.append(set())
            halves[index].add(int(user_id))
        return halves

    async def game_answers(self, game_id: int) -> list[dict[int, tuple[int, dt.datetime]]]:
        read_instant = self._dialect.read_instant
        answers: list[dict[int, tuple[int, dt.datetime]]] = []
        for index, user_id, choice_index, answered_at in await self._auto.rows(
            GAME_ANSWERS, game_id
        ):
            while len(answers) <= index:
                answers.append({})
            answers[index][int(user_id)] = (int(choice_index), read_instant(answered_at))
        return answers

    async def daily_streaks(self, guild_id: int, user_ids: Sequence[int]) -> dict[int, DailyStreak]:
        return await self._daily_streaks(self._auto, guild_id, user_ids)

    async def _daily_streaks(
        self, session: Session, guild_id: int, user_ids: Sequence[int]
    ) -> dict[int, DailyStreak]:
        if not user_ids:
            return {}
        rows = await session.rows(
            DAILY_STREAKS.sized(len(user_ids)), guild_id, *self._dialect.list_args(user_ids)
        )
        return {
            int(uid): DailyStreak(int(cur), int(best), None if last is None else int(last))
            for uid, cur, best, last in rows
        }

    async def latest_daily(self, guild_id: int) -> int | None:
        value = await self._auto.value(LATEST_DAILY, guild_id)
        return int(value) if value is not None else None

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
        at = self._dialect.write_instant(revealed_at)
        periods = period_keys(revealed_at, timezone)
        ordered = sorted(rows, key=lambda r: r.user_id)  # one lock order: no deadlocks

        async def work(tx: Transaction) -> None:
            # The game's row, locked (SQLite: the whole database): a reveal repeated at the
            # same time waits, then sees it counted.
            game = await tx.row(REVEALED, game_id)
            if game is None or int(game[1]) > index:
                return  # already scored: a reveal is counted once
            guild_id = int(game[0])
            await tx.execute_many(
                SCORE,
                [
                    (
                        game_id,
                        index,
                        guild_id,
                        r.user_id,
                        r.question_id,
                        int(r.correct),
                        r.points,
                        r.streak,
                        at,
                    )
                    for r in ordered
                ],
            )
            await tx.execute_many(
                ADD_TO_TOTALS,
                sorted(
                    (guild_id, period, r.user_id, r.points, int(r.correct), r.streak, at)
                    for r in ordered
                    for period in periods
                ),
            )
            await tx.execute(SET_REVEALED, index + 1, game_id)
            if daily:
                # The server's daily reveals take turns: each reads the streaks the one before
                # wrote.
                await self._take_turn(tx, Turn.DAILY, guild_id)
                latest = await tx.value(LATEST_DAILY, guild_id)
                streaks = streaks_after(
                    game_id,
                    None if latest is None else int(latest),
                    await self._daily_streaks(tx, guild_id, [r.user_id for r in ordered]),
                    [(r.user_id, r.correct) for r in ordered],
                )
                await tx.execute_many(
                    SET_DAILY_STREAK,
                    [
                        (guild_id, user_id, st.current, st.best, st.last_game_id)
                        for user_id, st in sorted(streaks.items())
                    ],
                )
                await tx.execute(SET_LATEST_DAILY, guild_id, game_id)

        await self._transaction(work)

    # --- the daily challenge --------------------------------------------------------------------

    async def challenge_day(self, day: int) -> ChallengeDay | None:
        row = await self._auto.row(CHALLENGE_DAY, day)
        return self._challenge_day(row) if row is not None else None

    async def pin_challenge_day(
        self,
        day: int,
        question_ids: Sequence[str],
        choices: Sequence[Sequence[str]],
        at: dt.datetime,
    ) -> ChallengeDay:
        async def work(tx: Transaction) -> ChallengeDay:
            await tx.execute(
                PIN_CHALLENGE_DAY,
                day,
                json.dumps(list(question_ids)),
                json.dumps([list(c) for c in choices]),
                self._dialect.write_instant(at),
            )
            row = await tx.row(CHALLENGE_DAY, day)  # the first to pin it won
            assert row is not None
            return self._challenge_day(row)

        return await self._transaction(work)

    @staticmethod
    def _challenge_day(row: Row) -> ChallengeDay:
        return ChallengeDay(
            question_ids=tuple(json.loads(str(row[0]))),
            choices=tuple(tuple(c) for c in json.loads(str(row[1]))),
        )

    async def start_challenge(
        self, user_id: int, day: int, at: dt.datetime, guild_id: int | None
    ) -> Attempt:
        async def work(tx: Transaction) -> Attempt:
            await tx.execute(START_ATTEMPT, user_id, day, self._dialect.write_instant(at))
            if guild_id is not None:
                await tx.execute(ON_BOARD, guild_id, day, user_id)
            attempt = await self._attempt(tx, user_id, day, ATTEMPT)
            assert attempt is not None
            return attempt

        return await self._transaction(work)

    async def challenge_attempt(self, user_id: int, day: int) -> Attempt | None:
        return await self._attempt(self._auto, user_id, day, ATTEMPT)

    async def _attempt(self, session: Session, user_id: int, day: int, q: Sql) -> Attempt | None:
        row = await session.row(q, user_id, day)
        if row is None:
            return None
        read_instant = self._dialect.read_instant
        started_at, finished_at, _correct, seconds, streak = row
        answers = tuple(
            Answer(int(choice), bool(correct), read_instant(answered_at))
            for _index, choice, correct, answered_at in await session.rows(
                ATTEMPT_ANSWERS, user_id, day
            )
        )
        result = None
        if finished_at is not None:
            result = Result(day, marks(answers), int(seconds), int(streak))
        return Attempt(day, read_instant(started_at), answers, result)

    async def answer_challenge(
        self, user_id: int, day: int, index: int, choice: int, correct: bool, at: dt.datetime
    ) -> tuple[bool, Attempt | None]:
        written = self._dialect.write_instant(at)

        async def work(tx: Transaction) -> tuple[bool, Attempt | None]:
            attempt = await self._attempt(tx, user_id, day, LOCK_ATTEMPT)
            if attempt is None or attempt.result is not None or attempt.next_index != index:
                return False, attempt  # not started, over, or this question was answered
            await tx.execute(
                ADD_CHALLENGE_ANSWER, user_id, day, index, choice, int(correct), written
            )
            answers = (*attempt.answers, Answer(choice, correct, at))
            if len(answers) < QUESTIONS_PER_DAY:
                return True, Attempt(day, attempt.started_at, answers)
            row = await tx.row(CHALLENGE_STREAK, user_id)
            before = Streak() if row is None else Streak(int(row[0]), int(row[1]), int(row[2]))
            streak = before.after(day)
            result = Result(
                day, marks(answers), elapsed_seconds(attempt.started_at, at), streak.current
            )
            await tx.execute(
                FINISH_ATTEMPT, written, result.correct, result.seconds, result.streak, user_id, day
            )
            if streak != before:
                await tx.execute(
                    SET_CHALLENGE_STREAK, user_id, streak.current, streak.best, streak.last_day
                )
            return True, Attempt(day, attempt.started_at, answers, result)

        return await self._transaction(work)

    async def share_challenge(self, guild_id: int, day: int, user_id: int, at: dt.datetime) -> bool:
        written = self._dialect.write_instant(at)
        return await self._auto.execute(SHARE_ON_BOARD, guild_id, day, user_id, written) == 1

    async def challenge_board(
        self, guild_id: int, day: int, limit: int = 10
    ) -> tuple[list[BoardRow], int]:
        rows = [
            BoardRow(int(user), int(correct), QUESTIONS_PER_DAY, int(seconds), int(streak))
            for user, correct, seconds, streak in await self._auto.rows(BOARD, guild_id, day, limit)
        ]
        players = int(await self._auto.value(BOARD_PLAYERS, guild_id, day) or 0)
        return rows, players

    async def challenge_streaks(self, guild_id: int, today: int, limit: int = 5) -> list[StreakRow]:
        rows = await self._auto.rows(BOARD_STREAKS, today - 1, guild_id, limit)
        return [StreakRow(int(user), int(current)) for user, current in rows]

    async def end_game(self, game_id: int, state: GameState, ended_at: dt.datetime) -> None:
        at = self._dialect.write_instant(ended_at)
        await self._auto.execute(END_GAME, state, at, game_id)

    async def last_asked(self, guild_id: int) -> Mapping[str, dt.datetime]:
        read_instant = self._dialect.read_instant
        rows = await self._auto.rows(LAST_ASKED, guild_id)
        return {str(qid): read_instant(at) for qid, at in rows}

    async def leaderboard(self, guild_id: int, period: str, limit: int = 10) -> list[LeaderRow]:
        rows = await self._auto.rows(LEADERBOARD, guild_id, period, limit)
        return [self._leader(row) for row in rows]

    async def leaderboard_row(self, guild_id: int, user_id: int, period: str) -> LeaderRow | None:
        row = await self._auto.row(LEADERBOARD_ROW, guild_id, period, user_id)
        return self._leader(row) if row is not None else None

    async def player_stats(self, guild_id: int, user_id: int) -> PlayerStats:
        totals = await self._auto.row(PLAYER_TOTALS, guild_id, user_id)
        points, correct, answered, best_streak = (int(v) for v in totals or (0, 0, 0, 0))
        games = await self._auto.value(PLAYER_GAMES, guild_id, user_id)
        halves = await self._auto.value(PLAYER_HALVES, guild_id, user_id)
        ranked = await self.leaderboard_row(guild_id, user_id, "all")
        daily = (await self.daily_streaks(guild_id, [user_id])).get(user_id, DailyStreak())
        return PlayerStats(
            daily_streak=daily.as_of(await self.latest_daily(guild_id)),
            best_daily_streak=daily.best,
            user_id=user_id,
            points=points,
            games=int(games or 0),
            answered=answered,
            correct=correct,
            best_streak=best_streak,
            rank=ranked.rank if ranked else None,  # only players with points are ranked
            fifty_fifties=int(halves or 0),
        )

    async def add_report(
        self,
        *,
        guild_id: int,
        channel_id: int,
        question_id: str,
        reporter_id: int,
        reason: str,
        created_at: dt.datetime,
    ) -> int:
        at = self._dialect.write_instant(created_at)
        return await self._auto.insert(
            ADD_REPORT, guild_id, channel_id, question_id, reporter_id, reason, at
        )

    async def reports(self, guild_id: int | None, limit: int = 50) -> list[Report]:
        if guild_id is None:
            rows = await self._auto.rows(ALL_REPORTS, limit)
        else:
            rows = await self._auto.rows(GUILD_REPORTS, guild_id, limit)
        return [self._report(row) for row in rows]

    async def open_reports(self, guild_id: int, limit: int = 200) -> list[Report]:
        return [self._report(row) for row in await self._auto.rows(OPEN_REPORTS, guild_id, limit)]

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
        if status is ReportStatus.OPEN:
            raise ValueError("a report is resolved as fixed or dismissed")
        at = self._dialect.write_instant(resolved_at)

        async def work(tx: Transaction) -> list[Report]:
            rows = await tx.rows(OPEN_REPORTS_OF_QUESTION, guild_id, question_id, up_to)
            if not rows:
                return []  # another moderator was first
            ids = [int(row[0]) for row in rows]
            await tx.execute(
                RESOLVE_REPORTS.sized(len(ids)),
                status,
                resolved_by,
                at,
                *self._dialect.list_args(ids),
            )
            return [
                dataclasses.replace(
                    self._report(row),
                    status=status,
                    resolved_by=resolved_by,
                    resolved_at=resolved_at,
                )
                for row in rows
            ]

        return await self._transaction(work)

    async def untold_reporters(self, limit: int = 100_000) -> list[int]:
        return [int(row[0]) for row in await self._auto.rows(UNTOLD_REPORTERS, limit)]

    async def tell_outcomes(
        self, reporter_id: int, told_at: dt.datetime, limit: int = 10
    ) -> list[Report]:
        # A read first (cheap, and no write lock taken on SQLite); the claim, in a transaction
        # whose rows another claim waits for, only when there is news.
        if not await self._auto.rows(UNTOLD_OUTCOMES, reporter_id, limit):
            return []
        at = self._dialect.write_instant(told_at)

        async def work(tx: Transaction) -> list[Report]:
            rows = await tx.rows(CLAIM_UNTOLD_OUTCOMES, reporter_id, limit)
            if not rows:
                return []  # another interaction of theirs told them first
            reports = [self._report(row) for row in rows]
            ids = [r.id for r in reports]
            await tx.execute(MARK_TOLD.sized(len(ids)), at, *self._dialect.list_args(ids))
            return [dataclasses.replace(r, told_at=told_at) for r in reports]

        return await self._transaction(work)

    # --- schedules --------------------------------------------------------------------------

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
        write_instant = self._dialect.write_instant

        async def work(tx: Transaction) -> int:
            await self._take_turn(tx, Turn.SCHEDULE_LIMIT, guild_id)
            if int(await tx.value(COUNT_SCHEDULES, guild_id)) >= limit:
                raise TooManySchedules(limit)
            return await tx.insert(
                NEW_SCHEDULE,
                guild_id,
                channel_id,
                content,
                local_time.strftime("%H:%M"),
                timezone,
                schedule_rules.format_days(days),
                role_id,
                write_instant(next_run_at),
                created_by,
                write_instant(created_at),
            )

        schedule_id = await self._transaction(work)
        record = await self.schedule(schedule_id, guild_id)
        assert record is not None
        return record

    async def schedule(self, schedule_id: int, guild_id: int) -> ScheduleRecord | None:
        row = await self._auto.row(GUILD_SCHEDULE, schedule_id, guild_id)
        return self._schedule(row) if row else None

    async def schedules(self, guild_id: int) -> list[ScheduleRecord]:
        return [self._schedule(row) for row in await self._auto.rows(GUILD_SCHEDULES, guild_id)]

    async def remove_schedule(self, schedule_id: int, guild_id: int) -> bool:
        # One statement, atomic on its own: the schedule and (by cascade) its runs.
        return await self._auto.execute(REMOVE_SCHEDULE, schedule_id, guild_id) == 1

    async def pause_schedule(self, schedule_id: int, guild_id: int) -> ScheduleRecord | None:
        await self._auto.execute(PAUSE_SCHEDULE, schedule_id, guild_id)
        return await self.schedule(schedule_id, guild_id)

    async def resume_schedule(
        self, schedule_id: int, guild_id: int, next_run_at: dt.datetime
    ) -> ScheduleRecord | None:
        at = self._dialect.write_instant(next_run_at)
        await self._auto.execute(RESUME_SCHEDULE, at, schedule_id, guild_id)
        return await self.schedule(schedule_id, guild_id)

    async def next_due_at(self, *, shards: Shards | None = None) -> dt.datetime | None:
        q, args = self._in_shards(NEXT_DUE_AT, shards)
        value = await self._auto.value(q, *args)
        return self._dialect.read_instant(value) if value is not None else None

    async def _due_schedules(
        self,
        tx: Transaction,
        now: dt.datetime,
        *,
        grace: dt.timedelta,
        limit: int,
        shards: Shards | None,
    ) -> list[tuple[ScheduleRecord, dt.datetime]]:
        """Up to `limit` schedules due at `now` (in `tx`, which claims them), each with the run
        it moves on to. A row this host cannot use (a timezone it does not know, damaged data)
        pauses that one schedule, with the reason; it never holds up the others."""
        q, shard_args = self._in_shards(DUE_SCHEDULES, shards)
        rows = await tx.rows(q, self._dialect.write_instant(now), *shard_args, limit)
        due: list[tuple[ScheduleRecord, dt.datetime]] = []
        for row in rows:
            try:
                record = self._schedule(row)
                # Count on from the due run, but never from earlier than the grace window:
                # runs missed long ago are skipped together, not claimed one by one.
                after = max(record.next_run_at, now - grace)
                following = schedule_rules.next_run_after(
                    record.local_time, record.timezone, record.days, after
                )
            except (ValueError, KeyError, TypeError) as error:
                await self._pause_unusable(tx, int(row[0]), row[SCHEDULE_TIMEZONE], error)
                continue
            due.append((record, following))
        return due

    async def _pause_unusable(
        self, tx: Transaction, schedule_id: int, timezone: object, error: Exception
    ) -> None:
        reason = unusable_reason(timezone, error)
        await tx.execute(PAUSE_UNUSABLE, reason, schedule_id)
        log.warning("schedule #%d paused: %s (%s)", schedule_id, reason, error)

    async def _usable_runs(self, rows: Sequence[Row]) -> list[ScheduleRun]:
        """Unfinished runs (rows of SCHEDULE_COLUMNS, due_at, state, claimed_at) as runs. The
        run of a schedule this host cannot use is recorded as failed, and its schedule paused."""
        read_instant = self._dialect.read_instant
        runs: list[ScheduleRun] = []
        for row in rows:
            try:
                schedule = self._schedule(row)
                schedule_rules.next_run_after(  # the schedule can be used on this host
                    schedule.local_time, schedule.timezone, schedule.days, schedule.next_run_at
                )
                runs.append(
                    ScheduleRun(
                        schedule=schedule,
                        due_at=read_instant(row[14]),
                        state=RunState(row[15]),
                        claimed_at=read_instant(row[16]),
                    )
                )
            except (ValueError, KeyError, TypeError) as error:
                await self._fail_unusable_run(row, error)
        return runs

    async def _fail_unusable_run(self, row: Row, error: Exception) -> None:
        schedule_id, due_at = int(row[0]), row[14]  # the run's due_at as the database has it

        async def work(tx: Transaction) -> None:
            reason = f"the schedule cannot be used: {error}"[:300]
            await tx.execute(MARK_RUN_FAILED, reason, schedule_id, due_at)
            await self._pause_unusable(tx, schedule_id, row[SCHEDULE_TIMEZONE], error)

        await self._transaction(work)

    async def sent_run(
        self, schedule_id: int, due_at: dt.datetime
    ) -> tuple[int, dt.datetime] | None:
        at = self._dialect.write_instant(due_at)
        row = await self._auto.row(SENT_RUN, schedule_id, at)
        if row is None or row[0] is None or row[1] is None:
            return None
        return int(row[0]), self._dialect.read_instant(row[1])

    async def mark_run_sent(
        self, schedule_id: int, due_at: dt.datetime, message_id: int, sent_at: dt.datetime
    ) -> None:
        write_instant = self._dialect.write_instant
        sent, due = write_instant(sent_at), write_instant(due_at)

        async def work(tx: Transaction) -> None:
            await tx.execute(MARK_RUN_SENT, message_id, sent, schedule_id, due)
            await tx.execute(SCHEDULE_HEALTHY, schedule_id)

        await self._transaction(work)

    async def mark_run_skipped(self, schedule_id: int, due_at: dt.datetime, reason: str) -> None:
        due = self._dialect.write_instant(due_at)
        await self._auto.execute(MARK_RUN_SKIPPED, reason, schedule_id, due)

    async def mark_run_failed(
        self,
        schedule_id: int,
        due_at: dt.datetime,
        error: str,
        *,
        failing_reason: str | None,
        pause_after: int,
    ) -> ScheduleRecord | None:
        due = self._dialect.write_instant(due_at)

        async def work(tx: Transaction) -> ScheduleRecord | None:
            changed = await tx.execute(MARK_RUN_FAILED, error, schedule_id, due)
            if changed == 1 and failing_reason is not None:
                await tx.execute(COUNT_FAILURE, failing_reason, pause_after, schedule_id)
            row = await tx.row(SCHEDULE, schedule_id)
            return self._schedule(row) if row else None

        return await self._transaction(work)

    # --- IDENTIFY turns ---------------------------------------------------------------------

    async def claim_identify_slot(
        self, bucket: int, now: dt.datetime, spacing: dt.timedelta
    ) -> dt.datetime:
        at = utc(now)

        async def work(tx: Transaction) -> dt.datetime:
            # The bucket's slot is read and moved by one process at a time; nobody holds the
            # turn while waiting for the slot.
            await self._take_turn(tx, Turn.IDENTIFY, bucket)
            last = await tx.value(IDENTIFY_SLOT, bucket)
            read = None if last is None else self._dialect.read_instant(last)
            slot = next_identify_slot(read, at, spacing)
            await tx.execute(SET_IDENTIFY_SLOT, bucket, self._dialect.write_instant(slot))
            return slot

        return await self._transaction(work)
