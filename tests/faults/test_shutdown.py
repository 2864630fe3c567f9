"""SIGTERM in the middle of a trivia game: exit 0, and the game is closed at the next start
with the revealed points intact (SPEC §2 shutdown, §4). The schedule-burst case is in
test_crash_schedules.py."""

from __future__ import annotations

from bot.services.games import REVEAL_PAUSE_SECONDS
from tests.fakediscord.botproc import BotProcess
from tests.fakediscord.emulator import Emulator

from .helpers import (
    click_answer,
    is_question,
    question_of,
    revealed,
    running_games,
    scores,
    start_game,
    wrong_label,
)


async def test_sigterm_during_a_game_exits_0_and_the_restart_closes_it(
    emulator: Emulator, bot: BotProcess
) -> None:
    guild = emulator.guilds[0]
    channel = guild.text_channels[0]
    fan, other = emulator.add_member(guild, "fan"), emulator.add_member(guild, "other")
    await start_game(emulator, guild, channel, fan, questions=3, seconds=10)
    q1 = await emulator.wait_for_message(channel, is_question(1, 3), timeout=10)
    assert "Locked in" in await click_answer(emulator, q1, fan, question_of(q1).answer)
    assert "Locked in" in await click_answer(emulator, q1, other, wrong_label(q1, question_of(q1)))
    assert bot.clock is not None
    bot.clock.advance(10)  # question 1's time is up
    await emulator.wait_for_edit(q1, revealed, timeout=20)
    bot.clock.advance(REVEAL_PAUSE_SECONDS)
    q2 = await emulator.wait_for_message(channel, is_question(2, 3), timeout=10)
    assert "Locked in" in await click_answer(emulator, q2, other, question_of(q2).answer)
    revealed_points = scores(bot.database_path)
    assert len(revealed_points) == 2  # question 1: both fans

    assert await bot.stop() == 0  # SIGTERM
    run = bot.logs().split("===== start #1")[-1]
    assert "Traceback" not in run and "stopped cleanly" in run

    await bot.start()
    notice = await emulator.wait_for_message(channel, lambda m: "restarted" in m.text, timeout=10)
    assert "ended after question 2 of 3" in notice.text
    assert revealed(emulator.messages[q2.id])  # no live buttons left behind
    after = scores(bot.database_path)
    assert {k: v for k, v in after.items() if k in revealed_points} == revealed_points
    assert len(after) == 3  # plus the answer locked in on question 2, once
    assert not running_games(bot.database_path)
    lines = notice.embed["description"].splitlines()
    assert any(f"<@{other.id}>" in line and "1/2 correct" in line for line in lines), lines
    assert any(f"<@{fan.id}>" in line and "1/1 correct" in line for line in lines), lines
