"""A fresh PostgreSQL database per test, on the test server (`tests.shared.need_postgres`):
`lwa_t_<random>`, created from the maintenance database and dropped afterwards, so tests in
parallel processes (pytest-xdist) never share one."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from tests.shared import need_postgres


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` instead."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.asynccontextmanager
async def new_database(admin_url: str, prefix: str) -> AsyncIterator[str]:
    """The URL of a new empty database `<prefix>_<random>` on the server of `admin_url`,
    dropped (with any connection left to it) on exit. The benchmarks use it too."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield with_database(admin_url, name)
    finally:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@contextlib.asynccontextmanager
async def fresh_database(prefix: str = "lwa_t") -> AsyncIterator[str]:
    """A new empty database on the test server, dropped on exit (skips without a server)."""
    async with new_database(await need_postgres(), prefix) as url:
        yield url
