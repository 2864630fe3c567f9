"""Scheduled posts (SPEC §6): one dispatcher task over the due-time index.

The dispatcher sleeps until the earliest schedule is due (or until a moderator adds or resumes
one), claims every due run in one transaction, and sends them in one steady stream: a token
bucket (`POST_RATE_PER_SECOND`, all servers together) and a few workers, so a busy minute never
holds up the bot's answers to interactions. It knows no Discord type: what a post is, how it
is sent and how it is found again is the `Poster` port's business (`bot.posting`).

Exactly once. A run is recorded as 'claimed' before it is sent and as 'sent' after. Whatever
happens in between, the dispatcher never sends a run again before it knows the first attempt
did not reach the channel:
- a post this process sent but could not record (the database went away) is remembered, and
  recorded when the database is back, without sending again;
- a run whose post could not be made (the database went away before anything was sent) stays
  claimed and is made again a moment later (within `SCHEDULE_GRACE_MINUTES`);
- a send whose outcome is unknown (no answer from Discord, or a crash, or a restart long after)
  is looked for in the channel first, by the marker every scheduled post carries; only a post
  that is not there is sent (with the run's nonce, in case Discord still remembers it).
Runs missed by more than the grace are skipped and logged, never posted in a burst.
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
from typing import Protocol

from bot.domain.clock import Backoff, Clock, TokenBucket, wait_or_timeout
from bot.domain.records import ScheduleRun, StoreUnavailable
from bot.domain.schedule import ScheduleState, catch_up, run_nonce
from bot.domain.shards import Shards
from bot.store.base import Store

log = logging.getLogger(__name__)

PAUSE_AFTER_FAILURES = 3
CLAIM_BATCH = 200  # runs claimed per transaction; the dispatcher keeps claiming while any are due
WORKERS = 8  # sends in flight at once, all servers together
SEND_ATTEMPTS = 3  # for a send or a look whose answer did not come (5xx, timeouts)
RETRY_BACKOFF_SECONDS = (5.0, 30.0)
MAX_IDLE_SECONDS = 15 * 60.0  # re-read the index now and then, whatever happened
RETRY_CEILING_SECONDS = 5 * 60.0  # after a failed round, the longest pause before the next try
STOP_TIMEOUT_SECONDS = 10.0
# How long Discord is trusted to remember a run's nonce, counted from the run's claim (it was
# sent after that). Discord says "a few minutes"; past this, only a look in the channel tells.
NONCE_MEMORY = dt.timedelta(minutes=2)
LATE_AFTER = dt.timedelta(minutes=1)  # a post sent later than this after its minute is late

RunKey = tuple[int, dt.datetime]  # (schedule id, due at)


class PostRefused(Exception):
    """The channel refused the post (deleted, or the bot lost a permission): nothing was
    posted. `reason` tells the moderator what to fix; the message is for the log."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class PostRejected(Exception):
    """Discord rejected the request itself (a mistake of the bot's): nothing was posted."""


class PostUncertain(Exception):
    """No answer came (a timeout, a lost connection, a server error): the post may or may not
    have reached the channel."""


class CannotTell(Exception):
    """Whether a post reached the channel cannot be found out there (the bot may not read its
    history); the message tells the moderator what to fix."""


class ContentUnavailable(Exception):
    """The post could not be made, so nothing was posted."""


class UnfinishedRuns(Exception):
    """Some runs of a round were left claimed (their outcome or state could not be settled)."""


class Poster(Protocol):
    """How the dispatcher makes, sends and finds a run's post (the Discord side implements it;
    every call reaches Discord at most once, the dispatcher paces and retries)."""

    async def make(self, run: ScheduleRun, nonce: str) -> object:
        """The run's post, ready to send (the same post when a run is made again)."""
        ...

    async def send(self, run: ScheduleRun, post: object, nonce: str) -> int:
        """Send it once with `nonce`; the message id. Raises PostRefused, PostRejected or
        PostUncertain."""
        ...

    async def find(self, run: ScheduleRun, nonce: str) -> int | None:
        """The run's post if it is in the channel (by its marker), else None. Raises
        PostUncertain (no answer) or CannotTell."""
        ...

    async def posted(self, run: ScheduleRun, message_id: int, nonce: str) -> None:
        """The run's post is out (just sent, or found): what follows from it (a daily question
        opens). Called again if recording the run fails, so it must be idempotent."""
        ...

    async def abandoned(self, run: ScheduleRun, nonce: str) -> None:
        """The run will not be posted (failed or skipped): undo what `make` prepared."""
        ...


Sleep = Callable[[float], Awaitable[None]]
Idle = Callable[[asyncio.Event, float], Awaitable[None]]
Observe = Callable[[str], None]
"""Told what became of each run, for the operator's metrics: "sent", "late", "failed",
"skipped", "rechecked" (looked for in the channel) and "found" (it was there)."""


