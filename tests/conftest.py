"""Shared fixtures: the Discord emulator and bot process fixtures (see tests/fakediscord)."""

import os
import sys

# Python's bytecode caches, on for this run even where the environment turns them off
# (PYTHONDONTWRITEBYTECODE=1). The suite starts dozens of interpreters (the xdist workers,
# each worker's zygote, bots started from scratch); without the caches each one compiles the
# project's sources and rewrites the tests' asserts again: about a quarter of the suite's CPU
# time on two cores. The caches are `__pycache__/` folders, which git ignores. Set here, before
# the workers start, so that they and everything they start inherit it.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

from collections.abc import AsyncIterator  # noqa: E402

import pytest  # noqa: E402

from tests.fakediscord.fixtures import (  # noqa: E402, F401
    bot,
    bot_factory,
    discord_http,
    emulator,
    pytest_runtest_makereport,
    sample_bot,
    shared,
    shared_bot,
    shared_emulator,
)
from tests.store.postgres import drop_idle_databases  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
async def _drop_idle_databases() -> AsyncIterator[None]:
    """The PostgreSQL databases this test process kept for reuse go when its session ends."""
    yield
    await drop_idle_databases()


# The slowest tests (a bot process, faults, PostgreSQL) go first: the four test processes take
# the next test as they finish one, so one that starts near the end keeps the others waiting.
_FIRST = ("tests/faults/", "tests/e2e/", "tests/store/", "tests/fakediscord/")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A module's tests that share its bot process (the `shared` fixture) run in one test
    # process: spread over four, each would start a bot of its own (a second of CPU each).
    for item in items:
        if "shared" in getattr(item, "fixturenames", ()) and not item.get_closest_marker(
            "xdist_group"
        ):
            item.add_marker(pytest.mark.xdist_group(f"shared-bot:{item.nodeid.split('::')[0]}"))

    def order(item: pytest.Item) -> int:
        path = item.nodeid
        return next((n for n, prefix in enumerate(_FIRST) if path.startswith(prefix)), len(_FIRST))

    items.sort(key=order)
