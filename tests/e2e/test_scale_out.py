"""Past one machine (SPEC §8, issue #15): real bot processes that split the shards of one
emulator and share one PostgreSQL database.

Every process here runs on one clock file the test holds, so a schedule's minute, a question's
seconds and a process's turn to IDENTIFY come when the test moves the clock. The emulator's
IDENTIFY window (Discord's 5 s) is shrunk to a quarter of a second of real time: a process that
waits its turn is let through by moving the shared clock once that window has passed, so two
processes that IDENTIFY too close together still show up as a violation (op 9), which fails the
test at teardown.

Each test uses a fresh database (tests/store/postgres.py); without a PostgreSQL server they
skip with the reason, and `LWA_REQUIRE_POSTGRES=1` turns that into a failure.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.app import IDENTIFY_MARGIN, IDENTIFY_SPACING
from bot.domain.schedule import ALL_DAYS, PostKind, run_nonce
from bot.services.games import REVEAL_PAUSE_SECONDS
from bot.store.postgres import PostgresStore
from tests.e2e.helpers import moderator, posts, run, schedule_id, shown_id
from tests.fakediscord.botproc import REPO_ROOT, BotProcess
from tests.fakediscord.clock import BotClock
from tests.fakediscord.emulator import Emulator
from tests.fakediscord.fixtures import BotFactory
from tests.fakediscord.interactions import CallbackResponse, Interaction
from tests.fakediscord.models import Channel, Guild, Member, Message
from tests.faults.helpers import (
    eventually,
    is_live_question,
    is_question,
    poll_until,
    question_of,
    revealed,
    wrong_label,
)
from tests.store.postgres import fetch, fresh_database

SHARDS = 2
WINDOW = 0.25  # the emulator's IDENTIFY window per bucket, in real seconds (Discord: 5)
TURN_LOG = "for its turn to identify"  # what a process logs while it waits for its turn
CONTENTS = ("quote", "fact", "onthisday")


# --- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database (asked for first, so it is dropped after the bots stop)."""
    async with fresh_database() as url:
        yield url


def two_shards(emulator: Emulator) -> None:
    emulator.shard_count = SHARDS  # what GET /gateway/bot recommends
    emulator.max_concurrency = 1  # every shard in one IDENTIFY bucket: processes take turns
    emulator.identify_spacing = WINDOW


def shard_env(url: str, shard_ids: str, **more: str) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "SHARD_COUNT": str(SHARDS),
        "SHARD_IDS": shard_ids,
        **more,
    }


async def wait_in_turns(
    clock: BotClock, bots: list[BotProcess], ready: Callable[[BotProcess], Awaitable[object]]
) -> None:
    """Wait until `ready(bot)` for every one of `bots` (started without waiting). A process
    that waits for its IDENTIFY turn (5 s of the shared clock after the last one in its
    bucket, taken through the database) is let through by moving the clock, but only once the
    emulator's window for the IDENTIFY before it has passed in real time."""
    seen = [0] * len(bots)

    async def give_turns() -> None:
        while True:
            for n, bot in enumerate(bots):
                waits = bot.this_run().count(TURN_LOG)
                if waits > seen[n]:
                    seen[n] = waits
                    await asyncio.sleep(WINDOW + 0.15)
                    clock.advance(IDENTIFY_SPACING + IDENTIFY_MARGIN)
            await asyncio.sleep(0.02)

    turns = asyncio.create_task(give_turns())
    try:
        for bot in bots:
            await ready(bot)
    finally:
        turns.cancel()


def connected(emulator: Emulator) -> Callable[[BotProcess], Awaitable[object]]:
    """Ready as the emulator sees it: its shards IDENTIFYed and got their GUILD_CREATEs."""
    after = emulator.ready_count
    return lambda bot: bot.wait_ready(after=after)


async def idle(bot: BotProcess) -> None:
    """Ready as the bot sees it: its dispatcher looked at what is due and went to sleep."""
    await bot.wait_for_log("nothing due; next scheduled run")


async def start_processes(
    factory: BotFactory,
    clock: BotClock,
    envs: list[dict[str, str]],
    ready: Callable[[BotProcess], Awaitable[object]],
) -> list[BotProcess]:
    """Bot processes with these environments, all started at once on `clock`, each `ready`."""
    bots = [await factory(extra_env=env, clock=clock, wait_ready=False) for env in envs]
    await wait_in_turns(clock, bots, ready)
    return bots


