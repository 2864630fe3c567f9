"""When PostgreSQL stumbles (issue #19): nothing lost, doubled or stuck, and no fan left without
an answer.

The real bot runs on PostgreSQL through a relay the test holds (`tests/faults/pgrelay.py`):
it resets connections in the middle of a burst, hangs without closing anything (a partition),
or loses the connection around one chosen statement. Each test here failed on the bot of
53ac1e9, the commit these findings were seen on.
"""

# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from bot.app import IDENTIFY_MARGIN, IDENTIFY_SPACING
from bot.domain.schedule import run_nonce
from bot.store.postgres import PostgresStore
from tests.e2e.helpers import all_text, posts, run
from tests.fakediscord.botproc import BotProcess
from tests.fakediscord.emulator import Emulator
from tests.fakediscord.fixtures import BotFactory
from tests.fakediscord.models import Channel, Guild, Member
from tests.faults.helpers import (
    add_due_schedules,
    add_schedule,
    choice_buttons,
    click_answer,
    early_in_a_minute,
    eventually,
    is_live_question,
    is_question,
    place,
    poll_until,
    question_of,
    revealed,
    start_game,
)
from tests.faults.pgrelay import PgRelay
from tests.shared import closed_port
from tests.store.postgres import fetch, fresh_database

MARK_SENT = "SET state = 'sent'"  # the statement that records a run as sent
READ_BAG = "FROM shuffle_bags"  # the read of a shuffle bag


@pytest.fixture
async def pg() -> AsyncIterator[tuple[str, PgRelay]]:
    """A fresh database and a relay to it (asked for first, so both outlive the bots)."""
    async with fresh_database() as url, PgRelay.to(url) as relay:
        yield url, relay


async def bot_on(pg: tuple[str, PgRelay], bot_factory: BotFactory, **env: str) -> BotProcess:
    url, relay = pg
    return await bot_factory(extra_env={"DATABASE_URL": relay.url(url), **env})


async def run_states(url: str) -> list[str]:
    return [r["state"] for r in await fetch(url, "SELECT state FROM schedule_runs ORDER BY due_at")]


async def runs_become(url: str, *states: str, timeout: float = 15.0) -> None:
    """Until the runs' states (by due time) are `states`."""

    async def there() -> bool:
        return await run_states(url) == list(states)

    await eventually(there, f"the runs to be {list(states)}", timeout)


async def until_rows(url: str, sql: str, count: int) -> None:
    async def enough() -> bool:
        return len(await fetch(url, sql)) >= count

    await eventually(enough, f"{count} rows of: {sql}", 10)


async def start_again(bot: BotProcess) -> None:
    """Start the bot again after its turn to IDENTIFY (5 s of its clock after the last one,
    a turn kept in the database), without waiting for it in real time."""
    assert bot.clock is not None
    bot.clock.advance(IDENTIFY_SPACING + IDENTIFY_MARGIN)
    await bot.start()


async def schedule_soon(
    emulator: Emulator, bot: BotProcess, where: tuple[Guild, Channel, Member], content: str
) -> tuple[int, dt.datetime]:
    """A daily post due at the start of the bot's next minute but one; its id and due time."""
    guild, channel, mod = where
    early_in_a_minute(bot)
    return await add_schedule(emulator, bot, guild, mod, channel, 1, content)


# --- 1. the connection lost while a daily question is recorded as sent ------------------------


async def test_a_daily_question_whose_sent_record_is_lost_is_still_answered_and_revealed(
    emulator: Emulator, pg: tuple[str, PgRelay], bot_factory: BotFactory
) -> None:
    url, relay = pg
    bot = await bot_on(pg, bot_factory)
    where = place(emulator)
    guild, channel, _ = where
    player = emulator.add_member(guild, "player")
    _, due = await schedule_soon(emulator, bot, where, "trivia")
    lost = relay.abort_on(MARK_SENT)
    assert bot.clock is not None
    bot.clock.set(due)
    question = await emulator.wait_for_message(channel, lambda m: bool(m.buttons), timeout=10)
    await poll_until(lambda: lost.aborted == 1, 10, "the record of the post to be lost")
    asked = question_of(question)
    # The game goes on: the answer counts (it would be "this question is closed").
    assert "Locked in" in await click_answer(emulator, question, player, asked.answer)
    await runs_become(url, "sent")
    bot.clock.advance(dt.timedelta(hours=1))
    shown = await emulator.wait_for_edit(question, revealed, timeout=10)
    assert asked.answer in shown.text
    await until_rows(url, "SELECT user_id, correct, points FROM trivia_scores", 1)
    [score] = await fetch(url, "SELECT user_id, correct, points FROM trivia_scores")
    assert (score["user_id"], score["correct"]) == (player.id, 1) and score["points"] > 0
    assert len([m for m in posts(emulator, channel) if choice_buttons(m)]) == 1


