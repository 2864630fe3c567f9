"""The trivia runner's /trivia stop against a real SQLite file, a fake clock and a fake channel.

A stop must never cancel a request in flight: discord.py's HTTP client, cancelled while it
sleeps out a global rate limit, never lets any later request of the process through.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.domain.clock import FakeClock
from bot.domain.dataset import load_dataset
from bot.domain.records import GameRecord
from bot.domain.refusal import Refusal
from bot.domain.trivia import GameState, OpenQuestion, Recap, Rematch, Reveal, Standing
from bot.i18n import Language, render
from bot.services.content import ContentService
from bot.services.games import Notice, TriviaRunner
from bot.store.sqlite import SQLiteStore
from tests.dataset_factory import write_dataset

START = dt.datetime(2024, 3, 4, 12, 0, tzinfo=dt.UTC)
CHANNEL = 222


@dataclass
class SlowChannel:
    """A TriviaChannel whose question posts wait until the test lets them through."""

    let_through: asyncio.Event = field(default_factory=asyncio.Event)
    posting: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled_posts: int = 0
    posted: list[str] = field(default_factory=list)  # nonces
    closed: list[int] = field(default_factory=list)  # question indexes
    revealed: list[int] = field(default_factory=list)

    async def post_question(self, game: GameRecord, question: OpenQuestion, nonce: str) -> int:
        self.posting.set()
        try:
            await self.let_through.wait()
        except asyncio.CancelledError:
            self.cancelled_posts += 1
            raise
        if nonce not in self.posted:
            self.posted.append(nonce)
        return 5000 + self.posted.index(nonce)

    async def show_reveal(
        self,
        game: GameRecord,
        message_id: int,
        reveal: Reveal,
        total: int,
        streaks: Mapping[int, int],
    ) -> None:
        self.revealed.append(reveal.index)

    async def close_question(
        self, game: GameRecord, message_id: int, question: OpenQuestion
    ) -> None:
        self.closed.append(question.index)

    async def post_standings(
        self,
        game: GameRecord,
        standings: list[Standing],
        recap: Recap,
        note: Notice | None,
        rematch: Rematch | None,
    ) -> None:
        raise AssertionError("a stopped game's standings are the stop's reply, not a post")

    async def post_notice(self, game: GameRecord, notice: Notice) -> None:
        raise AssertionError(f"unexpected notice: {notice}")


@pytest.fixture
async def runner(tmp_path: Path) -> AsyncIterator[tuple[TriviaRunner, SlowChannel, FakeClock]]:
    clock = FakeClock(START)
    dataset = load_dataset(write_dataset(tmp_path / "data"))
    store = SQLiteStore(tmp_path / "lwa.sqlite3")
    await store.open()
    rng = random.Random(5)
    channel = SlowChannel()
    games = TriviaRunner(
        store=store,
        dataset=dataset,
        content=ContentService(dataset, store, clock, rng),
        clock=clock,
        rng=rng,
        channel=channel,
        grace=dt.timedelta(minutes=60),
    )
    try:
        yield games, channel, clock
    finally:
        channel.let_through.set()
        await games.shutdown()
        await store.close()


async def start(games: TriviaRunner) -> GameRecord:
    return await games.start_game(
        guild_id=111,
        channel_id=CHANNEL,
        starter_id=7,
        difficulty="mixed",
        count=2,
        seconds=20,
    )


async def state(games: TriviaRunner, record: GameRecord) -> str:
    stored = await games.store.game(record.id)
    assert stored is not None
    return stored.state


async def test_a_stop_during_a_post_lets_the_post_finish_then_reveals_the_question(
    runner: tuple[TriviaRunner, SlowChannel, FakeClock],
) -> None:
    games, channel, _ = runner
    record = await start(games)
    await asyncio.wait_for(channel.posting.wait(), 5)  # the first question is on its way
    _, live = await games.game_here(CHANNEL) or pytest.fail("no game here")

    stop = asyncio.create_task(games.stop_game(live))
    await asyncio.sleep(0.05)
    assert not stop.done()  # it waits for the post rather than cutting it off
    channel.let_through.set()
    standings = await asyncio.wait_for(stop, 5)

    assert channel.cancelled_posts == 0
    assert channel.posted == [f"lwa-t{record.id}-0"]
    assert channel.closed == [] and channel.revealed == [0]  # revealed like any other
    assert standings == []
    assert await games.game_here(CHANNEL) is None
    assert await state(games, record) == GameState.STOPPED


async def test_a_stop_while_answers_are_open_ends_the_game_without_waiting_for_the_clock(
    runner: tuple[TriviaRunner, SlowChannel, FakeClock],
) -> None:
    games, channel, clock = runner
    channel.let_through.set()
    record = await start(games)
    for _ in range(100):  # until the runner waits for the answers
        if clock.sleepers:
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("the runner never waited for the answers")
    _, live = await games.game_here(CHANNEL) or pytest.fail("no game here")

    await asyncio.wait_for(games.stop_game(live), 5)  # the clock never moved

    assert clock.now() == START
    assert channel.closed == [] and channel.revealed == [0]  # revealed like any other
    assert await state(games, record) == GameState.STOPPED


async def test_the_runners_refusals_are_words_of_the_catalogue_in_either_language(
    runner: tuple[TriviaRunner, SlowChannel, FakeClock],
) -> None:
    games, channel, _ = runner
    channel.let_through.set()
    record = await start(games)
    with pytest.raises(Refusal) as running:
        await start(games)  # a second game in the channel
    assert running.value.message == "trivia.play.running"
    assert render(running.value.message, Language.EN, **running.value.params) == (
        "A game is already running in this channel (started by <@7>, question 1 of 2). "
        "Join in, or start yours in another channel when it ends."
    )
    assert render(running.value.message, Language.KO, **running.value.params).startswith(
        "이 채널에서는 이미 게임이 진행 중이에요(<@7> 님이 시작, 2문제 중 1번째)."
    )
    with pytest.raises(Refusal) as too_few:
        await games.start_game(
            guild_id=111,
            channel_id=CHANNEL + 1,
            starter_id=7,
            difficulty="easy",
            count=3,
            seconds=20,
        )
    assert too_few.value.message == "trivia.play.not_enough.one"  # one easy question
    assert render(too_few.value.message, Language.KO).startswith("조건에 맞는 문제가 1개뿐이에요.")
    with pytest.raises(Refusal) as elsewhere:
        await games.answer(
            game_id=record.id, index=0, choice=0, user_id=8, channel_id=CHANNEL + 1, guild_id=111
        )
    assert elsewhere.value.message == "trivia.answer.other_channel"
