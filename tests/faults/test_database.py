"""The database under stress: another writer holds it, its folder cannot be written, it comes
from an older version of the bot (SPEC §2, §7)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.domain import rotation
from bot.store.sqlite import MIGRATIONS_DIR, migrations
from tests.e2e.helpers import dataset, shown_id
from tests.fakediscord.botproc import BotProcess, Zygote
from tests.fakediscord.emulator import Emulator

from .helpers import (
    choice_buttons,
    database,
    is_live_question,
    is_question,
    question_of,
    start_game,
)

LOCK_SECONDS = 2.0


@pytest.mark.xdist_group("timing")
async def test_every_interaction_is_answered_while_another_writer_holds_the_database(
    emulator: Emulator, bot: BotProcess
) -> None:
    guild = emulator.guilds[0]
    channel = guild.text_channels[0]
    fans = [emulator.add_member(guild, f"fan{n}") for n in range(4)]
    await start_game(emulator, guild, channel, fans[0], questions=1, seconds=10)
    question = await emulator.wait_for_message(channel, is_question(1, 1), timeout=10)
    labels = [b["label"] for b in choice_buttons(question)]

    with database(bot.database_path) as db:
        db.execute("BEGIN EXCLUSIVE")  # e.g. an operator's backup or a migration by hand
        quotes = [await emulator.slash(guild, channel, fan, "quote") for fan in fans]
        clicks = [
            await emulator.click(question, labels[n % len(labels)], fan)
            for n, fan in enumerate(fans)
        ]
        await asyncio.sleep(LOCK_SECONDS)
        db.execute("ROLLBACK")

    # Answered at once, or deferred in time and answered when the database is free.
    for inter in quotes:
        await inter.response(timeout=5)
        assert inter.latency is not None and inter.latency < 3, inter.latency
        reply = await inter.original(timeout=5)
        assert not reply.is_ephemeral and dataset().quote(shown_id(reply))
    for inter in clicks:
        await inter.response(timeout=5)
        assert inter.latency is not None and inter.latency < 3, inter.latency
        reply = await inter.original(timeout=5)
        assert "Locked in" in reply.embeds[0]["description"]
    with database(bot.database_path) as db:  # "locked in" was true: the answers are stored
        stored = {u for (u,) in db.execute("SELECT user_id FROM trivia_answers")}
    assert stored == {fan.id for fan in fans}
    assert question_of(question)  # the game itself goes on


@pytest.mark.xdist_group("timing")
async def test_a_lock_longer_than_discord_waits_defers_and_then_answers(
    emulator: Emulator, bot: BotProcess
) -> None:
    """Held for 4 s, longer than Discord's 3 s: the bot defers ("thinking…") in time, then
    answers when the database is free. Nothing is lost and "locked in" still means stored."""
    guild = emulator.guilds[0]
    channel = guild.text_channels[0]
    fans = [emulator.add_member(guild, f"fan{n}") for n in range(4)]
    await start_game(emulator, guild, channel, fans[0], questions=1, seconds=15)
    question = await emulator.wait_for_message(channel, is_question(1, 1), timeout=10)
    label = choice_buttons(question)[0]["label"]
    challenge = await emulator.slash(guild, channel, fans[3], "daily play")
    await challenge.response(timeout=5)
    mine = challenge.message
    assert mine.embeds[0]["title"].endswith("· 1/3")

    with database(bot.database_path) as db:
        db.execute("BEGIN EXCLUSIVE")
        quote = await emulator.slash(guild, channel, fans[1], "quote")
        fact = await emulator.slash(guild, channel, fans[2], "fact")
        click = await emulator.click(question, label, fans[0])
        daily_click = await emulator.click(mine, mine.buttons[0]["label"], fans[3])
        await asyncio.sleep(4.0)
        db.execute("ROLLBACK")

    # A daily challenge's answer edits the fan's own message: deferred as an update.
    first = await daily_click.response(timeout=5)
    assert first.type == 6, first  # "thinking" on the message itself
    assert daily_click.latency is not None and daily_click.latency < 3, daily_click.latency
    await emulator.wait_for_edit(mine, lambda m: m.embeds[0]["title"].endswith("· 2/3"), timeout=10)

    for inter, ephemeral in ((quote, False), (fact, False), (click, True)):
        first = await inter.response(timeout=5)
        assert first.type == 5, first  # deferred in time: "the bot is thinking"
        assert inter.latency is not None and inter.latency < 3, inter.latency
        answer = await inter.original(timeout=10)
        assert answer.embeds and answer.is_ephemeral == ephemeral
    assert dataset().quote(shown_id(quote.message))
    assert dataset().fact(shown_id(fact.message))
    assert "Locked in" in click.message.embeds[0]["description"]
    with database(bot.database_path) as db:
        assert db.execute("SELECT user_id FROM trivia_answers").fetchall() == [(fans[0].id,)]
        answered = db.execute("SELECT user_id, question_index FROM challenge_answers").fetchall()
        assert answered == [(fans[3].id, 0)]


# --- start-up with a database that cannot be written -----------------------------------------


async def run_bot(database_path: Path, log: Path) -> tuple[int, str]:
    """The real bot process (forked from the test zygote) with DATABASE_PATH, obeying file
    modes even as root (tests/readonly.py); nothing listens at the API address, and no network
    is needed to fail. Its exit code and everything it printed (into a new file `log`)."""
    env = {k: v for k, v in os.environ.items() if k != "DATA_DIR"}
    env.update(
        DISCORD_TOKEN="x" * 24 + ".fake.token",
        DATABASE_PATH=str(database_path),
        DISCORD_API_BASE="http://127.0.0.1:9/api/v10",
        LOG_LEVEL="INFO",
    )
    process = await Zygote.get().spawn("bot", [], env, log, obey_file_modes=True)
    return await process.wait(), await asyncio.to_thread(log.read_text)


def assert_clean_config_error(code: int, output: str) -> None:
    assert code == 2, output
    assert "Traceback" not in output and 'File "' not in output, output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("DATABASE_PATH"), lines
    assert ".env.example" in lines[0]


async def test_a_read_only_folder_is_a_clear_one_line_error(tmp_path: Path) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        # SQLite cannot create the file. Three times: a traceback printed by a database
        # thread racing the shutdown would not show every time.
        for n in range(3):
            log = tmp_path / f"bot{n}.log"
            assert_clean_config_error(*await run_bot(folder / "lwa.sqlite3", log))
        assert not (folder / "lwa.sqlite3").exists()
        # …and a folder still to be created inside it.
        log = tmp_path / "bot-subfolder.log"
        assert_clean_config_error(*await run_bot(folder / "db" / "lwa.sqlite3", log))
    finally:
        folder.chmod(0o755)


async def test_a_path_under_a_regular_file_is_a_clear_one_line_error(tmp_path: Path) -> None:
    regular = tmp_path / "notes.txt"
    regular.write_text("not a folder")
    assert_clean_config_error(*await run_bot(regular / "lwa.sqlite3", tmp_path / "bot.log"))
    assert regular.read_text() == "not a folder"


# --- a database from an older version ----------------------------------------------------------


async def test_a_schema_1_database_is_migrated_and_keeps_its_rows(
    emulator: Emulator, bot_factory: Any, tmp_path: Path
) -> None:
    guild = emulator.add_guild("Love Wins All")
    channel = guild.text_channels[0]
    path = tmp_path / "old.sqlite3"
    wanted = [q.id for q in dataset().quotes[:3]]
    key = rotation.filter_key("quote", speaker="", search="")
    old = sqlite3.connect(path, isolation_level=None)
    old.executescript((MIGRATIONS_DIR / "001_init.sql").read_text(encoding="utf-8"))
    old.execute("PRAGMA user_version = 1")
    old.execute(
        "INSERT INTO shuffle_bags (scope_id, kind, filter_key, remaining, last_id,"
        " updated_at) VALUES (?, 'quote', ?, ?, NULL, '2024-01-24T00:00:00+00:00')",
        (channel.id, key, json.dumps(wanted)),
    )
    old.close()
    before = path.read_bytes()
    shutil.copy(path, tmp_path / "backup.sqlite3")
    assert before

    await bot_factory(database_path=path)
    with database(path) as db:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        bag = db.execute(
            "SELECT remaining FROM shuffle_bags WHERE scope_id = ?", (channel.id,)
        ).fetchone()
        tables = {t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert version == max(n for n, _ in migrations())
    assert json.loads(bag[0]) == wanted  # the row came through untouched
    assert {"trivia_games", "trivia_scores", "schedules", "schedule_runs"} <= tables

    fan = emulator.add_member(guild, "fan")
    reply = await (await emulator.slash(guild, channel, fan, "quote")).response()
    assert shown_id(reply) == wanted[0]  # the old bag is the one in use
    board = await (await emulator.slash(guild, channel, fan, "trivia leaderboard")).response()
    assert not board.is_ephemeral


async def recorded_message(path: Path, message_id: int) -> None:
    """Wait until the running game's question message is recorded in the database."""
    for _ in range(250):
        with database(path) as db:
            if db.execute(
                "SELECT 1 FROM trivia_games WHERE current_message = ?", (message_id,)
            ).fetchone():
                return
        await asyncio.sleep(0.02)
    raise AssertionError(f"message {message_id} was never recorded as the game's question")


