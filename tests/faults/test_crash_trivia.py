"""kill -9 during trivia games, at seeded random points, 20 times (SPEC §4, §7).

"Locked in" means the answer is on disk: whatever the moment the process dies, every answer a
fan was told was locked in ends up on the leaderboard exactly once when the game is closed at
the next start, and no question is left with live buttons.

The bot's clock runs 8 times as fast here, so the random points fall anywhere in a game
(a question open, its reveal, the pause, the next question being posted), not only in the
first question. The 20 kills are 4 runs of 5, with their own seeds, which can run side by side.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fakediscord.botproc import BotProcess
from tests.fakediscord.clock import BotClock
from tests.fakediscord.emulator import Emulator
from tests.fakediscord.interactions import Interaction
from tests.fakediscord.models import Channel, Member, Message

from .helpers import (
    choice_buttons,
    click_answer,
    database,
    game_and_index,
    is_question,
    live_questions,
    poll_until,
    question_of,
    revealed,
    running_games,
    scores,
    slow_responses,
    start_game,
)

SEED = 20240124  # the day "Love wins all" came out
RUNS, KILLS = 4, 5  # 20 kills in all
SPEED = 8.0  # the bot's clock: a 10 s question lasts 1.25 s


@dataclass
class Click:
    interaction: Interaction
    fan: Member
    game: int
    index: int
    correct: bool

    @property
    def locked_in(self) -> bool:
        cb = self.interaction.callback
        return cb is not None and "Locked in" in str(cb.embeds[0].get("description", ""))


async def keep_clicking(
    emulator: Emulator,
    channels: list[Channel],
    fans: list[Member],
    rng: random.Random,
    clicks: list[Click],
    stop: asyncio.Event,
) -> None:
    """Fans answer every live question as soon as they see it, each once."""
    tried: set[tuple[int, int]] = set()
    while not stop.is_set():
        for message in live_questions(emulator, channels):
            for fan in fans:
                if (message.id, fan.id) in tried or stop.is_set():
                    continue
                tried.add((message.id, fan.id))
                button = rng.choice([b for b in choice_buttons(message) if not b.get("disabled")])
                game, index, _ = game_and_index(button)
                try:
                    inter = await emulator.click(message, str(button["custom_id"]), fan)
                except AssertionError:  # revealed meanwhile, or no gateway session right now
                    continue
                correct = button["label"] == question_of(message).answer
                clicks.append(Click(inter, fan, game, index, correct))
        await asyncio.sleep(rng.uniform(0.01, 0.1))


async def play_until_killed(
    emulator: Emulator,
    bot: BotProcess,
    channels: list[Channel],
    fans: list[Member],
    rng: random.Random,
    clicks: list[Click],
) -> None:
    guild = emulator.guilds[0]
    for channel in channels:  # a game in every channel, without waiting for the replies
        await emulator.slash(
            guild, channel, rng.choice(fans), "trivia play", questions=3, seconds=10
        )
    stop = asyncio.Event()
    clicker = asyncio.create_task(keep_clicking(emulator, channels, fans, rng, clicks, stop))
    try:
        await asyncio.sleep(rng.uniform(0.0, 2.5))  # the random point
        await bot.kill()
    finally:
        stop.set()
        await clicker


async def recover(
    emulator: Emulator, bot: BotProcess, channels: list[Channel], rng: random.Random
) -> None:
    """Restart on the same database; now and then die again while recovering."""
    if rng.random() < 0.2:
        await bot.start(wait_ready=False)
        await asyncio.sleep(rng.uniform(0.05, 0.6))  # start-up, closing the interrupted games
        await bot.kill()
    await bot.start()
    await emulator.wait_until(
        lambda: not live_questions(emulator, channels),
        10,
        "every open question to be revealed after the restart",
    )
    await poll_until(
        lambda: not running_games(bot.database_path), 10, "every interrupted game to be closed"
    )


@pytest.mark.parametrize("run", range(RUNS))
async def test_kill_9_at_random_points_of_trivia_games_loses_and_doubles_nothing(
    emulator: Emulator, bot_factory: Any, tmp_path: Path, run: int
) -> None:
    rng = random.Random(SEED + run)
    bot = await bot_factory(clock=BotClock(tmp_path / "fast.clock", speed=SPEED))
    guild = emulator.guilds[0]
    channels = [
        guild.text_channels[0],
        emulator.add_channel(guild, "quiz-2"),
        emulator.add_channel(guild, "quiz-3"),
    ]
    fans = [emulator.add_member(guild, f"fan{n}") for n in range(4)]
    clicks: list[Click] = []

    for _ in range(KILLS):
        await play_until_killed(emulator, bot, channels, fans, rng, clicks)
        await recover(emulator, bot, channels, rng)

    locked = [c for c in clicks if c.locked_in]
    assert len(locked) >= 10, f"only {len(locked)} answers locked in: the test did not test much"
    board = scores(bot.database_path)
    for click in locked:  # nothing lost
        key = (click.game, click.index, click.fan.id)
        assert key in board, f"a locked-in answer is not on the leaderboard: {key}"
        correct, points = board[key]
        assert bool(correct) == click.correct, key
        assert (500 <= points <= 1000) if click.correct else points == 0, (key, points)
    with database(bot.database_path) as db:  # every score comes from one stored answer
        answers = set(db.execute("SELECT game_id, question_index, user_id FROM trivia_answers"))
    assert set(board) <= answers
    assert not [
        m
        for m in emulator.messages.values()
        if not m.deleted and choice_buttons(m) and not revealed(m)
    ], "a question was left with live buttons"

    # Nothing double-counted: what the bot shows equals the sum of the stored scores.
    for fan in fans:
        mine = [v for k, v in board.items() if k[2] == fan.id]
        stats = await (
            await emulator.slash(guild, channels[0], fans[0], "trivia stats", member=fan)
        ).response()
        shown = {f["name"]: f["value"] for f in stats.embeds[0]["fields"]}
        assert shown["Points"] == f"{sum(p for _, p in mine):,}", (fan.name, shown)
        assert shown["Answers"] == f"{sum(c for c, _ in mine)} right of {len(mine)}"

    # And the bot still plays after all that.
    await (
        await emulator.slash(guild, channels[0], fans[0], "trivia play", questions=1, seconds=10)
    ).response()
    question: Message = await emulator.wait_for_message(channels[0], is_question(1, 1), timeout=10)
    assert question.buttons


# --- the two narrow windows, widened so that the kill lands in them every time -------------

MESSAGES = "/channels/{channel_id}/messages"
MESSAGE = "/channels/{channel_id}/messages/{message_id}"


async def test_killed_between_posting_a_question_and_recording_it(
    emulator: Emulator, bot: BotProcess
) -> None:
    """Discord has the question (with live buttons) but the database does not know its message
    yet: the next start gets the message back by posting it again with the same nonce, and
    closes it."""
    guild = emulator.guilds[0]
    channel = guild.text_channels[0]
    fan = emulator.add_member(guild, "fan")
    emulator.inject_429("POST", MESSAGES, count=1, retry_after=1.0)  # holds the question back
    await start_game(emulator, guild, channel, fan, questions=2, seconds=10)
    with database(bot.database_path) as db:
        # The question is recorded as open before it is posted; once it is, hold the
        # database so that recording its message has to wait.
        await poll_until(
            lambda: (
                db.execute("SELECT opened_at FROM trivia_games WHERE state = 'running'").fetchone()
                not in (None, ("[]",))
            ),
            5,
            "the first question to be recorded as open",
        )
        db.execute("BEGIN EXCLUSIVE")  # the question's message id waits for this writer
        question = await emulator.wait_for_message(channel, is_question(1, 2), timeout=10)
        await asyncio.sleep(0.3)
        await bot.kill()
        db.execute("ROLLBACK")
    await bot.start()
    await emulator.wait_until(
        lambda: revealed(emulator.messages[question.id]),
        5,
        "the question posted before the crash to be closed",
    )
    assert not running_games(bot.database_path)
    assert (
        len(
            [
                m
                for m in emulator.channel_messages(channel)
                if m.embeds and m.embed.get("title", "").startswith("Question 1/")
            ]
        )
        == 1
    )  # not posted twice


async def test_an_answer_locked_in_before_its_question_was_recorded_survives_a_kill(
    emulator: Emulator, bot: BotProcess
) -> None:
    """Discord is slow to confirm the question: fans see it and answer before the bot has
    recorded it. Their "locked in" must hold through a crash right then."""
    guild = emulator.guilds[0]
    channel = guild.text_channels[0]
    fan = emulator.add_member(guild, "fan")
    slow_responses(emulator, "POST", MESSAGES, seconds=3.0)
    await start_game(emulator, guild, channel, fan, questions=2, seconds=10)
    question = await emulator.wait_for_message(channel, is_question(1, 2), timeout=10)
    reply = await click_answer(emulator, question, fan, question_of(question).answer)
    if "Locked in" in reply:  # the bot took it: it has to keep it
        await bot.kill()
        await bot.start()
        await emulator.wait_until(
            lambda: revealed(emulator.messages[question.id]),
            5,
            "the question to be closed after the restart",
        )
        board = scores(bot.database_path)
        assert board.get((*_game_index(question), fan.id), (0, 0))[0] == 1, board
    else:  # or it may say the question is not open yet, and mean it
        await bot.kill()
        await bot.start()
        await emulator.wait_until(
            lambda: revealed(emulator.messages[question.id]),
            5,
            "the question to be closed after the restart",
        )
    assert not running_games(bot.database_path)


async def test_killed_between_scoring_a_reveal_and_showing_it(
    emulator: Emulator, bot: BotProcess
) -> None:
    """The reveal that closes an interrupted game at start-up is held back by a long 429 on
    its edit; the process dies again meanwhile. The next start must still show it."""
    guild = emulator.guilds[0]
    channel = guild.text_channels[0]
    fan = emulator.add_member(guild, "fan")
    await start_game(emulator, guild, channel, fan, questions=2, seconds=10)
    question = await emulator.wait_for_message(channel, is_question(1, 2), timeout=10)
    assert "Locked in" in await click_answer(emulator, question, fan, question_of(question).answer)
    await bot.kill()

    emulator.inject_429("PATCH", MESSAGE, count=1, retry_after=3.0)
    await bot.start(wait_ready=False)
    await poll_until(lambda: emulator.stats["429:injected"] >= 1, 15, "the reveal to be under way")
    await asyncio.sleep(0.3)
    await bot.kill()

    await bot.start()
    await emulator.wait_until(
        lambda: revealed(emulator.messages[question.id]),
        10,
        "question 1 to be revealed after the restart",
    )
    assert question_of(question).answer in emulator.messages[question.id].text
    board = scores(bot.database_path)
    assert len(board) == 1 and board[(*_game_index(question), fan.id)][0] == 1
    assert not running_games(bot.database_path)


def _game_index(message: Message) -> tuple[int, int]:
    game, index, _ = game_and_index(choice_buttons(message)[0])
    return game, index
