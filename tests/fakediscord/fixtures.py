"""pytest fixtures: ``emulator``, ``bot_factory``, ``bot``, ``sample_bot``, ``discord_http``.

Registered for the whole test suite by tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from .botproc import BotProcess
from .emulator import Emulator

BOTS_KEY = pytest.StashKey[list[BotProcess]]()

BotFactory = Callable[..., Awaitable[BotProcess]]


def _teardown_problems(emu: Emulator) -> list[str]:
    problems: list[str] = []
    if emu.violations and not emu.expect_violations:
        problems.append(
            f"{len(emu.violations)} Discord API violation(s):\n"
            + "\n".join(f"  - {v}" for v in emu.violations)
        )
    if emu.unknown_routes and not emu.expect_unknown_routes:
        problems.append(
            "request(s) to routes the emulator does not know:\n"
            + "\n".join(f"  - {r}" for r in emu.unknown_routes)
        )
    if emu.late_callbacks and not emu.expect_late_callbacks:
        problems.append(
            f"{len(emu.late_callbacks)} interaction response(s) after the "
            f"{emu.interaction_deadline}s deadline (Discord answers 10062 Unknown interaction):\n"
            + "\n".join(f"  - {i!r}" for i in emu.late_callbacks)
        )
    return problems


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """A running emulator. Fails the test at teardown if the bot broke Discord's rules.

    Opt out per test with ``emulator.expect_violations``, ``expect_unknown_routes`` or
    ``expect_late_callbacks = True``."""
    emu = Emulator()
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()
    problems = _teardown_problems(emu)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
async def bot_factory(
    emulator: Emulator, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[BotFactory]:
    """``await bot_factory(module="bot", extra_env=None, wait_ready=True)`` starts a bot
    process against ``emulator`` and returns its :class:`BotProcess`. Every process is
    stopped (SIGTERM, SIGKILL after 10 s) at teardown; its output is attached to the
    report of a failing test."""
    bots: list[BotProcess] = []
    request.node.stash[BOTS_KEY] = bots

    async def factory(
        module: str = "bot",
        *,
        extra_env: dict[str, str] | None = None,
        wait_ready: bool = True,
        database_path: Path | None = None,
        ready_timeout: float = 30.0,
    ) -> BotProcess:
        if not emulator.guilds:
            guild = emulator.add_guild("Love Wins All")
            assert guild.text_channels[0].name == "general"
        n = len(bots)
        proc = BotProcess(
            emulator,
            module=module,
            database_path=database_path or tmp_path / f"bot{n}.sqlite3",
            log_path=tmp_path / f"bot{n}.log",
            extra_env=extra_env,
            ready_timeout=ready_timeout,
        )
        bots.append(proc)
        await proc.start(wait_ready=wait_ready)
        return proc

    try:
        yield factory
    finally:
        for proc in bots:
            await proc.stop()
            proc.close()


@pytest.fixture
async def bot(bot_factory: BotFactory) -> BotProcess:
    """The real bot (``python -m bot``), connected and past its GUILD_CREATEs."""
    return await bot_factory("bot")


@pytest.fixture
async def sample_bot(bot_factory: BotFactory) -> BotProcess:
    """The stand-in bot from tests/fakediscord/samplebot.py."""
    return await bot_factory("tests.fakediscord.samplebot")


@pytest.fixture
async def discord_http(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    """An in-process, logged-in ``discord.http.HTTPClient`` talking to the emulator."""
    import asyncio

    import discord.http

    monkeypatch.setattr(discord.http.Route, "BASE", emulator.api_base)
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    await http.static_login(emulator.token)
    try:
        yield http
    finally:
        await http.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, Any]:
    report = yield
    bots = item.stash.get(BOTS_KEY, None)
    if report.failed and bots:
        for i, proc in enumerate(bots):
            report.sections.append(
                (f"bot process {i} ({proc.module}) output, last 200 lines", proc.log_tail())
            )
    return report
