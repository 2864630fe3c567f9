"""The trivia runner: live games, their timers, their order of writes, recovery (SPEC §4, §6).

Like Red's trivia `session.py`, the game loop lives apart from the commands: the cog parses
options and renders replies; the game itself is `bot.domain.trivia.TriviaGame` (pure); this
runner plays it. It waits through the clock (a test moves it), writes through the store, and
reaches Discord through a small port (`TriviaChannel`), so it never sees a Discord type. It
never words anything either: what it tells a channel is a `Notice` (a message id of the
catalogue and its parameters) and what it refuses a `Refusal`; the Discord side says them in
the server's language, or the player's.

The crash-safe order, which every step keeps:
- a question is recorded as open before it is posted (a click during the post is on a question
  the database knows), and posted with a nonce of the game and question (a re-post after a
  crash is de-duplicated by Discord);
- an answer is "locked in" only after its row is written (under the game's lock, which the
  reveal takes too: a reveal scores exactly the stored answers);
- a reveal is shown first and recorded second (a crash in between re-reveals it at the next
  start rather than leaving live buttons behind), with a few tries when the database is
  unavailable; a game that cannot save its results ends visibly and frees its channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from bot.domain import trivia
from bot.domain.clock import Clock, TokenBucket, wait_or_timeout
from bot.domain.language import msg
from bot.domain.models import Dataset, Question
from bot.domain.records import GameAlreadyRunning, GameRecord, ScoreRow, StoreUnavailable
from bot.domain.refusal import Refusal
from bot.domain.schedule import parse_run_nonce
from bot.domain.shards import Shards
from bot.domain.trivia import (
    AnswerOutcome,
    AnswerResult,
    DailyStreak,
    EndReason,
    GameKind,
    GameState,
    HalfOutcome,
    HalfResult,
    OpenQuestion,
    Recap,
    Rematch,
    Reveal,
    Standing,
    TriviaGame,
)
from bot.services.content import ContentService
from bot.store.base import Store

log = logging.getLogger(__name__)

REVEAL_PAUSE_SECONDS = 3.0  # time to read a reveal before the next question
DAILY_SECONDS = 60 * 60  # a scheduled question stays open for an hour (SPEC §6)
# Daily questions' reveals under way at once (reading streaks, waiting for their turn to edit,
# recording): thousands closing together never crowd the database fans are answered from.
DAILY_REVEALS_AT_ONCE = 4
SAVE_ATTEMPTS = 3  # a reveal or a game's end that cannot be written is tried this often
SAVE_RETRY_SECONDS = 2.0  # first pause between those tries (then doubled)


@dataclass(frozen=True)
class Notice:
    """What a game tells its channel besides questions and reveals ("the bot restarted during
    this game"): the id of its words in the catalogue, and their parameters."""

    message: str
    params: Mapping[str, object] = field(default_factory=dict)


GAME_HAD_TO_STOP = Notice(msg("trivia.notice.had_to_stop"))


class ChannelGone(Exception):
    """The game's channel was deleted, or the bot may no longer post there."""


class ChannelUnreachable(Exception):
    """Discord did not answer (a timeout, a lost connection, a server error): trying again
    in a moment may work."""


class TriviaChannel(Protocol):
    """How a game reaches its channel (the Discord side implements it)."""

    async def post_question(self, game: GameRecord, question: OpenQuestion, nonce: str) -> int:
        """Post the question with its answer buttons; the message id."""
        ...

    async def show_reveal(
        self,
        game: GameRecord,
        message_id: int,
        reveal: Reveal,
        total: int,
        streaks: Mapping[int, int],
    ) -> None:
        """Edit the question's message into its reveal (buttons off, the right one green);
        `streaks`: the players' daily streaks, for a daily question."""
        ...

    async def close_question(
        self, game: GameRecord, message_id: int, question: OpenQuestion
    ) -> None:
        """Turn the question's buttons off, without revealing it."""
        ...

    async def post_standings(
        self,
        game: GameRecord,
        standings: list[Standing],
        recap: Recap,
        note: Notice | None,
        rematch: Rematch | None,
    ) -> None:
        """Post the final standings and the game's highlights, under `note` (why the game
        ended early) when given, with "Play again" (`rematch`) when there is one."""
        ...

    async def post_notice(self, game: GameRecord, notice: Notice) -> None: ...


@dataclass
class LiveGame:
    record: GameRecord
    game: TriviaGame
    message_id: int | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)
    # Held while an answer is checked and stored, and while the question is closed: memory and
    # database agree on which answers a reveal scores.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    stopping: bool = False  # a /trivia stop is under way
    # Set by /trivia stop: the runner's waits end early and it ends the game itself, at a
    # point where no request is in flight (see TriviaRunner.stop_game).
    wake: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def daily(self) -> bool:
        return self.record.kind == GameKind.DAILY

    @property
    def rematch(self) -> Rematch | None:
        """What "Play again" under the standings starts (none for a daily question)."""
        if self.daily:
            return None
        record = self.record
        return Rematch(len(record.question_ids), record.difficulty, record.seconds, record.topic)