# --- 2. the connection lost once while a scheduled quote's bag is read --------------------------


async def test_a_post_whose_bag_could_not_be_read_goes_out_a_moment_later(
    emulator: Emulator, pg: tuple[str, PgRelay], bot_factory: BotFactory
) -> None:
    url, relay = pg
    bot = await bot_on(pg, bot_factory)
    where = place(emulator)
    channel = where[1]
    schedule, due = await schedule_soon(emulator, bot, where, "quote")
    lost = relay.abort_on(READ_BAG)
    assert bot.clock is not None
    bot.clock.set(due)
    post = await emulator.wait_for_message(channel, lambda m: bool(m.embeds), timeout=10)
    assert lost.aborted == 1
    assert post.nonce == run_nonce(schedule, due)
    await runs_become(url, "sent")
    assert len(posts(emulator, channel)) == 1


# --- 3. a post whose "sent" record was lost, and a restart ten minutes later -------------------


async def test_a_post_whose_record_was_lost_is_not_posted_again_ten_minutes_later(
    emulator: Emulator, pg: tuple[str, PgRelay], bot_factory: BotFactory
) -> None:
    url, relay = pg
    bot = await bot_on(pg, bot_factory)
    where = place(emulator)
    channel = where[1]
    _, due = await schedule_soon(emulator, bot, where, "quote")
    lost = relay.abort_on(MARK_SENT, times=1000)  # it never gets recorded before the crash
    assert bot.clock is not None
    bot.clock.set(due)
    await emulator.wait_for_message(channel, lambda m: bool(m.embeds), timeout=10)
    await poll_until(lambda: lost.aborted >= 1, 10, "the record of the post to be lost")
    await bot.kill()
    assert await run_states(url) == ["claimed"]
    relay.clear_rules()
    emulator.forget_nonces()  # ten minutes on, Discord no longer knows the nonce
    bot.clock.advance(dt.timedelta(minutes=10))
    await bot.start()
    await runs_become(url, "sent")
    [post] = posts(emulator, channel)
    [(message_id,)] = await fetch(url, "SELECT message_id FROM schedule_runs")
    assert message_id == post.id
    assert "was already posted" in bot.this_run()


# --- 4. connections reset again and again during a burst of posts ----------------------------


async def due_now(url: str, channels: list[Channel], count: int) -> dict[str, int]:
    """`count` daily posts due a minute ago (quotes, facts, on this day, and a daily question
    every tenth), straight into the database; {nonce: schedule id}."""
    kinds = ("quote", "fact", "onthisday", "quote", "fact", "onthisday", "quote", "fact", "quote")
    due = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(minutes=1)
    store = PostgresStore(url)
    await store.open(check_writable=False)
    try:
        return await add_due_schedules(store, channels, count, due=due, contents=(*kinds, "trivia"))
    finally:
        await store.close()


