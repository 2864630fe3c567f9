from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.domain.clock import Clock, FakeClock, SystemClock


def test_system_clock_is_aware_utc() -> None:
    clock: Clock = SystemClock()
    assert clock.now().utcoffset() == timedelta(0)


def test_fake_clock_moves_only_when_told() -> None:
    start = datetime(2024, 1, 24, 9, 0, tzinfo=UTC)
    clock: Clock = FakeClock(start)
    assert clock.now() == start
    assert isinstance(clock, FakeClock)
    clock.advance(30)
    assert clock.now() == start + timedelta(seconds=30)
    clock.advance(timedelta(minutes=1))
    assert clock.now() == start + timedelta(seconds=90)
    clock.set(datetime(2024, 1, 24, 18, 0, tzinfo=timezone(timedelta(hours=9))))
    assert clock.now() == datetime(2024, 1, 24, 9, 0, tzinfo=UTC)
    assert clock.now().tzinfo is UTC


def test_fake_clock_refuses_naive_times_and_going_backwards() -> None:
    with pytest.raises(ValueError):
        FakeClock(datetime(2024, 1, 24))
    clock = FakeClock(datetime(2024, 1, 24, tzinfo=UTC))
    with pytest.raises(ValueError):
        clock.set(datetime(2024, 1, 24))
    with pytest.raises(ValueError):
        clock.advance(-1)
