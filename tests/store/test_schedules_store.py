"""Schedules, the store contract against every backend: scoping by server, the limit, atomic
claims, and rows a host cannot use."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.domain.language import Language
from bot.domain.records import TooManySchedules
from bot.domain.schedule import ALL_DAYS, WEEKDAYS
from bot.store.base import Store
from bot.ui.schedules import reason_text
from tests.store.conftest import Backend

NOW = dt.datetime(2024, 1, 24, 8, 59, tzinfo=dt.UTC)
GRACE = dt.timedelta(minutes=60)


async def add(
    store: Store,
    guild_id: int = 1,
    *,
    channel_id: int = 10,
    next_run_at: dt.datetime = NOW,
    limit: int = 25,
    **changes: object,
):
    values: dict[str, object] = dict(
        guild_id=guild_id,
        channel_id=channel_id,
        content="quote",
        local_time=dt.time(9, 0),
        timezone="UTC",
        days=ALL_DAYS,
        role_id=None,
        next_run_at=next_run_at,
        created_by=7,
        created_at=NOW,
        limit=limit,
    )
    values.update(changes)
    return await store.add_schedule(**values)  # type: ignore[arg-type]


async def test_a_schedule_is_stored_as_given_and_only_its_server_sees_it(backend: Backend) -> None:
    store = await backend.open()
    try:
        record = await add(
            store, guild_id=1, timezone="Asia/Seoul", days=WEEKDAYS, role_id=99, content="onthisday"
        )
        assert record.id >= 1 and record.state == "active" and not record.failing
        assert (record.local_time, record.timezone, record.days, record.role_id) == (
            dt.time(9, 0),
            "Asia/Seoul",
            WEEKDAYS,
            99,
        )
        assert record.next_run_at == NOW
        assert await store.schedule(record.id, 1) == record
        assert await store.schedules(1) == [record]

        # Another server: not found, never touched.
        assert await store.schedule(record.id, 2) is None
        assert await store.schedules(2) == []
        assert await store.pause_schedule(record.id, 2) is None
        assert await store.resume_schedule(record.id, 2, NOW) is None
        assert await store.remove_schedule(record.id, 2) is False
        assert await store.schedule(record.id, 1) == record

        paused = await store.pause_schedule(record.id, 1)
        assert paused is not None and paused.state == "paused"
        assert await store.next_due_at() is None  # a paused schedule is not due
        later = NOW + dt.timedelta(days=1)
        resumed = await store.resume_schedule(record.id, 1, later)
        assert resumed is not None and resumed.state == "active"
        assert resumed.next_run_at == later
        assert await store.next_due_at() == later
        assert await store.remove_schedule(record.id, 1) is True
        assert await store.schedules(1) == []
    finally:
        await store.close()


async def test_a_server_has_at_most_the_limit_of_schedules(backend: Backend) -> None:
    store = await backend.open()
    try:
        for _ in range(25):
            await add(store, guild_id=1)
        with pytest.raises(TooManySchedules):
            await add(store, guild_id=1)
        await add(store, guild_id=2)  # the limit is per server
        assert len(await store.schedules(1)) == 25
    finally:
        await store.close()


async def test_a_claim_records_the_run_and_advances_the_schedule(backend: Backend) -> None:
    store = await backend.open()
    try:
        record = await add(store, next_run_at=dt.datetime(2024, 1, 24, 9, 0, tzinfo=dt.UTC))
        assert await store.claim_due_runs(NOW, grace=GRACE, limit=10) == []  # not due yet
        at_nine = dt.datetime(2024, 1, 24, 9, 0, 2, tzinfo=dt.UTC)
        [run] = await store.claim_due_runs(at_nine, grace=GRACE, limit=10)
        assert run.schedule.id == record.id and run.state == "claimed"
        assert run.due_at == dt.datetime(2024, 1, 24, 9, 0, tzinfo=dt.UTC)
        after = await store.schedule(record.id, 1)
        assert after is not None
        assert after.next_run_at == dt.datetime(2024, 1, 25, 9, 0, tzinfo=dt.UTC)
        assert await store.claim_due_runs(at_nine, grace=GRACE, limit=10) == []
        [unfinished] = await store.unfinished_runs()
        assert (unfinished.schedule.id, unfinished.due_at, unfinished.state) == (
            record.id,
            run.due_at,
            "claimed",
        )

        # Even if the schedule were put back (a bug, a second writer), the run is not claimed
        # twice: the database's unique key refuses it.
        await backend.execute(
            "UPDATE schedules SET next_run_at = ? WHERE id = ?",
            dt.datetime(2024, 1, 24, 9, 0, tzinfo=dt.UTC),
            record.id,
        )
        assert await store.claim_due_runs(at_nine, grace=GRACE, limit=10) == []

        await store.mark_run_sent(record.id, run.due_at, 555, at_nine)
        assert await store.unfinished_runs() == []
        rows = await backend.execute("SELECT state, message_id FROM schedule_runs")
        assert rows == [("sent", 555)]
    finally:
        await store.close()


async def test_after_long_downtime_old_runs_are_not_claimed_one_by_one(backend: Backend) -> None:
    store = await backend.open()
    try:
        await add(store, next_run_at=dt.datetime(2024, 1, 24, 9, 0, tzinfo=dt.UTC))
        back = dt.datetime(2024, 1, 30, 9, 20, tzinfo=dt.UTC)  # six days later, 20 min late
        first = await store.claim_due_runs(back, grace=GRACE, limit=10)
        second = await store.claim_due_runs(back, grace=GRACE, limit=10)
        assert [r.due_at.day for r in first] == [24]  # the oldest, to be skipped and logged
        assert [r.due_at.day for r in second] == [30]  # today's, still within the grace
        assert await store.claim_due_runs(back, grace=GRACE, limit=10) == []
    finally:
        await store.close()


async def test_a_failing_schedule_pauses_after_three_failures_and_success_heals_it(
    backend: Backend,
) -> None:
    store = await backend.open()
    try:
        record = await add(store)
        for n in range(1, 4):
            now = NOW + dt.timedelta(days=n)
            [run] = await store.claim_due_runs(now, grace=dt.timedelta(days=2), limit=10)
            after = await store.mark_run_failed(
                record.id,
                run.due_at,
                "404",
                pause_after=3,
                failing_reason="the channel was deleted",
            )
            assert after is not None and after.failures == n
            assert after.failing_reason == "the channel was deleted"
            assert after.state == ("paused" if n == 3 else "active")
        resumed = await store.resume_schedule(record.id, 1, NOW + dt.timedelta(days=5))
        assert resumed is not None and (resumed.failures, resumed.failing_reason) == (0, None)

        # A failure that is not the channel's fault does not count; a success resets.
        [run] = await store.claim_due_runs(NOW + dt.timedelta(days=5), grace=GRACE, limit=10)
        after = await store.mark_run_failed(
            record.id, run.due_at, "503", pause_after=3, failing_reason=None
        )
        assert after is not None and after.failures == 0 and not after.failing
    finally:
        await store.close()


async def test_two_stores_on_one_database_never_claim_the_same_run(backend: Backend) -> None:
    first, second = await backend.open(), await backend.open()  # two processes
    try:
        for guild in range(60):
            await add(first, guild_id=guild, channel_id=1000 + guild)
        now = NOW + dt.timedelta(seconds=1)

        async def claim_all(store: Store) -> list[tuple[int, dt.datetime]]:
            got: list[tuple[int, dt.datetime]] = []
            while runs := await store.claim_due_runs(now, grace=GRACE, limit=3):
                got += [(r.schedule.id, r.due_at) for r in runs]
                await asyncio.sleep(0)
            return got

        results = await asyncio.gather(*(claim_all(s) for s in (first, second, first, second)))
        claimed = [run for result in results for run in result]
        assert len(claimed) == 60
        assert len(set(claimed)) == 60  # nobody claimed a run someone else had
        assert sum(1 for result in results if result) >= 2  # both really took part
        assert await backend.execute("SELECT COUNT(*) FROM schedule_runs") == [(60,)]
    finally:
        await first.close()
        await second.close()


@pytest.mark.parametrize("damage", ["timezone = 'Mars/Olympus'", "local_time = 'teatime'"])
async def test_a_row_this_host_cannot_use_is_paused_and_the_others_are_claimed(
    backend: Backend, damage: str
) -> None:
    store = await backend.open()
    try:
        bad = await add(store, guild_id=1)
        good = await add(store, guild_id=2)
        # As if made on a host that knew the zone (a database moved to this one).
        await backend.execute(f"UPDATE schedules SET {damage} WHERE id = ?", bad.id)
        claimed = await store.claim_due_runs(NOW, grace=GRACE, limit=10)
        assert [run.schedule.id for run in claimed] == [good.id]
        [(state, reason)] = await backend.execute(
            "SELECT state, failing_reason FROM schedules WHERE id = ?", bad.id
        )
        assert state == "paused"
        # Kept as a message of the catalogue, shown to each moderator in their language.
        assert "remove this schedule and add it again" in reason_text(reason, Language.EN)
        assert "다시 추가해 주세요" in reason_text(reason, Language.KO)
        assert await store.claim_due_runs(NOW, grace=GRACE, limit=10) == []  # not claimed again
    finally:
        await store.close()