async def start_again(clock: BotClock, emulator: Emulator, bot: BotProcess) -> None:
    ready = connected(emulator)
    await bot.start(wait_ready=False)
    await wait_in_turns(clock, [bot], ready)


async def run_states(url: str) -> Counter[str]:
    rows = await fetch(url, "SELECT state, COUNT(*) AS n FROM schedule_runs GROUP BY state")
    return Counter({str(r["state"]): int(r["n"]) for r in rows})


async def all_sent(url: str, count: int) -> None:
    async def done() -> bool:
        states = await run_states(url)
        return states["sent"] >= count and states["claimed"] == 0

    await eventually(done, f"{count} scheduled runs recorded as sent", timeout=30)


async def add_schedules(
    url: str, channels: list[Channel], count: int, due: dt.datetime
) -> dict[str, Channel]:
    """`count` daily schedules due at `due`, spread over `channels`, written straight into the
    database; {nonce of the run due then: its channel}."""
    store = PostgresStore(url)
    await store.open()
    try:
        added: dict[str, Channel] = {}
        for n in range(count):
            channel = channels[n % len(channels)]
            assert channel.guild_id is not None
            record = await store.add_schedule(
                guild_id=channel.guild_id,
                channel_id=channel.id,
                content=PostKind(CONTENTS[n % len(CONTENTS)]),
                local_time=due.time(),
                timezone="UTC",
                days=ALL_DAYS,
                role_id=None,
                next_run_at=due,
                created_by=1,
                created_at=due,
                limit=10_000,
            )
            added[run_nonce(record.id, due)] = channel
        return added
    finally:
        await store.close()


async def schedules_of(url: str, channels: list[Channel]) -> list[asyncpg.Record]:
    return await fetch(
        url,
        "SELECT id FROM schedules WHERE channel_id = ANY($1::bigint[])",
        [c.id for c in channels],
    )


def next_minute(clock: BotClock, minutes: int) -> dt.datetime:
    return (clock.now() + dt.timedelta(minutes=minutes)).replace(second=0, microsecond=0)


def posts_by_nonce(emulator: Emulator, channels: list[Channel]) -> Counter[str]:
    return Counter(str(m.nonce) for c in channels for m in posts(emulator, c))


def handled_by(bots: list[BotProcess], interaction: Interaction) -> list[int]:
    """Which processes received `interaction` (discord.py logs every gateway event at DEBUG,
    and the emulator sends an interaction to one session only)."""
    return [n for n, bot in enumerate(bots) if f"'id': '{interaction.id}'" in bot.logs()]


async def stop_all(*bots: BotProcess) -> None:
    """SIGTERM to every process at once; each exits 0 (a clean shutdown, SPEC §2)."""
    codes = await asyncio.gather(*(bot.stop() for bot in bots))
    assert codes == [0] * len(bots), codes


def posted_schedules(bot: BotProcess) -> list[int]:
    """The schedules this process posted (its log), over every run."""
    return [int(n) for n in re.findall(r"posted schedule #(\d+) ", bot.logs())]


async def click(emulator: Emulator, message: Message, fan: Member, label: str) -> Interaction:
    clicked = await emulator.click(message, label, fan)
    reply = await clicked.response()
    assert reply.is_ephemeral and "Locked in" in reply.embeds[0]["description"]
    assert clicked.latency is not None and clicked.latency < 3
    return clicked


async def slash(
    emulator: Emulator, guild: Guild, channel: Channel, member: Member, command: str, **opts: Any
) -> tuple[Interaction, dict[str, Any]]:
    interaction = await emulator.slash(guild, channel, member, command, opts)
    reply = await interaction.response()
    assert interaction.latency is not None and interaction.latency < 3
    return interaction, dict(reply.embeds[0])


async def slash_message(
    emulator: Emulator, guild: Guild, channel: Channel, member: Member, command: str
) -> CallbackResponse:
    interaction = await emulator.slash(guild, channel, member, command, {})
    reply = await interaction.response()
    assert interaction.latency is not None and interaction.latency < 3
    return reply


