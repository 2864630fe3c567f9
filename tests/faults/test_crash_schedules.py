"""kill -9 and SIGTERM during bursts of scheduled posts (SPEC §6: exactly once, grace window).

Schedules are written straight into the bot's database while the bot is down, due a minute ago
(inside `SCHEDULE_GRACE_MINUTES`) so they all fire the moment the bot starts, paced by
`POST_RATE_PER_SECOND`. Each run's post carries a deterministic nonce, which is how the test
counts posts per (schedule, due time). A run a killed bot may have sent is looked for in its
channel at the next start, so not even Discord's nonce memory is needed to post it once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.store.sqlite import SQLiteStore
from tests.fakediscord.botproc import BotProcess
from tests.fakediscord.emulator import Emulator
from tests.fakediscord.models import Channel

from .helpers import add_due_schedules, database, poll_until

SEED = 1183  # V's and IU's
RATE = "20"  # posts a second: a burst of 16 takes under a second
CONTENTS = ("quote", "fact", "onthisday")


async def due_schedules(
    path: Path, channels: list[Channel], count: int, late: dt.timedelta = dt.timedelta(minutes=1)
) -> list[tuple[int, str]]:
    """`count` schedules whose run fell due `late` ago; their (id, nonce)."""
    due = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - late
    store = SQLiteStore(path)
    await store.open()
    try:
        added = await add_due_schedules(store, channels, count, due=due, contents=CONTENTS)
    finally:
        await store.close()
    return [(schedule, nonce) for nonce, schedule in added.items()]


def run_states(path: Path) -> Counter[str]:
    with database(path) as db:
        return Counter(state for (state,) in db.execute("SELECT state FROM schedule_runs"))


def posts_by_nonce(emulator: Emulator, channels: list[Channel]) -> Counter[str]:
    return Counter(
        str(m.nonce)
        for c in channels
        for m in emulator.channel_messages(c)
        if m.interaction_id is None
    )


async def settle(emulator: Emulator, bot: BotProcess, expected: int) -> None:
    """Wait until every run is finished (sent or skipped)."""

    def done() -> bool:
        states = run_states(bot.database_path)
        return states["claimed"] == 0 and states["sent"] + states["skipped"] >= expected

    await poll_until(done, 30, f"{expected} scheduled runs to be finished")


def assert_exactly_once(
    emulator: Emulator, bot: BotProcess, channels: list[Channel], due: list[tuple[int, str]]
) -> None:
    posted = posts_by_nonce(emulator, channels)
    wanted = {nonce for _, nonce in due}
    assert {n: c for n, c in posted.items() if c > 1} == {}, "a run was posted twice"
    assert wanted - set(posted) == set(), "a run inside the grace window was never posted"
    assert set(posted) - wanted == set(), "a post nobody scheduled"
    with database(bot.database_path) as db:
        recorded = dict(db.execute("SELECT message_id, state FROM schedule_runs"))
    for channel in channels:
        for message in emulator.channel_messages(channel):
            if message.interaction_id is None:
                assert recorded.get(message.id) == "sent", f"post {message.id} not recorded"


@pytest.mark.xdist_group("timing")
async def test_kill_9_during_schedule_bursts_posts_every_run_exactly_once(
    emulator: Emulator, bot_factory: Any
) -> None:
    rng = random.Random(SEED)
    bot = await bot_factory(extra_env={"POST_RATE_PER_SECOND": RATE})
    guild = emulator.guilds[0]
    channels = [
        guild.text_channels[0],
        *(emulator.add_channel(guild, f"daily-{n}") for n in range(5)),
    ]
    fan = emulator.add_member(guild, "fan")
    due: list[tuple[int, str]] = []
    too_late = await due_schedules(bot.database_path, channels[:1], 1, late=dt.timedelta(hours=3))

    for _ in range(4):  # kill at a random point of each burst
        await bot.kill()
        due += await due_schedules(bot.database_path, channels, 16)
        await bot.start()
        await asyncio.sleep(rng.uniform(0.0, 1.2))
        await bot.kill()

    # Once more, with the kill exactly between a post and its record: the database is held
    # by another writer, so the sends that are out cannot be marked as sent.
    due += await due_schedules(bot.database_path, channels, 16)
    before = sum(posts_by_nonce(emulator, channels).values())
    await bot.start()
    await poll_until(
        lambda: sum(posts_by_nonce(emulator, channels).values()) > before, 10, "the burst to start"
    )
    with database(bot.database_path) as db:
        db.execute("BEGIN EXCLUSIVE")
        sent = db.execute("SELECT COUNT(*) FROM schedule_runs WHERE state = 'sent'").fetchone()[0]
        await poll_until(
            lambda: sum(posts_by_nonce(emulator, channels).values()) > sent,
            10,
            "a post that is not recorded yet",
        )
        await bot.kill()
        db.execute("ROLLBACK")

    await bot.start()
    replies = [await emulator.slash(guild, channels[0], fan, "quote") for _ in range(3)]
    await settle(emulator, bot, len(due) + 1)
    for reply in replies:  # the burst did not hold up the fans
        await reply.response()
        assert reply.latency is not None and reply.latency < 3
    assert_exactly_once(emulator, bot, channels, due)
    # The post that was out but not recorded was found in its channel, not sent again.
    assert "was already posted" in bot.this_run()
    assert emulator.stats["nonce:deduplicated"] == 0
    assert posts_by_nonce(emulator, channels)[too_late[0][1]] == 0  # outside the grace window
    assert run_states(bot.database_path)["skipped"] == 1


@pytest.mark.xdist_group("timing")
async def test_sigterm_during_a_schedule_burst_exits_0_and_nothing_doubles(
    emulator: Emulator, bot_factory: Any
) -> None:
    bot = await bot_factory(extra_env={"POST_RATE_PER_SECOND": RATE})
    guild = emulator.guilds[0]
    channels = [
        guild.text_channels[0],
        *(emulator.add_channel(guild, f"daily-{n}") for n in range(3)),
    ]
    await bot.kill()
    due = await due_schedules(bot.database_path, channels, 16)
    await bot.start()
    await poll_until(
        lambda: len(posts_by_nonce(emulator, channels)) >= 4, 10, "the burst to be under way"
    )
    assert await bot.stop() == 0
    assert "Traceback" not in bot.logs().split("===== start #2")[-1]
    assert run_states(bot.database_path)["sent"] < len(due)  # it did stop in the middle

    await bot.start()
    await settle(emulator, bot, len(due))
    assert_exactly_once(emulator, bot, channels, due)
