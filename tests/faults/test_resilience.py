"""A fault costs at most the work it touches, never the bot's other work (issue: faults must not
stop the bot's work). Each test is one finding of a hostile test of the running bot: a locked,
full or read-only database, a row this host cannot use, fans reporting at once, a crafted
button, the database file deleted under the bot.

The database lives on a small disk of its own (tests/faults/disk.py) where a test fills it up or
makes it read-only; the bot runs on a clock the test holds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.services.games import REVEAL_PAUSE_SECONDS, SAVE_RETRY_SECONDS
from tests.e2e.helpers import all_text, moderator, posts, run
from tests.fakediscord.botproc import BotProcess
from tests.fakediscord.emulator import Emulator

from .disk import small_disk
from .helpers import (
    add_schedule,
    choice_buttons,
    click_answer,
    database,
    early_in_a_minute,
    is_question,
    place,
    poll_until,
    question_of,
    revealed,
    running_games,
    scores,
    start_game,
    wrong_label,
)

BUSY_TIMEOUT = 5.0  # the store's busy timeout, in seconds (bot/store/sqlite.py)


def database_rows(bot: BotProcess, sql: str) -> list[Any]:
    with database(bot.database_path) as db:
        return db.execute(sql).fetchall()


# --- 1. one database error must not stop every scheduled post ---------------------------------


async def test_a_lock_held_across_the_due_minute_delays_the_post_but_stops_nothing(
    emulator: Emulator, bot: BotProcess
) -> None:
    guild, channel, mod = place(emulator)
    later = emulator.add_channel(guild, "later")
    await asyncio.sleep(0.3)
    early_in_a_minute(bot)
    await add_schedule(emulator, bot, guild, mod, channel, 2)
    _, second_due = await add_schedule(emulator, bot, guild, mod, later, 3)
    assert bot.clock is not None

    with database(bot.database_path) as db:
        db.execute("BEGIN EXCLUSIVE")  # another program, longer than the busy timeout
        bot.clock.set(second_due - dt.timedelta(minutes=1))  # the first one is due
        # Bounds, not waits: generous for a machine busy with the rest of the suite.
        await bot.wait_for_log("scheduled posts: error", timeout=BUSY_TIMEOUT + 15)
        db.execute("ROLLBACK")
    first = await emulator.wait_for_message(channel, lambda m: bool(m.embeds), timeout=20)
    assert first.embed["author"]["name"] == "Daily quote"

    bot.clock.set(second_due)  # the dispatcher lives on: the next schedule posts on time
    await emulator.wait_for_message(later, lambda m: bool(m.embeds), timeout=20)
    listed = all_text(await run(emulator, guild, channel, mod, "schedule list"))
    assert "failing" not in listed and "paused" not in listed
    assert "dispatcher stopped" not in bot.logs()


async def test_a_full_disk_at_the_due_minute_delays_the_post_but_stops_nothing(
    emulator: Emulator, bot_factory: Any, tmp_path: Path
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        bot: BotProcess = await bot_factory(database_path=disk.folder / "lwa.sqlite3")
        guild, channel, mod = place(emulator)
        _, due = await add_schedule(emulator, bot, guild, mod, channel, 2)
        assert bot.clock is not None
        disk.fill()
        bot.clock.set(due)
        await bot.wait_for_log("cannot be written: the disk is full")
        await bot.wait_for_log("scheduled posts: error")
        assert posts(emulator, channel) == []
        disk.free()
        bot.clock.advance(2)  # the dispatcher's pause after the failed round
        post = await emulator.wait_for_message(channel, lambda m: bool(m.embeds), timeout=10)
        assert post.embed["author"]["name"] == "Daily quote"
        await bot.wait_for_log("can be written again")
        await bot.stop()


# --- 2. one bad row must not stop everyone's posts --------------------------------------------


async def test_a_schedule_this_host_cannot_use_is_paused_and_the_others_post(
    emulator: Emulator, bot: BotProcess
) -> None:
    guild, channel, mod = place(emulator)
    moved = emulator.add_channel(guild, "moved")
    await asyncio.sleep(0.3)
    early_in_a_minute(bot)  # both due in the same minute
    _, due = await add_schedule(emulator, bot, guild, mod, channel, 2)
    bad, _ = await add_schedule(emulator, bot, guild, mod, moved, 2)
    with database(bot.database_path) as db:  # as if made on a host that knew this zone
        db.execute("UPDATE schedules SET timezone = 'Mars/Olympus' WHERE id = ?", (bad,))
    assert bot.clock is not None
    bot.clock.set(due)
    post = await emulator.wait_for_message(channel, lambda m: bool(m.embeds), timeout=10)
    assert post.embed["author"]["name"] == "Daily quote"
    assert posts(emulator, moved) == []

    listed = all_text(await run(emulator, guild, channel, mod, "schedule list"))
    assert f"#{bad}" in listed and "paused" in listed and "Mars/Olympus" in listed
    refused = await run(emulator, guild, channel, mod, "schedule resume", id=bad)
    assert "Mars/Olympus" in refused["description"] and "remove" in refused["description"]
    # Names that are not regions are refused where a timezone is asked.
    for typed in ("localtime", "Factory", "posix/Asia/Seoul"):
        refused = await run(emulator, guild, channel, mod, "settings timezone", tz=typed)
        assert "don't know the timezone" in refused["description"], typed
        refused = await run(
            emulator,
            guild,
            channel,
            mod,
            "schedule add",
            channel=channel,
            content="fact",
            time="09:00",
            timezone=typed,
        )
        assert "don't know the timezone" in refused["description"], typed


# --- 3. reports are never lost ------------------------------------------------------------------


async def test_three_fans_report_one_question_at_once_and_across_a_restart(
    emulator: Emulator, bot: BotProcess
) -> None:
    guild = emulator.guilds[0]
    channel = guild.text_channels[0]
    fans = [emulator.add_member(guild, f"fan{n}") for n in range(4)]
    mods = moderator(emulator, guild)
    await start_game(emulator, guild, channel, fans[0], questions=1, seconds=10)
    message = await emulator.wait_for_message(channel, is_question(1, 1), timeout=10)
    assert bot.clock is not None
    bot.clock.advance(10)
    shown = await emulator.wait_for_edit(message, revealed, timeout=10)
    label = "What is wrong with this question?"

    forms = [await emulator.click(shown, "Report a problem", fan) for fan in fans]
    for form in forms:
        assert (await form.response()).type == 9  # a modal each
    submitted = await asyncio.gather(
        *(
            emulator.submit_modal(form, {label: f"Problem seen by {fan.name}"}, fan)
            for form, fan in zip(forms[:3], fans[:3], strict=True)
        )
    )
    for answer in submitted:
        thanks = await answer.response()
        assert thanks.is_ephemeral and "Thank you" in thanks.embeds[0]["description"]

    await bot.restart()  # the fourth form was open all along
    late = await emulator.submit_modal(forms[3], {label: "Problem seen by fan3"}, fans[3])
    assert "Thank you" in (await late.response()).embeds[0]["description"]

    listed = await (await emulator.slash(guild, channel, mods, "trivia reports")).response()
    text = listed.embeds[0]["description"]
    assert all(f"Problem seen by {fan.name}" in text for fan in fans), text


# --- 4, 5. trivia stays true to the database ------------------------------------------------------


async def test_an_answer_that_cannot_be_saved_is_not_locked_in_and_can_be_given_again(
    emulator: Emulator, bot_factory: Any, tmp_path: Path
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        bot: BotProcess = await bot_factory(database_path=disk.folder / "lwa.sqlite3")
        guild = emulator.guilds[0]
        channel = guild.text_channels[0]
        fan = emulator.add_member(guild, "fan")
        await start_game(emulator, guild, channel, fan, questions=1, seconds=30)
        question = await emulator.wait_for_message(channel, is_question(1, 1), timeout=10)
        answer = question_of(question).answer
        await poll_until(  # the bot has recorded the question's message: the disk may fill now
            lambda: bool(
                database_rows(bot, "SELECT 1 FROM trivia_games WHERE current_message IS NOT NULL")
            ),
            5,
            "the question's message to be recorded",
        )

        disk.fill()
        refused = await click_answer(emulator, question, fan, answer)
        assert "storage is busy or unavailable" in refused and "Locked in" not in refused
        disk.free()
        again = await click_answer(emulator, question, fan, answer)
        assert "Locked in" in again  # not "you already answered": nothing was kept

        assert bot.clock is not None
        bot.clock.advance(30)
        await emulator.wait_for_edit(question, revealed, timeout=10)
        await emulator.wait_for_message(channel, lambda m: "Final standings" in m.text)
        mine = [
            correct
            for (_, _, user), (correct, _) in scores(bot.database_path).items()
            if user == fan.id
        ]
        assert mine == [1]  # scored once, as right
        await bot.stop()


async def test_a_reveal_that_cannot_be_saved_ends_the_game_visibly_and_frees_the_channel(
    emulator: Emulator, bot_factory: Any, tmp_path: Path
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        bot: BotProcess = await bot_factory(database_path=disk.folder / "lwa.sqlite3")
        assert bot.clock is not None
        guild = emulator.guilds[0]
        channel = guild.text_channels[0]
        fan = emulator.add_member(guild, "fan")
        await start_game(emulator, guild, channel, fan, questions=3, seconds=10)
        first = await emulator.wait_for_message(channel, is_question(1, 3), timeout=10)
        assert "Locked in" in await click_answer(emulator, first, fan, question_of(first).answer)
        bot.clock.advance(10)
        await emulator.wait_for_edit(first, revealed, timeout=10)
        bot.clock.advance(REVEAL_PAUSE_SECONDS)
        second = await emulator.wait_for_message(channel, is_question(2, 3), timeout=10)
        assert "Locked in" in await click_answer(emulator, second, fan, question_of(second).answer)

        disk.fill()
        # The question's end, then the pauses between tries to save: the clock moves on until
        # the game says it had to stop (a move made before the bot sleeps would be lost).
        for _ in range(100):
            bot.clock.advance(10)
            await asyncio.sleep(0.2)
            if any("had to stop" in m.text for m in emulator.channel_messages(channel)):
                break
        stopped = await emulator.wait_for_message(
            channel, lambda m: "had to stop" in m.text, timeout=10
        )
        assert stopped.allowed_mentions == {"parse": []}
        assert revealed(emulator.messages[second.id])  # no live buttons left behind

        disk.free()
        again = await (
            await emulator.slash(guild, channel, fan, "trivia play", questions=1, seconds=10)
        ).response()
        assert not again.is_ephemeral, again.embeds  # the channel is free
        await emulator.wait_for_message(channel, is_question(1, 1), after=stopped.id, timeout=10)
        bot.clock.advance(10)
        await emulator.wait_for_message(
            channel, lambda m: "Final standings" in m.text, after=stopped.id, timeout=10
        )
        await bot.restart()  # and nothing of the stopped game comes back to be counted again
        await asyncio.sleep(0.5)
        board = scores(bot.database_path)
        assert sorted(k[1] for k in board if k[2] == fan.id) == [0]  # question 1 only
        assert not [m for m in emulator.channel_messages(channel) if "restarted" in m.text], (
            "the stopped game was taken up again"
        )
        await bot.stop()


async def test_a_reveal_discord_did_not_answer_is_shown_again_not_left_with_live_buttons(
    emulator: Emulator, bot: BotProcess
) -> None:
    """Discord answers the reveal's edit with a server error: the bot tries it again a moment
    later, so the question does not keep live buttons while its points are already counted."""
    guild = emulator.guilds[0]
    channel = emulator.add_channel(guild, "reveal-retry")
    fan = emulator.add_member(guild, "fan")
    await start_game(emulator, guild, channel, fan, questions=1, seconds=10)
    question = await emulator.wait_for_message(channel, is_question(1, 1), timeout=10)
    assert "Locked in" in await click_answer(emulator, question, fan, question_of(question).answer)
    emulator.inject_error("PATCH", "/channels/{channel_id}/messages/{message_id}", 503)
    assert bot.clock is not None
    bot.clock.advance(10)
    await bot.wait_for_log("could not show the reveal of trivia game", timeout=10)
    bot.clock.advance(SAVE_RETRY_SECONDS)
    shown = await emulator.wait_for_edit(question, revealed, timeout=10)
    assert question_of(question).answer in shown.text
    assert emulator.stats["PATCH /channels/{channel_id}/messages/{message_id}"] >= 2


# --- 6, 10. the database cannot be written, or its file disappears -------------------------------


async def test_the_log_says_once_when_the_database_cannot_be_written_and_when_it_can_again(
    emulator: Emulator, bot_factory: Any, tmp_path: Path
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        bot: BotProcess = await bot_factory(database_path=disk.folder / "lwa.sqlite3")
        guild = emulator.guilds[0]
        channel = guild.text_channels[0]
        fan = emulator.add_member(guild, "fan")
        disk.fill()
        for _ in range(3):  # each fan gets a kind answer; the operator gets one log line
            reply = await (await emulator.slash(guild, channel, fan, "quote")).response()
            assert (
                reply.is_ephemeral
                and "storage is busy or unavailable" in reply.embeds[0]["description"]
            )
            # the bot's own problem, said as such, not as the fan's mistake
            assert reply.embeds[0]["title"] == "Sorry, something went wrong on my side"
        assert bot.this_run().count("cannot be written: the disk is full") == 1
        disk.free()
        reply = await (await emulator.slash(guild, channel, fan, "quote")).response()
        assert not reply.is_ephemeral
        await bot.wait_for_log("can be written again")
        assert "Traceback" not in bot.this_run()
        await bot.stop()


@pytest.mark.parametrize("how", ["deleted", "replaced"])
async def test_the_log_says_loudly_when_the_database_file_is_deleted_or_replaced(
    emulator: Emulator, bot: BotProcess, how: str
) -> None:
    path = bot.database_path
    for suffix in ("", "-wal", "-shm"):
        os.unlink(f"{path}{suffix}")
    if how == "replaced":
        sqlite3.connect(path).close()
    assert bot.clock is not None
    bot.clock.advance(30)  # the bot looks at its file now and then
    await bot.wait_for_log(f"the database file {path} was {how} while the bot runs")


# --- 7. a daily question posted just before a crash is still revealed ---------------------------


@pytest.mark.parametrize("run", ["sent", "claimed"])
async def test_a_daily_question_posted_but_not_recorded_as_open_is_revealed_after_a_restart(
    emulator: Emulator, bot: BotProcess, run: str
) -> None:
    """The crash came after the question's post, before the game recorded it as open: with
    its run recorded as sent (as an earlier version recorded it first), or still claimed (the
    bot then finds the question in its channel by the game's buttons)."""
    guild, channel, mod = place(emulator)
    player = emulator.add_member(guild, "player")
    assert bot.clock is not None
    _, due = await add_schedule(emulator, bot, guild, mod, channel, 2, content="trivia")
    bot.clock.set(due)
    question = await emulator.wait_for_message(channel, lambda m: bool(m.buttons), timeout=10)
    asked = question_of(question)
    assert "Locked in" in await click_answer(emulator, question, player, asked.answer)

    def run_state() -> list[tuple[str]]:
        with database(bot.database_path) as db:
            return db.execute("SELECT state FROM schedule_runs").fetchall()

    await poll_until(lambda: run_state() == [("sent",)], 10, "the run to be recorded")
    await bot.kill()
    with database(bot.database_path) as db:
        db.execute(
            "UPDATE trivia_games SET opened_at = '[]', current_message = NULL WHERE kind = 'daily'"
        )
        db.execute("DELETE FROM trivia_answers")
        if run == "claimed":
            db.execute(
                "UPDATE schedule_runs SET state = 'claimed', message_id = NULL, sent_at = NULL"
            )

    await bot.start()
    bot.clock.advance(dt.timedelta(hours=1))
    shown = await emulator.wait_for_edit(question, revealed, timeout=10)
    assert asked.answer in shown.text
    assert not running_games(bot.database_path)
    assert len([m for m in posts(emulator, channel) if m.buttons]) == 1  # nothing re-posted


# --- 8. two /trivia stop at once ------------------------------------------------------------------


async def test_two_stops_at_once_stop_the_game_once(emulator: Emulator, bot: BotProcess) -> None:
    guild = emulator.guilds[0]
    channel = guild.text_channels[0]
    starter = emulator.add_member(guild, "starter")
    await start_game(emulator, guild, channel, starter, questions=3, seconds=30)
    await emulator.wait_for_message(channel, is_question(1, 3), timeout=10)
    stops = await asyncio.gather(
        emulator.slash(guild, channel, starter, "trivia stop"),
        emulator.slash(guild, channel, starter, "trivia stop"),
    )
    replies = [await s.response() for s in stops]
    assert sorted(r.is_ephemeral for r in replies) == [False, True]
    [final] = [r for r in replies if not r.is_ephemeral]
    assert final.embeds[0]["title"] == "Final standings"  # once
    [refused] = [r for r in replies if r.is_ephemeral]  # while it stops, or once it stopped
    said = refused.embeds[0]["description"]
    assert "already being stopped" in said or "no trivia game running" in said
    await asyncio.sleep(0.3)
    posted = posts(emulator, channel)
    assert not [m for m in posted if "Final standings" in m.text]


# --- 9. a button of another channel's game, or out of range ----------------------------------


async def test_a_crafted_button_is_refused_kindly(emulator: Emulator, bot: BotProcess) -> None:
    guild = emulator.guilds[0]
    channel = guild.text_channels[0]
    other_server = emulator.add_guild("Another server")
    elsewhere = other_server.text_channels[0]
    fan = emulator.add_member(guild, "fan")
    stranger = emulator.add_member(other_server, "stranger")
    await asyncio.sleep(0.3)
    await start_game(emulator, guild, channel, fan, questions=1, seconds=30)
    question = await emulator.wait_for_message(channel, is_question(1, 1), timeout=10)
    game_button = str(choice_buttons(question)[0]["custom_id"])
    crafted = emulator.craft_bot_message(elsewhere, [game_button])  # in another server
    click = await emulator.click(crafted, game_button, stranger)
    reply = await click.response()
    assert reply.is_ephemeral and "another channel" in reply.embeds[0]["description"]

    game, index = game_button.split(":")[2:4]
    out_of_range = [f"lwa:t:{game}:{index}:7", f"lwa:t:{game}:9:0"]
    here = emulator.craft_bot_message(channel, out_of_range)
    for custom_id in out_of_range:
        click = await emulator.click(here, custom_id, fan)
        reply = await click.response()
        assert reply.is_ephemeral and "not one of this game's answers" in str(reply.embeds)
    assert "Traceback" not in bot.logs()
    wrong = wrong_label(question, question_of(question))
    assert "Locked in" in await click_answer(emulator, question, fan, wrong)  # all still works