async def test_stopping_a_game_while_its_write_waits_for_the_database_leaves_it_usable(
    emulator: Emulator, bot: BotProcess
) -> None:
    """/trivia stop comes while the game's task waits for BEGIN to return (the database is
    busy). The stop waits for that write rather than cutting it off, then ends the game; the
    transaction must not stay open on the shared connection, or every later write fails."""
    guild = emulator.guilds[0]
    channel = guild.text_channels[0]
    fan = emulator.add_member(guild, "fan")
    await start_game(emulator, guild, channel, fan, questions=2, seconds=10)
    question = await emulator.wait_for_message(channel, is_question(1, 2), timeout=10)
    assert bot.clock is not None
    await recorded_message(bot.database_path, question.id)  # the game waits on nothing now
    with database(bot.database_path) as db:
        db.execute("BEGIN EXCLUSIVE")
        bot.clock.advance(10)  # the question closes: its reveal is shown, and its record waits
        await emulator.wait_for_edit(question, lambda m: not is_live_question(m), timeout=10)
        await asyncio.sleep(0.3)  # the reveal's BEGIN is waiting for the database
        stop = await emulator.slash(guild, channel, fan, "trivia stop")
        await asyncio.sleep(1.0)  # the stop waits for the game task, itself waiting on BEGIN
        db.execute("ROLLBACK")
    final = await stop.original(timeout=10)
    assert not final.is_ephemeral and "Final standings" in final.text, final.text
    assert not is_live_question(emulator.messages[question.id])
    for _ in range(2):  # writes after it: shuffle bag draws, a new game
        reply = await (await emulator.slash(guild, channel, fan, "quote")).response()
        assert not reply.is_ephemeral, reply.embeds
    await start_game(emulator, guild, channel, fan, questions=1, seconds=10)
    with database(bot.database_path) as db:
        states = dict(db.execute("SELECT id, state FROM trivia_games"))
    assert sorted(states.values()) == ["running", "stopped"], states
