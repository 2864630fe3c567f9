"""Slash commands are synced with Discord only when they change, and never show twice (SPEC §2).

When the same database last synced to the other scope (global <-> `DEV_GUILD_ID`), the bot
removes its commands from the scope it left; a scope it never synced to is left alone.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from bot.i18n import LOCALES_DIR
from tests.fakediscord.emulator import Emulator
from tests.fakediscord.models import Guild

COMMANDS = {
    "quote",
    "fact",
    "onthisday",
    "about",
    "help",
    "trivia",
    "daily",
    "schedule",
    "settings",
}


def global_names(emulator: Emulator) -> set[str]:
    return {c["name"] for c in emulator.global_commands.values()}


def guild_names(emulator: Emulator, guild: Guild) -> set[str]:
    return {c["name"] for c in emulator.guild_commands.get(guild.id, {}).values()}


def korean_description(emulator: Emulator, name: str) -> str:
    command = next(c for c in emulator.global_commands.values() if c["name"] == name)
    return str((command.get("description_localizations") or {}).get("ko"))


async def test_commands_are_synced_once_then_only_when_they_change(
    emulator: Emulator, bot_factory: Any, tmp_path: Path
) -> None:
    # The bot speaks from a copy of its catalogue, as a translator trying a translation would.
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, locales)
    bot = await bot_factory(extra_env={"LOCALES_DIR": str(locales)})
    assert emulator.stats["commands:bulk_overwrite"] == 1
    assert set(emulator.commands) >= COMMANDS
    shipped = korean_description(emulator, "about")
    assert shipped == "이 봇과 데이터셋, 출처 소개"
    await bot.restart()  # same commands: Discord is not asked again (its rate limits are tight)
    assert emulator.stats["commands:bulk_overwrite"] == 1
    # A changed translation is a change: synced at the next start.
    commands_po = locales / "ko" / "commands.po"
    text = commands_po.read_text(encoding="utf-8")
    commands_po.write_text(text.replace(shipped, "봇 소개, 데이터셋과 출처"), encoding="utf-8")
    await bot.restart()
    assert emulator.stats["commands:bulk_overwrite"] == 2
    assert korean_description(emulator, "about") == "봇 소개, 데이터셋과 출처"
    # A server for development: commands go there instead, since the target changed.
    guild = emulator.guilds[0]
    await bot.stop()
    dev = await bot_factory(
        extra_env={"DEV_GUILD_ID": str(guild.id)}, database_path=bot.database_path
    )
    assert emulator.stats["commands:bulk_overwrite"] == 4  # global emptied, the server synced
    fan = emulator.add_member(guild, "fan")
    reply = await (await emulator.slash(guild, guild.text_channels[0], fan, "about")).response()
    assert reply.embeds and dev.running


async def test_switching_scope_moves_the_commands_so_none_shows_twice(
    emulator: Emulator, bot_factory: Any, tmp_path: Path
) -> None:
    home = emulator.add_guild("Love Wins All")
    other = emulator.add_guild("Another instance's test server")
    # Another instance (its own database) syncs to `other`: this bot never did, so whatever
    # it does, it leaves `other` alone.
    elsewhere = await bot_factory(
        extra_env={"DEV_GUILD_ID": str(other.id)}, database_path=tmp_path / "other.sqlite3"
    )
    await elsewhere.stop()
    assert guild_names(emulator, other) == COMMANDS
    database = tmp_path / "lwa.sqlite3"

    bot = await bot_factory(database_path=database)  # globally
    assert global_names(emulator) == COMMANDS and guild_names(emulator, home) == set()
    await bot.stop()

    dev = await bot_factory(extra_env={"DEV_GUILD_ID": str(home.id)}, database_path=database)
    assert guild_names(emulator, home) == COMMANDS
    assert global_names(emulator) == set()  # removed from the scope it left: none twice
    assert "removed the slash commands globally, where they were synced last" in dev.logs()
    await dev.stop()

    back = await bot_factory(database_path=database)  # and back
    assert global_names(emulator) == COMMANDS
    assert guild_names(emulator, home) == set()
    assert guild_names(emulator, other) == COMMANDS  # never touched
    fan = emulator.add_member(home, "fan")
    reply = await (await emulator.slash(home, home.text_channels[0], fan, "about")).response()
    assert reply.embeds and back.running


async def test_a_server_the_bot_left_does_not_stop_the_switch(
    emulator: Emulator, bot_factory: Any, tmp_path: Path
) -> None:
    emulator.add_guild("Love Wins All")
    test_server = emulator.add_guild("A test server")
    database = tmp_path / "lwa.sqlite3"
    dev = await bot_factory(extra_env={"DEV_GUILD_ID": str(test_server.id)}, database_path=database)
    await dev.stop()
    emulator.remove_guild(test_server)  # Discord now answers 403 Missing Access there

    bot = await bot_factory(database_path=database)
    assert global_names(emulator) == COMMANDS
    assert "could not remove the slash commands in server" in bot.logs()
    await bot.restart()  # the scope was recorded: nothing to remove or sync any more
    assert bot.logs().count("could not remove the slash commands") == 1
    assert "Traceback" not in bot.logs()


async def test_a_database_from_before_the_scope_was_kept_learns_it(
    emulator: Emulator, bot_factory: Any, tmp_path: Path
) -> None:
    home = emulator.add_guild("Love Wins All")
    database = tmp_path / "lwa.sqlite3"
    bot = await bot_factory(database_path=database)
    await bot.stop()
    with sqlite3.connect(database) as db:  # what the previous version kept: the hash alone
        (raw,) = db.execute("SELECT value FROM meta WHERE key = 'command_sync'").fetchone()
        db.execute("DELETE FROM meta WHERE key = 'command_sync'")
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('command_sync_hash', ?)",
            (json.loads(raw)["hash"],),
        )
    syncs = emulator.stats["commands:bulk_overwrite"]
    await bot.restart()  # the same commands, globally: the hash proves the scope
    assert emulator.stats["commands:bulk_overwrite"] == syncs
    await bot.stop()
    await bot_factory(extra_env={"DEV_GUILD_ID": str(home.id)}, database_path=database)
    assert global_names(emulator) == set()
    assert guild_names(emulator, home) == COMMANDS
