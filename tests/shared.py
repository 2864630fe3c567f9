"""What lies beside the repository in `../shared`: the source pack and Discord's schemas.

A clone with nothing beside it (a fork, a newcomer's machine) skips the checks that need them,
each with a one-line reason. CI sets `LWA_REQUIRE_SHARED=1`, and there a missing folder fails
the check instead, so it never silently skips.
"""

from __future__ import annotations

import os
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
