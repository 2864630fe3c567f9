"""Discord's REST API misbehaves during a trivia game: 429 storms (per route and global, on
message create and on interaction callbacks), 500/502 bursts, and a response lost after
Discord created the message (what a timeout looks like). The bot retries within bounds,
posts nothing twice and loses nothing."""

from __future__ import annotations

from tests.fakediscord.botproc import BotProcess
from tests.fakediscord.emulator import ApiError, Emulator

from .helpers import (
    click_answer,
    is_question,
    poll_until,
    question_of,
    revealed,
    start_game,
    wrong_label,
)

MESSAGES = "/channels/{channel_id}/messages"
CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"


def lose_responses(
    emulator: Emulator, method: str, template: str, count: int, status: int = 502
) -> None:
    """The next `count` requests are carried out, but the bot gets `status` instead of the
    answer: a gateway timeout after Discord did the work. Only a nonce makes a retry safe."""

    async def lost(result: object) -> object:
        emulator.stats["responses:lost"] += 1
        raise ApiError(status, 0, f"{status}: the response was lost")

    emulator.after_handling(method, template, lost, count)


async def test_a_game_survives_429_storms_server_errors_and_lost_responses(
    emulator: Emulator, bot: BotProcess
) -> None:
    guild = emulator.guilds[0]
    channel = guild.text_channels[0]
    fans = [emulator.add_member(guild, "fan1"), emulator.add_member(guild, "fan2")]

    # The question meets a 429 of its route's bucket, then a global one, then Discord creates
    # it but the answer is lost: the retry must not post it twice.
    emulator.inject_429("POST", MESSAGES, count=1, retry_after=0.4)
    emulator.inject_429("POST", MESSAGES, count=1, retry_after=0.4, is_global=True)
    lose_responses(emulator, "POST", MESSAGES, count=1)
    await start_game(emulator, guild, channel, fans[0], questions=1, seconds=10)
    question = await emulator.wait_for_message(channel, is_question(1, 1), timeout=10)
    await poll_until(
        lambda: emulator.stats["nonce:deduplicated"] == 1, 10, "the retry of the question"
    )
    assert emulator.stats["429:injected"] == 2 and emulator.stats["responses:lost"] == 1

    # The "locked in" replies meet 429s too, of the route and global ones; still in time.
    emulator.inject_429("POST", CALLBACK, count=2, retry_after=0.3)
    assert "Locked in" in await click_answer(
        emulator, question, fans[0], question_of(question).answer
    )
    emulator.inject_429("POST", CALLBACK, count=1, retry_after=0.3, is_global=True)
    assert "Locked in" in await click_answer(
        emulator, question, fans[1], wrong_label(question, question_of(question))
    )
    assert emulator.stats["429:injected"] == 5

    # The reveal's edit meets a 502, the final standings a 500 then a 502.
    emulator.inject_error("PATCH", "/channels/{channel_id}/messages/{message_id}", 502, count=1)
    emulator.inject_error("POST", MESSAGES, status=500, count=1)
    emulator.inject_error("POST", MESSAGES, status=502, count=1)
    assert bot.clock is not None
    bot.clock.advance(10)  # the question's time is up
    final = await emulator.wait_for_message(
        channel, lambda m: "Final standings" in m.text, timeout=30
    )
    assert emulator.stats["errors:injected"] == 3
    assert revealed(emulator.messages[question.id])

    lines = final.embed["description"].splitlines()
    assert f"<@{fans[0].id}>" in lines[0] and "1/1 correct" in lines[0], lines
    assert f"<@{fans[1].id}> (0/1)" in lines[1] and "No points" in lines[1], lines
    titles = [m.embed.get("title", "") for m in emulator.channel_messages(channel) if m.embeds]
    for title in ("Question 1/1", "Final standings"):
        assert sum(t.startswith(title) for t in titles) == 1, titles  # each posted once
    # Retried within bounds: 4 tries for the question, 3 for the standings.
    assert emulator.stats[f"POST {MESSAGES}"] == 7
    board = await (await emulator.slash(guild, channel, fans[1], "trivia leaderboard")).response()
    text = board.embeds[0]["description"]
    assert f"<@{fans[0].id}>" in text and "1 correct" in text
    assert f"<@{fans[1].id}>" not in text  # no points, not ranked
