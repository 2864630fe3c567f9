"""The store contract suite runs against every backend.

`store` is an opened store on a fresh database, typed to the `Store` protocol, so the same test
holds any backend to the same contract. `backend` also gives a second connection to the same
database (a second process) and raw SQL for tests that damage a row on purpose. The backends:
SQLite (a file in the test's folder) and PostgreSQL (a database of its own on the test server,
created for the test and dropped after it; without a server these skip with the reason, or fail
under `LWA_REQUIRE_POSTGRES=1`, see `tests/shared.py`).
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

import asyncpg
import pytest

from bot.store.base import Store
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SQLiteStore, _iso
from tests.store.postgres import fresh_database


class Backend(Protocol):
    name: str

    async def open(self) -> Store:
        """A store on this test's database (a new connection each call)."""
        ...

    async def execute(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Raw SQL on the database, `?` placeholders, Python values (an aware datetime for an
        instant); the rows it returns."""
        ...


class SQLiteBackend:
    name = "sqlite"

    def __init__(self, folder: Path) -> None:
        self.path = folder / "lwa.sqlite3"

    async def open(self) -> Store:
        store = SQLiteStore(self.path)
        await store.open()
        return store

    async def execute(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        values = [_iso(p) if isinstance(p, dt.datetime) else p for p in params]
        with sqlite3.connect(self.path) as raw:
            return list(raw.execute(sql, values).fetchall())


def numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1`, `$2`, … (the tests' SQL has no `?` in text)."""
    counter = iter(range(1, 1000))
    return re.sub(r"\?", lambda _: f"${next(counter)}", sql)


class PostgresBackend:
    name = "postgres"

    def __init__(self, url: str) -> None:
        self.url = url

    async def open(self) -> Store:
        store = PostgresStore(self.url)
        await store.open()
        return store

    async def execute(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(self.url)
        try:
            return [tuple(row) for row in await conn.fetch(numbered(sql), *params)]
        finally:
            await conn.close()


BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        yield SQLiteBackend(tmp_path)
        return
    assert request.param == "postgres"
    async with fresh_database() as url:
        yield PostgresBackend(url)


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    opened = await backend.open()
    try:
        yield opened
    finally:
        await opened.close()
