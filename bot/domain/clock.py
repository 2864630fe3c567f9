"""One time source for the whole bot, so tests can drive time (ARCHITECTURE habit 3).

Every wait of the bot's own (trivia timers, reveal pauses, the daily question's hour, the
scheduler's sleep until the next due run) goes through `Clock.sleep`, so a test clock moves all
of them together. Discord's own deadlines (3 s to answer an interaction, the global rate limit)
are real time and stay outside it: `TokenBucket` paces writes on a real clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time (at once when not positive)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


async def sleep_until(clock: Clock, moment: datetime) -> None:
    """Wait until `clock` reads `moment` (at once when it is past)."""
    await clock.sleep((moment - clock.now()).total_seconds())


async def wait_or_timeout(clock: Clock, wake: asyncio.Event, seconds: float) -> None:
    """Wait `seconds` of `clock`'s time, or less if `wake` is set meanwhile."""
    if wake.is_set():
        return
    waiter = asyncio.ensure_future(wake.wait())
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    try:
        await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (waiter, sleeper):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class Backoff:
    """Waits between retries: `first` seconds, doubling up to `ceiling`; patient with an
    outage, quick after a blip. `reset()` after a success."""

    def __init__(self, first: float = 1.0, ceiling: float = 60.0) -> None:
        self.first = first
        self.ceiling = ceiling
        self._next = first

    def next(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.ceiling)
        return delay

    def reset(self) -> None:
        self._next = self.first


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every datetime in the bot is timezone-aware")
    return moment.astimezone(UTC)


class FakeClock:
    """A clock that only moves when told to; shared by tests across the project.

    `sleep` waits until `advance` or `set` moves the clock past the sleeper's deadline, so a
    test steps through a 20-second question without waiting 20 real seconds.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _as_utc(start) if start is not None else datetime(2024, 1, 24, tzinfo=UTC)
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        deadline = self._now + timedelta(seconds=seconds)
        heapq.heappush(self._sleepers, (deadline, next(self._order), woken))
        await woken

    @property
    def sleepers(self) -> int:
        """How many tasks are waiting on this clock."""
        return sum(not f.done() for _, _, f in self._sleepers)

    def advance(self, amount: float | timedelta) -> datetime:
        step = amount if isinstance(amount, timedelta) else timedelta(seconds=amount)
        if step < timedelta(0):
            raise ValueError("a clock does not go backwards; use set() for that")
        self._now += step
        self._wake_due()
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = _as_utc(moment)
        self._wake_due()

    def _wake_due(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, woken = heapq.heappop(self._sleepers)
            if not woken.done():
                woken.set_result(None)


class TokenBucket:
    """At most `rate` sends a second on average, `burst` back to back. Waiters queue in
    order; time comes from the clock and waiting from `sleep` (default the clock's), so tests
    drive both."""

    def __init__(
        self,
        rate: float,
        clock: Clock,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        burst: float = 1.0,
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
