"""The storage interface the cogs, the scheduler and the CLI use (SPEC §7).

One protocol, so a second backend (PostgreSQL, SPEC §8) is a new class rather than a rewrite.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Protocol


class Store(Protocol):
    async def open(self) -> None:
        """Create the database if needed and apply pending migrations."""

    async def close(self) -> None: ...

    async def schema_version(self) -> int: ...

    async def get_meta(self, key: str) -> str | None: ...

    async def set_meta(self, key: str, value: str) -> None: ...

    async def guild_timezone(self, guild_id: int) -> str | None:
        """The server's default timezone, or None when a moderator never set one."""

    async def set_guild_timezone(self, guild_id: int, timezone: str) -> None: ...

    async def draw(
        self,
        scope_id: int,
        kind: str,
        filter_key: str,
        candidates: Sequence[str],
        rng: random.Random,
    ) -> str:
        """Pick the next id from the (scope, kind, filter) shuffle bag, atomically.

        Nothing repeats within a round: an id comes again only after every other candidate
        has been drawn once.
        """

    async def bag_remaining(self, scope_id: int, kind: str, filter_key: str) -> list[str]: ...
