"""The trivia game engine of SPEC §4 `/trivia play`.

It knows nothing of Discord or the database: the cog feeds it clicks and the time they came
(`at`), and persists what it needs to rebuild the game after a restart (`TriviaGame.restore`).
A game keeps its choices as the dataset's English labels; a Korean reader sees the question's
Korean texts (`asked`, `choice_text`, `explained`), each choice found by its position.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.language import Language
from bot.domain.models import DIFFICULTIES, Question
from bot.domain.refusal import Refusal
from bot.domain.rotation import least_recently_used

MIXED = "mixed"
MAX_POINTS = 1000
MIN_POINTS = 500
# Two questions in a row with no answer at all: nobody is playing, so the game ends itself.
SILENT_QUESTIONS_TO_END = 2
# How far back from a server's latest question its questions count as asked lately: a day, so a
# day's questions (games, the daily question) and the daily question of the day before.
LATELY = timedelta(days=1)


def score_for(elapsed: float, seconds: int) -> int:
    """Points for a correct answer `elapsed` seconds after the question opened:
    1000 × (1 − elapsed / (2 × seconds)), rounded half up, kept within [500, 1000]."""
    if seconds <= 0:
        raise ValueError("seconds per question must be positive")
    elapsed = min(max(elapsed, 0.0), float(seconds))
    points = math.floor(MAX_POINTS * (1 - elapsed / (2 * seconds)) + 0.5)
    return min(max(points, MIN_POINTS), MAX_POINTS)


class GameKind(StrEnum):
    GAME = "game"  # /trivia play: questions one after another
    DAILY = "daily"  # a scheduled question, open for an hour


class GameState(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"  # /trivia stop
    INTERRUPTED = "interrupted"  # a restart, or a game that had to stop


class NotEnoughQuestions(Refusal):
    """Fewer questions match the filters than the game asked for (the trivia runner says so
    with advice on what to ask instead)."""

    def __init__(self, available: int, requested: int | None = None) -> None:
        self.available = available
        self.requested = requested
        super().__init__("trivia.play.not_enough", available=available)


def pick_questions(
    pool: Sequence[Question],
    difficulty: str,
    count: int,
    last_asked: Mapping[str, datetime],
    rng: random.Random,
) -> list[Question]:
    """`count` distinct questions of `difficulty` ("mixed" for any), the ones this server was
    asked least recently (or never) first.

    No two of them are kept apart (`Question.keep_apart`: one gives the other's answer away).
    A question kept apart from one the server was asked lately (`recently_asked`: its last
    day of questions, a game or the daily question before) comes after every other, so a day's
    questions, and two daily questions in a row, keep apart too unless nothing else is left."""
    if difficulty != MIXED and difficulty not in DIFFICULTIES:
        raise ValueError(f"unknown difficulty: {difficulty!r}")
    if count <= 0:
        raise ValueError("a game needs at least one question")
    by_id: dict[str, Question] = {}
    for question in pool:
        if difficulty in (MIXED, question.difficulty):
            by_id.setdefault(question.id, question)
    if len(by_id) < count:
        raise NotEnoughQuestions(len(by_id), count)
    # The whole pool in the order of the draw (the first `count` of it are the draw itself
    # when nothing is kept apart), then the ones kept apart from lately asked ones moved last.
    order = least_recently_used(list(by_id), last_asked, len(by_id), rng)
    lately = recently_asked(last_asked)
    order.sort(key=lambda qid: bool(by_id[qid].keep_apart & lately))
    apart = {qid: by_id[qid].keep_apart for qid in order}
    largest = _most_apart(set(order), apart)
    if largest < count:
        raise NotEnoughQuestions(largest, count)
    return [by_id[qid] for qid in _first_apart(order, apart, count)]


def recently_asked(last_asked: Mapping[str, datetime]) -> frozenset[str]:
    """The questions a server was asked in the day up to its latest question (by when each
    was last asked)."""
    if not last_asked:
        return frozenset()
    since = max(last_asked.values()) - LATELY
    return frozenset(qid for qid, at in last_asked.items() if at >= since)


def _first_apart(
    order: Sequence[str], apart: Mapping[str, frozenset[str]], count: int
) -> list[str]:
    """`count` ids, none kept apart from another, the earliest in `order` first: each id is
    taken when a full set can still be made with it. There must be such a set of `count`."""
    picked: list[str] = []
    left = set(order)  # neither picked, passed over, nor kept apart from a picked one
    for qid in order:
        if len(picked) == count:
            break
        if qid not in left:
            continue
        left.discard(qid)
        rivals = apart[qid] & left
        # Taking a question kept apart from none of those left never costs a place; otherwise
        # it is taken only if enough questions are still free of it and of each other.
        if not rivals or len(picked) + 1 + _most_apart(left - rivals, apart) >= count:
            picked.append(qid)
            left -= rivals
    return picked


def _most_apart(ids: set[str], apart: Mapping[str, frozenset[str]]) -> int:
    """How many of `ids` at most can go together, none kept apart from another. Exact: a
    question kept apart from at most one of the others always fits in a largest set, and the
    few questions kept apart from several are tried both ways."""
    left = set(ids)
    size = 0
    changed = True
    while changed:
        changed = False
        for qid in list(left):
            if qid not in left:
                continue
            rivals = apart[qid] & left
            if len(rivals) <= 1:
                size += 1
                left -= rivals | {qid}
                changed = True
    if not left:
        return size
    hub = max(sorted(left), key=lambda qid: len(apart[qid] & left))
    return size + max(
        _most_apart(left - {hub}, apart),
        1 + _most_apart(left - {hub} - apart[hub], apart),
    )


def shuffled_choices(question: Question, rng: random.Random) -> tuple[str, ...]:
    """The question's choices in a random order (a new order every game)."""
    choices = list(question.choices)
    rng.shuffle(choices)
    return tuple(choices)


# --- the question in the reader's language ------------------------------------------------------


def asked(question: Question, language: Language) -> str:
    """The question's text: its Korean when the reader is Korean and the dataset has it."""
    return (
        question.question_ko
        if language is Language.KO and question.question_ko
        else question.question
    )


def explained(question: Question, language: Language) -> str:
    """The question's explanation in the reader's language (English when no Korean)."""
    if language is Language.KO and question.explanation_ko:
        return question.explanation_ko
    return question.explanation


def korean_choices(question: Question) -> tuple[str, ...]:
    """The question's choices in Korean, in the order of `question.choices` (the answer, then
    the wrong ones); an empty string where the dataset has no Korean for one."""
    wrong = tuple(
        question.wrong_ko[n] if n < len(question.wrong_ko) else ""
        for n in range(len(question.wrong))
    )
    return (question.answer_ko, *wrong)


def choice_text(question: Question, label: str, language: Language) -> str:
    """A stored choice `label` (the dataset's English, as a game keeps it) as the reader reads
    it: for a Korean reader, the Korean choice at the same position of `question.choices`."""
    if language is not Language.KO or label not in question.choices:
        return label
    return korean_choices(question)[question.choices.index(label)] or label


class AnswerOutcome(enum.Enum):
    LOCKED = "locked"  # the first click: this choice counts
    ALREADY_ANSWERED = "already_answered"  # a later click: the first choice still counts
    CLOSED = "closed"  # no open question, past its deadline, or already revealed


class HalfOutcome(enum.Enum):
    """A click on "50/50"."""

    SHOWN = "shown"  # two wrong choices are taken away for this player
    NOT_OFFERED = "not_offered"  # an easy question (or a daily one): no 50/50
    USED = "used"  # the player used it on this question already
    ANSWERED = "answered"  # the player answered already: too late for a 50/50
    CLOSED = "closed"  # no open question, past its deadline, or another question's button


# 50/50 is offered on these questions: two wrong choices go, and a right answer scores half.
FIFTY_FIFTY_DIFFICULTIES = ("medium", "hard")


def offers_fifty_fifty(question: Question) -> bool:
    """Whether a game's question has a 50/50: a medium or hard one with three choices or more
    (a daily question has none)."""
    return question.difficulty in FIFTY_FIFTY_DIFFICULTIES and len(question.choices) >= 3


@dataclass(frozen=True, slots=True)
class HalfResult:
    outcome: HalfOutcome
    left: tuple[int, ...] = ()  # SHOWN: the indexes of the two choices left, in their order


class EndReason(enum.Enum):
    COMPLETED = "completed"  # the last question was revealed
    SILENT = "silent"  # nobody answered two questions in a row
    STOPPED = "stopped"  # /trivia stop


class GameStateError(RuntimeError):
    """The caller asked for something the game's state does not allow (a bug, not a user
    mistake), e.g. revealing a question that was never opened."""


@dataclass(frozen=True, slots=True)
class OpenQuestion:
    index: int  # 0-based
    total: int
    question: Question
    choices: tuple[str, ...]
    opened_at: datetime
    closes_at: datetime

    @property
    def number(self) -> int:
        """1-based, for "Question k/n"."""
        return self.index + 1


@dataclass(frozen=True, slots=True)
class AnswerResult:
    outcome: AnswerOutcome
    # The choice that counts for this user: the one just locked, or the earlier one;
    # None when CLOSED and the user had not answered.
    choice_index: int | None


@dataclass(frozen=True, slots=True)
class PlayerResult:
    """One player's answer to one revealed question."""

    user_id: int
    choice_index: int
    correct: bool
    points: int
    answered_at: datetime
    streak: int  # correct answers in a row, after this question
    total_points: int  # in this game, after this question


@dataclass(frozen=True, slots=True)
class Reveal:
    index: int
    question: Question
    choices: tuple[str, ...]
    correct_index: int
    results: tuple[PlayerResult, ...]  # in the order the answers came
    right: int  # how many answered right
    answered: int  # how many answered at all
    ended_silent: bool  # this reveal ended the game: no answers two questions in a row
    finished: bool  # no question follows (last one, or ended)

    @property
    def correct_choice(self) -> str:
        return self.choices[self.correct_index]


@dataclass(frozen=True, slots=True)
class Standing:
    user_id: int
    points: int
    correct: int
    answered: int
    best_streak: int
    first_answer_at: datetime


@dataclass(frozen=True, slots=True)
class Rematch:
    """What "Play again" starts: a new game with the same settings (new questions)."""

    count: int
    difficulty: str  # one of DIFFICULTIES, or MIXED
    seconds: int
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class Recap:
    """A game's highlights, under its standings: the fastest right answer, the longest run of
    right answers (two or more), and the question fewest got right (of two or more revealed,
    when someone answered it). Each is None when the game has none."""

    fastest: tuple[int, float] | None = None  # (player, seconds after the question opened)
    longest_streak: tuple[int, int] | None = None  # (player, right answers in a row)
    hardest: tuple[Question, int, int] | None = None  # (question, right, answered)


@dataclass(slots=True)
class _PlayerTotals:
    first_answer_at: datetime
    points: int = 0
    correct: int = 0
    answered: int = 0
    streak: int = 0
    best_streak: int = 0


class TriviaGame:
    """One game in one channel: questions are opened, answered and revealed one at a time.

    Only revealed questions count towards the totals, as only they are scored into the
    leaderboard. A player who misses a question, or answers it wrong, loses their streak.
    """

    def __init__(
        self,
        *,
        game_id: int,
        channel_id: int,
        starter_id: int,
        questions: Sequence[Question],
        choices: Sequence[Sequence[str]],
        seconds: int,
    ) -> None:
        if not questions:
            raise ValueError("a game needs at least one question")
        if len(choices) != len(questions):
            raise ValueError("one choice order per question is needed")
        if len({q.id for q in questions}) != len(questions):
            raise ValueError("a question appears twice in the game")
        for question, order in zip(questions, choices, strict=True):
            if sorted(order) != sorted(question.choices):
                raise ValueError(f"choices of {question.id} do not match the question")
        if seconds <= 0:
            raise ValueError("seconds per question must be positive")
        self.game_id = game_id
        self.channel_id = channel_id
        self.starter_id = starter_id
        self.seconds = seconds
        self._questions: tuple[Question, ...] = tuple(questions)
        self._choices: tuple[tuple[str, ...], ...] = tuple(tuple(c) for c in choices)
        self._opened_at: list[datetime] = []
        self._answers: list[dict[int, tuple[int, datetime]]] = []
        self._halved: list[set[int]] = []  # who used 50/50, per opened question
        self._revealed = 0
        self._totals: dict[int, _PlayerTotals] = {}
        self._silent_in_a_row = 0
        self._ended: EndReason | None = None

    @classmethod
    def start(
        cls,
        *,
        game_id: int,
        channel_id: int,
        starter_id: int,
        questions: Sequence[Question],
        seconds: int,
        rng: random.Random,
    ) -> TriviaGame:
        """A new game, with the choices of every question shuffled."""
        return cls(
            game_id=game_id,
            channel_id=channel_id,
            starter_id=starter_id,
            questions=questions,
            choices=[shuffled_choices(q, rng) for q in questions],
            seconds=seconds,
        )

    @classmethod
    def restore(
        cls,
        *,
        game_id: int,
        channel_id: int,
        starter_id: int,
        questions: Sequence[Question],
        choices: Sequence[Sequence[str]],
        seconds: int,
        opened_at: Sequence[datetime],
        answers: Sequence[Mapping[int, tuple[int, datetime]]],
        revealed: int,
        ended: EndReason | None = None,
        halved: Sequence[Collection[int]] = (),
    ) -> TriviaGame:
        """Rebuild a game from stored values, replaying it: `opened_at[k]` is when question k
        opened (one per opened question), `answers[k]` its recorded answers
        {user_id: (choice_index, answered_at)} (may be shorter), `revealed` how many questions
        were revealed (always the first ones), `ended` set when the game was stopped,
        `halved[k]` the players who used 50/50 on question k.
        Recorded answers are trusted: they were checked when they came."""
        if not revealed <= len(opened_at) <= revealed + 1:
            raise ValueError("opened questions must be the revealed ones plus at most one")
        if len(answers) > len(opened_at):
            raise ValueError("answers recorded for a question that never opened")
        game = cls(
            game_id=game_id,
            channel_id=channel_id,
            starter_id=starter_id,
            questions=questions,
            choices=choices,
            seconds=seconds,
        )
        for index, opened in enumerate(opened_at):
            if game.finished:
                raise ValueError("stored game continues after it ended")
            game.open_question(opened)
            if index < len(halved):
                game._halved[index].update(halved[index])
            recorded = answers[index] if index < len(answers) else {}
            for user_id, (choice_index, answered_at) in sorted(
                recorded.items(), key=lambda item: (item[1][1], item[0])
            ):
                game._record(user_id, choice_index, answered_at)
            if index < revealed:
                game.reveal(game._deadline(index))
        if ended is not None and not game.finished:
            game.stop(ended)
        return game

    # --- what the game holds, for rendering and persistence -------------------------------

    @property
    def questions(self) -> tuple[Question, ...]:
        return self._questions

    @property
    def question_ids(self) -> tuple[str, ...]:
        return tuple(q.id for q in self._questions)

    @property
    def choices(self) -> tuple[tuple[str, ...], ...]:
        return self._choices

    @property
    def total(self) -> int:
        return len(self._questions)

    @property
    def opened_at(self) -> tuple[datetime, ...]:
        return tuple(self._opened_at)

    @property
    def revealed(self) -> int:
        """How many questions have been revealed (always the first ones)."""
        return self._revealed

    @property
    def ended(self) -> EndReason | None:
        return self._ended

    @property
    def silent_in_a_row(self) -> int:
        return self._silent_in_a_row

    def answers(self, index: int) -> dict[int, tuple[int, datetime]]:
        """Answers recorded for question `index`: {user_id: (choice_index, answered_at)}."""
        return dict(self._answers[index]) if index < len(self._answers) else {}

    def correct_index(self, index: int) -> int:
        return self._choices[index].index(self._questions[index].answer)

    @property
    def current_index(self) -> int | None:
        """The question open right now (opened, not yet revealed), if any."""
        if self._ended is None and len(self._opened_at) > self._revealed:
            return self._revealed
        return None

    def current_question(self) -> OpenQuestion | None:
        index = self.current_index
        return None if index is None else self._view(index)

    @property
    def finished(self) -> bool:
        return self._ended is not None

    @property
    def has_next(self) -> bool:
        """True when another question can be opened now."""
        return (
            self._ended is None
            and self.current_index is None
            and len(self._opened_at) < len(self._questions)
        )

    # --- playing ----------------------------------------------------------------------------

    def open_question(self, at: datetime) -> OpenQuestion:
        """Open the next question at `at`; answers are taken until `at + seconds`."""
        _require_aware(at)
        if not self.has_next:
            raise GameStateError("no question can be opened now")
        self._opened_at.append(at)
        self._answers.append({})
        self._halved.append(set())
        return self._view(len(self._opened_at) - 1)

    def fifty_fifty(
        self, user_id: int, at: datetime, rng: random.Random, question_index: int | None = None
    ) -> HalfResult:
        """A click on "50/50": all but one wrong choice go for this player (the right one
        never), once per question, only before they answer; a right answer then scores half.
        `question_index`: the question the button belongs to."""
        _require_aware(at)
        index = self.current_index
        if index is None or (question_index is not None and question_index != index):
            return HalfResult(HalfOutcome.CLOSED)
        if at > self._deadline(index):
            return HalfResult(HalfOutcome.CLOSED)
        if not offers_fifty_fifty(self._questions[index]):
            return HalfResult(HalfOutcome.NOT_OFFERED)
        if user_id in self._answers[index]:
            return HalfResult(HalfOutcome.ANSWERED)
        if user_id in self._halved[index]:
            return HalfResult(HalfOutcome.USED)
        self._halved[index].add(user_id)
        return HalfResult(HalfOutcome.SHOWN, self.fifty_fifty_left(index, rng))

    def fifty_fifty_left(self, index: int, rng: random.Random) -> tuple[int, ...]:
        """The two choices a 50/50 leaves on question `index`: the right one and one wrong one
        drawn by `rng`, in the order the question shows them."""
        right = self.correct_index(index)
        wrong = [i for i in range(len(self._choices[index])) if i != right]
        return tuple(sorted((right, rng.choice(wrong))))

    def used_fifty_fifty(self, user_id: int, index: int) -> bool:
        return index < len(self._halved) and user_id in self._halved[index]

    def forget_fifty_fifty(self, user_id: int, index: int) -> None:
        """A 50/50 that could not be saved: as if it was never pressed."""
        if index < len(self._halved):
            self._halved[index].discard(user_id)

    def answer(
        self, user_id: int, choice_index: int, at: datetime, question_index: int | None = None
    ) -> AnswerResult:
        """A click on a choice. `question_index`, when given, is the question the button
        belongs to: a click on an older question's button is CLOSED."""
        _require_aware(at)
        index = self.current_index
        if index is None or (question_index is not None and question_index != index):
            return AnswerResult(AnswerOutcome.CLOSED, self._earlier_choice(user_id, question_index))
        if not 0 <= choice_index < len(self._choices[index]):
            raise ValueError(f"no choice {choice_index} for question {index}")
        earlier = self._answers[index].get(user_id)
        if earlier is not None:
            return AnswerResult(AnswerOutcome.ALREADY_ANSWERED, earlier[0])
        if at > self._deadline(index):
            return AnswerResult(AnswerOutcome.CLOSED, None)
        self._record(user_id, choice_index, at)
        return AnswerResult(AnswerOutcome.LOCKED, choice_index)

    def withdraw(self, user_id: int, question_index: int) -> None:
        """Forget an answer that could not be saved: the player was not told it is locked in,
        and may click again while the question is open."""
        if question_index == self.current_index:
            self._answers[question_index].pop(user_id, None)

    def reveal(self, at: datetime) -> Reveal:
        """Close the open question and score it; `at` is when the reveal happens (normally its
        deadline). Ends the game after the last question or after a second silent one."""
        _require_aware(at)
        index = self.current_index
        if index is None:
            raise GameStateError("no open question to reveal")
        correct_index = self.correct_index(index)
        opened = self._opened_at[index]
        results: list[PlayerResult] = []
        answers = self._answers[index]
        for user_id, (choice_index, answered_at) in sorted(
            answers.items(), key=lambda item: (item[1][1], item[0])
        ):
            totals = self._totals.get(user_id)
            if totals is None:
                totals = self._totals[user_id] = _PlayerTotals(first_answer_at=answered_at)
            correct = choice_index == correct_index
            points = 0
            totals.answered += 1
            if correct:
                elapsed = (answered_at - opened).total_seconds()
                points = score_for(elapsed, self.seconds)
                if user_id in self._halved[index]:  # after a 50/50: half, rounded up
                    points = (points + 1) // 2
                totals.points += points
                totals.correct += 1
                totals.streak += 1
                totals.best_streak = max(totals.best_streak, totals.streak)
            else:
                totals.streak = 0
            results.append(
                PlayerResult(
                    user_id=user_id,
                    choice_index=choice_index,
                    correct=correct,
                    points=points,
                    answered_at=answered_at,
                    streak=totals.streak,
                    total_points=totals.points,
                )
            )
        for user_id, totals in self._totals.items():
            if user_id not in answers:  # a missed question breaks a streak too
                totals.streak = 0
        self._revealed += 1
        self._silent_in_a_row = 0 if answers else self._silent_in_a_row + 1
        ended_silent = self._silent_in_a_row >= SILENT_QUESTIONS_TO_END
        if ended_silent:
            self._ended = EndReason.SILENT
        elif self._revealed == len(self._questions):
            self._ended = EndReason.COMPLETED
        return Reveal(
            index=index,
            question=self._questions[index],
            choices=self._choices[index],
            correct_index=correct_index,
            results=tuple(results),
            right=sum(1 for r in results if r.correct),
            answered=len(results),
            ended_silent=ended_silent,
            finished=self.finished,
        )

    def stop(self, reason: EndReason = EndReason.STOPPED) -> None:
        """End the game now; an open question is dropped unrevealed (and unscored)."""
        if self._ended is None:
            self._ended = reason

    def standings(self) -> list[Standing]:
        """Everyone who answered a revealed question: most points first, then most correct
        answers, then whoever answered first."""
        standings = [
            Standing(
                user_id=user_id,
                points=t.points,
                correct=t.correct,
                answered=t.answered,
                best_streak=t.best_streak,
                first_answer_at=t.first_answer_at,
            )
            for user_id, t in self._totals.items()
        ]
        standings.sort(key=lambda s: (-s.points, -s.correct, s.first_answer_at, s.user_id))
        return standings

    def recap(self) -> Recap:
        """The revealed questions' highlights (see `Recap`)."""
        fastest: tuple[int, float] | None = None
        hardest: tuple[Question, int, int] | None = None
        for index in range(self._revealed):
            correct_index = self.correct_index(index)
            answers = self._answers[index]
            right = [
                ((answered_at - self._opened_at[index]).total_seconds(), user_id)
                for user_id, (choice, answered_at) in answers.items()
                if choice == correct_index
            ]
            if right and (fastest is None or min(right)[0] < fastest[1]):
                seconds, user_id = min(right)
                fastest = (user_id, seconds)
            if answers and (hardest is None or len(right) < hardest[1]):
                hardest = (self._questions[index], len(right), len(answers))
        runs = [s for s in self.standings() if s.best_streak >= 2]
        longest = max(runs, key=lambda s: s.best_streak, default=None)  # first of the ranked
        return Recap(
            fastest=fastest,
            longest_streak=(longest.user_id, longest.best_streak) if longest else None,
            hardest=hardest if self._revealed >= 2 else None,
        )

    # --- internals --------------------------------------------------------------------------

    def _deadline(self, index: int) -> datetime:
        return self._opened_at[index] + timedelta(seconds=self.seconds)

    def _view(self, index: int) -> OpenQuestion:
        return OpenQuestion(
            index=index,
            total=len(self._questions),
            question=self._questions[index],
            choices=self._choices[index],
            opened_at=self._opened_at[index],
            closes_at=self._deadline(index),
        )

    def _earlier_choice(self, user_id: int, question_index: int | None) -> int | None:
        if question_index is None or not 0 <= question_index < len(self._answers):
            return None
        earlier = self._answers[question_index].get(user_id)
        return None if earlier is None else earlier[0]

    def _record(self, user_id: int, choice_index: int, at: datetime) -> None:
        index = self.current_index
        if index is None:
            raise GameStateError("no open question to answer")
        self._answers[index].setdefault(user_id, (choice_index, at))


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None:
        raise ValueError("every datetime must be timezone-aware")


LEADERBOARD_PERIODS = ("all", "week", "month")


def period_start(period: str, now: datetime, timezone: str = "UTC") -> datetime | None:
    """Start of a leaderboard period in `timezone` (the server's): weeks start Monday 00:00,
    months on the 1st, local time; None for all time."""
    _require_aware(now)
    if period == "all":
        return None
    local = now.astimezone(ZoneInfo(timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        start = midnight - timedelta(days=midnight.weekday())
    elif period == "month":
        start = midnight.replace(day=1)
    else:
        raise ValueError(f"unknown period: {period!r}")
    # Midnight that day, whatever the offset was at `now` (a DST change within the period).
    return datetime.combine(start.date(), time(0), tzinfo=ZoneInfo(timezone))


def period_key(period: str, at: datetime, timezone: str = "UTC") -> str:
    """The leaderboard bucket of `period` that contains `at`: "all", "week:2024-01-22"
    (its Monday) or "month:2024-01-01", local dates in `timezone`."""
    start = period_start(period, at, timezone)
    return "all" if start is None else f"{period}:{start.date().isoformat()}"


def period_keys(at: datetime, timezone: str = "UTC") -> tuple[str, ...]:
    """Every leaderboard bucket a point scored at `at` counts in, for a server in `timezone`."""
    return tuple(period_key(period, at, timezone) for period in LEADERBOARD_PERIODS)


@dataclass(frozen=True, slots=True)
class DailyStreak:
    """A player's run of daily questions answered right in a row, in one server."""

    current: int = 0
    best: int = 0
    last_game_id: int | None = None  # the daily question they last answered

    def after(self, game_id: int, previous_game_id: int | None, correct: bool) -> DailyStreak:
        """The streak once the player's answer to daily question `game_id` is revealed;
        `previous_game_id` is the server's daily question revealed just before it. Answering
        the same question again changes nothing (a reveal is scored once)."""
        if self.last_game_id == game_id:
            return self
        if not correct:
            return DailyStreak(0, self.best, game_id)
        kept = self.last_game_id is not None and self.last_game_id == previous_game_id
        current = self.current + 1 if kept and self.current > 0 else 1
        return DailyStreak(current, max(self.best, current), game_id)

    def as_of(self, latest_game_id: int | None) -> int:
        """The current streak, read after the server's latest revealed daily question: a
        player who did not answer it has lost their streak."""
        return self.current if self.last_game_id == latest_game_id else 0


def streaks_after(
    game_id: int,
    latest_game_id: int | None,
    known: Mapping[int, DailyStreak],
    answers: Iterable[tuple[int, bool]],
) -> dict[int, DailyStreak]:
    """Every answering player's daily streak once daily question `game_id` is revealed:
    `latest_game_id` is the server's daily question revealed just before it, `known` the
    players' streaks as they stand, `answers` (player, answered right)."""
    return {
        user_id: known.get(user_id, DailyStreak()).after(game_id, latest_game_id, correct)
        for user_id, correct in answers
    }
