"""The clock of a bot process under test, shared by the test and the process through a file.

The bot's time is `start + (real time - anchored) × speed`. The test writes that mapping to a
file; the bot (started through `tests.fakediscord.clockbot`) reads it at start and watches it
while it runs. So a test can run the bot's clock fast, start it at any moment (09:00 in Seoul,
a question's last second) and move it forward while the bot runs: a 20-second question, a
daily question's hour or the wait for tomorrow's post take no real time. The same file outlives
a restart, so time carries on across one.

Only the bot's own waits follow this clock (see bot/domain/clock.py). Discord's deadlines (the
3 s to answer an interaction, rate limits) stay on real time, in the bot and in the emulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import time
from dataclasses import dataclass
from pathlib import Path

CLOCK_FILE_ENV = "LWA_TEST_CLOCK_FILE"
WATCH_SECONDS = 0.02  # how often a running bot looks at the file


@dataclass(frozen=True)
class Mapping:
    start: dt.datetime  # the bot's time at the real instant `anchored`
    anchored: float  # real time (time.time()) of `start`
    speed: float

    def now(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=(time.time() - self.anchored) * self.speed)

    def dumps(self) -> str:
        return f"{self.start.isoformat()}|{self.anchored!r}|{self.speed!r}"

    @classmethod
    def loads(cls, text: str) -> Mapping:
        start, anchored, speed = text.strip().split("|")
        return cls(dt.datetime.fromisoformat(start), float(anchored), float(speed))


class BotClock:
    """The test's handle on a bot's clock: read it, and move or speed it."""

    def __init__(self, path: Path, *, start: dt.datetime | None = None, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.path = path
        self._mapping = Mapping(start or dt.datetime.now(dt.UTC), time.time(), speed)
        self._write()

    def _write(self) -> None:
        partial = self.path.with_suffix(".partial")
        partial.write_text(self._mapping.dumps())
        os.replace(partial, self.path)  # the bot never reads half a mapping

    @property
    def speed(self) -> float:
        return self._mapping.speed

    def now(self) -> dt.datetime:
        return self._mapping.now()

    def set(self, moment: dt.datetime, *, speed: float | None = None) -> None:
        """From now on the bot's clock reads `moment` (and runs at `speed`)."""
        self._mapping = Mapping(moment, time.time(), speed or self._mapping.speed)
        self._write()

    def advance(self, amount: float | dt.timedelta) -> dt.datetime:
        """Move the bot's clock forward: a running bot wakes what was due meanwhile."""
        step = amount if isinstance(amount, dt.timedelta) else dt.timedelta(seconds=amount)
        if step < dt.timedelta(0):
            raise ValueError("the bot's clock does not go backwards")
        self.set(self.now() + step)
        return self.now()

    def run_at(self, speed: float) -> None:
        self.set(self.now(), speed=speed)

    def real_seconds(self, seconds: float) -> float:
        """How long `seconds` of the bot's time take in real time."""
        return seconds / self._mapping.speed


class FileClock:
    """The bot's side (a `bot.domain.clock.Clock`): follows the mapping in the file.

    `now()` reads the file each time (a few microseconds), so a move is seen at once; a task
    watches the file while something sleeps, so sleepers wake when the clock jumps.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._moved: asyncio.Event | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._text = path.read_text()
        self._mapping = Mapping.loads(self._text)

    def _read(self) -> Mapping:
        with contextlib.suppress(OSError, ValueError):
            text = self.path.read_text()
            if text != self._text:
                self._mapping = Mapping.loads(text)
                self._text = text
                if self._moved is not None:
                    moved, self._moved = self._moved, asyncio.Event()
                    moved.set()  # every sleeper looks at its deadline again
        return self._mapping

    def now(self) -> dt.datetime:
        return self._read().now()

    async def sleep(self, seconds: float) -> None:
        deadline = self.now() + dt.timedelta(seconds=max(0.0, seconds))
        while (left := (deadline - self.now()).total_seconds()) > 0:
            if self._moved is None:
                self._moved = asyncio.Event()
            if self._watcher is None or self._watcher.done():
                self._watcher = asyncio.get_running_loop().create_task(self._follow_file())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._moved.wait(), left / self._mapping.speed)
        await asyncio.sleep(0)

    async def _follow_file(self) -> None:
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            self._read()
