"""Scheduled posts (SPEC §6): one dispatcher task over the due-time index.

The dispatcher sleeps until the earliest schedule is due (or until a moderator adds or resumes
one), claims every due run in one transaction, and sends them in one steady stream: a token
bucket (`POST_RATE_PER_SECOND`, all servers together) and a few workers, so a busy minute never
holds up the bot's answers to interactions.

Exactly once: a run is recorded as 'claimed' before it is sent and as 'sent' after; a run left
'claimed' by a crash is sent again at start-up with the same deterministic nonce (Discord's
`enforce_nonce` turns a resend of a message it already has into that message), or skipped when
it is too late. Runs missed by more than `SCHEDULE_GRACE_MINUTES` are skipped and logged, never
posted in a burst.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import functools
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol, cast

import discord

from bot.checks import missing_post_permissions
from bot.domain.clock import Backoff, Clock, SystemClock, wait_or_timeout
from bot.domain.schedule import PostKind, catch_up, post_title, run_nonce
from bot.domain.shards import Shards
from bot.domain.trivia import OpenQuestion
from bot.store.base import GameRecord, ScheduleRecord, ScheduleRun, Store, StoreUnavailable
from bot.ui import embeds
from bot.ui import trivia as trivia_ui

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot

log = logging.getLogger(__name__)

PAUSE_AFTER_FAILURES = 3
CLAIM_BATCH = 200  # runs claimed per transaction; the dispatcher keeps claiming while any are due
WORKERS = 8  # sends in flight at once, all servers together
SEND_ATTEMPTS = 3  # for errors that are not the channel's fault (5xx, timeouts)
RETRY_BACKOFF_SECONDS = (5.0, 30.0)
MAX_IDLE_SECONDS = 15 * 60.0  # re-read the index now and then, whatever happened
RETRY_CEILING_SECONDS = 5 * 60.0  # after a failed round, the longest pause before the next try
STOP_TIMEOUT_SECONDS = 10.0

SendPost = Callable[[discord.Embed, discord.ui.View | None], Awaitable[discord.Message]]
"""What a post maker (and the trivia cog's daily hook) calls to post: paced, nonce'd, recorded."""


class _RoleToPing:
    """The one role a schedule pings, for `AllowedMentions.roles`. discord.py writes each role's
    `.id` into `allowed_mentions.roles` as it is, and Discord's published schema has those
    snowflakes as strings (a `discord.Object` would write a JSON number)."""

    def __init__(self, role_id: int) -> None:
        self.id = str(role_id)


def role_mentions(role_id: int) -> discord.AllowedMentions:
    """Allowed mentions that ping this role and nothing else: `{"parse": [], "roles": [id]}`."""
    roles = cast("list[discord.abc.Snowflake]", [_RoleToPing(role_id)])
    return discord.AllowedMentions(everyone=False, users=False, roles=roles, replied_user=False)


class MessageSender(Protocol):
    """Sends one message to a channel through Discord's REST API."""

    async def __call__(
        self,
        channel_id: int,
        *,
        guild_id: int,
        content: str | None,
        embed: discord.Embed,
        view: discord.ui.View | None,
        nonce: str,
        allowed_mentions: discord.AllowedMentions,
    ) -> discord.Message: ...


class PostMaker(Protocol):
    """Builds the post of a run and posts it through `send` (exactly one call)."""

    async def __call__(self, run: ScheduleRun, send: SendPost) -> None: ...


Sleep = Callable[[float], Awaitable[None]]
Idle = Callable[[asyncio.Event, float], Awaitable[None]]
ExplainFailure = Callable[[ScheduleRecord, discord.HTTPException], str]


class ContentUnavailable(Exception):
    """The post maker could not make a post, so nothing was posted."""


class UnfinishedRuns(Exception):
    """Some runs of a round were left claimed (their state could not be written)."""


class TokenBucket:
    """At most `rate` sends a second on average, `burst` back to back. Waiters queue in
    order; time comes from the clock and waiting from `sleep` (default the clock's), so tests
    drive both."""

    def __init__(
        self, rate: float, clock: Clock, sleep: Sleep | None = None, burst: float = 1.0
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1.0, burst)
        self._clock = clock
        self._sleep = sleep or clock.sleep
        self._tokens = self.burst
        self._updated = clock.now()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock.now()
        elapsed = max(0.0, (now - self._updated).total_seconds())
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        self._updated = now

    async def take(self) -> None:
        async with self._lock:
            self._refill()
            while self._tokens < 1.0:
                await self._sleep((1.0 - self._tokens) / self.rate)
                self._refill()
            self._tokens -= 1.0


class Dispatcher:
    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        sender: MessageSender,
        post: PostMaker,
        grace: dt.timedelta,
        rate: float,
        shards: Shards | None = None,
        workers: int = WORKERS,
        batch: int = CLAIM_BATCH,
        pace_clock: Clock | None = None,
        sleep: Sleep | None = None,
        idle: Idle | None = None,
        explain: ExplainFailure | None = None,
    ) -> None:
        """`clock` says when runs are due and times the waits between them; `pace_clock`
        (default `clock`) paces the sends, which Discord's rate limit measures in real time.
        `sleep` and `idle` replace the clocks' waits in tests that step time themselves.
        `shards`: only the runs of those shards' servers (SPEC §8; default every server)."""
        self.store = store
        self.shards = shards
        self.clock = clock
        self.grace = grace
        self.bucket = TokenBucket(rate, pace_clock or clock, sleep)
        self._sender = sender
        self._post = post
        self._workers = max(1, workers)
        self._batch = max(1, batch)
        self._sleep = sleep or clock.sleep
        self._idle: Idle = idle or functools.partial(wait_or_timeout, clock)
        self._explain = explain or _generic_failure
        self._wake = asyncio.Event()
        self._stopping = False
        self._working = False  # past `before`: runs may be in flight
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self, before: Callable[[], Awaitable[object]] | None = None) -> asyncio.Task[None]:
        """Run the dispatcher in the background (after `before()`, e.g. the bot being ready)."""

        async def main() -> None:
            if before is not None:
                await before()
            self._working = True
            await self.run_forever()

        self._task = asyncio.create_task(main(), name="schedule-dispatcher")
        self._task.add_done_callback(_log_crash)
        return self._task

    def wake(self) -> None:
        """A schedule was added, resumed or changed: look at the due-time index again now."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop taking new runs; let sends in flight finish briefly. Runs claimed but not yet
        sent stay 'claimed' and are sent (same nonce) or skipped at the next start."""
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is None or task.done():
            return
        if not self._working:
            task.cancel()  # still waiting to start: nothing in flight
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        except asyncio.CancelledError:
            if not task.cancelled():
                raise  # our caller was cancelled, not the dispatcher
        except Exception:
            pass  # already logged by _log_crash

    async def run_forever(self) -> None:
        """Recover, then claim and deliver due runs until stopped. A round that fails (the
        database locked or full, a bug) is logged with an error id and tried again after a
        pause (1 s doubling to 5 minutes), starting with the runs it may have left claimed: one
        bad moment never stops every server's posts. Runs left claimed because their state
        could not be written are recovered on a pause of their own, so they never hold up the
        other servers' due posts either."""
        backoff = Backoff(first=1.0, ceiling=RETRY_CEILING_SECONDS)
        recovery = Backoff(first=1.0, ceiling=RETRY_CEILING_SECONDS)
        recover_at: dt.datetime | None = self.clock.now()  # None: nothing left to recover
        while not self._stopping:
            try:
                if recover_at is not None and self.clock.now() >= recover_at:
                    try:
                        await self.recover()
                        recover_at = None
                        recovery.reset()
                    except UnfinishedRuns as error:  # each run was logged; the rest goes on
                        delay = recovery.next()
                        recover_at = self.clock.now() + dt.timedelta(seconds=delay)
                        log.warning("scheduled posts: %s; trying them again in %g s", error, delay)
                try:
                    due = await self.run_due()
                except UnfinishedRuns:  # left claimed: the next round recovers them
                    recover_at = self.clock.now()
                    due = 1
                if not due:
                    await self._wait_for_next(until=recover_at)
                backoff.reset()
            except Exception as error:
                recover_at = self.clock.now()
                delay = backoff.next()
                log.error(
                    "scheduled posts: error %s in a round (%s); trying again in %g s",
                    secrets.token_hex(4),
                    _describe(error),
                    delay,
                    exc_info=not isinstance(error, StoreUnavailable),
                )
                if not self._stopping:
                    # A wake from before the failure (a schedule changed) must not skip the
                    # pause: during an outage that would retry, and log, without end.
                    self._wake.clear()
                    await self._idle(self._wake, delay)

    async def _wait_for_next(self, until: dt.datetime | None = None) -> None:
        """Sleep until the next due run (or `until`, when runs wait to be recovered), or until
        woken by a change of schedules."""
        self._wake.clear()
        next_at = await self.store.next_due_at(shards=self.shards)
        seconds = MAX_IDLE_SECONDS
        if next_at is not None:
            seconds = min(seconds, (next_at - self.clock.now()).total_seconds())
        if until is not None:
            seconds = min(seconds, (until - self.clock.now()).total_seconds())
        if seconds > 0 and not self._stopping:
            log.debug(
                "nothing due; next scheduled run %s",
                next_at.isoformat() if next_at is not None else "not planned",
            )
            await self._idle(self._wake, seconds)

    # --- the work -------------------------------------------------------------------------

    async def recover(self) -> int:
        """Finish the runs a crash left claimed: resend them within the grace window (same
        nonce, so Discord keeps one message), skip the older ones. Returns how many."""
        runs = await self.store.unfinished_runs(shards=self.shards)
        if runs:
            log.info("found %d scheduled run(s) interrupted by a restart", len(runs))
            await self._deliver_all(runs)
        return len(runs)

    async def run_due(self) -> int:
        """Claim and deliver one batch of due runs; returns how many were claimed."""
        runs = await self.store.claim_due_runs(
            self.clock.now(), grace=self.grace, limit=self._batch, shards=self.shards
        )
        if runs:
            await self._deliver_all(runs)
        return len(runs)

    async def _deliver_all(self, runs: list[ScheduleRun]) -> None:
        """Deliver `runs`; one that cannot be finished (its state not written) costs only
        itself: the others go on, and it stays claimed for the next round's recovery."""
        queue = collections.deque(runs)
        unfinished: list[ScheduleRun] = []

        async def worker() -> None:
            while queue and not self._stopping:
                run = queue.popleft()
                try:
                    await self._deliver(run)
                except Exception as error:
                    unfinished.append(run)
                    log.error(
                        "schedule #%d (server %d) run due %s could not be finished (%s); "
                        "it stays claimed and is tried again",
                        run.schedule.id,
                        run.schedule.guild_id,
                        run.due_at.isoformat(),
                        _describe(error),
                        exc_info=not isinstance(error, StoreUnavailable),
                    )

        async with asyncio.TaskGroup() as group:
            for _ in range(min(self._workers, len(runs))):
                group.create_task(worker())
        if unfinished:
            raise UnfinishedRuns(f"{len(unfinished)} of {len(runs)} runs could not be finished")

    async def _deliver(self, run: ScheduleRun) -> None:
        schedule = run.schedule
        if catch_up(run.due_at, self.clock.now(), self.grace) == "skip":
            late = self.clock.now() - run.due_at
            reason = f"missed by {_duration(late)}, more than the {_duration(self.grace)} grace"
            await self.store.mark_run_skipped(schedule.id, run.due_at, reason)
            log.warning(
                "skipped schedule #%d (server %d) run due %s: %s",
                schedule.id,
                schedule.guild_id,
                run.due_at.isoformat(),
                reason,
            )
            return
        posted: list[discord.Message] = []

        async def send(embed: discord.Embed, view: discord.ui.View | None) -> discord.Message:
            if posted:
                raise RuntimeError("a scheduled run posts one message")
            message = await self._send(run, embed, view)
            posted.append(message)
            await self.store.mark_run_sent(schedule.id, run.due_at, message.id, self.clock.now())
            log.info(
                "posted schedule #%d (%s) in channel %d (server %d), message %d",
                schedule.id,
                schedule.content,
                schedule.channel_id,
                schedule.guild_id,
                message.id,
            )
            return message

        try:
            await self._post(run, send)
            if not posted:
                raise ContentUnavailable("nothing was posted")
        except (discord.Forbidden, discord.NotFound) as error:
            if posted:
                return  # the post is out; what failed came after it
            reason = self._explain(schedule, error)
            now_record = await self.store.mark_run_failed(
                schedule.id,
                run.due_at,
                f"{error.status}: {error.text}",
                failing_reason=reason,
                pause_after=PAUSE_AFTER_FAILURES,
            )
            paused = now_record is not None and now_record.state == "paused"
            log.warning(
                "schedule #%d (server %d) failed: %s%s",
                schedule.id,
                schedule.guild_id,
                reason,
                f"; paused after {PAUSE_AFTER_FAILURES} failures in a row" if paused else "",
            )
        except Exception as error:
            if posted:
                log.exception("schedule #%d: error after its post was sent", schedule.id)
                return
            await self.store.mark_run_failed(
                schedule.id,
                run.due_at,
                _describe(error),
                failing_reason=None,
                pause_after=PAUSE_AFTER_FAILURES,
            )
            log.error(
                "schedule #%d (server %d) run due %s failed: %s",
                schedule.id,
                schedule.guild_id,
                run.due_at.isoformat(),
                _describe(error),
                exc_info=not isinstance(error, discord.HTTPException | ContentUnavailable),
            )

    async def _send(
        self, run: ScheduleRun, embed: discord.Embed, view: discord.ui.View | None
    ) -> discord.Message:
        role = run.schedule.role_id
        content = f"<@&{role}>" if role else None
        # The role a moderator chose is the only ping the bot ever makes.
        mentions = role_mentions(role) if role else discord.AllowedMentions.none()
        nonce = run_nonce(run.schedule.id, run.due_at)
        for attempt in range(SEND_ATTEMPTS):
            await self.bucket.take()
            try:
                return await self._sender(
                    run.schedule.channel_id,
                    guild_id=run.schedule.guild_id,
                    content=content,
                    embed=embed,
                    view=view,
                    nonce=nonce,
                    allowed_mentions=mentions,
                )
            except (discord.Forbidden, discord.NotFound):
                raise
            except discord.HTTPException as error:
                if error.status < 500 or attempt == SEND_ATTEMPTS - 1:
                    raise
                problem: Exception = error
            except (TimeoutError, OSError) as error:
                if attempt == SEND_ATTEMPTS - 1:
                    raise
                problem = error
            # The same nonce makes a retry safe even if the first attempt did arrive.
            log.warning(
                "schedule #%d: sending failed (%s); retrying", run.schedule.id, _describe(problem)
            )
            await self._sleep(RETRY_BACKOFF_SECONDS[min(attempt, len(RETRY_BACKOFF_SECONDS) - 1)])
        raise AssertionError("unreachable")


