"""The gateway connection drops in the middle of a trivia game (close codes 4000, 1000, 4009,
1001): the bot resumes or identifies again and the game carries on."""

from __future__ import annotations

from bot.app import IDENTIFY_SPACING
from tests.fakediscord.botproc import BotProcess
from tests.fakediscord.emulator import Emulator

from .helpers import click_answer, is_question, question_of, revealed, start_game, wrong_label


async def reconnect(emulator: Emulator, bot: BotProcess, code: int) -> None:
    """Close every gateway connection with `code` and wait until the bot is back."""
    readies, resumes = emulator.ready_count, emulator.resume_count
    mark = len(bot.this_run())
    await emulator.close_gateway(code)
    if code == 4000:  # the session stays resumable
        await emulator.wait_for_resume(after=resumes, timeout=15)
        assert emulator.ready_count == readies
    else:  # invalidated: RESUME is refused, the bot must IDENTIFY again, 5 s later
        assert bot.clock is not None
        await bot.wait_for_log("identifies in 0:00:05", after=mark)
        bot.clock.advance(IDENTIFY_SPACING.total_seconds())
        await emulator.wait_for_ready(after=readies, timeout=20)


async def test_the_game_carries_on_through_gateway_closes(
    emulator: Emulator, bot: BotProcess
) -> None:
    guild = emulator.guilds[0]
    channel = guild.text_channels[0]
    fans = [emulator.add_member(guild, "fan1"), emulator.add_member(guild, "fan2")]
    await start_game(emulator, guild, channel, fans[0], questions=2, seconds=13)

    q1 = await emulator.wait_for_message(channel, is_question(1, 2), timeout=10)
    for fan, code in zip(fans, (4000, 1000), strict=True):  # while question 1 is open
        await reconnect(emulator, bot, code)
        assert "Locked in" in await click_answer(emulator, q1, fan, question_of(q1).answer)
    assert bot.clock is not None
    bot.clock.advance(13)  # question 1's time is up
    await emulator.wait_for_edit(q1, revealed, timeout=20)

    await reconnect(emulator, bot, 4009)  # during the pause: question 2 is posted meanwhile
    q2 = await emulator.wait_for_message(channel, is_question(2, 2), timeout=20)
    assert "Locked in" in await click_answer(emulator, q2, fans[0], question_of(q2).answer)
    await reconnect(emulator, bot, 1001)  # while question 2 is open
    wrong = wrong_label(q2, question_of(q2))
    assert "Locked in" in await click_answer(emulator, q2, fans[1], wrong)
    bot.clock.advance(13)  # question 2's time is up

    final = await emulator.wait_for_message(
        channel, lambda m: "Final standings" in m.text, timeout=20
    )
    lines = final.embed["description"].splitlines()
    assert f"<@{fans[0].id}>" in lines[0] and "2/2 correct" in lines[0], lines
    assert f"<@{fans[1].id}>" in lines[1] and "1/2 correct" in lines[1], lines
    assert revealed(emulator.messages[q2.id])
    titles = [m.embed.get("title", "") for m in emulator.channel_messages(channel) if m.embeds]
    for n in (1, 2):  # every question asked once: nothing re-sent by the reconnects
        assert sum(t.startswith(f"Question {n}/2") for t in titles) == 1, titles
    board = await (await emulator.slash(guild, channel, fans[1], "trivia leaderboard")).response()
    assert f"<@{fans[0].id}>" in board.embeds[0]["description"]
    assert "2 correct" in board.embeds[0]["description"]
