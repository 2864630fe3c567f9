"""Persistence behind one interface (`bot.store.base.Store`): `open_store` is the one way in."""

from __future__ import annotations

from bot.config import Settings
from bot.domain.clock import Clock
from bot.store.base import Store, StoreError
from bot.store.sqlite import SQLiteStore

__all__ = ["Store", "StoreError", "open_store"]


async def open_store(
    settings: Settings, clock: Clock | None = None, *, writable: bool = True
) -> Store:
    """The store the settings name, opened: created if missing, migrated, and proven writable
    (`writable=False` for a reader, such as `lwa-bot reports` on a read-only copy). Raises
    StoreError with one sentence for the operator."""
    store = SQLiteStore(settings.database_path, clock)
    await store.open(check_writable=writable)
    return store
