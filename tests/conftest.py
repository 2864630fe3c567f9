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

import compileall  # noqa: E402
import importlib.util  # noqa: E402
from collections.abc import AsyncIterator  # noqa: E402
from pathlib import Path  # noqa: E402

# What every test process and every zygote imports. In a fresh clone (or a fresh virtual
# environment, installed without bytecode) none of it is compiled yet, and the eight
# interpreters that start at once (four test processes, their zygotes) would each compile it
# again: compiled here once, on both cores, before they start. Where it is compiled already,
# this only compares timestamps (a tenth of a second).
_IMPORTED_EVERYWHERE = (
    *("bot", "tests", "discord", "aiohttp", "aiosqlite", "asyncpg", "babel", "dotenv"),
    *("jsonschema", "jsonschema_specifications", "referencing", "yarl", "multidict"),
    *("propcache", "frozenlist", "aiosignal", "attr", "attrs", "hypothesis", "sortedcontainers"),
    *("_pytest", "pytest_asyncio", "xdist", "execnet", "pluggy", "iniconfig", "packaging"),
)


def _compile_once() -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return  # a test process: the controller compiled before starting it
    folders = []
    for name in _IMPORTED_EVERYWHERE:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            folders += [Path(folder) for folder in spec.submodule_search_locations]
    cold = any(
        not Path(importlib.util.cache_from_source(str(folder / "__init__.py"))).exists()
        for folder in folders
        if (folder / "__init__.py").exists()
    )
    for folder in folders:
        compileall.compile_dir(folder, quiet=2, workers=2 if cold else 1)


_compile_once()

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
_FIRST = (
    *("tests/faults/", "tests/e2e/", "tests/store/", "tests/fakediscord/"),
    *("tests/test_scheduler.py", "tests/test_migrate.py", "tests/test_cli.py"),
)


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