@dataclass(frozen=True)
class Answered:
    """What a click came to: the outcome, and the label of the choice that counts (as the
    game keeps it: the dataset's English) of `question`."""

    outcome: AnswerOutcome
    label: str | None
    question: Question


@dataclass(frozen=True)
class Halved:
    """What a click on "50/50" came to: the outcome, and the two choices left (the dataset's
    English labels, in the question's order) of `question`."""

    result: HalfResult
    question: Question
    left: tuple[str, ...]


class TriviaRunner:
    def __init__(
        self,
        *,
        store: Store,
        dataset: Dataset,
        content: ContentService,
        clock: Clock,
        rng: random.Random,
        channel: TriviaChannel,
        grace: dt.timedelta,
        shards: Shards | None = None,
        pace: TokenBucket | None = None,
    ) -> None:
        """`pace`: the daily questions' reveals take their turn there, with the scheduled posts
        (one message edit each: thousands of questions posted at 09:00 close together at 10:00,
        and Discord's global rate limit counts them all). Their turn is taken right before the
        edit, so the edits reach Discord at the pace; the database work before it is bounded
        by how many daily reveals are under way at once (`DAILY_REVEALS_AT_ONCE`)."""
        self.store = store
        self.dataset = dataset
        self.content = content
        self.clock = clock
        self.rng = rng
        self.channel = channel
        self.grace = grace
        self.shards = shards  # the servers whose games this process plays (SPEC §8)
        self.pace = pace
        self._daily_reveals = asyncio.Semaphore(DAILY_REVEALS_AT_ONCE)
        self.live: dict[int, LiveGame] = {}  # game id -> game being played
        self._daily_locks: dict[int, asyncio.Lock] = {}  # server id -> its daily reveals' turn
        self._starting: set[int] = set()  # channels where a game is being created

    # --- lifecycle ------------------------------------------------------------------------------

    async def recover(self) -> None:
        """At start: close the games a crash or restart interrupted (revealing their open
        question, so no live buttons stay behind), and re-arm daily questions' reveals."""
        for record in await self.store.running_games(shards=self.shards):
            if record.id in self.live:
                continue  # already played (a daily question the scheduler just posted)
            try:
                if record.kind == GameKind.DAILY and not record.opened_at:
                    if not await self._open_posted_daily(record):
                        # Made for a scheduled run, but the bot stopped before the post was
                        # recorded: the scheduler sends that run again (the same game) while
                        # it is within the grace window; after that nothing will, so close it.
                        if self.clock.now() - record.started_at > self.grace:
                            await self._end(record.id, GameState.INTERRUPTED)
                        continue
                    record = await self.store.game(record.id) or record
                live = await self._restore(record)
                if live is None:
                    continue
                if live.daily:
                    self._start_task(live, self._run_daily(live))
                else:
                    await self._close_interrupted(live)
            except Exception:
                log.exception("could not recover trivia game %s; closing it", record.id)
                self.live.pop(record.id, None)
                await self._end(record.id, GameState.INTERRUPTED)

    async def shutdown(self) -> None:
        """Stop playing; the games stay running in the database and are closed cleanly (or
        re-armed, for daily questions) at the next start."""
        tasks = [live.task for live in self.live.values() if live.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _open_posted_daily(self, record: GameRecord) -> bool:
        """A daily question whose run was recorded as sent but which was not recorded as open
        (the process died in between): record it as opened when it was sent, with the posted
        message, so it is revealed on time. False when the run was not sent."""
        try:
            schedule_id, due_at = parse_run_nonce(record.run_key or "")
        except ValueError:  # not a scheduled run's key
            return False
        sent = await self.store.sent_run(schedule_id, due_at)
        if sent is None:
            return False
        message_id, _sent_at = sent
        await self.store.open_question(record.id, 0, record.started_at, message_id)
        log.info("daily trivia game %s: its question was posted before a restart", record.id)
        return True

    async def _restore(self, record: GameRecord) -> LiveGame | None:
        questions = [self.dataset.question(qid) for qid in record.question_ids]
        if any(q is None for q in questions):
            log.warning(
                "trivia game %s asks questions no longer in the dataset; closing it", record.id
            )
            await self._end(record.id, GameState.INTERRUPTED)
            return None
        game = TriviaGame.restore(
            game_id=record.id,
            channel_id=record.channel_id,
            starter_id=record.starter_id,
            questions=[q for q in questions if q is not None],
            choices=record.choices,
            seconds=record.seconds,
            opened_at=record.opened_at,
            answers=await self.store.game_answers(record.id),
            revealed=record.revealed,
            halved=await self.store.game_halves(record.id),
        )
        live = LiveGame(record, game, record.current_message)
        self.live[record.id] = live
        return live

    def _start_task(self, live: LiveGame, work: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except ChannelGone as error:
                log.warning(
                    "trivia game %s ended: the channel is gone or closed to the bot (%s)",
                    live.record.id,
                    error,
                )
                await self._end_quietly(live)
            except StoreUnavailable as error:
                log.error("trivia game %s had to stop: %s", live.record.id, error)
                await self._end_visibly(live)
            except Exception:
                log.exception("trivia game %s failed", live.record.id)
                await self._end_visibly(live)
            finally:
                self.live.pop(live.record.id, None)

        live.task = asyncio.create_task(guarded(), name=f"trivia-game-{live.record.id}")

    # --- games (/trivia play, /trivia stop) -------------------------------------------------------

    async def start_game(
        self,
        *,
        guild_id: int,
        channel_id: int,
        starter_id: int,
        difficulty: str,
        count: int,
        seconds: int,
        topic: str | None = None,
    ) -> GameRecord:
        """Start a game in the channel (Refusal: one is running, or too few questions)."""
        here = await self.game_here(channel_id)
        if here is not None:
            raise already_running(here[0])
        try:
            picked = await self.content.questions(guild_id, difficulty, count, topic)
        except trivia.NotEnoughQuestions as error:
            raise too_few(error.available, topic is not None) from None
        self._starting.add(channel_id)
        try:
            record = await self.store.create_game(
                guild_id=guild_id,
                channel_id=channel_id,
                starter_id=starter_id,
                kind=GameKind.GAME,
                difficulty=difficulty,
                seconds=seconds,
                question_ids=[q.id for q in picked],
                choices=[trivia.shuffled_choices(q, self.rng) for q in picked],
                started_at=self.clock.now(),
                topic=topic,
            )
        except GameAlreadyRunning:
            raise already_running(await self.store.running_game(channel_id)) from None
        finally:
            self._starting.discard(channel_id)
        game = TriviaGame(
            game_id=record.id,
            channel_id=channel_id,
            starter_id=starter_id,
            questions=picked,
            choices=record.choices,
            seconds=seconds,
        )
        live = LiveGame(record, game)
        self.live[record.id] = live
        self._start_task(live, self._run_game(live))
        return record

    async def game_here(self, channel_id: int) -> tuple[GameRecord, LiveGame] | None:
        """The game running in the channel. A game the database still calls running but
        nothing plays any more (its task stopped and its end could not be written then) is
        closed now, so it never blocks the channel."""
        record = await self.store.running_game(channel_id)
        if record is None:
            return None
        live = self.live.get(record.id)
        if live is not None:
            return record, live
        if channel_id not in self._starting:
            log.warning(
                "trivia game %s was left running with nothing playing it; closing it", record.id
            )
            await self._end(record.id, GameState.INTERRUPTED)
        return None

    async def stop_game(self, live: LiveGame) -> list[Standing]:
        """End the channel's game now (the caller checked who may, and announces it with the
        standings returned): its open question is revealed and scored like any other. Once
        only: mark it stopping first.

        The runner is asked, not cancelled: it ends the game at its next wait, after any
        request in flight. (A request cancelled while discord.py sleeps out a global rate
        limit would leave every later request of the process waiting forever.)"""
        live.stopping = True
        live.wake.set()
        if live.task is not None:
            await asyncio.wait({live.task})  # not gather: our caller's end must not end it
        return live.game.standings()

    async def _run_game(self, live: LiveGame) -> None:
        while live.game.has_next and not live.stopping:
            question = live.game.open_question(self.clock.now())
            # Recorded before it is posted: an answer locked in while the post is on its way
            # belongs to a question the database knows, and a crash in between is mended at
            # the next start by posting it again with the same nonce (see _post_question).
            live.message_id = None  # the previous question's message
            await self.store.open_question(live.record.id, question.index, question.opened_at, None)
            await self._post_question(live, question)
            await self._wait_until(live, question.closes_at)
            if live.stopping:
                break
            revealed_at = self.clock.now()
            await self._reveal(live)
            if live.game.has_next:  # time to read the reveal, counted from when it was made
                await self._wait_until(
                    live, revealed_at + dt.timedelta(seconds=REVEAL_PAUSE_SECONDS)
                )
        if live.stopping:
            await self._end_stopped(live)
        else:
            await self._finish(live, GameState.FINISHED)

    async def _wait_until(self, live: LiveGame, moment: dt.datetime) -> None:
        """Wait until `moment`, or until /trivia stop asks the game to end."""
        seconds = (moment - self.clock.now()).total_seconds()
        await wait_or_timeout(self.clock, live.wake, max(0.0, seconds))

    async def _end_stopped(self, live: LiveGame) -> None:
        """/trivia stop: the open question is revealed as any other (its answer shown, the
        answers locked in scored, no live button or timer left), then the game ends; its
        standings are the stop's reply."""
        question = live.game.current_question()
        if question is not None:
            await self._post_question(live, question)  # in case it never got its id
            await self._reveal(live)
        live.game.stop(EndReason.STOPPED)
        await self._finish(live, GameState.STOPPED, announce=False)

    async def _post_question(self, live: LiveGame, question: OpenQuestion) -> int:
        """The open question's message id, posting it if the runner does not know it yet.

        The nonce is the game's and the question's, so Discord answers a second post (after a
        crash between posting and recording) with the message it already has.
        """
        if live.message_id is None:
            nonce = f"lwa-t{live.record.id}-{question.index}"
            live.message_id = await self.channel.post_question(live.record, question, nonce)
            await self.store.set_question_message(live.record.id, live.message_id)
        return live.message_id

    async def _reveal(self, live: LiveGame) -> Reveal:
        if not live.daily:
            return await self._reveal_now(live)
        # A server's daily questions are revealed one at a time: each moves its players'
        # streaks on from where the one before left them (two due at the same minute must not
        # both start from the same streaks; the store serialises its writes too).
        async with self._daily_lock(live.record.guild_id):
            return await self._reveal_now(live)

    def _daily_lock(self, guild_id: int) -> asyncio.Lock:
        lock = self._daily_locks.get(guild_id)
        if lock is None:
            lock = self._daily_locks[guild_id] = asyncio.Lock()
        return lock

    async def _reveal_now(self, live: LiveGame) -> Reveal:
        async with live.lock:  # after any answer being stored: it is scored, or it is refused
            now = self.clock.now()
            reveal = live.game.reveal(now)
        streaks = await self._daily_streaks(live, reveal) if live.daily else None
        rows = [
            ScoreRow(
                user_id=r.user_id,
                question_id=reveal.question.id,
                correct=r.correct,
                points=r.points,
                streak=r.streak,
            )
            for r in reveal.results
        ]
        # Shown first, recorded second: a crash in between leaves the question open in the
        # database, so the next start reveals (edits) it again and scores it then. The other
        # order would leave live buttons behind for good. A moment when Discord does not
        # answer is waited out a little, like the database's.
        try:
            if live.message_id is not None:
                message_id = live.message_id
                if live.daily and self.pace is not None:
                    await self.pace.take()
                await self._retried(
                    f"show the reveal of trivia game {live.record.id} in its channel",
                    lambda: self.channel.show_reveal(
                        live.record,
                        message_id,
                        reveal,
                        live.game.total,
                        {user: streak.current for user, streak in (streaks or {}).items()},
                    ),
                    ChannelUnreachable,
                )
        finally:
            timezone = await self._timezone(live)  # where its week and month begin

            await self._saved(
                f"the reveal of trivia game {live.record.id}, question {reveal.index + 1}",
                lambda: self.store.record_reveal(
                    live.record.id, reveal.index, rows, now, timezone=timezone, daily=live.daily
                ),
            )
        return reveal

    async def _timezone(self, live: LiveGame) -> str:
        """The server's timezone, for its leaderboard weeks and months; UTC when the
        database cannot say now (recording the reveal then fails and says so anyway)."""
        try:
            return await self.content.server_timezone(live.record.guild_id)
        except StoreUnavailable:
            return "UTC"

    async def _daily_streaks(self, live: LiveGame, reveal: Reveal) -> dict[int, DailyStreak] | None:
        """The players' daily streaks after this daily question, as the reveal shows them (the
        store works them out again as it records the reveal, from what it holds then). Best
        effort: a database that cannot be read now costs the shown streaks, not the reveal."""
        guild_id = live.record.guild_id
        try:
            previous = await self.store.latest_daily(guild_id)
            known = await self.store.daily_streaks(guild_id, [r.user_id for r in reveal.results])
        except StoreUnavailable:
            return None
        return trivia.streaks_after(
            live.record.id, previous, known, [(r.user_id, r.correct) for r in reveal.results]
        )

    async def _finish(
        self,
        live: LiveGame,
        state: GameState,
        *,
        note: Notice | None = None,
        announce: bool = True,
    ) -> None:
        await self._saved(
            f"the end of trivia game {live.record.id}",
            lambda: self.store.end_game(live.record.id, state, self.clock.now()),
        )
        self.live.pop(live.record.id, None)
        if live.daily or not announce:
            return
        if live.game.ended is EndReason.SILENT:
            note = Notice(msg("trivia.notice.silent"))
        game = live.game
        await self.channel.post_standings(
            live.record, game.standings(), game.recap(), note, live.rematch
        )

    async def _close_interrupted(self, live: LiveGame) -> None:
        """A game the bot was playing when it stopped: reveal and score the open question,
        then end the game and tell the channel."""
        question = live.game.current_question()
        if question is not None:
            if not live.daily:
                await self._post_question(live, question)  # in case it never got its id
            await self._reveal(live)
        revealed = live.game.revealed
        live.game.stop(EndReason.STOPPED)
        note = Notice(
            msg("trivia.notice.restarted"), {"revealed": revealed, "total": live.game.total}
        )
        await self._finish(live, GameState.INTERRUPTED, note=note)

    # --- when the database or the channel fails ---------------------------------------------------

    async def _saved(self, what: str, save: Callable[[], Awaitable[None]]) -> None:
        """Write with a few tries when the database is unavailable (locked, full): a reveal or
        a game's end is worth waiting a little for. Raises the last StoreUnavailable."""
        await self._retried(f"save {what}", save, StoreUnavailable)

    async def _retried(
        self, what: str, work: Callable[[], Awaitable[None]], transient: type[Exception]
    ) -> None:
        """`work`, tried `SAVE_ATTEMPTS` times while it fails with `transient` (the pause
        doubling from `SAVE_RETRY_SECONDS`); raises the last error."""
        delay = SAVE_RETRY_SECONDS
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            try:
                await work()
                return
            except transient as error:
                if attempt == SAVE_ATTEMPTS:
                    raise
                log.warning("could not %s (%s); trying again in %g s", what, error, delay)
                await self.clock.sleep(delay)
                delay *= 2

    async def _end(self, game_id: int, state: GameState) -> None:
        await self.store.end_game(game_id, state, self.clock.now())

    async def _end_quietly(self, live: LiveGame) -> None:
        """End a game that cannot go on, without posting: the channel may be gone. If even that
        cannot be written, the game is closed the next time its channel asks for one."""
        try:
            await self._end(live.record.id, GameState.INTERRUPTED)
        except Exception:
            log.exception("could not mark trivia game %s as interrupted", live.record.id)

    async def _end_visibly(self, live: LiveGame) -> None:
        """A game that cannot go on (its results cannot be saved, or a bug): close its open
        question and say so in the channel, so nobody waits for a next question that never
        comes; the channel is free for a new game."""
        self.live.pop(live.record.id, None)
        with contextlib.suppress(Exception):
            question = live.game.current_question()
            if question is not None and live.message_id is not None:
                await self.channel.close_question(live.record, live.message_id, question)
        if not live.daily:
            with contextlib.suppress(Exception):
                await self.channel.post_notice(live.record, GAME_HAD_TO_STOP)
        await self._end_quietly(live)

    # --- daily questions (scheduled posts, SPEC §6) -------------------------------------------

    async def prepare_daily(
        self, *, guild_id: int, channel_id: int, starter_id: int, run_key: str
    ) -> tuple[GameRecord, OpenQuestion]:
        """The daily question of a scheduled run, ready to post: one question that stays open
        for an hour, then is revealed and scored.

        Made once per run (`run_key`, the run's nonce): when the scheduler makes a run again
        (after a crash, or a send whose outcome it does not know), it posts the same game and
        question, never a second one that would not match a message already in the channel.
        Its hour counts from when it was made, so every post of it says the same closing time.
        It takes answers from now on: a click may come as soon as the post is out, before
        `daily_posted` hears of it.
        """
        record = await self.store.game_for_run(run_key)
        if record is None:
            picked = (await self.content.questions(guild_id, "mixed", 1))[0]
            record = await self.store.create_game(
                guild_id=guild_id,
                channel_id=channel_id,
                starter_id=starter_id,
                kind=GameKind.DAILY,
                difficulty="mixed",
                seconds=DAILY_SECONDS,
                question_ids=[picked.id],
                choices=[trivia.shuffled_choices(picked, self.rng)],
                started_at=self.clock.now(),
                run_key=run_key,
            )
        if record.state != GameState.RUNNING:
            raise RuntimeError(f"the daily question of run {run_key} was already closed")
        live = self.live.get(record.id) or await self._restore(record)
        if live is None:
            raise RuntimeError(f"the daily question of run {run_key} left the dataset")
        question = live.game.current_question()
        if question is None:
            if not live.game.has_next:
                raise RuntimeError(f"the daily question of run {run_key} was already revealed")
            question = live.game.open_question(record.started_at)
        return record, question

    async def daily_game(self, run_key: str) -> GameRecord | None:
        """The daily question made for a scheduled run, if one was."""
        return await self.store.game_for_run(run_key)

    async def daily_posted(self, run_key: str, message_id: int) -> None:
        """The run's daily question is in the channel as `message_id` (just sent, or found
        there after a restart): record it as open and arm its reveal. Idempotent: the
        scheduler calls it again when recording the run failed."""
        record = await self.store.game_for_run(run_key)
        if record is None or record.state != GameState.RUNNING:
            return
        if not record.opened_at:
            await self.store.open_question(record.id, 0, record.started_at, message_id)
            record = await self.store.game(record.id) or record
        elif record.current_message != message_id:
            await self.store.set_question_message(record.id, message_id)
        live = self.live.get(record.id) or await self._restore(record)
        if live is None:
            return
        live.message_id = message_id
        if live.task is None:
            self._start_task(live, self._run_daily(live))

    async def void_daily(self, run_key: str) -> None:
        """The run's daily question will not be posted (its channel refused it, or its time
        passed): end its game, so it never waits for a post."""
        record = await self.store.game_for_run(run_key)
        if record is None or record.state != GameState.RUNNING or record.opened_at:
            return  # nothing made, or it was posted after all: its reveal stays armed
        live = self.live.pop(record.id, None)
        if live is not None and live.task is not None:
            live.task.cancel()
        await self._end(record.id, GameState.INTERRUPTED)

    async def _run_daily(self, live: LiveGame) -> None:
        question = live.game.current_question()
        if question is not None:
            await self._wait_until(live, question.closes_at)
            if live.stopping:
                await self._end_stopped(live)
                return
            async with self._daily_reveals:  # answers closed on time; the reveal waits its turn
                await self._reveal(live)
        await self._finish(live, GameState.FINISHED)

    # --- clicks ---------------------------------------------------------------------------------

    async def answer(
        self,
        *,
        game_id: int,
        index: int,
        choice: int,
        user_id: int,
        channel_id: int | None,
        guild_id: int | None,
    ) -> Answered:
        """A click on an answer button: checked against the game's channel, server and
        ranges, stored before it counts (Refusal for a button that is not this game's)."""
        live = self.live.get(game_id)
        if live is None:
            raise Refusal("trivia.answer.game_ended")
        if channel_id != live.record.channel_id or (guild_id or 0) != live.record.guild_id:
            raise Refusal("trivia.answer.other_channel")
        choices = live.game.choices
        if not (0 <= index < len(choices) and 0 <= choice < len(choices[index])):
            raise Refusal("trivia.answer.not_a_choice")
        async with live.lock:  # answer and row together, before the reveal can score
            now = self.clock.now()
            result = live.game.answer(user_id, choice, now, question_index=index)
            if result.outcome is AnswerOutcome.LOCKED:
                # Stored before the player is told: "locked in" means it is on disk. An
                # answer that cannot be stored is forgotten, and can be given again.
                try:
                    await self.store.record_answer(game_id, index, user_id, choice, now)
                except BaseException:
                    live.game.withdraw(user_id, index)
                    raise
        return Answered(result.outcome, _label(choices[index], result), live.game.questions[index])

    async def fifty_fifty(
        self,
        *,
        game_id: int,
        index: int,
        user_id: int,
        channel_id: int | None,
        guild_id: int | None,
    ) -> Halved:
        """A click on "50/50" (Refusal for a button that is not this game's): what it leaves
        the player, recorded before they are shown it (so a restart still halves their
        points); a daily question offers none."""
        live = self.live.get(game_id)
        if live is None:
            raise Refusal("trivia.answer.game_ended")
        if channel_id != live.record.channel_id or (guild_id or 0) != live.record.guild_id:
            raise Refusal("trivia.answer.other_channel")
        if not 0 <= index < len(live.game.choices):
            raise Refusal("trivia.answer.not_a_choice")
        question = live.game.questions[index]
        if live.daily:
            return Halved(HalfResult(HalfOutcome.NOT_OFFERED), question, ())
        async with live.lock:  # with the answers: never after this player's own answer
            now = self.clock.now()
            result = live.game.fifty_fifty(user_id, now, self.rng, question_index=index)
            if result.outcome is HalfOutcome.SHOWN:
                try:
                    await self.store.record_half(game_id, index, user_id, now)
                except BaseException:
                    live.game.forget_fifty_fifty(user_id, index)
                    raise
        labels = live.game.choices[index]
        return Halved(result, question, tuple(labels[i] for i in result.left))


def _label(labels: tuple[str, ...], result: AnswerResult) -> str | None:
    return labels[result.choice_index] if result.choice_index is not None else None


def already_running(running: GameRecord | None) -> Refusal:
    """Why a channel cannot have a second game now."""
    if running is None:
        return Refusal("trivia.play.just_started")
    total = len(running.question_ids)
    return Refusal(
        "trivia.play.running",
        starter=running.starter_id,
        number=min(running.revealed + 1, total),
        total=total,
    )


def too_few(available: int, topic: bool) -> Refusal:
    """Not enough questions for a game's settings: how many there are, and what to ask
    instead (another topic too, when one was chosen)."""
    if available == 0:
        return Refusal("trivia.play.not_enough.none")
    if available == 1:
        if topic:
            return Refusal("trivia.play.not_enough.one.topic")
        return Refusal("trivia.play.not_enough.one")
    if topic:
        return Refusal("trivia.play.not_enough.topic", available=available)
    return Refusal("trivia.play.not_enough", available=available)
