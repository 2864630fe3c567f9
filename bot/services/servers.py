"""A server's own settings (SPEC §6 `/settings`, §3a): its timezone, the language of what the
bot posts for its channels, and what `/settings check` looks at (its schedules, grouped by the
channel they post in)."""

from __future__ import annotations

from bot.domain.language import Language, language_of
from bot.domain.records import ScheduleRecord, StoreUnavailable
from bot.store.base import Store


class ServerSettings:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def timezone(self, guild_id: int) -> str | None:
        """The timezone a moderator set, or None."""
        return await self.store.guild_timezone(guild_id)

    async def set_timezone(self, guild_id: int, timezone: str) -> None:
        await self.store.set_guild_timezone(guild_id, timezone)

    async def chosen_language(self, guild_id: int) -> Language | None:
        """The language a moderator chose for the server's posts, or None."""
        stored = await self.store.guild_language(guild_id)
        return Language(stored) if stored in set(Language) else None

    async def set_language(self, guild_id: int, language: Language) -> None:
        await self.store.set_guild_language(guild_id, language)

    async def language(self, guild_id: int | None, preferred_locale: object = None) -> Language:
        """What the bot posts for the server's channels is in: the language a moderator
        chose, else the server's preferred locale's, else English. A database that cannot be
        read now costs the choice, not the post."""
        chosen = None
        if guild_id:
            try:
                chosen = await self.chosen_language(guild_id)
            except StoreUnavailable:
                chosen = None
        return chosen or language_of(preferred_locale)

    async def schedules_by_channel(self, guild_id: int) -> dict[int, list[ScheduleRecord]]:
        """The server's schedules, by the channel each posts in."""
        by_channel: dict[int, list[ScheduleRecord]] = {}
        for record in await self.store.schedules(guild_id):
            by_channel.setdefault(record.channel_id, []).append(record)
        return by_channel
