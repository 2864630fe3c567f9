"""Shared helpers of the fault-tolerance tests: trivia messages, the bot's database, timing."""

# The helpers take `timeout=` arguments, like the emulator's driver.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bot.domain.models import Question
from tests.e2e.helpers import NO_PINGS, dataset
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
