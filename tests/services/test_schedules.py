"""The rules of /schedule, below Discord: `bot.services.schedules` on a real SQLite store.

The e2e tests in `tests/e2e/test_schedules_e2e.py` drive the same rules through the commands;
these pin each one down quickly, with the clock where the test puts it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.clock import FakeClock
from bot.domain.language import Language
from bot.domain.refusal import Refusal
from bot.domain.schedule import ALL_DAYS, MAX_SCHEDULES_PER_GUILD, PostKind, ScheduleState
from bot.i18n import render
from bot.services.schedules import ScheduleService
from bot.store.sqlite import SQLiteStore

# Wednesday 24 January 2024, 10:00 in Seoul.
NOW = dt.datetime(2024, 1, 24, 1, 0, tzinfo=dt.UTC)
HOME, OTHER = 111, 222


def told(refusal: Refusal, language: Language = Language.EN) -> str:
    """What the error path shows a reader of `language` for `refusal`."""
    return render(refusal.message, language, **refusal.params)


class Wakes:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "lwa.sqlite3", FakeClock(NOW))
    await store.open()
    yield store
    await store.close()


@pytest.fixture
def wakes() -> Wakes:
    return Wakes()


@pytest.fixture
def service(store: SQLiteStore, wakes: Wakes) -> ScheduleService:
    return ScheduleService(store, FakeClock(NOW), wake=wakes)


async def add(service: ScheduleService, guild_id: int = HOME, at: str = "09:00") -> int:
    record = await service.add(
        guild_id=guild_id,
        channel_id=guild_id + 1,
        content=PostKind.QUOTE,
        local_time=dt.time.fromisoformat(at),
        timezone="Asia/Seoul",
        days=ALL_DAYS,
        role_id=None,
        created_by=7,
    )
    return record.id


async def test_add_stores_the_next_local_time_and_wakes_the_dispatcher(
    service: ScheduleService, wakes: Wakes
) -> None:
    tomorrow = await add(service, at="09:00")  # 09:00 in Seoul has passed today
    today = await add(service, at="11:30")
    by_id = {r.id: r for r in await service.in_server(HOME)}
    assert by_id[tomorrow].next_run_at == dt.datetime(2024, 1, 25, 0, 0, tzinfo=dt.UTC)
    assert by_id[today].next_run_at == dt.datetime(2024, 1, 24, 2, 30, tzinfo=dt.UTC)
    assert wakes.count == 2


async def test_a_server_has_at_most_its_limit(service: ScheduleService, wakes: Wakes) -> None:
    for _ in range(MAX_SCHEDULES_PER_GUILD):
        await add(service)
    with pytest.raises(Refusal) as caught:
        await add(service)
    assert (caught.value.message, caught.value.params) == (
        "schedule.too_many",
        {"limit": MAX_SCHEDULES_PER_GUILD},
    )
    assert f"already has {MAX_SCHEDULES_PER_GUILD} schedules" in told(caught.value)
    assert f"최대 개수인 {MAX_SCHEDULES_PER_GUILD}개" in told(caught.value, Language.KO)
    assert len(await service.in_server(HOME)) == MAX_SCHEDULES_PER_GUILD
    assert wakes.count == MAX_SCHEDULES_PER_GUILD
    await add(service, guild_id=OTHER)  # another server's limit is its own


async def test_another_servers_schedule_is_never_touched(
    service: ScheduleService, wakes: Wakes
) -> None:
    theirs = await add(service, guild_id=OTHER)
    before = wakes.count
    for change in (service.find, service.pause, service.resume, service.remove):
        with pytest.raises(Refusal) as caught:
            await change(HOME, theirs)
        assert f"no schedule #{theirs} in this server" in told(caught.value)
        assert f"예약 게시물 #{theirs}" in told(caught.value, Language.KO)
    (record,) = await service.in_server(OTHER)
    assert record.state is ScheduleState.ACTIVE
    assert wakes.count == before


async def test_pause_then_resume_from_now(service: ScheduleService, wakes: Wakes) -> None:
    schedule_id = await add(service, at="11:30")
    paused = await service.pause(HOME, schedule_id)
    assert paused.state is ScheduleState.PAUSED
    service.clock = FakeClock(NOW + dt.timedelta(days=3))  # resumed three days later
    resumed = await service.resume(HOME, schedule_id)
    assert resumed.state is ScheduleState.ACTIVE
    assert resumed.next_run_at == dt.datetime(2024, 1, 27, 2, 30, tzinfo=dt.UTC)
    removed = await service.remove(HOME, schedule_id)
    assert removed.id == schedule_id
    assert await service.in_server(HOME) == []
    assert wakes.count == 4  # add, pause, resume, remove


async def test_resume_refuses_a_timezone_this_host_does_not_know(
    service: ScheduleService, store: SQLiteStore
) -> None:
    schedule_id = await add(service)
    await service.pause(HOME, schedule_id)
    with sqlite3.connect(store.path) as raw:  # e.g. a database moved from another host
        raw.execute(
            "UPDATE schedules SET timezone = 'Mars/Olympus_Mons' WHERE id = ?", (schedule_id,)
        )
    with pytest.raises(Refusal) as caught:
        await service.resume(HOME, schedule_id)
    assert "“Mars/Olympus_Mons”, which this host does not know" in told(caught.value)
    assert (await service.find(HOME, schedule_id)).state is ScheduleState.PAUSED