async def test_resets_during_a_burst_of_60_posts_lose_and_double_nothing(
    emulator: Emulator, pg: tuple[str, PgRelay], bot_factory: BotFactory
) -> None:
    url, relay = pg
    bot = await bot_on(pg, bot_factory, POST_RATE_PER_SECOND="50")
    guild = emulator.guilds[0]
    channels = [guild.text_channels[0], *(emulator.add_channel(guild, f"d{n}") for n in range(5))]
    fan = emulator.add_member(guild, "fan")
    await bot.kill()
    due = await due_now(url, channels, 60)
    await start_again(bot)

    def sent() -> int:
        return sum(1 for c in channels for m in posts(emulator, c))

    for _ in range(6):  # the connections reset every few posts, all through the burst
        enough = min(sent() + 6, 60)
        await poll_until(lambda: sent() >= enough, 20, "more posts")  # noqa: B023
        relay.reset()
    await runs_become(url, *["sent"] * 60, timeout=30)
    by_nonce = Counter(str(m.nonce) for c in channels for m in posts(emulator, c))
    assert {n: k for n, k in by_nonce.items() if k > 1} == {}, "a run was posted twice"
    assert set(by_nonce) == set(due), "a run was lost"
    assert relay.aborted == 0 and relay.connections > 1

    # The daily questions of the burst are answered and revealed once: points counted once.
    questions = [m for c in channels for m in posts(emulator, c) if choice_buttons(m)]
    assert len(questions) == 6
    for question in questions:
        assert "Locked in" in await click_answer(
            emulator, question, fan, question_of(question).answer
        )
    relay.reset()
    assert bot.clock is not None
    bot.clock.advance(dt.timedelta(hours=1))
    for question in questions:
        await emulator.wait_for_edit(question, revealed, timeout=20)
    await until_rows(url, "SELECT game_id FROM trivia_scores", 6)
    scored = await fetch(url, "SELECT game_id, user_id, points FROM trivia_scores")
    assert len(scored) == 6 and len({r["game_id"] for r in scored}) == 6
    [(total,)] = await fetch(
        url, "SELECT points FROM trivia_totals WHERE user_id = $1 AND period = 'all'", fan.id
    )
    assert total == sum(r["points"] for r in scored)


# --- 5. PostgreSQL hangs, nothing closes: every command still answers in time -----------------


@pytest.mark.xdist_group("timing")
async def test_a_hanging_database_never_costs_an_interaction(
    emulator: Emulator, pg: tuple[str, PgRelay], bot_factory: BotFactory
) -> None:
    _, relay = pg
    await bot_on(pg, bot_factory)
    guild, channel, mod = place(emulator)
    fan = emulator.add_member(guild, "fan")
    asked: list[tuple[Member, str, dict[str, Any]]] = [
        (fan, "trivia leaderboard", {}),
        (fan, "trivia stats", {}),
        (fan, "trivia play", {"questions": 1}),
        (fan, "onthisday", {}),
        (mod, "schedule list", {}),
        (mod, "settings check", {}),
        (mod, "settings timezone", {"tz": "KST"}),
    ]
    with relay.stalled():  # a partition: for longer than Discord waits for an answer
        interactions = await asyncio.gather(
            *(emulator.slash(guild, channel, who, name, **options) for who, name, options in asked)
        )
        # Suggestions cannot be deferred: none, in time, rather than an answer Discord drops.
        suggested = await emulator.autocomplete(
            guild, channel, mod, "schedule remove", focused="id", value=""
        )
        assert suggested == []
        await asyncio.sleep(1.2)  # 3.2 s in all since the commands came
    for interaction in interactions:
        await interaction.response(timeout=5)
        assert interaction.latency is not None and interaction.latency < 3, interaction.latency
    for (_, name, _), interaction in zip(asked, interactions, strict=True):
        answer = await interaction.original(timeout=15)
        assert answer.embeds, name
        assert "storage is busy" not in answer.text, name  # it waited for the database
    assert emulator.late_callbacks == []


# --- the database does not answer while the bot starts -----------------------------------------


async def test_a_database_lost_at_start_up_is_a_log_line_and_the_games_are_recovered_after(
    emulator: Emulator, pg: tuple[str, PgRelay], bot_factory: BotFactory
) -> None:
    """A game was under way when the bot stopped; as it starts again, the database loses the
    connection of the query that finds the running games. The bot connects anyway, says so in
    one line, and closes the game (revealing its open question) once the database answers."""
    _, relay = pg
    bot = await bot_on(pg, bot_factory)
    guild, channel, _ = place(emulator)
    fan = emulator.add_member(guild, "fan")
    await start_game(emulator, guild, channel, fan, questions=3, seconds=30)
    question = await emulator.wait_for_message(channel, is_question(1, 3), timeout=10)
    await bot.kill()
    lost = relay.abort_on("FROM trivia_games WHERE state = 'running'", times=2)
    await start_again(bot)
    await bot.wait_for_log("could not recover the trivia games a restart interrupted")
    assert bot.clock is not None
    for _ in range(50):  # the retries' pauses (1 s, then 2 s of the bot's clock)
        bot.clock.advance(2)
        await asyncio.sleep(0.1)
        if any("restarted during this game" in m.text for m in posts(emulator, channel)):
            break
    await emulator.wait_for_message(channel, lambda m: "restarted during this game" in m.text)
    assert lost.aborted == 2
    assert revealed(emulator.messages[question.id])
    assert "Traceback" not in bot.this_run()


