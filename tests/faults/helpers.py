"""Shared helpers of the fault-tolerance tests: trivia messages, the bot's database, timing."""

# The helpers take `timeout=` arguments, like the emulator's driver.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bot.domain.models import Question
from bot.domain.schedule import ALL_DAYS, PostKind, run_nonce
from bot.store.base import Store
from tests.e2e.helpers import NO_PINGS, dataset, moderator, run, schedule_id
from tests.fakediscord.botproc import BotProcess
from tests.fakediscord.emulator import Emulator
from tests.fakediscord.models import Channel, Guild, Member, Message

CHOICE_PREFIX = "lwa:t:"  # the custom_id of a trivia answer button: lwa:t:<game>:<index>:<choice>


def question_of(message: Message) -> Question:
    text = message.embed["description"]
    return next(q for q in dataset().questions if q.question == text)


def choice_buttons(message: Message) -> list[dict[str, Any]]:
    return [b for b in message.buttons if str(b.get("custom_id", "")).startswith(CHOICE_PREFIX)]


def is_live_question(message: Message) -> bool:
    """A trivia question someone can still click."""
    return any(not b.get("disabled") for b in choice_buttons(message))


def is_question(n: int, total: int) -> Callable[[Message], bool]:
    return lambda m: (
        bool(m.embeds) and m.embed.get("title") == f"Question {n}/{total}" and is_live_question(m)
    )


def revealed(message: Message) -> bool:
    buttons = choice_buttons(message)
    return bool(buttons) and all(b.get("disabled") for b in buttons)


def game_and_index(button: dict[str, Any]) -> tuple[int, int, int]:
    _, _, game, index, choice = str(button["custom_id"]).split(":")
    return int(game), int(index), int(choice)


def live_questions(emulator: Emulator, channels: list[Channel] | None = None) -> list[Message]:
    """Every message the bot posted that still has a clickable answer button."""
    wanted = {c.id for c in channels} if channels is not None else None
    return [
        m
        for m in emulator.messages.values()
        if not m.deleted and (wanted is None or m.channel_id in wanted) and is_live_question(m)
    ]


async def start_game(
    emulator: Emulator, guild: Guild, channel: Channel, member: Member, **options: Any
) -> None:
    inter = await emulator.slash(guild, channel, member, "trivia play", **options)
    reply = await inter.response(timeout=10)
    assert not reply.is_ephemeral, reply.embeds
    assert reply.data["allowed_mentions"] == NO_PINGS
    assert inter.latency is not None and inter.latency < 3


async def click_answer(
    emulator: Emulator, message: Message, member: Member, label: str, timeout: float = 10
) -> str:
    """Click an answer; the ephemeral reply's text (it must come within 3 s)."""
    click = await emulator.click(message, label, member)
    reply = await click.response(timeout=timeout)
    assert reply.is_ephemeral
    assert click.latency is not None and click.latency < 3, click.latency
    return str(reply.embeds[0]["description"])


def wrong_label(message: Message, question: Question) -> str:
    return next(b["label"] for b in choice_buttons(message) if b["label"] != question.answer)


@contextlib.contextmanager
def database(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection on the bot's database (WAL: reads while the bot writes)."""
    db = sqlite3.connect(path, timeout=10, isolation_level=None)
    try:
        yield db
    finally:
        db.close()


def scores(path: Path) -> dict[tuple[int, int, int], tuple[int, int]]:
    """(game, question index, user) -> (correct, points): the leaderboard's rows."""
    with database(path) as db:
        rows = db.execute(
            "SELECT game_id, question_index, user_id, correct, points FROM trivia_scores"
        ).fetchall()
    return {(g, i, u): (c, p) for g, i, u, c, p in rows}


def running_games(path: Path) -> list[int]:
    with database(path) as db:
        return [
            r[0]
            for r in db.execute(
                "SELECT id FROM trivia_games WHERE state = 'running' AND kind = 'game'"
            )
        ]


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


async def eventually(
    check: Callable[[], Awaitable[bool]], what: str, timeout: float = 20.0
) -> None:
    """For conditions only an awaited read tells (a row in PostgreSQL)."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


async def poll_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """For conditions no emulator event announces (a 429 served, a database row)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


def slow_responses(
    emulator: Emulator, method: str, template: str, seconds: float, count: int = 1
) -> None:
    """The next `count` requests are carried out at once (the message exists, fans can see and
    click it), but their answer reaches the bot only `seconds` later: a slow Discord."""

    async def slow(result: Any) -> Any:
        emulator.stats["responses:slow"] += 1
        await asyncio.sleep(seconds)
        return result

    emulator.after_handling(method, template, slow, count)


# --- scheduled posts ----------------------------------------------------------------------------


def place(emulator: Emulator) -> tuple[Guild, Channel, Member]:
    """The first server, its first channel and a moderator there."""
    guild = emulator.guilds[0]
    return guild, guild.text_channels[0], moderator(emulator, guild)


def early_in_a_minute(bot: BotProcess) -> None:
    """Move the bot's clock to 5 s past the next minute, so that schedules added right after
    (`add_schedule`, due whole minutes from now) fall due in the minutes the test expects,
    however slowly a busy machine runs the test."""
    assert bot.clock is not None
    bot.clock.set((bot.clock.now() + dt.timedelta(minutes=1)).replace(second=5, microsecond=0))


async def add_schedule(
    emulator: Emulator,
    bot: BotProcess,
    guild: Guild,
    mod: Member,
    channel: Channel,
    minutes: int,
    content: str = "quote",
) -> tuple[int, dt.datetime]:
    """A daily post (a quote by default) due `minutes` from the bot's now (UTC), added as a
    moderator does; its id and due time."""
    assert bot.clock is not None
    due = (bot.clock.now() + dt.timedelta(minutes=minutes)).replace(second=0, microsecond=0)
    added = await run(
        emulator,
        guild,
        channel,
        mod,
        "schedule add",
        channel=channel,
        content=content,
        time=due.strftime("%H:%M"),
        timezone="UTC",
    )
    return schedule_id(added), due


async def add_due_schedules(
    store: Store,
    channels: Sequence[Channel],
    count: int,
    *,
    due: dt.datetime,
    contents: Sequence[str],
) -> dict[str, int]:
    """`count` daily posts due at `due`, in turn in `channels` and of `contents`, written
    straight into the bot's database while it is down; {nonce: schedule id}."""
    added: dict[str, int] = {}
    for n in range(count):
        channel = channels[n % len(channels)]
        assert channel.guild_id is not None  # a guild channel (for mypy)
        record = await store.add_schedule(
            guild_id=channel.guild_id,
            channel_id=channel.id,
            content=PostKind(contents[n % len(contents)]),
            local_time=due.time(),
            timezone="UTC",
            days=ALL_DAYS,
            role_id=None,
            next_run_at=due,
            created_by=1,
            created_at=due,
            limit=10_000,
        )
        added[run_nonce(record.id, due)] = record.id
    return added
