"""Moderators' scheduled posts (SPEC §6): adding, pausing, resuming and removing them.

What `/schedule` asks for, with the rules that hold whoever asks: a server's schedules are
touched only from that server, a server has at most `MAX_SCHEDULES_PER_GUILD`, a schedule
resumes only in a timezone this host knows, and every change wakes the dispatcher (its
due-time index changed). Posting them is `bot.scheduler`'s work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.domain import schedule as rules
from bot.domain.clock import Clock
from bot.domain.records import ScheduleRecord, TooManySchedules
from bot.domain.refusal import Refusal
from bot.domain.schedule import MAX_SCHEDULES_PER_GUILD, PostKind
from bot.store.base import Store


def not_found(schedule_id: int) -> Refusal:
    # Also what another server's id gets: its schedules are never touched from here.
    return Refusal("schedule.not_found", id=schedule_id)


class ScheduleService:
    def __init__(self, store: Store, clock: Clock, wake: Callable[[], None]) -> None:
        self.store = store
        self.clock = clock
        self._wake = wake  # the dispatcher looks at the due-time index again

    async def add(
        self,
        *,
        guild_id: int,
        channel_id: int,
        content: PostKind,
        local_time: dt.time,
        timezone: str,
        days: frozenset[int],
        role_id: int | None,
        created_by: int,
    ) -> ScheduleRecord:
        now = self.clock.now()
        try:
            record = await self.store.add_schedule(
                guild_id=guild_id,
                channel_id=channel_id,
                content=content,
                local_time=local_time,
                timezone=timezone,
                days=days,
                role_id=role_id,
                next_run_at=rules.next_run_after(local_time, timezone, days, now),
                created_by=created_by,
                created_at=now,
                limit=MAX_SCHEDULES_PER_GUILD,
            )
        except TooManySchedules:
            raise Refusal("schedule.too_many", limit=MAX_SCHEDULES_PER_GUILD) from None
        self._wake()
        return record

    async def in_server(self, guild_id: int) -> list[ScheduleRecord]:
        return await self.store.schedules(guild_id)

    async def find(self, guild_id: int, schedule_id: int) -> ScheduleRecord:
        record = await self.store.schedule(schedule_id, guild_id)
        if record is None:
            raise not_found(schedule_id)
        return record

    async def remove(self, guild_id: int, schedule_id: int) -> ScheduleRecord:
        """The schedule as it was, now deleted."""
        record = await self.find(guild_id, schedule_id)
        if not await self.store.remove_schedule(schedule_id, guild_id):
            raise not_found(schedule_id)
        self._wake()
        return record

    async def pause(self, guild_id: int, schedule_id: int) -> ScheduleRecord:
        record = await self.store.pause_schedule(schedule_id, guild_id)  # None: not this server's
        if record is None:
            raise not_found(schedule_id)
        self._wake()
        return record

    async def resume(self, guild_id: int, schedule_id: int) -> ScheduleRecord:
        """Active again (failures forgotten), next due at its next time from now."""
        current = await self.find(guild_id, schedule_id)
        if rules.usable_timezone(current.timezone) is None:
            raise Refusal(
                "schedule.resume.unknown_timezone", id=schedule_id, timezone=current.timezone
            )
        next_run = rules.next_run_after(
            current.local_time, current.timezone, current.days, self.clock.now()
        )
        record = await self.store.resume_schedule(schedule_id, guild_id, next_run)
        if record is None:
            raise not_found(schedule_id)
        self._wake()
        return record
