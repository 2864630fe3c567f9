"""/trivia play | stop | leaderboard | stats | reports, and daily trivia posts (SPEC §4, §6).

The game itself is `bot.domain.trivia.TriviaGame`; this cog runs one asyncio task per live game
(a handful at a time, unlike schedules), sends and edits its messages, and stores every answer
as it is made and every reveal's points as they are scored, so a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs.errors import UserError, reply_in_time, report_error, send_ephemeral
from bot.domain import trivia
from bot.domain.clock import sleep_until
from bot.domain.models import Question
from bot.domain.schedule import parse_run_nonce
from bot.domain.trivia import AnswerOutcome, EndReason, TriviaGame
from bot.permissions import missing_post_permissions
from bot.store.base import GameAlreadyRunning, GameRecord, ScoreRow, StoreUnavailable
from bot.ui import embeds
from bot.ui import trivia as ui

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot

log = logging.getLogger(__name__)

REVEAL_PAUSE_SECONDS = 3.0  # time to read a reveal before the next question
SAVE_ATTEMPTS = 3  # a reveal or a game's end that cannot be written is tried this often
SAVE_RETRY_SECONDS = 2.0  # first pause between those tries (then doubled)
DAILY_SECONDS = 60 * 60  # a scheduled question stays open for an hour (SPEC §6)
PERIOD_LABELS = {"all": "all time", "week": "this week", "month": "this month"}

SendPost = Callable[[discord.Embed, discord.ui.View | None], Awaitable[discord.Message]]


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

    @property
    def daily(self) -> bool:
        return self.record.kind == "daily"


class Trivia(commands.Cog):
    trivia_group = app_commands.Group(
        name="trivia",
        description="Trivia quizzes about “Love wins all”, played together",
        guild_only=True,
    )

    def __init__(self, bot: LoveWinsAllBot) -> None:
        self.bot = bot
        self.live: dict[int, LiveGame] = {}  # game id -> game being played
        self._starting: set[int] = set()  # channels where a game is being created

    # --- lifecycle ----------------------------------------------------------------------------

    async def cog_load(self) -> None:
        """Close games a crash or restart interrupted; re-arm daily questions' reveals."""
        grace = dt.timedelta(minutes=self.bot.settings.schedule_grace_minutes)
        for record in await self.bot.store.running_games():
            live: LiveGame | None = None
            try:
                if record.kind == "daily" and not record.opened_at:
                    if not await self._open_posted_daily(record):
                        # Made for a scheduled run, but the bot stopped before the post was
                        # recorded: the scheduler sends that run again (the same game) while
                        # it is within the grace window; after that nothing will, so close it.
                        if self.bot.clock.now() - record.started_at > grace:
                            await self.bot.store.end_game(
                                record.id, "interrupted", self.bot.clock.now()
                            )
                        continue
                    record = await self.bot.store.game(record.id) or record
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
                await self.bot.store.end_game(record.id, "interrupted", self.bot.clock.now())

    async def _open_posted_daily(self, record: GameRecord) -> bool:
        """A daily question whose run was recorded as sent but which was not recorded as open
        (the process died in between): record it as opened when it was sent, with the posted
        message, so it is revealed on time. False when the run was not sent."""
        try:
            schedule_id, due_at = parse_run_nonce(record.run_key or "")
        except ValueError:  # not a scheduled run's key
            return False
        sent = await self.bot.store.sent_run(schedule_id, due_at)
        if sent is None:
            return False
        message_id, sent_at = sent
        await self.bot.store.open_question(record.id, 0, sent_at, message_id)
        log.info("daily trivia game %s: its question was posted before a restart", record.id)
        return True

    async def cog_unload(self) -> None:
        # Shutting down: stop the tasks; the games stay 'running' in the database and are
        # closed cleanly (or re-armed, for daily questions) at the next start.
        tasks = [live.task for live in self.live.values() if live.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _restore(self, record: GameRecord) -> LiveGame | None:
        questions = [self.bot.dataset.question(qid) for qid in record.question_ids]
        if any(q is None for q in questions):
            log.warning(
                "trivia game %s asks questions no longer in the dataset; closing it", record.id
            )
            await self.bot.store.end_game(record.id, "interrupted", self.bot.clock.now())
            return None
        game = TriviaGame.restore(
            game_id=record.id,
            channel_id=record.channel_id,
            starter_id=record.starter_id,
            questions=[q for q in questions if q is not None],
            choices=record.choices,
            seconds=record.seconds,
            opened_at=record.opened_at,
            answers=await self.bot.store.game_answers(record.id),
            revealed=record.revealed,
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
            except (discord.Forbidden, discord.NotFound) as error:
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

    async def _saved(self, what: str, save: Callable[[], Awaitable[None]]) -> None:
        """Write with a few tries when the database is unavailable (locked, full): a reveal or
        a game's end is worth waiting a little for. Raises the last StoreUnavailable."""
        delay = SAVE_RETRY_SECONDS
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            try:
                await save()
                return
            except StoreUnavailable as error:
                if attempt == SAVE_ATTEMPTS:
                    raise
                log.warning("could not save %s (%s); trying again in %g s", what, error, delay)
                await self.bot.clock.sleep(delay)
                delay *= 2

    async def _end_quietly(self, live: LiveGame) -> None:
        """End a game that cannot go on, without posting: the channel may be gone. If even that
        cannot be written, the game is closed the next time its channel asks for one."""
        try:
            await self.bot.store.end_game(live.record.id, "interrupted", self.bot.clock.now())
        except Exception:
            log.exception("could not mark trivia game %s as interrupted", live.record.id)

    async def _end_visibly(self, live: LiveGame) -> None:
        """A game that cannot go on (its results cannot be saved, or a bug): close its open
        question and say so in the channel, so nobody waits for a next question that never
        comes; the channel is free for a new game."""
        self.live.pop(live.record.id, None)
        with contextlib.suppress(Exception):
            view = live.game.current_view()
            if view is not None and live.message_id is not None:
                await (
                    self._channel(live)
                    .get_partial_message(live.message_id)
                    .edit(view=ui.closed_view(live.record.id, view))
                )
        if not live.daily:
            with contextlib.suppress(discord.HTTPException):
                await self._channel(live).send(
                    embed=embeds.user_error_embed(
                        "⚠️ The game had to stop: the bot could not save its results. "
                        "Points of the questions revealed before are on the leaderboard. "
                        "Start a new game with `/trivia play`."
                    )
                )
        await self._end_quietly(live)

    # --- playing ------------------------------------------------------------------------------

    def _channel(self, live: LiveGame) -> discord.PartialMessageable:
        return self.bot.get_partial_messageable(
            live.record.channel_id, guild_id=live.record.guild_id
        )

    async def _sleep_until(self, instant: dt.datetime) -> None:
        await sleep_until(self.bot.clock, instant)

    async def _run_game(self, live: LiveGame) -> None:
        while live.game.has_next:
            view = live.game.open_question(self.bot.clock.now())
            # Recorded before it is posted: an answer locked in while the post is on its way
            # belongs to a question the database knows, and a crash in between is mended at
            # the next start by posting it again with the same nonce (see _post_question).
            live.message_id = None  # the previous question's message
            await self.bot.store.open_question(live.record.id, view.index, view.opened_at, None)
            await self._post_question(live, view)
            await self._sleep_until(view.closes_at)
            revealed_at = self.bot.clock.now()
            await self._reveal(live)
            if live.game.has_next:  # time to read the reveal, counted from when it was made
                await self._sleep_until(revealed_at + dt.timedelta(seconds=REVEAL_PAUSE_SECONDS))
        await self._finish(live, "finished")

    async def _post_question(self, live: LiveGame, view: trivia.QuestionView) -> int:
        """The open question's message id, posting it if the bot does not know it yet.

        The nonce is the game's and the question's, so Discord answers a second post (after a
        crash between posting and recording) with the message it already has.
        """
        if live.message_id is None:
            message = await self._channel(live).send(
                embed=ui.question_embed(view, live.record.difficulty),
                view=ui.question_view(live.record.id, view),
                nonce=f"lwa-t{live.record.id}-{view.index}",
            )
            live.message_id = message.id
            await self.bot.store.set_question_message(live.record.id, message.id)
        return live.message_id

    async def _reveal(self, live: LiveGame) -> trivia.Reveal:
        async with live.lock:  # after any answer being stored: it is scored, or it is refused
            now = self.bot.clock.now()
            reveal = live.game.reveal(now)
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
        # order would leave live buttons behind for good.
        try:
            if live.message_id is not None:
                await (
                    self._channel(live)
                    .get_partial_message(live.message_id)
                    .edit(
                        embed=ui.reveal_embed(
                            reveal, live.game.total, self.bot.dataset, live.daily
                        ),
                        view=ui.reveal_view(live.record.id, reveal),
                    )
                )
        finally:
            await self._saved(
                f"the reveal of trivia game {live.record.id}, question {reveal.index + 1}",
                lambda: self.bot.store.record_reveal(live.record.id, reveal.index, rows, now),
            )
        return reveal

    async def _finish(
        self, live: LiveGame, state: str, *, announce: bool = True, note: str = ""
    ) -> None:
        await self._saved(
            f"the end of trivia game {live.record.id}",
            lambda: self.bot.store.end_game(live.record.id, state, self.bot.clock.now()),
        )
        self.live.pop(live.record.id, None)
        if not announce or live.daily:
            return
        if live.game.ended is EndReason.SILENT:
            note = "Nobody answered two questions in a row, so the game ended itself."
        await self._channel(live).send(
            embed=ui.standings_embed(live.game.standings(), "Final standings", note)
        )

    async def _close_interrupted(self, live: LiveGame) -> None:
        """A game the bot was playing when it stopped: reveal and score the open question,
        then end the game and tell the channel."""
        view = live.game.current_view()
        if view is not None:
            if not live.daily:
                await self._post_question(live, view)  # in case it never got its message id
            await self._reveal(live)
        revealed = live.game.revealed
        live.game.stop(EndReason.STOPPED)
        note = (
            f"⚠️ The bot restarted during this game, so it ended after question {revealed} of "
            f"{live.game.total}. Points of the revealed questions are saved on the "
            "leaderboard."
        )
        await self._finish(live, "interrupted", note=note)

    # --- daily questions (scheduled posts, SPEC §6) -------------------------------------------

    async def post_daily_question(
        self, *, guild_id: int, channel_id: int, send: SendPost, run_key: str | None = None
    ) -> discord.Message:
        """Post one question that stays open for an hour, then is revealed and scored.

        `send` is the scheduler's paced, de-duplicated send. The reveal is kept in the
        database as a running daily game, so it still happens after a restart. `run_key`
        (the run's nonce) makes this idempotent: when the scheduler sends a run again after
        a crash, the same game is posted again (Discord de-duplicates the message) rather
        than a new question that would not match the message already in the channel.
        """
        record = await self.bot.store.game_for_run(run_key) if run_key else None
        if record is None:
            question = (await self._pick(guild_id, "mixed", 1))[0]
            record = await self.bot.store.create_game(
                guild_id=guild_id,
                channel_id=channel_id,
                starter_id=self.bot.user.id if self.bot.user else 0,
                kind="daily",
                difficulty="mixed",
                seconds=DAILY_SECONDS,
                question_ids=[question.id],
                choices=[trivia.shuffled_choices(question, self.bot.rng)],
                started_at=self.bot.clock.now(),
                run_key=run_key,
            )
        if record.state != "running":
            raise RuntimeError(f"the daily question of run {run_key} was already closed")
        live = self.live.get(record.id) or await self._restore(record)
        if live is None:
            raise RuntimeError(f"the daily question of run {run_key} left the dataset")
        view = live.game.current_view()
        opening = view is None
        if view is None:
            view = live.game.open_question(self.bot.clock.now())
        try:
            message = await send(
                ui.question_embed(view, "mixed", daily=True), ui.question_view(record.id, view)
            )
        except BaseException:
            if opening:  # nothing reached the channel: this run's game is void
                self.live.pop(record.id, None)
                await self.bot.store.end_game(record.id, "interrupted", self.bot.clock.now())
            raise
        live.message_id = message.id
        if opening:
            await self.bot.store.open_question(record.id, 0, view.opened_at, message.id)
        self.live[record.id] = live
        if live.task is None:
            self._start_task(live, self._run_daily(live))
        return message

    async def _run_daily(self, live: LiveGame) -> None:
        view = live.game.current_view()
        if view is not None:
            await self._sleep_until(view.closes_at)
            await self._reveal(live)
        await self._finish(live, "finished")

    # --- clicks -------------------------------------------------------------------------------

    async def handle_choice(
        self, interaction: discord.Interaction[Any], game_id: int, index: int, choice: int
    ) -> None:
        try:
            live = self.live.get(game_id)
            if live is None:
                await send_ephemeral(
                    interaction,
                    embeds.user_error_embed(
                        "This question is closed: its game has ended. "
                        "Start a new one with `/trivia play`."
                    ),
                )
                return
            if (
                interaction.channel_id != live.record.channel_id
                or (interaction.guild_id or 0) != live.record.guild_id
            ):
                raise UserError(
                    "That button belongs to a trivia game in another channel: answer there, "
                    "or start a game here with `/trivia play`."
                )
            if not (
                0 <= index < live.game.total
                and index < len(live.game.choices)
                and 0 <= choice < len(live.game.choices[index])
            ):
                raise UserError("That button is not one of this game's answers.")
            labels = live.game.choices[index]
            user_id = interaction.user.id

            async def reply() -> dict[str, Any]:
                async with live.lock:  # answer and row together, before the reveal can score
                    now = self.bot.clock.now()
                    result = live.game.answer(user_id, choice, now, question_index=index)
                    if result.outcome is AnswerOutcome.LOCKED:
                        # Stored before the player is told: "locked in" means it is on disk.
                        # An answer that cannot be stored is forgotten, and can be given again.
                        try:
                            await self.bot.store.record_answer(game_id, index, user_id, choice, now)
                        except BaseException:
                            live.game.withdraw(user_id, index)
                            raise
                if result.outcome is AnswerOutcome.LOCKED:
                    text = (
                        f"🔒 Locked in: **{labels[choice]}**. "
                        "The answer is revealed when time is up."
                    )
                elif result.outcome is AnswerOutcome.ALREADY_ANSWERED:
                    earlier = (
                        labels[result.choice_index] if result.choice_index is not None else "?"
                    )
                    text = f"You already answered this one: **{earlier}**. Your first click counts."
                else:
                    text = "This question is closed. Wait for the next one!"
                return {"embed": discord.Embed(description=text, colour=embeds.COLOUR)}

            await reply_in_time(interaction, reply(), ephemeral=True)
        except Exception as error:
            await report_error(interaction, error)

    async def handle_report_button(
        self, interaction: discord.Interaction[Any], question_id: str
    ) -> None:
        try:
            if self.bot.dataset.question(question_id) is None:
                raise UserError(
                    "That question is no longer in the dataset, so there is nothing to report."
                )
            form = ui.ReportModal(question_id, interaction.user.id)
            await interaction.response.send_modal(form)
            form.stop()  # its submission is handled by its custom_id (on_interaction)
        except Exception as error:
            await report_error(interaction, error)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        form = ui.read_report_form(interaction.data)
        if form is None:
            return
        question_id, reporter_id, reason = form
        try:
            if reporter_id != interaction.user.id or not reason.strip():
                raise UserError(
                    "That report form is not yours to send. Open your own with the "
                    "question's “Report a problem” button."
                )
            await self._store_report(interaction, question_id, reason)
        except Exception as error:
            await report_error(interaction, error)

    async def _store_report(
        self, interaction: discord.Interaction[Any], question_id: str, reason: str
    ) -> None:
        report_id = await self.bot.store.add_report(
            guild_id=interaction.guild_id or 0,
            channel_id=interaction.channel_id or 0,
            question_id=question_id,
            reporter_id=interaction.user.id,
            reason=reason.strip()[: ui.REPORT_REASON_MAX],
            created_at=self.bot.clock.now(),
        )
        await interaction.response.send_message(
            embed=discord.Embed(
                description=f"Thank you! Report #{report_id} about question `{question_id}` was "
                "sent to the server's moderators and the bot's operators.",
                colour=embeds.COLOUR,
            ),
            ephemeral=True,
        )

    # --- commands -----------------------------------------------------------------------------

    async def _pick(self, guild_id: int, difficulty: str, count: int) -> list[Question]:
        last = await self.bot.store.last_asked(guild_id)
        return trivia.pick_questions(
            self.bot.dataset.questions, difficulty, count, last, self.bot.rng
        )

    @trivia_group.command(name="play", description="Start a trivia quiz in this channel")
    @app_commands.describe(
        questions="How many questions (1-20, default 5)",
        difficulty="easy, medium, hard or mixed (default)",
        seconds="Seconds per question (10-60, default 20)",
    )
    @app_commands.choices(
        difficulty=[
            app_commands.Choice(name=d, value=d) for d in ("mixed", "easy", "medium", "hard")
        ]
    )
    async def play(
        self,
        interaction: discord.Interaction,
        questions: app_commands.Range[int, 1, 20] = 5,
        difficulty: app_commands.Choice[str] | None = None,
        seconds: app_commands.Range[int, 10, 60] = 20,
    ) -> None:
        level = difficulty.value if difficulty is not None else "mixed"
        channel_id, guild_id = interaction.channel_id or 0, interaction.guild_id or 0
        missing = missing_post_permissions(interaction.app_permissions)
        if missing:
            raise UserError(
                f"I can't run a quiz here: I need the **{missing[0]}** permission in "
                "this channel. Ask a moderator to allow it, or play in another "
                "channel."
            )
        here = await self._game_here(channel_id)
        if here is not None:
            raise UserError(self._running_text(here[0]))
        try:
            picked = await self._pick(guild_id, level, questions)
        except trivia.NotEnoughQuestions as error:
            raise UserError(
                f"{error} Ask for at most {error.available} questions, or choose "
                "another difficulty."
            ) from None
        game = TriviaGame.start(
            game_id=0,
            channel_id=channel_id,
            starter_id=interaction.user.id,
            questions=picked,
            seconds=seconds,
            rng=self.bot.rng,
        )
        self._starting.add(channel_id)
        try:
            record = await self.bot.store.create_game(
                guild_id=guild_id,
                channel_id=channel_id,
                starter_id=interaction.user.id,
                kind="game",
                difficulty=level,
                seconds=seconds,
                question_ids=game.question_ids,
                choices=game.choices,
                started_at=self.bot.clock.now(),
            )
        except GameAlreadyRunning:
            running = await self.bot.store.running_game(channel_id)
            raise UserError(self._running_text(running)) from None
        finally:
            self._starting.discard(channel_id)
        game.game_id = record.id
        live = LiveGame(record, game)
        self.live[record.id] = live
        await interaction.response.send_message(
            embed=discord.Embed(
                title="Trivia time!",
                description=f"<@{interaction.user.id}> started a quiz: **{questions}** "
                f"{level} question{'s' if questions != 1 else ''}, **{seconds} s** each. "
                "Click an answer under each question: the faster, the more points "
                "(500 to 1000 for a right answer).",
                colour=embeds.COLOUR,
            )
        )
        self._start_task(live, self._run_game(live))

    async def _game_here(self, channel_id: int) -> tuple[GameRecord, LiveGame] | None:
        """The game running in the channel. A game the database still calls running but
        nothing plays any more (its task stopped and its end could not be written then) is
        closed now, so it never blocks the channel."""
        record = await self.bot.store.running_game(channel_id)
        if record is None:
            return None
        live = self.live.get(record.id)
        if live is not None:
            return record, live
        if channel_id not in self._starting:
            log.warning(
                "trivia game %s was left running with nothing playing it; closing it", record.id
            )
            await self.bot.store.end_game(record.id, "interrupted", self.bot.clock.now())
        return None

    def _running_text(self, running: GameRecord | None) -> str:
        if running is None:
            return "A game was just started in this channel. Join it!"
        total = len(running.question_ids)
        at = min(running.revealed + 1, total)
        return (
            f"A game is already running in this channel (started by <@{running.starter_id}>"
            f", question {at} of {total}). Join in, or start yours in another channel when "
            "it ends."
        )

    @trivia_group.command(name="stop", description="End this channel's trivia game")
    async def stop(self, interaction: discord.Interaction) -> None:
        here = await self._game_here(interaction.channel_id or 0)
        if here is None:
            raise UserError(
                "There is no trivia game running in this channel. Start one with `/trivia play`."
            )
        record, live = here
        if live.stopping:
            raise UserError("This game is already being stopped.")
        allowed = (
            interaction.user.id == record.starter_id or interaction.permissions.manage_messages
        )
        if not allowed:
            raise UserError(
                f"Only <@{record.starter_id}>, who started this game, or someone "
                "with Manage Messages can stop it."
            )
        live.stopping = True  # before any wait: a second /trivia stop finds it stopping
        await interaction.response.send_message(
            embed=discord.Embed(
                description=f"<@{interaction.user.id}> stopped the game.", colour=embeds.COLOUR
            )
        )
        if live.task is not None:
            live.task.cancel()
            await asyncio.gather(live.task, return_exceptions=True)
        open_view = live.game.current_view()
        if open_view is not None:
            message_id = await self._post_question(live, open_view)
            await (
                self._channel(live)
                .get_partial_message(message_id)
                .edit(view=ui.closed_view(record.id, open_view))
            )
        live.game.stop(EndReason.STOPPED)
        await self._finish(
            live,
            "stopped",
            note="The game was stopped. Points of revealed questions stay on the leaderboard.",
        )

    @trivia_group.command(name="leaderboard", description="The server's top 10 trivia players")
    @app_commands.describe(period="all (default), week (from Monday) or month")
    @app_commands.choices(
        period=[app_commands.Choice(name=label, value=key) for key, label in PERIOD_LABELS.items()]
    )
    async def leaderboard(
        self, interaction: discord.Interaction, period: app_commands.Choice[str] | None = None
    ) -> None:
        key = period.value if period is not None else "all"
        bucket = trivia.period_key(key, self.bot.clock.now())
        guild_id = interaction.guild_id or 0
        rows = await self.bot.store.leaderboard(guild_id, bucket, limit=10)
        caller = await self.bot.store.leaderboard_row(guild_id, interaction.user.id, bucket)
        await interaction.response.send_message(
            embed=ui.leaderboard_embed(rows, caller, PERIOD_LABELS[key], interaction.user.id)
        )

    @trivia_group.command(
        name="stats", description="A player's trivia points, accuracy and best streak"
    )
    @app_commands.describe(member="Whose stats (default: yours)")
    async def stats(
        self, interaction: discord.Interaction, member: discord.User | None = None
    ) -> None:
        who = member or interaction.user
        stats = await self.bot.store.player_stats(interaction.guild_id or 0, who.id)
        await interaction.response.send_message(embed=ui.stats_embed(stats))

    @trivia_group.command(
        name="reports", description="Problems fans reported with trivia questions (moderators)"
    )
    async def reports(self, interaction: discord.Interaction) -> None:
        if not interaction.permissions.manage_guild:
            raise UserError("Only moderators with the Manage Server permission can read reports.")
        reports = await self.bot.store.reports(interaction.guild_id or 0, limit=20)
        await interaction.response.send_message(embed=ui.reports_embed(reports), ephemeral=True)


async def setup(bot: LoveWinsAllBot) -> None:
    bot.add_dynamic_items(ui.ChoiceButton, ui.ReportButton)
    await bot.add_cog(Trivia(bot))