def points_of(board: str, member: Member) -> int:
    found = re.search(rf"<@{member.id}> — ([\d,]+) points", board)
    assert found, f"{member.name} is not on the leaderboard:\n{board}"
    return int(found[1].replace(",", ""))


# --- the tests ---------------------------------------------------------------------------------


async def test_two_processes_serve_their_own_shards_schedules_and_games(
    database_url: str, emulator: Emulator, bot_factory: BotFactory, tmp_path: Path
) -> None:
    two_shards(emulator)
    servers = {
        s: [emulator.add_guild(f"shard {s} #{n}", shard=s) for n in range(2)] for s in (0, 1)
    }
    quiz = {s: emulator.add_channel(servers[s][0], "quiz") for s in (0, 1)}
    fans = {
        s: [emulator.add_member(servers[s][0], f"fan {s}.{n}") for n in range(2)] for s in (0, 1)
    }
    mods = {g.id: moderator(emulator, g) for s in (0, 1) for g in servers[s]}
    clock = BotClock(tmp_path / "shared.clock")
    bots = await start_processes(
        bot_factory,
        clock,
        [shard_env(database_url, "0"), shard_env(database_url, "1")],
        connected(emulator),
    )
    assert [sorted(b.shard_ids or ()) for b in bots] == [[0], [1]]

    # Moderators of every server schedule a quote and a fact two minutes from now.
    due = next_minute(clock, 2)
    schedules: dict[int, tuple[int, Guild]] = {}  # schedule id -> (shard, server)
    for s in (0, 1):
        for guild in servers[s]:
            general = guild.text_channels[0]
            for content in ("quote", "fact"):
                added = await run(
                    emulator,
                    guild,
                    general,
                    mods[guild.id],
                    "schedule add",
                    channel=general,
                    content=content,
                    time=due.strftime("%H:%M"),
                )
                assert f"<t:{int(due.timestamp())}:F>" in added["description"]
                schedules[schedule_id(added)] = (s, guild)

    # A game in a server of each shard: both fans answer right; each click reaches only the
    # process of that shard, which answers it.
    questions: dict[int, Message] = {}
    for s in (0, 1):
        started, reply = await slash(
            emulator, servers[s][0], quiz[s], fans[s][0], "trivia play", questions=1, seconds=10
        )
        assert handled_by(bots, started) == [s], reply
        questions[s] = await emulator.wait_for_message(quiz[s], is_live_question, timeout=20)
    for s in (0, 1):
        answer = question_of(questions[s]).answer
        for fan in fans[s]:
            assert handled_by(bots, await click(emulator, questions[s], fan, answer)) == [s]

    # The clock reaches the posts' minute, long past the questions' 10 seconds.
    clock.set(due + dt.timedelta(seconds=1))
    for s in (0, 1):
        shown = await emulator.wait_for_edit(questions[s], revealed, timeout=20)
        assert "2 of 2 answered right" in shown.text
    clock.advance(REVEAL_PAUSE_SECONDS)
    for s in (0, 1):
        final = await emulator.wait_for_message(
            quiz[s], lambda m: "Final standings" in m.text, timeout=20
        )
        assert all(f"<@{fan.id}>" in final.text for fan in fans[s])

    # Every schedule posted exactly once, by the process of its server's shard.
    await all_sent(database_url, len(schedules))
    rows = await fetch(
        database_url, "SELECT schedule_id, due_at, state, message_id FROM schedule_runs"
    )
    assert sorted(int(r["schedule_id"]) for r in rows) == sorted(schedules)
    assert {r["state"] for r in rows} == {"sent"} and {r["due_at"] for r in rows} == {due}
    for s in (0, 1):
        for guild in servers[s]:
            mine = {i for i, (_, g) in schedules.items() if g is guild}
            posted = posts(emulator, guild.text_channels[0])
            assert sorted(str(m.nonce) for m in posted) == sorted(run_nonce(i, due) for i in mine)
            assert {m.id for m in posted} <= {int(r["message_id"]) for r in rows}
    assert sorted(posted_schedules(bots[0])) == sorted(
        i for i, (s, _) in schedules.items() if s == 0
    )
    assert sorted(posted_schedules(bots[1])) == sorted(
        i for i, (s, _) in schedules.items() if s == 1
    )

    # One leaderboard per server, with everyone's points, answered by the shard's process.
    for s in (0, 1):
        asked, board = await slash(
            emulator, servers[s][0], quiz[s], fans[s][1], "trivia leaderboard"
        )
        assert handled_by(bots, asked) == [s]
        for fan in fans[s]:
            assert 500 <= points_of(board["description"], fan) <= 1000
        for fan in fans[1 - s]:
            assert f"<@{fan.id}>" not in board["description"]  # another server's players
    assert emulator.stats.get("gateway:identify_too_soon", 0) == 0
    await stop_all(*bots)


