"""A fresh PostgreSQL database per test, on the test server (`tests.shared.need_postgres`):
`lwa_t_<random>`, made from the maintenance database for this test alone, so tests in parallel
processes (pytest-xdist) never share one. A test process empties the databases it is done with
and gives them to its next tests (creating one costs far more than emptying it), and drops
them when its session ends (tests/conftest.py)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from tests.shared import need_postgres


async def fetch(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    """The rows of one query, on a connection of its own (a test reading what the bot wrote)."""
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` instead."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


# Databases this test process made and finished with, emptied, by server: a new one costs a
# third of a second (CREATE DATABASE copies a template), emptying one a few milliseconds.
_idle: dict[str, list[str]] = {}


@contextlib.asynccontextmanager
async def new_database(admin_url: str, prefix: str) -> AsyncIterator[str]:
    """The URL of an empty database `<prefix>_<random>` on the server of `admin_url`, for this
    caller alone. On exit every connection left to it is closed and it is emptied (its
    `public` schema made anew) for the next caller of this process; `drop_idle_databases`
    drops them. The benchmarks use it too."""
    idle = _idle.setdefault(admin_url, [])
    name = next((n for n in idle if n.startswith(f"{prefix}_")), None)
    if name is not None:
        idle.remove(name)
    else:
        name = f"{prefix}_{secrets.token_hex(6)}"
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
    url = with_database(admin_url, name)
    try:
        yield url
    finally:
        try:
            await _empty(admin_url, name)
        except BaseException:
            await _drop(admin_url, name)
            raise
        idle.append(name)


async def _empty(admin_url: str, name: str) -> None:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    finally:
        await admin.close()
    conn = await asyncpg.connect(with_database(admin_url, name))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()


async def _drop(admin_url: str, name: str) -> None:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def drop_idle_databases() -> None:
    """Drop the databases this process kept for reuse (at the end of a test session)."""
    for admin_url, names in _idle.items():
        while names:
            await _drop(admin_url, names.pop())


@contextlib.asynccontextmanager
async def fresh_database(prefix: str = "lwa_t") -> AsyncIterator[str]:
    """A new empty database on the test server, dropped on exit (skips without a server)."""
    async with new_database(await need_postgres(), prefix) as url:
        yield url
