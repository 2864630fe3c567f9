"""One time source for the whole bot, so tests can drive time (ARCHITECTURE habit 3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every datetime in the bot is timezone-aware")
    return moment.astimezone(UTC)


class FakeClock:
    """A clock that only moves when told to; shared by tests across the project."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _as_utc(start) if start is not None else datetime(2024, 1, 24, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, amount: float | timedelta) -> datetime:
        step = amount if isinstance(amount, timedelta) else timedelta(seconds=amount)
        if step < timedelta(0):
            raise ValueError("a clock does not go backwards; use set() for that")
        self._now += step
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = _as_utc(moment)
