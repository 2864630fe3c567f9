"""The daily challenge of SPEC §4 `/daily`: three questions a day, the same for every fan
everywhere on the calendar day in Korea, played alone, once.

Which questions a day has is a pure function of the day and the question pool (`day_questions`):
the pool is dealt out in rounds, a new shuffle each round (seeded by the round's number), three
at a time, so no question comes back before the whole pool was dealt, and no day holds two
questions kept apart (one gives the other's answer away). The store pins each day's questions
the first time anyone plays it, so a new dataset deployed during a day changes later days only.

A fan's attempt is what they answered (`Attempt`); it ends with the third answer, and its result
(`Result`) is right answers, seconds and the fan's run of days played (`Streak`). Nothing here
composes a sentence: the share line's words come from the catalogue.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.models import DIFFICULTIES, Question

SEOUL = ZoneInfo("Asia/Seoul")
QUESTIONS_PER_DAY = 3
# Challenge #1 is 24 January 2024 in Korea, the day "Love wins all" came out (data/timeline.toml,
# e-2024-01-24-mv); #2 the day after, and so on.
FIRST_DAY = date(2024, 1, 24)
# A day's challenge takes answers a little past its midnight: a fan who started at 23:59 can
# finish. (An interaction's buttons answer for 15 minutes anyway.)
GRACE = timedelta(minutes=15)
_SEED = "lwa-daily"


# --- days ---------------------------------------------------------------------------------------


def day_at(at: datetime) -> date:
    """The calendar day in Korea at the instant `at` (aware)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime")
    return at.astimezone(SEOUL).date()


def number_of(day: date) -> int:
    """The challenge's number, `#47` in the share line: 1 on FIRST_DAY."""
    return (day - FIRST_DAY).days + 1


def day_of(number: int) -> date:
    return FIRST_DAY + timedelta(days=number - 1)


def today_number(at: datetime) -> int:
    return number_of(day_at(at))


def starts_at(number: int) -> datetime:
    """When challenge `number` starts: midnight in Korea, as an aware instant."""
    return datetime.combine(day_of(number), time(0), SEOUL)


def next_starts_at(at: datetime) -> datetime:
    """When the challenge after the one running at `at` starts."""
    return starts_at(today_number(at) + 1)


def takes_answers(number: int, at: datetime) -> bool:
    """Whether challenge `number` still takes answers at `at` (its day, and GRACE after)."""
    return starts_at(number) - GRACE <= at < starts_at(number + 1) + GRACE


# --- the day's questions ------------------------------------------------------------------------


def day_questions(number: int, pool: Sequence[Question]) -> tuple[Question, ...]:
    """Challenge `number`'s questions, easiest first: the same for everyone given the same pool
    (whatever its order). Rounds of the pool are dealt one after another from challenge #1, each
    round shuffled anew, so a question returns only after every other was dealt since."""
    by_id = {question.id: question for question in pool}
    ids = tuple(sorted(by_id))
    if len(ids) < QUESTIONS_PER_DAY:
        raise ValueError(f"the daily challenge needs {QUESTIONS_PER_DAY} questions")
    apart = {qid: by_id[qid].keep_apart for qid in ids}
    frozen = _frozen(apart)
    index = number - 1
    if index < 0:  # before challenge #1 (a clock set in the past): the first round's days
        index %= len(_round(ids, frozen, 0))
    round_number = 0
    while True:
        days = _round(ids, frozen, round_number)
        if index < len(days):
            return tuple(sorted((by_id[qid] for qid in days[index]), key=_difficulty_order))
        index -= len(days)
        round_number += 1


def _difficulty_order(question: Question) -> tuple[int, str]:
    return (DIFFICULTIES.index(question.difficulty), question.id)


def _frozen(apart: Mapping[str, frozenset[str]]) -> tuple[tuple[str, frozenset[str]], ...]:
    return tuple(sorted(apart.items()))