def _generic_failure(schedule: ScheduleRecord, error: discord.HTTPException) -> str:
    if isinstance(error, discord.NotFound):
        return "the channel was deleted"
    return "Discord refused the post: the bot lacks a permission in the channel"


def _describe(error: BaseException) -> str:
    if isinstance(error, discord.HTTPException):
        return f"HTTP {error.status}: {error.text or error.__class__.__name__}"[:300]
    return f"{error.__class__.__name__}: {error}"[:300]


def _duration(span: dt.timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    return f"{hours} hours" if hours < 48 else f"{hours // 24} days"


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:  # a bug: rounds catch errors
        log.critical(
            "the schedule dispatcher stopped: no scheduled post goes out until a restart",
            exc_info=task.exception(),
        )


# --- the bot's side: what is posted, and how ------------------------------------------------


def explain_failure(
    bot: LoveWinsAllBot, schedule: ScheduleRecord, error: discord.HTTPException
) -> str:
    """Why Discord refused a scheduled post, and what fixes it, from the bot's own cache."""
    guild = bot.get_guild(schedule.guild_id)
    channel = guild.get_channel(schedule.channel_id) if guild else None
    if channel is None:
        if isinstance(error, discord.NotFound) or guild is not None:
            return "the channel was deleted (remove this schedule and add one for another channel)"
        return "the bot can no longer reach this server's channel"
    if isinstance(error, discord.NotFound):
        return f"the channel #{channel.name} was not found (was it deleted?)"
    me = guild.me if guild else None
    missing = missing_post_permissions(channel.permissions_for(me)) if me else []
    if missing:
        names = " and ".join(missing)
        return f"the bot lost {names} in #{channel.name} (give it back in the channel's settings)"
    return f"Discord refused the post in #{channel.name} ({error.text or 'Forbidden'})"[:200]


def discord_sender(bot: LoveWinsAllBot) -> MessageSender:
    async def send(
        channel_id: int,
        *,
        guild_id: int,
        content: str | None,
        embed: discord.Embed,
        view: discord.ui.View | None,
        nonce: str,
        allowed_mentions: discord.AllowedMentions,
    ) -> discord.Message:
        # REST only: no channel cache needed. discord.py sends `enforce_nonce` with a nonce.
        channel = bot.get_partial_messageable(channel_id, guild_id=guild_id)
        if view is None:
            return await channel.send(
                content=content, embed=embed, nonce=nonce, allowed_mentions=allowed_mentions
            )
        return await channel.send(
            content=content,
            embed=embed,
            view=view,
            nonce=nonce,
            allowed_mentions=allowed_mentions,
        )

    return send


def post_maker(bot: LoveWinsAllBot) -> PostMaker:
    """What a run posts: a quote, fact or on-this-day embed from the content service, or a
    daily trivia question through the trivia runner."""

    async def post(run: ScheduleRun, send: SendPost) -> None:
        schedule = run.schedule
        kind = PostKind(schedule.content)
        if kind is PostKind.TRIVIA:

            async def post_question(game: GameRecord, question: OpenQuestion) -> int:
                sent = await send(
                    trivia_ui.question_embed(question, post_title(kind, schedule.days)),
                    trivia_ui.question_view(game.id, question),
                )
                return sent.id

            await bot.games.post_daily(
                guild_id=schedule.guild_id,
                channel_id=schedule.channel_id,
                starter_id=bot.user.id if bot.user else 0,
                run_key=run_nonce(schedule.id, run.due_at),
                post=post_question,
            )
            return
        daily = await bot.content.daily(kind, schedule.guild_id, schedule.timezone, run.due_at)
        await send(embeds.daily_post_embed(daily, bot.dataset, schedule.days), None)

    return post


def create_dispatcher(bot: LoveWinsAllBot) -> Dispatcher:
    return Dispatcher(
        store=bot.store,
        clock=bot.clock,
        sender=discord_sender(bot),
        post=post_maker(bot),
        grace=dt.timedelta(minutes=bot.settings.schedule_grace_minutes),
        # The ceiling is for all processes together: each paces at its shards' share.
        rate=bot.settings.post_rate_per_second * bot.settings.shards.share,
        shards=bot.settings.shards,
        pace_clock=SystemClock(),
        explain=lambda schedule, error: explain_failure(bot, schedule, error),
    )
