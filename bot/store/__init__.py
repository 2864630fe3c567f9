"""Persistence behind one interface (`bot.store.base.Store`): `open_store` is the one way in."""

from __future__ import annotations

from bot.config import Settings
from bot.domain.clock import Clock
from bot.store.base import Store, StoreError
from bot.store.postgres import PostgresStore, describe_url
from bot.store.sqlite import SQLiteStore

__all__ = ["Store", "StoreError", "describe_backend", "open_store"]


def describe_backend(settings: Settings) -> str:
    """Which database the settings name, for the operator (never a password)."""
    if settings.database_url:
        return describe_url(settings.database_url)
    return f"SQLite file {settings.database_path}"


async def open_store(
    settings: Settings, clock: Clock | None = None, *, writable: bool = True
) -> Store:
    """The store the settings name, opened: PostgreSQL when DATABASE_URL is set, else the
    SQLite file DATABASE_PATH; created if missing, migrated, and proven writable
    (`writable=False` for a reader, such as `lwa-bot reports` on a read-only copy). Raises
    StoreError with one sentence for the operator."""
    store: PostgresStore | SQLiteStore
    if settings.database_url:
        store = PostgresStore(settings.database_url, clock)
    else:
        store = SQLiteStore(settings.database_path, clock)
    await store.open(check_writable=writable)
    return store
