"""A server's own settings (SPEC §6 `/settings`): its timezone, and what `/settings check`
looks at (its schedules, grouped by the channel they post in)."""

from __future__ import annotations

from bot.domain.records import ScheduleRecord
from bot.store.base import Store


class ServerSettings:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def timezone(self, guild_id: int) -> str | None:
        """The timezone a moderator set, or None."""
        return await self.store.guild_timezone(guild_id)

    async def set_timezone(self, guild_id: int, timezone: str) -> None:
        await self.store.set_guild_timezone(guild_id, timezone)

    async def schedules_by_channel(self, guild_id: int) -> dict[int, list[ScheduleRecord]]:
        """The server's schedules, by the channel each posts in."""
        by_channel: dict[int, list[ScheduleRecord]] = {}
        for record in await self.store.schedules(guild_id):
            by_channel.setdefault(record.channel_id, []).append(record)
        return by_channel
