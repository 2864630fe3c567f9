"""The store contract suite runs against every backend.

`store` is an opened store on a fresh database, typed to the `Store` protocol, so the same test
holds any backend to the same contract. `backend` also gives a second connection to the same
database (a second process) and raw SQL for tests that damage a row on purpose. Today's one
backend is SQLite; PostgreSQL (SPEC §8) joins `BACKENDS` with its own `Backend`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

import pytest

from bot.store.base import Store
from bot.store.sqlite import SQLiteStore


class Backend(Protocol):
    name: str

    async def open(self) -> Store:
        """A store on this test's database (a new connection each call)."""
        ...

    def execute(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Raw SQL on the database, `?` placeholders; the rows it returns."""
        ...


class SQLiteBackend:
    name = "sqlite"

    def __init__(self, folder: Path) -> None:
        self.path = folder / "lwa.sqlite3"

    async def open(self) -> Store:
        store = SQLiteStore(self.path)
        await store.open()
        return store

    def execute(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.path) as raw:
            return list(raw.execute(sql, params).fetchall())


BACKENDS = ["sqlite"]


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    assert request.param == "sqlite"
    return SQLiteBackend(tmp_path)


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    opened = await backend.open()
    try:
        yield opened
    finally:
        await opened.close()