class Dispatcher:
    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        poster: Poster,
        grace: dt.timedelta,
        rate: float,
        shards: Shards | None = None,
        workers: int = WORKERS,
        batch: int = CLAIM_BATCH,
        pace_clock: Clock | None = None,
        sleep: Sleep | None = None,
        idle: Idle | None = None,
        observe: Observe | None = None,
        bucket: TokenBucket | None = None,
    ) -> None:
        """`clock` says when runs are due and times the waits between them; `pace_clock`
        (default `clock`) paces the sends, which Discord's rate limit measures in real time.
        `sleep` and `idle` replace the clocks' waits in tests that step time themselves.
        `bucket`: the pace to share with the bot's other writes that Discord's global rate
        limit counts (the daily questions' reveals); by default one of its own at `rate`.
        `shards`: only the runs of those shards' servers (SPEC §8; default every server)."""
        self.store = store
        self.shards = shards
        self.clock = clock
        self.grace = grace
        self.bucket = bucket or TokenBucket(rate, pace_clock or clock, sleep)
        self._poster = poster
        self._workers = max(1, workers)
        self._batch = max(1, batch)
        self._sleep = sleep or clock.sleep
        self._idle: Idle = idle or functools.partial(wait_or_timeout, clock)
        self._observe: Observe = observe or (lambda outcome: None)
        self._wake = asyncio.Event()
        self._stopping = False
        self._working = False  # past `before`: runs may be in flight
        self._task: asyncio.Task[None] | None = None
        # Posts this process sent whose run it could not record yet: (message id, sent at).
        self._posted: dict[RunKey, tuple[int, dt.datetime]] = {}
        # Runs this process left claimed before anything of them was sent.
        self._unsent: set[RunKey] = set()

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
        sent stay 'claimed' and are finished (looked for, then sent) or skipped at the next
        start."""
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
        bad moment never stops every server's posts. Runs left claimed because their outcome
        or state could not be settled are recovered on a pause of their own, so they never
        hold up the other servers' due posts either."""
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
        """Finish the runs left claimed (by a crash, or by a moment when the database or
        Discord could not be used): a post known to be out is recorded, a post that may be out
        is looked for first, the rest is sent within the grace window and skipped after it.
        Returns how many."""
        runs = await self.store.unfinished_runs(shards=self.shards)
        if runs:
            log.info("found %d scheduled run(s) left unfinished", len(runs))
            await self._deliver_all(runs, recovering=True)
        return len(runs)

    async def run_due(self) -> int:
        """Claim and deliver one batch of due runs; returns how many were claimed."""
        runs = await self.store.claim_due_runs(
            self.clock.now(), grace=self.grace, limit=self._batch, shards=self.shards
        )
        if runs:
            await self._deliver_all(runs, recovering=False)
        return len(runs)

    async def _deliver_all(self, runs: list[ScheduleRun], *, recovering: bool) -> None:
        """Deliver `runs`; one that cannot be finished costs only itself: the others go on,
        and it stays claimed for the next round's recovery."""
        queue = collections.deque(runs)
        unfinished: list[ScheduleRun] = []

        async def worker() -> None:
            while queue and not self._stopping:
                run = queue.popleft()
                try:
                    await self._deliver(run, recovering=recovering)
                except Exception as error:
                    unfinished.append(run)
                    log.error(
                        "schedule #%d (server %d) run due %s could not be finished (%s); "
                        "it stays claimed and is tried again",
                        run.schedule.id,
                        run.schedule.guild_id,
                        run.due_at.isoformat(),
                        _describe(error),
                        exc_info=not isinstance(error, StoreUnavailable | PostUncertain),
                    )

        async with asyncio.TaskGroup() as group:
            for _ in range(min(self._workers, len(runs))):
                group.create_task(worker())
        if unfinished:
            raise UnfinishedRuns(f"{len(unfinished)} of {len(runs)} runs could not be finished")

    async def _deliver(self, run: ScheduleRun, *, recovering: bool) -> None:
        key: RunKey = (run.schedule.id, run.due_at)
        nonce = run_nonce(run.schedule.id, run.due_at)
        out = self._posted.get(key)
        # A recovered run may have been sent by a process that died, or by this one without an
        # answer: it is looked for before anything is sent again.
        if out is None and recovering and key not in self._unsent:
            try:
                found = await self._look(run, nonce)
            except CannotTell as error:
                if self.clock.now() - run.claimed_at > NONCE_MEMORY:
                    # The reason (Poster's, a message of the catalogue) says it all.
                    await self._fail(run, nonce, str(error), failing_reason=str(error))
                    return
                found = None  # sent, if at all, recently enough for its nonce to tell Discord
            if found is not None:
                out = (found, self.clock.now())
        if out is None:
            if catch_up(run.due_at, self.clock.now(), self.grace) == "skip":
                await self._skip(run, nonce)
                return
            message_id = await self._make_and_send(run, nonce)
            if message_id is None:
                return  # it failed, and that is recorded
            out = (message_id, self.clock.now())
        self._posted[key] = out
        self._unsent.discard(key)
        message_id, sent_at = out
        await self._poster.posted(run, message_id, nonce)
        await self.store.mark_run_sent(run.schedule.id, run.due_at, message_id, sent_at)
        del self._posted[key]
        self._observe("sent")
        if sent_at - run.due_at > LATE_AFTER:
            self._observe("late")
        log.info(
            "posted schedule #%d (%s) in channel %d (server %d), message %d",
            run.schedule.id,
            run.schedule.content,
            run.schedule.channel_id,
            run.schedule.guild_id,
            message_id,
        )

    async def _make_and_send(self, run: ScheduleRun, nonce: str) -> int | None:
        """Make the run's post and send it: the message id, or None when the run failed (and
        that is recorded). Raises when the run must stay claimed: the database could not be
        used before anything was sent, or the send's outcome is unknown."""
        key: RunKey = (run.schedule.id, run.due_at)
        try:
            post = await self._poster.make(run, nonce)
        except StoreUnavailable:
            self._unsent.add(key)  # nothing went out: made again once the database is back
            raise
        except Exception as error:
            log.error(
                "schedule #%d (server %d): its post could not be made (%s)",
                run.schedule.id,
                run.schedule.guild_id,
                _describe(error),
                exc_info=not isinstance(error, ContentUnavailable),
            )
            await self._fail(run, nonce, _describe(error))
            return None
        try:
            message_id = await self._send(run, post, nonce)
        except PostRefused as error:
            await self._fail(run, nonce, str(error), failing_reason=error.reason)
            return None
        except PostRejected as error:
            await self._fail(run, nonce, str(error))
            return None
        except PostUncertain:
            self._unsent.discard(key)  # it may be out: looked for before it is sent again
            raise
        return message_id

    async def _send(self, run: ScheduleRun, post: object, nonce: str) -> int:
        for attempt in range(SEND_ATTEMPTS):
            await self.bucket.take()
            try:
                return await self._poster.send(run, post, nonce)
            except PostUncertain as error:
                if attempt == SEND_ATTEMPTS - 1:
                    raise
                # The same nonce makes a retry this soon safe even if the first one arrived.
                log.warning("schedule #%d: sending failed (%s); retrying", run.schedule.id, error)
                await self._sleep(_retry_pause(attempt))
        raise AssertionError("unreachable")

    async def _look(self, run: ScheduleRun, nonce: str) -> int | None:
        """The run's post if it is already in the channel (paced like a send)."""
        self._observe("rechecked")
        for attempt in range(SEND_ATTEMPTS):
            await self.bucket.take()
            try:
                found = await self._poster.find(run, nonce)
            except PostUncertain as error:
                if attempt == SEND_ATTEMPTS - 1:
                    raise
                log.warning(
                    "schedule #%d: could not look for its post (%s); retrying",
                    run.schedule.id,
                    error,
                )
                await self._sleep(_retry_pause(attempt))
                continue
            if found is not None:
                self._observe("found")
                log.info(
                    "schedule #%d run due %s was already posted (message %d); not sent again",
                    run.schedule.id,
                    run.due_at.isoformat(),
                    found,
                )
            return found
        raise AssertionError("unreachable")

    async def _skip(self, run: ScheduleRun, nonce: str) -> None:
        late = self.clock.now() - run.due_at
        reason = f"missed by {_duration(late)}, more than the {_duration(self.grace)} grace"
        await self._poster.abandoned(run, nonce)
        await self.store.mark_run_skipped(run.schedule.id, run.due_at, reason)
        self._unsent.discard((run.schedule.id, run.due_at))
        self._observe("skipped")
        log.warning(
            "skipped schedule #%d (server %d) run due %s: %s",
            run.schedule.id,
            run.schedule.guild_id,
            run.due_at.isoformat(),
            reason,
        )

    async def _fail(
        self, run: ScheduleRun, nonce: str, error: str, *, failing_reason: str | None = None
    ) -> None:
        """Record a run that will not be posted. With `failing_reason` (the channel's fault,
        which a moderator fixes) the schedule becomes failing, and pauses itself after
        `PAUSE_AFTER_FAILURES` in a row."""
        schedule = run.schedule
        await self._poster.abandoned(run, nonce)
        now_record = await self.store.mark_run_failed(
            schedule.id,
            run.due_at,
            error[:300],
            failing_reason=failing_reason,
            pause_after=PAUSE_AFTER_FAILURES,
        )
        self._unsent.discard((run.schedule.id, run.due_at))
        self._observe("failed")
        paused = now_record is not None and now_record.state == ScheduleState.PAUSED
        log.warning(
            "schedule #%d (server %d) run due %s failed: %s%s",
            schedule.id,
            schedule.guild_id,
            run.due_at.isoformat(),
            failing_reason or error,
            f"; paused after {PAUSE_AFTER_FAILURES} failures in a row" if paused else "",
        )


def _retry_pause(attempt: int) -> float:
    return RETRY_BACKOFF_SECONDS[min(attempt, len(RETRY_BACKOFF_SECONDS) - 1)]


def _describe(error: BaseException) -> str:
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
