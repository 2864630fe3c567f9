"""Daily trivia questions (scheduled posts) through the real trivia runner, without Discord.

The scheduler may send a run again after a crash (same nonce, so Discord returns the message it
already has). The cog must then post the same game, not a new question that would not match
the message already in the channel.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.app import LoveWinsAllBot
from bot.config import load_settings
from bot.domain.clock import FakeClock
from bot.domain.dataset import load_dataset
from bot.domain.language import Language
from bot.domain.trivia import GameKind, TriviaGame, choice_text
from bot.posting.trivia import DiscordTriviaChannel
from bot.store.sqlite import SQLiteStore
from bot.ui import trivia as trivia_ui
from tests.dataset_factory import write_dataset

T0 = dt.datetime(2024, 1, 24, 9, 0, tzinfo=dt.UTC)
GUILD, CHANNEL = 10, 20


@dataclass
class Posted:
    id: int
    embed: discord.Embed
    labels: list[str]


async def started_bot(tmp_path: Path, clock: FakeClock) -> LoveWinsAllBot:
    settings = load_settings({"DISCORD_TOKEN": "x" * 40, "SCHEDULE_GRACE_MINUTES": "60"})
    store = SQLiteStore(tmp_path / "lwa.sqlite3")
    await store.open()
    bot = LoveWinsAllBot(
        settings, load_dataset(write_dataset(tmp_path / "data")), store, clock=clock
    )
    await bot.games.recover()  # as at start-up
    return bot


async def stopped(bot: LoveWinsAllBot) -> None:
    await bot.games.shutdown()  # cancels the pending reveal tasks
    await bot.store.close()


@pytest.fixture
async def clock() -> AsyncIterator[FakeClock]:
    yield FakeClock(T0)


DIRECTOR_CHOICES = ("Park Chan-wook", "Um Tae-hwa", "Na Hong-jin", "Bong Joon-ho")


async def unposted_daily_game(bot: LoveWinsAllBot, run_key: str) -> Any:
    """The game a first attempt at a scheduled run made before the process died, its post
    never recorded."""
    return await bot.store.create_game(
        guild_id=GUILD,
        channel_id=CHANNEL,
        starter_id=1,
        kind=GameKind.DAILY,
        difficulty="mixed",
        seconds=3600,
        question_ids=["t-director"],
        choices=[DIRECTOR_CHOICES],
        started_at=T0,
        run_key=run_key,
    )


async def post(bot: LoveWinsAllBot, posted: list[Posted], run_key: str) -> Posted:
    """The scheduler's post of a run's daily question, rendered as it would be (bot/posting.py):
    made, sent, then reported as posted."""
    game, question = await bot.games.prepare_daily(
        guild_id=GUILD, channel_id=CHANNEL, starter_id=1, run_key=run_key
    )
    embed = trivia_ui.question_embed(question, "Daily trivia question")
    view = trivia_ui.question_view(game.id, question)
    labels = [getattr(getattr(item, "item", item), "label", "") for item in view.children]
    posted.append(Posted(id=len(posted) + 1000, embed=embed, labels=labels))
    await bot.games.daily_posted(run_key, posted[-1].id)
    return posted[-1]


async def test_a_resent_run_posts_the_same_game(tmp_path: Path, clock: FakeClock) -> None:
    posted: list[Posted] = []
    bot = await started_bot(tmp_path, clock)
    # The first attempt made its game, then the process died before the post was recorded.
    first = await unposted_daily_game(bot, "run-1")
    await stopped(bot)

    clock.advance(60)
    bot = await started_bot(tmp_path, clock)  # within the grace window: left for the resend
    sent = await post(bot, posted, "run-1")
    assert sent.embed.description == "Who directed the music video?"
    assert sent.labels == list(DIRECTOR_CHOICES)
    record = await bot.store.game(first.id)
    # Open from when it was made: every post of it says the same closing time.
    assert record is not None and record.opened_at == (T0,)
    assert record.current_message == sent.id
    assert await bot.store.running_games() == [record]  # no second game was made

    # Sent again once more (its run not recorded as sent): still the same game, and still
    # one reveal pending.
    again = await post(bot, posted, "run-1")
    assert again.labels == sent.labels
    assert len(await bot.store.running_games()) == 1
    assert len([t for t in asyncio.all_tasks() if t.get_name().startswith("trivia-game")]) == 1
    await stopped(bot)


async def test_a_new_run_gets_a_new_game(tmp_path: Path, clock: FakeClock) -> None:
    posted: list[Posted] = []
    bot = await started_bot(tmp_path, clock)
    await post(bot, posted, "run-1")
    await post(bot, posted, "run-2")
    assert len(await bot.store.running_games()) == 2
    assert {p.embed.description for p in posted} == {
        "Who directed the music video?",
        "V sings on the song.",
    }  # least recently asked first
    await stopped(bot)


async def test_an_unposted_game_past_the_grace_window_is_closed(
    tmp_path: Path, clock: FakeClock
) -> None:
    bot = await started_bot(tmp_path, clock)
    game = await unposted_daily_game(bot, "run-9")
    await stopped(bot)
    clock.advance(dt.timedelta(minutes=61))  # the scheduler will skip that run now
    bot = await started_bot(tmp_path, clock)
    record = await bot.store.game(game.id)
    assert record is not None and record.state == "interrupted"
    await stopped(bot)


async def test_a_refused_post_voids_the_game_but_a_posted_one_is_never_voided(
    tmp_path: Path, clock: FakeClock
) -> None:
    bot = await started_bot(tmp_path, clock)
    await bot.games.prepare_daily(guild_id=GUILD, channel_id=CHANNEL, starter_id=1, run_key="r3")
    await bot.games.void_daily("r3")  # its channel refused the post
    assert await bot.store.running_games() == []
    assert bot.games.live == {}

    await post(bot, [], "r4")
    await bot.games.void_daily("r4")  # e.g. a run given up although its post went out
    [running] = await bot.store.running_games()
    assert running.run_key == "r4" and running.opened_at == (T0,)
    await stopped(bot)


async def test_a_daily_question_in_a_korean_server_is_posted_and_revealed_in_korean(
    tmp_path: Path, clock: FakeClock
) -> None:
    bot = await started_bot(tmp_path, clock)
    await bot.servers.set_language(GUILD, Language.KO)  # a moderator's /settings language ko
    game, opened = await bot.games.prepare_daily(
        guild_id=GUILD, channel_id=CHANNEL, starter_id=1, run_key="run-ko"
    )
    channel = bot.games.channel
    assert isinstance(channel, DiscordTriviaChannel)
    language = await channel.language(game)
    assert language is Language.KO
    await bot.servers.set_language(GUILD, Language.EN)
    assert await channel.language(game) is Language.KO  # a game keeps its language to the end

    question = opened.question
    embed = trivia_ui.question_embed(opened, "오늘의 퀴즈", language=language)
    assert embed.description == question.question_ko
    assert [f.name for f in embed.fields] == ["시간", "난이도"]
    view = trivia_ui.question_view(game.id, opened, language=language)
    buttons = [getattr(item, "item", item) for item in view.children]
    assert [getattr(b, "label", "") for b in buttons] == [
        choice_text(question, label, Language.KO) for label in opened.choices
    ]
    assert [getattr(b, "custom_id", "") for b in buttons] == [
        f"lwa:t:{game.id}:0:{n}" for n in range(len(opened.choices))
    ]  # the positions of the stored (English) choices, as ever

    # An hour later: revealed in Korean, with the fastest right answer and a daily streak.
    play = TriviaGame(
        game_id=game.id,
        channel_id=CHANNEL,
        starter_id=1,
        questions=[question],
        choices=[opened.choices],
        seconds=3600,
    )
    play.open_question(T0)
    play.answer(5, opened.choices.index(question.answer), T0 + dt.timedelta(minutes=1))
    reveal = play.reveal(T0 + dt.timedelta(hours=1))
    shown = trivia_ui.reveal_embed(reveal, 1, bot.dataset, True, {5: 3}, language=language)
    assert shown.title == "오늘의 퀴즈: 정답 공개"
    fields = {f.name: f.value for f in shown.fields}
    assert fields["정답"] == f"✅ **{question.answer_ko}**"
    assert fields["해설"] == question.explanation_ko
    assert fields["결과"] == (
        "1명 중 1명이 맞혔어요.\n가장 빨리 맞힌 사람: <@5> +992\n오늘의 퀴즈 연속 정답: <@5> 3일"
    )
    labels = {
        getattr(getattr(item, "item", item), "label", ""): getattr(
            getattr(item, "item", item), "style", None
        )
        for item in trivia_ui.reveal_view(game.id, reveal, language=language).children
    }
    assert labels[question.answer_ko] is discord.ButtonStyle.success
    assert "오류 신고" in labels
    await stopped(bot)
