"""pytest fixtures: ``emulator``, ``bot_factory``, ``bot``, ``sample_bot``, ``discord_http``,
and ``shared`` for tests that share one bot per module.

Registered for the whole test suite by tests/conftest.py. A bot process costs about a second
of CPU to start, so tests that do not restart, kill or reconfigure the bot share one per module
(``shared``), each in a server of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .botproc import BotProcess
from .clock import BotClock
from .emulator import Emulator
from .models import Guild

BOTS_KEY = pytest.StashKey[list[BotProcess]]()

BotFactory = Callable[..., Awaitable[BotProcess]]


def _teardown_problems(emu: Emulator, since: tuple[int, int, int] = (0, 0, 0)) -> list[str]:
    """What the bot did against Discord's rules (after the marks in ``since``)."""
    violations = emu.violations[since[0] :]
    unknown = emu.unknown_routes[since[1] :]
    late = emu.late_callbacks[since[2] :]
    problems: list[str] = []
    if violations and not emu.expect_violations:
        problems.append(
            f"{len(violations)} Discord API violation(s):\n"
            + "\n".join(f"  - {v}" for v in violations)
        )
    if unknown and not emu.expect_unknown_routes:
        problems.append(
            "request(s) to routes the emulator does not know:\n"
            + "\n".join(f"  - {r}" for r in unknown)
        )
    if late and not emu.expect_late_callbacks:
        problems.append(
            f"{len(late)} interaction response(s) after the "
            f"{emu.interaction_deadline}s deadline (Discord answers 10062 Unknown interaction):\n"
            + "\n".join(f"  - {i!r}" for i in late)
        )
    return problems


def _marks(emu: Emulator) -> tuple[int, int, int]:
    return len(emu.violations), len(emu.unknown_routes), len(emu.late_callbacks)


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


def _bot_process(
    emulator: Emulator,
    folder: Path,
    n: int,
    module: str = "bot",
    *,
    extra_env: dict[str, str] | None = None,
    database_path: Path | None = None,
    ready_timeout: float = 30.0,
    clock: BotClock | None = None,
) -> BotProcess:
    """A bot process (not started yet); the real bot always runs on a clock the test holds."""
    if module == "bot" and clock is None:
        clock = BotClock(folder / f"bot{n}.clock")
    return BotProcess(
        emulator,
        module=module,
        database_path=database_path or folder / f"bot{n}.sqlite3",
        log_path=folder / f"bot{n}.log",
        extra_env=extra_env,
        ready_timeout=ready_timeout,
        clock=clock,
    )


def _first_guild(emulator: Emulator) -> None:
    if not emulator.guilds:
        guild = emulator.add_guild("Love Wins All")
        assert guild.text_channels[0].name == "general"


@pytest.fixture
async def bot_factory(
    emulator: Emulator, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[BotFactory]:
    """``await bot_factory(module="bot", extra_env=None, wait_ready=True, clock=None)``
    starts a bot process against ``emulator`` and returns its :class:`BotProcess`. The real
    bot runs on ``clock`` (a :class:`BotClock`; by default a new one at real time and speed,
    as ``proc.clock``). Every process is stopped (SIGTERM, SIGKILL after 10 s) at teardown;
    its output is attached to the report of a failing test."""
    bots: list[BotProcess] = []
    request.node.stash[BOTS_KEY] = bots

    async def factory(
        module: str = "bot", *, wait_ready: bool = True, **options: Any
    ) -> BotProcess:
        _first_guild(emulator)
        proc = _bot_process(emulator, tmp_path, len(bots), module, **options)
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


@pytest.fixture(scope="module")
async def shared_emulator() -> AsyncIterator[Emulator]:
    """One emulator for every test of a module (see ``shared`` for each test's checks)."""
    emu = Emulator()
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture(scope="module")
async def shared_bot(
    shared_emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotProcess]:
    """The real bot, started once for a module's tests (see ``shared``)."""
    _first_guild(shared_emulator)
    proc = _bot_process(shared_emulator, tmp_path_factory.mktemp("shared-bot"), 0)
    await proc.start()
    try:
        yield proc
    finally:
        await proc.stop()
        proc.close()


@dataclass
class Shared:
    """What a test gets from ``shared``: the module's emulator and bot, and its own server."""

    emulator: Emulator
    bot: BotProcess
    guild: Guild

    @property
    def clock(self) -> BotClock:
        assert self.bot.clock is not None
        return self.bot.clock


@pytest.fixture
async def shared(
    shared_emulator: Emulator, shared_bot: BotProcess, request: pytest.FixtureRequest
) -> AsyncIterator[Shared]:
    """The module's bot, and a new server (with a ``general`` channel) for this test alone.

    The test fails at teardown if the bot broke Discord's rules while it ran, as with
    ``emulator``; the ``expect_*`` opt-outs last for this test only."""
    emu = shared_emulator
    emu.expect_violations = emu.expect_unknown_routes = emu.expect_late_callbacks = False
    request.node.stash[BOTS_KEY] = [shared_bot]
    marks = _marks(emu)
    guild = emu.add_guild(f"LWA {request.node.name}"[:100])
    yield Shared(emu, shared_bot, guild)
    problems = _teardown_problems(emu, since=marks)
    emu.expect_violations = emu.expect_unknown_routes = emu.expect_late_callbacks = False
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


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
