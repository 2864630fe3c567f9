"""The daily challenge (SPEC §4 `/daily play`, `/daily board`): three questions a day, the same
for every fan everywhere on the calendar day in Korea, played privately, once.

The day's questions come from `bot.domain.daily` and are pinned in the store by the first fan to
play (so every process, and a dataset deployed mid-day, agree on them); this process keeps the
days it has read. A fan's attempt is written when they start and each answer before the next
question is shown: a restart, or the same buttons on a second device, resumes where they were
and never gives a second try. The third answer finishes the attempt and moves the fan's run of
days on, in the same transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass

from bot.domain import daily
from bot.domain.clock import Clock
from bot.domain.daily import Attempt, BoardRow, Result, StreakRow
from bot.domain.models import Dataset, Question
from bot.domain.refusal import Refusal
from bot.store.base import Store

log = logging.getLogger(__name__)
BOARD_TOP = 10  # players a board names
BOARD_STREAKS = 5  # runs of days a board names


@dataclass(frozen=True, slots=True)
class Day:
    number: int
    questions: tuple[Question, ...]
    choices: tuple[tuple[str, ...], ...]  # each question's choices in the order shown

    def is_right(self, index: int, choice: int) -> bool:
        return self.choices[index][choice] == self.questions[index].answer


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a fan is in a day's challenge: the next question, or their result."""

    day: Day
    attempt: Attempt
    next_at: dt.datetime  # when the next day's challenge starts
    counted: bool = True  # False: the click was for a question already answered

    @property
    def result(self) -> Result | None:
        return self.attempt.result


@dataclass(frozen=True, slots=True)
class Board:
    number: int
    rows: list[BoardRow]  # the best of the day, best first
    players: int  # how many finished the day's challenge here
    streaks: list[StreakRow]
    next_at: dt.datetime


class DailyChallenge:
    def __init__(self, store: Store, dataset: Dataset, clock: Clock) -> None:
        self.store = store
        self.dataset = dataset
        self.clock = clock
        self._days: dict[int, Day] = {}  # pinned days this process has read (they never change)
        # A day being read or pinned: the fans who arrive meanwhile (hundreds, at midnight in
        # Korea) wait for that one read rather than each pinning the day again.
        self._reading: dict[int, asyncio.Future[Day]] = {}

    async def day(self, number: int) -> Day:
        """Challenge `number`'s questions, as pinned by its first player."""
        known = self._days.get(number)
        if known is not None:
            return known
        reading = self._reading.get(number)
        if reading is None:
            reading = asyncio.ensure_future(self._read_day(number))
            self._reading[number] = reading
            reading.add_done_callback(lambda _: self._reading.pop(number, None))
        # Shielded: a fan's interaction given up on does not cancel the others' read.
        return await asyncio.shield(reading)

    async def _read_day(self, number: int) -> Day:
        pinned = await self.store.challenge_day(number)
        if pinned is None:
            questions = daily.day_questions(number, self.dataset.questions)
            pinned = await self.store.pin_challenge_day(
                number,
                [q.id for q in questions],
                [daily.day_choices(number, q) for q in questions],
                self.clock.now(),
            )
        found = [self.dataset.question(qid) for qid in pinned.question_ids]
        if any(question is None for question in found):
            # A question removed from the dataset since the day was pinned: the day is dealt
            # again from the dataset this process has (its fans' answers keep their places).
            log.warning("challenge #%s names a question the dataset no longer has", number)
            questions = daily.day_questions(number, self.dataset.questions)
            day = Day(number, questions, tuple(daily.day_choices(number, q) for q in questions))
        else:
            day = Day(number, tuple(q for q in found if q is not None), pinned.choices)
        self._days[number] = day
        return day

    async def play(self, user_id: int, guild_id: int | None) -> Progress:
        """`/daily play`: today's challenge, started now unless the fan started it before (then
        where they are, or their result)."""
        now = self.clock.now()
        day = await self.day(daily.today_number(now))
        attempt = await self.store.start_challenge(user_id, day.number, now, guild_id)
        return Progress(day, attempt, daily.next_starts_at(now))

    async def answer(self, user_id: int, number: int, index: int, choice: int) -> Progress:
        """A click on a choice of question `index` of challenge `number`: recorded if it is the
        question the fan is on (`counted`), and where they are now."""
        now = self.clock.now()
        if not daily.takes_answers(number, now):
            raise Refusal("daily.answer.over")
        day = await self.day(number)
        if not (0 <= index < len(day.choices) and 0 <= choice < len(day.choices[index])):
            raise Refusal("daily.answer.not_a_choice")
        counted, attempt = await self.store.answer_challenge(
            user_id, number, index, choice, day.is_right(index, choice), now
        )
        if attempt is None:  # the fan never started this challenge (another's buttons)
            raise Refusal("daily.answer.not_started")
        return Progress(day, attempt, daily.next_starts_at(now), counted)

    async def share(self, user_id: int, number: int, guild_id: int | None) -> tuple[Result, bool]:
        """The fan's result of challenge `number` to share, and whether it is the first time
        they share it in this server (`guild_id`; always True elsewhere)."""
        attempt = await self.store.challenge_attempt(user_id, number)
        if attempt is None or attempt.result is None:
            raise Refusal("daily.share.not_finished")
        if guild_id is None:
            return attempt.result, True
        first = await self.store.share_challenge(guild_id, number, user_id, self.clock.now())
        return attempt.result, first

    async def board(self, guild_id: int | None) -> Board:
        """`/daily board`: who in this server finished today's challenge, best first, and the
        server's longest runs of days."""
        if guild_id is None:
            raise Refusal("daily.board.server_only")
        now = self.clock.now()
        number = daily.today_number(now)
        rows, players = await self.store.challenge_board(guild_id, number, BOARD_TOP)
        streaks = await self.store.challenge_streaks(guild_id, number, BOARD_STREAKS)
        return Board(number, rows, players, streaks, daily.next_starts_at(now))