@functools.lru_cache(maxsize=64)
def _round(
    ids: tuple[str, ...], apart: tuple[tuple[str, frozenset[str]], ...], round_number: int
) -> tuple[tuple[str, ...], ...]:
    """One round's days: the pool shuffled by the round's seed and dealt three at a time, each
    day's questions kept apart from none of the others. A question that fits no day of the
    round (at most a few at its end) waits for the next round."""
    kept_apart = dict(apart)
    order = list(ids)
    random.Random(f"{_SEED}:{round_number}").shuffle(order)
    days: list[tuple[str, ...]] = []
    left = order
    while len(left) >= QUESTIONS_PER_DAY:
        day: list[str] = []
        rest: list[str] = []
        for qid in left:
            if len(day) < QUESTIONS_PER_DAY and not any(
                qid in kept_apart[other] or other in kept_apart[qid] for other in day
            ):
                day.append(qid)
            else:
                rest.append(qid)
        if len(day) < QUESTIONS_PER_DAY:
            break
        days.append(tuple(day))
        left = rest
    return tuple(days)


def day_choices(number: int, question: Question) -> tuple[str, ...]:
    """The order a day's question shows its choices in: the same for everyone that day."""
    choices = list(question.choices)
    random.Random(f"{_SEED}:{number}:{question.id}").shuffle(choices)
    return tuple(choices)


# --- a fan's attempt ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Streak:
    """A fan's run of days with a finished challenge, in a row."""

    current: int = 0
    best: int = 0
    last_day: int | None = None  # the number of the last challenge they finished

    def after(self, number: int) -> Streak:
        """The run once challenge `number` is finished (finishing one twice changes nothing;
        an older one, finished late, neither)."""
        if self.last_day is not None and number <= self.last_day:
            return self
        current = self.current + 1 if self.last_day == number - 1 else 1
        return Streak(current, max(self.best, current), number)

    def as_of(self, today: int) -> int:
        """The run as it stands on challenge `today`: alive if they finished today's or
        yesterday's."""
        if self.last_day is None or self.last_day < today - 1:
            return 0
        return self.current


@dataclass(frozen=True, slots=True)
class Answer:
    choice: int  # the position among the day's choices
    correct: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class Result:
    """A finished attempt: what the share line and the board show."""

    number: int
    marks: tuple[bool, ...]  # right or wrong, question by question
    seconds: int
    streak: int

    @property
    def correct(self) -> int:
        return sum(self.marks)

    @property
    def total(self) -> int:
        return len(self.marks)


@dataclass(frozen=True, slots=True)
class Attempt:
    """A fan's attempt at challenge `number`: when it started and what they answered so far;
    `result` once the last question is answered."""

    number: int
    started_at: datetime
    answers: tuple[Answer, ...]
    result: Result | None = None

    @property
    def next_index(self) -> int | None:
        """The question they are on (None once all are answered)."""
        return len(self.answers) if len(self.answers) < QUESTIONS_PER_DAY else None


def elapsed_seconds(started_at: datetime, finished_at: datetime) -> int:
    """The attempt's time, in whole seconds (at least 1: nobody answers three in no time)."""
    return max(1, round((finished_at - started_at).total_seconds()))


def marks(answers: Sequence[Answer]) -> tuple[bool, ...]:
    return tuple(answer.correct for answer in answers)


@dataclass(frozen=True, slots=True)
class BoardRow:
    user_id: int
    correct: int
    total: int
    seconds: int
    streak: int


@dataclass(frozen=True, slots=True)
class StreakRow:
    user_id: int
    streak: int


def ranked(rows: Sequence[BoardRow]) -> list[tuple[int, BoardRow]]:
    """Best first (most right, then fastest), with ranks: equal results share a rank."""
    ordered = sorted(rows, key=lambda row: (-row.correct, row.seconds, row.user_id))
    out: list[tuple[int, BoardRow]] = []
    for position, row in enumerate(ordered, start=1):
        previous = out[-1] if out else None
        same = previous is not None and (previous[1].correct, previous[1].seconds) == (
            row.correct,
            row.seconds,
        )
        out.append((previous[0] if same and previous is not None else position, row))
    return out
