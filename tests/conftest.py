"""Shared fixtures: the Discord emulator and bot process fixtures (see tests/fakediscord)."""

from tests.fakediscord.fixtures import (  # noqa: F401
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
