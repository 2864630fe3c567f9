"""What lies beside the repository in `../shared`: the source pack and Discord's schemas.

A clone with nothing beside it (a fork, a newcomer's machine) skips the checks that need them,
each with a one-line reason. CI sets `LWA_REQUIRE_SHARED=1`, and there a missing folder fails
the check instead, so it never silently skips.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from bot.config import REPO_ROOT

SHARED_DIR = REPO_ROOT.parent / "shared"
SOURCE_PACK = SHARED_DIR / "sources"
DISCORD_OPENAPI = SHARED_DIR / "discord-openapi" / "discord-openapi-subset.json"
REQUIRE_SHARED = "LWA_REQUIRE_SHARED"


def required() -> bool:
    return os.environ.get(REQUIRE_SHARED, "") == "1"


def need(path: Path, what: str) -> None:
    """Skip the calling test (fail it under `LWA_REQUIRE_SHARED=1`) when `path` is missing."""
    if path.exists():
        return
    reason = f"{what} is not beside the repository (../shared/{path.relative_to(SHARED_DIR)})"
    if required():
        pytest.fail(f"{reason}, and {REQUIRE_SHARED}=1 makes this check mandatory", pytrace=False)
    pytest.skip(reason)


# --- PostgreSQL ------------------------------------------------------------------------------
# The machines of this project (and CI) run a PostgreSQL server on 127.0.0.1:5432 with trust
# authentication; a clone elsewhere may have none. Tests that need it skip there with one line,
# and CI sets `LWA_REQUIRE_POSTGRES=1`, which turns a missing server into a failure.
REQUIRE_POSTGRES = "LWA_REQUIRE_POSTGRES"
POSTGRES_URL = "LWA_TEST_POSTGRES_URL"  # the maintenance database tests create theirs from
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
_postgres_problem: dict[str, str | None] = {}  # per URL: None when it answered


def postgres_url() -> str:
    """The URL of the test server's maintenance database (`LWA_TEST_POSTGRES_URL`)."""
    return os.environ.get(POSTGRES_URL, "").strip() or DEFAULT_POSTGRES_URL


async def need_postgres() -> str:
    """The maintenance URL; skips the calling test (fails it under `LWA_REQUIRE_POSTGRES=1`)
    when no PostgreSQL server answers there. Asked once per test process."""
    import asyncpg  # here: the rest of this module is imported by tests that need no driver

    url = postgres_url()
    if url not in _postgres_problem:
        try:
            conn = await asyncpg.connect(url, timeout=5)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            _postgres_problem[url] = f"{type(error).__name__}: {error}".splitlines()[0]
        else:
            await conn.close()
            _postgres_problem[url] = None
    problem = _postgres_problem[url]
    if problem is None:
        return url
    where = url.split("@")[-1]  # never a password
    reason = f"no PostgreSQL server answers at {where} ({problem}); set {POSTGRES_URL} to use one"
    if os.environ.get(REQUIRE_POSTGRES, "") == "1":
        pytest.fail(f"{reason}, and {REQUIRE_POSTGRES}=1 makes it mandatory", pytrace=False)
    pytest.skip(reason)


def closed_port() -> int:
    """A local port nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