@pytest.mark.xdist_group("timing")
@pytest.mark.xdist_group("timing")
async def test_two_processes_identify_no_closer_together_than_discord_allows(
    database_url: str, emulator: Emulator, bot_factory: BotFactory, tmp_path: Path
) -> None:
    """Two processes starting at once take their IDENTIFY turns through the database. Their
    IDENTIFYs travel by different connections; exactly 5 s apart, jitter makes one arrive a
    few milliseconds early (Discord answers op 9, another 5 s lost). Here time runs ten times
    fast for the bots and Discord's window shrinks with it; none is too soon."""
    speed = 10
    two_shards(emulator)
    emulator.identify_spacing = IDENTIFY_SPACING.total_seconds() / speed
    clock = BotClock(tmp_path / "shared.clock", speed=speed)
    ready = connected(emulator)
    bots = [
        await bot_factory(extra_env=shard_env(database_url, shard), clock=clock, wait_ready=False)
        for shard in ("0", "1")
    ]
    for bot in bots:
        await ready(bot)
    assert emulator.stats["gateway:identify_too_soon"] == 0
    assert sum(TURN_LOG in bot.this_run() for bot in bots) == 1  # one of them waited its turn


async def test_kill_9_of_one_process_mid_burst_loses_and_doubles_nothing(
    database_url: str, emulator: Emulator, bot_factory: BotFactory, tmp_path: Path
) -> None:
    burst, rate = 60, 40  # 30 runs a shard; each process posts 20 a second (its half)
    two_shards(emulator)
    channels: dict[int, list[Channel]] = {}
    for s in (0, 1):
        servers = [emulator.add_guild(f"shard {s} #{n}", shard=s) for n in range(2)]
        channels[s] = [
            c for g in servers for c in (g.text_channels[0], emulator.add_channel(g, "daily"))
        ]
    clock = BotClock(tmp_path / "shared.clock")
    due = next_minute(clock, 5)
    wanted = {
        **(await add_schedules(database_url, channels[0], burst // 2, due)),
        **(await add_schedules(database_url, channels[1], burst // 2, due)),
    }
    env = {"POST_RATE_PER_SECOND": str(rate)}
    bots = await start_processes(
        bot_factory,
        clock,
        [shard_env(database_url, "0", **env), shard_env(database_url, "1", **env)],
        connected(emulator),
    )

    clock.set(due + dt.timedelta(seconds=1))  # every run falls due at once
    await poll_until(lambda: len(posts_by_nonce(emulator, channels[0])) >= 8, 20, "a burst")
    await bots[0].kill()  # SIGKILL, in the middle of its burst
    out_before_kill = len(posts_by_nonce(emulator, channels[0]))
    assert out_before_kill < burst // 2, "the burst was over before the kill"
    await start_again(clock, emulator, bots[0])

    await all_sent(database_url, burst)
    everything = channels[0] + channels[1]
    posted = posts_by_nonce(emulator, everything)
    assert {n: c for n, c in posted.items() if c > 1} == {}, "a run was posted twice"
    assert set(wanted) - set(posted) == set(), "a run was lost"
    assert set(posted) == set(wanted)
    for nonce, channel in wanted.items():  # each in the channel of its schedule
        assert nonce in posts_by_nonce(emulator, [channel])
    rows = await fetch(database_url, "SELECT state, message_id FROM schedule_runs")
    assert len(rows) == burst and {r["state"] for r in rows} == {"sent"}
    assert {int(r["message_id"]) for r in rows} == {
        m.id for c in everything for m in posts(emulator, c)
    }
    # The restarted process finished what its predecessor had claimed; the other process
    # posted its own shard's runs, each once, and no other.
    assert "scheduled run(s) left unfinished" in bots[0].this_run()
    assert sorted(posted_schedules(bots[1])) == sorted(
        int(r["id"]) for r in await schedules_of(database_url, channels[1])
    )
    await stop_all(*bots)


@pytest.mark.xdist_group("timing")
async def test_two_processes_both_running_shard_0_still_post_each_run_once(
    database_url: str, emulator: Emulator, bot_factory: BotFactory, tmp_path: Path
) -> None:
    two_shards(emulator)
    zero = [emulator.add_guild(f"zero #{n}", shard=0).text_channels[0] for n in range(2)]
    one = [emulator.add_guild("one", shard=1).text_channels[0]]
    clock = BotClock(tmp_path / "shared.clock")
    first_due = next_minute(clock, 5)
    wanted = await add_schedules(database_url, zero, 30, first_due)
    nobodys = await add_schedules(database_url, one, 3, first_due)  # no process runs shard 1
    env = shard_env(database_url, "0", POST_RATE_PER_SECOND="20")  # 10 posts a second each

    # 1. Both misconfigured with SHARD_IDS=0: the second one starts while the first one is
    # in the middle of a burst (3 s at 10 a second; a start takes 2 s, as discord.py waits
    # for the GUILD_CREATEs to end before it is ready).
    [first] = await start_processes(bot_factory, clock, [env], connected(emulator))
    clock.set(first_due + dt.timedelta(seconds=1))
    await poll_until(lambda: len(posts_by_nonce(emulator, zero)) >= 3, 20, "the first burst")
    mark = len(first.this_run())
    [second] = await start_processes(bot_factory, clock, [env], idle)
    await first.wait_for_log("nothing due; next scheduled run", after=mark)
    await all_sent(database_url, len(wanted))
    posted = posts_by_nonce(emulator, zero + one)
    assert {n: c for n, c in posted.items() if c > 1} == {}, "a run was posted twice"
    assert set(posted) == set(wanted), "a run was lost, or shard 1's was posted"
    assert not set(posted) & set(nobodys)
    resent = emulator.stats.get("nonce:deduplicated", 0)

    # 2. Both idle, both wake at the same moment and race for the same runs.
    second_due = next_minute(clock, 20)  # past an idle dispatcher's longest nap
    race = await add_schedules(database_url, zero, 8, second_due)
    wanted.update(race)
    marks = [len(b.this_run()) for b in (first, second)]
    clock.set(second_due + dt.timedelta(seconds=1))
    await all_sent(database_url, len(wanted))
    for bot, mark in zip((first, second), marks, strict=True):  # both asleep again
        await bot.wait_for_log("nothing due; next scheduled run", after=mark)
    posted = posts_by_nonce(emulator, zero + one)
    assert {n: c for n, c in posted.items() if c > 1} == {}, "a run was posted twice"
    assert set(posted) == set(wanted), "a run was lost, or shard 1's was posted"
    rows = await fetch(database_url, "SELECT state, message_id FROM schedule_runs")
    assert len(rows) == len(wanted) and {r["state"] for r in rows} == {"sent"}
    assert {int(r["message_id"]) for r in rows} == {m.id for c in zero for m in posts(emulator, c)}
    race_ids = {
        int(r["id"])
        for r in await fetch(
            database_url, "SELECT id FROM schedules ORDER BY id DESC LIMIT $1", len(race)
        )
    }
    sent_by = [i for b in (first, second) for i in posted_schedules(b) if i in race_ids]
    assert sorted(sent_by) == sorted(race_ids)  # the row lock: each run sent by one process
    assert emulator.stats.get("nonce:deduplicated", 0) == resent
    await stop_all(first, second)

    # One post per run, and yet: did the second process send runs again that the first one
    # had claimed and was still sending, with only Discord's nonce check keeping the copy out?
    assert resent == 0, (
        f"{resent} runs that process 0 had claimed and was still sending were sent again by "
        "process 1 as it started (its recovery takes every 'claimed' run of its shards for a "
        "dead predecessor's: bot/scheduler.py Dispatcher.recover, bot/store/postgres.py "
        "unfinished_runs); only Discord's nonce check kept them from being posted twice"
    )


async def test_migrate_a_real_bots_sqlite_database_and_carry_on_on_postgresql(
    database_url: str, emulator: Emulator, bot_factory: BotFactory, tmp_path: Path
) -> None:
    emulator.identify_spacing = WINDOW
    guild = emulator.add_guild("Love Wins All")
    general, quiz = guild.text_channels[0], emulator.add_channel(guild, "quiz")
    fans = [emulator.add_member(guild, f"fan {n}") for n in range(2)]
    mod = moderator(emulator, guild)
    lite = await bot_factory()  # one process on SQLite, as the README's command runs it
    assert lite.clock is not None
    clock = lite.clock

    # A daily quote, due in two minutes (so that the clock moves on to it after the game).
    due = next_minute(clock, 2)
    daily = schedule_id(
        await run(
            emulator,
            guild,
            general,
            mod,
            "schedule add",
            channel=general,
            content="quote",
            time=due.strftime("%H:%M"),
        )
    )

    # Quotes drawn from the channel's shuffle bag.
    drawn = [
        shown_id(await slash_message(emulator, guild, general, fans[0], "quote")) for _ in range(4)
    ]

    # A two-question game: the first fan right twice, the second right once.
    await slash(emulator, guild, quiz, fans[0], "trivia play", questions=2, seconds=10)
    for n in (1, 2):
        message = await emulator.wait_for_message(quiz, is_question(n, 2), timeout=20)
        question = question_of(message)
        await click(emulator, message, fans[0], question.answer)
        second = question.answer if n == 1 else wrong_label(message, question)
        await click(emulator, message, fans[1], second)
        clock.advance(10)
        await emulator.wait_for_edit(message, revealed, timeout=20)
        clock.advance(REVEAL_PAUSE_SECONDS)
    await emulator.wait_for_message(quiz, lambda m: "Final standings" in m.text, timeout=20)

    clock.set(due + dt.timedelta(seconds=1))  # posted once today
    await lite.wait_for_log(f"posted schedule #{daily} ")
    _, board_before = await slash(emulator, guild, quiz, fans[1], "trivia leaderboard")
    assert (
        points_of(board_before["description"], fans[0])
        > points_of(board_before["description"], fans[1])
        > 0
    )
    assert await lite.stop() == 0

    # The operator copies the database into PostgreSQL, as the README says.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DISCORD_TOKEN")}
    env["DATABASE_PATH"] = str(lite.database_path)
    migrate = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "migrate",
        "--to",
        database_url,
        cwd=REPO_ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await asyncio.wait_for(migrate.communicate(), 60))[0].decode()
    assert migrate.returncode == 0, output
    assert "counts verified" in output
    for table in ("trivia_scores", "trivia_answers", "schedules", "schedule_runs", "shuffle_bags"):
        copied = re.search(rf"{table}: (\d+) rows", output)
        assert copied and int(copied[1]) > 0, output

    # The bot on PostgreSQL: the same leaderboard, the bag goes on, tomorrow's run posts once.
    ready = connected(emulator)
    pg = await bot_factory(extra_env={"DATABASE_URL": database_url}, clock=clock, wait_ready=False)
    await wait_in_turns(clock, [pg], ready)
    assert not pg.database_path.exists()  # it uses PostgreSQL, not a SQLite file
    _, board_after = await slash(emulator, guild, quiz, fans[1], "trivia leaderboard")
    assert board_after == board_before
    drawn += [
        shown_id(await slash_message(emulator, guild, general, fans[0], "quote")) for _ in range(4)
    ]
    assert len(set(drawn)) == len(drawn), "the channel's bag started over"

    mark = len(pg.this_run())
    tomorrow = due + dt.timedelta(days=1)
    clock.set(tomorrow + dt.timedelta(seconds=1))
    await all_sent(database_url, 2)
    await pg.wait_for_log("nothing due; next scheduled run", after=mark, timeout=20)
    posted = posts_by_nonce(emulator, [general])
    assert posted == Counter({run_nonce(daily, due): 1, run_nonce(daily, tomorrow): 1})
    rows = await fetch(
        database_url, "SELECT schedule_id, due_at, state FROM schedule_runs ORDER BY due_at"
    )
    assert [(int(r["schedule_id"]), r["due_at"], r["state"]) for r in rows] == [
        (daily, due, "sent"),
        (daily, tomorrow, "sent"),
    ]
    assert emulator.stats.get("nonce:deduplicated", 0) == 0  # not even sent twice
    await stop_all(pg)