# --- 6. two daily questions of one server revealed at the same minute -------------------------


async def test_two_daily_questions_at_the_same_minute_both_count_in_the_streak(
    emulator: Emulator, pg: tuple[str, PgRelay], bot_factory: BotFactory
) -> None:
    bot = await bot_on(pg, bot_factory)
    where = place(emulator)
    guild, first, mod = where
    second = emulator.add_channel(guild, "second")
    fan = emulator.add_member(guild, "fan")
    _, due = await schedule_soon(emulator, bot, where, "trivia")
    await run(
        emulator,
        guild,
        second,
        mod,
        "schedule add",
        channel=second,
        content="trivia",
        time=due.strftime("%H:%M"),
        timezone="UTC",
    )
    assert bot.clock is not None
    bot.clock.set(due)
    for channel in (first, second):
        question = await emulator.wait_for_message(channel, is_live_question, timeout=10)
        assert "Locked in" in await click_answer(
            emulator, question, fan, question_of(question).answer
        )
    bot.clock.advance(dt.timedelta(hours=1))
    for channel in (first, second):
        [question] = [m for m in posts(emulator, channel) if choice_buttons(m)]
        await emulator.wait_for_edit(question, revealed, timeout=10)
    await until_rows(pg[0], "SELECT 1 FROM daily_streaks WHERE current = 2", 1)
    stats = await (await emulator.slash(guild, first, fan, "trivia stats")).response()
    assert "2 now · best 2" in all_text(stats.embeds[0])


# --- operators can see it: /metrics and /healthz -------------------------------------------------


async def test_operators_see_interactions_posts_and_the_database_in_metrics_and_healthz(
    emulator: Emulator, pg: tuple[str, PgRelay], bot_factory: BotFactory
) -> None:
    _, relay = pg
    port = closed_port()
    bot = await bot_on(pg, bot_factory, METRICS_PORT=str(port))
    base = f"http://127.0.0.1:{port}"
    where = place(emulator)
    guild, channel, _ = where
    fan = emulator.add_member(guild, "fan")
    _, due = await schedule_soon(emulator, bot, where, "quote")
    assert bot.clock is not None
    bot.clock.set(due)
    await emulator.wait_for_message(channel, lambda m: bool(m.embeds), timeout=10)
    await (await emulator.slash(guild, channel, fan, "quote")).response()
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as health:
            assert (health.status, await health.text()) == (200, "ok\n")

        async def scraped() -> str:
            async with http.get(f"{base}/metrics") as answer:
                assert answer.status == 200
                return await answer.text()

        await until_text(scraped, 'lwa_scheduled_posts_total{outcome="sent"} 1.0')
        metrics = await scraped()
        assert 'lwa_interactions_total{command="quote",outcome="ok"} 1.0' in metrics
        assert 'lwa_interactions_total{command="schedule add",outcome="ok"} 1.0' in metrics
        assert "lwa_interaction_ack_seconds_count 2.0" in metrics
        assert "lwa_store_healthy 1.0" in metrics and "lwa_shards_connected 1.0" in metrics
        assert str(fan.id) not in metrics and str(guild.id) not in metrics  # nobody's data

        with relay.stalled():  # the database hangs: the check says so, within its 2 s
            async with http.get(f"{base}/healthz") as health:
                assert health.status == 503
                assert "database: no answer" in await health.text()
        lost = relay.abort_on("FROM trivia_totals")  # the connection goes mid-statement
        await (await emulator.slash(guild, channel, fan, "trivia leaderboard")).response()
        assert lost.aborted == 1
        await until_text(scraped, 'lwa_store_errors_total{kind="lost_connection"}', absent="0.0")


async def until_text(
    read: Callable[[], Awaitable[str]], text: str, *, absent: str = "", timeout: float = 10.0
) -> None:
    """Until `read()` has a line with `text` (and without `absent`)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        lines = [line for line in (await read()).splitlines() if text in line]
        if lines and not (absent and all(absent in line for line in lines)):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"after {timeout}s no line with {text!r}: {lines}")
        await asyncio.sleep(0.05)
