from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.domain.clock import Clock, FakeClock, SystemClock, sleep_until, wait_or_timeout


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


async def test_a_fake_clock_sleeper_wakes_when_the_clock_passes_its_deadline() -> None:
    clock = FakeClock(datetime(2024, 1, 24, 9, 0, tzinfo=UTC))
    order: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        order.append(name)

    tasks = [asyncio.create_task(sleeper(n, s)) for n, s in (("b", 20), ("a", 10), ("c", 30))]
    await asyncio.sleep(0)
    assert clock.sleepers == 3 and order == []
    clock.advance(9.9)
    await asyncio.sleep(0)
    assert order == []  # nobody's time has come
    clock.advance(10.1)
    await asyncio.sleep(0)
    assert order == ["a", "b"]  # in deadline order, each exactly when the clock passed it
    clock.set(datetime(2024, 1, 24, 10, 0, tzinfo=UTC))
    await asyncio.gather(*tasks)
    assert order == ["a", "b", "c"] and clock.sleepers == 0


async def test_sleep_until_and_wait_or_timeout_follow_the_clock() -> None:
    clock = FakeClock(datetime(2024, 1, 24, 9, 0, tzinfo=UTC))
    await sleep_until(clock, clock.now() - timedelta(seconds=5))  # past: returns at once
    wake = asyncio.Event()
    waiting = asyncio.create_task(wait_or_timeout(clock, wake, 900))
    await asyncio.sleep(0)
    assert not waiting.done()
    wake.set()  # woken before the clock moved at all
    await asyncio.wait_for(waiting, 1)
    timed = asyncio.create_task(wait_or_timeout(clock, asyncio.Event(), 60))
    for _ in range(3):  # let it start sleeping (its sleeper task runs a step later)
        await asyncio.sleep(0)
    assert clock.sleepers == 1
    clock.advance(60)
    await asyncio.wait_for(timed, 1)
    assert clock.sleepers == 0
