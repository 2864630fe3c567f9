"""The schedule dispatcher against a real SQLite file, a fake clock and a fake Discord channel.

Time only moves when the tests (or the dispatcher's injected sleep) move the fake clock, so
nothing here waits through real minutes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import random
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot.domain.clock import FakeClock, TokenBucket
from bot.domain.dataset import load_dataset
from bot.domain.language import Language
from bot.domain.records import ScheduleRecord, StoreUnavailable
from bot.domain.schedule import ALL_DAYS, PostKind, run_nonce
from bot.posting import ScheduledPosts
from bot.posting.trivia import _channel_errors
from bot.scheduler import Dispatcher, UnfinishedRuns
from bot.services.content import ContentService
from bot.services.games import ChannelUnreachable, TriviaRunner
from bot.services.servers import ServerSettings
from bot.store.sqlite import SQLiteStore
from bot.ui.schedules import reason_text
from tests.dataset_factory import write_dataset

GUILD = 111
CHANNEL = 222
START = dt.datetime(2024, 3, 4, 8, 59, 30, tzinfo=dt.UTC)  # a Monday, just before 09:00 UTC
NINE = dt.datetime(2024, 3, 4, 9, 0, tzinfo=dt.UTC)
GRACE = dt.timedelta(minutes=60)
BOT_USER = 1


class Crash(BaseException):
    """The process dying: nothing after it runs (not an Exception, so nothing catches it)."""


def http_error(
    cls: type[discord.HTTPException], status: int, code: int, text: str
) -> discord.HTTPException:
    response = SimpleNamespace(status=status, reason=text)
    return cls(response, {"code": code, "message": text})


def details_of(post: Sent) -> str:
    """What a post's "Details" opens ("quote:q-…", "fact:f-…", "day:01-24"): cards show no ids."""
    for item in post.view.children:
        custom_id = getattr(item, "custom_id", None) or ""
        if custom_id.startswith("lwa:details:"):
            return ":".join(custom_id.split(":")[2:4])
    raise AssertionError(f"no Details button under {post}")


@dataclass
class Sent:
    channel_id: int
    nonce: str
    content: str | None
    embed: discord.Embed
    view: Any
    mentions: Mapping[str, Any]
    at: dt.datetime
    id: int

    def raw(self) -> dict[str, Any]:
        """As Discord's REST API lists it: no nonce (Discord does not keep it)."""
        return {
            "id": str(self.id),
            "author": {"id": str(BOT_USER)},
            "components": self.view.to_components() if self.view is not None else [],
        }


@dataclass
class FakeDiscord:
    """Channels that keep messages, de-duplicating by nonce like Discord's `enforce_nonce` for
    `nonce_memory` of the clock's time (Discord: "a few minutes"), and listing them as
    `GET /channels/{id}/messages` does (`after`, newest first)."""

    clock: FakeClock
    messages: dict[int, list[Sent]] = field(default_factory=dict)
    attempts: list[Sent] = field(default_factory=list)
    refuse: dict[int, discord.HTTPException] = field(default_factory=dict)  # channel -> error
    flaky: list[BaseException] = field(default_factory=list)  # raised first, in order
    lose_answers: int = 0  # the next sends arrive, but their answer never comes back
    crash_before_send: bool = False
    crash_after_send: bool = False
    nonce_memory: dt.timedelta = dt.timedelta(minutes=5)
    lookups: int = 0
    _ids: int = 0

    async def send(
        self,
        channel_id: int,
        *,
        guild_id: int,
        content: str | None,
        embed: discord.Embed,
        view: Any,
        nonce: str,
        allowed_mentions: discord.AllowedMentions,
    ) -> int:
        now = self.clock.now()
        attempt = Sent(channel_id, nonce, content, embed, view, allowed_mentions.to_dict(), now, 0)
        await asyncio.sleep(0)  # a real send yields to the event loop
        self.attempts.append(attempt)
        if self.crash_before_send:
            raise Crash
        if channel_id in self.refuse:
            raise self.refuse[channel_id]
        if self.flaky:
            raise self.flaky.pop(0)
        channel = self.messages.setdefault(channel_id, [])
        existing = next(
            (m for m in channel if m.nonce == nonce and now - m.at < self.nonce_memory), None
        )
        if existing is None:
            self._ids += 1  # a snowflake: when it was posted, and a counter
            attempt.id = discord.utils.time_snowflake(now) + self._ids
            channel.append(attempt)
            existing = attempt
        if self.crash_after_send:
            raise Crash
        if self.lose_answers:
            self.lose_answers -= 1
            raise TimeoutError  # it arrived; the bot never hears so
        return existing.id

    async def history(self, channel_id: int, *, after: int, limit: int) -> list[dict[str, Any]]:
        self.lookups += 1
        await asyncio.sleep(0)
        newer = [m for m in self.messages.get(channel_id, []) if m.id > after][:limit]
        return [m.raw() for m in reversed(newer)]

    def posts(self, channel_id: int = CHANNEL) -> list[Sent]:
        return self.messages.get(channel_id, [])


def fail_once(store: object, method: str) -> None:
    """The store's `method` fails once as if the database had gone away, then works again."""
    real = getattr(store, method)
    failures = [StoreUnavailable("the connection was lost")]

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return await real(*args, **kwargs)

    setattr(store, method, flaky)


@dataclass
class RevealLog:
    """The trivia runner's channel for daily questions: their reveals (edits of the post)."""

    clock: FakeClock
    reveals: list[tuple[int, dict[int, int]]] = field(default_factory=list)  # message, streaks
    times: list[dt.datetime] = field(default_factory=list)  # when each was shown

    async def show_reveal(
        self, game: Any, message_id: int, reveal: Any, total: int, streaks: Mapping[int, int]
    ) -> None:
        self.reveals.append((message_id, dict(streaks)))
        self.times.append(self.clock.now())

    async def close_question(self, game: Any, message_id: int, question: Any) -> None:
        raise AssertionError("a daily question is revealed, not closed")


class World:
    """One 'process': a store on the shared database file, a dispatcher, the fake Discord."""

    def __init__(
        self, tmp_path: Path, clock: FakeClock, discord_: FakeDiscord, rate: float = 40.0
    ) -> None:
        self.path = tmp_path / "lwa.sqlite3"
        self.clock = clock
        self.discord = discord_
        self.rate = rate
        self.sleeps: list[float] = []
        self.idles: list[float] = []
        self.dataset = load_dataset(write_dataset(tmp_path / "data"))
        self.store = SQLiteStore(self.path)
        self.trivia_channel = RevealLog(clock)

    async def __aenter__(self) -> World:
        await self.store.open()
        rng = random.Random(3)
        content = ContentService(self.dataset, self.store, self.clock, rng)
        bot = SimpleNamespace(
            dataset=self.dataset,
            content=content,
            games=None,  # the runner, made below with the pace it shares
            servers=ServerSettings(self.store),
            user=SimpleNamespace(id=BOT_USER),
            get_guild=lambda guild_id: None,  # no cache: what the bot knows comes from REST
        )

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)
            self.clock.advance(max(0.0, seconds))
            await asyncio.sleep(0)

        async def idle(wake: asyncio.Event, seconds: float) -> None:
            self.idles.append(seconds)
            self.clock.advance(seconds)
            await asyncio.sleep(0)

        # As in the bot: the posts and the daily questions' reveals share one pace.
        self.bucket = TokenBucket(self.rate, self.clock, sleep)
        self.games = TriviaRunner(
            store=self.store,
            dataset=self.dataset,
            content=content,
            clock=self.clock,
            rng=rng,
            channel=self.trivia_channel,  # type: ignore[arg-type]  # posts: the scheduler's
            grace=GRACE,
            pace=self.bucket,
        )
        bot.games = self.games
        self.dispatcher = Dispatcher(
            store=self.store,
            clock=self.clock,
            poster=ScheduledPosts(bot, rest=self.discord),  # type: ignore[arg-type]
            grace=GRACE,
            rate=self.rate,
            sleep=sleep,
            idle=idle,
            bucket=self.bucket,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.games.shutdown()
        await self.store.close()

    async def add(
        self,
        *,
        content: str = "quote",
        guild_id: int = GUILD,
        channel_id: int = CHANNEL,
        at: dt.time = dt.time(9, 0),
        tz: str = "UTC",
        role_id: int | None = None,
        next_run_at: dt.datetime = NINE,
    ) -> ScheduleRecord:
        return await self.store.add_schedule(
            guild_id=guild_id,
            channel_id=channel_id,
            content=PostKind(content),
            local_time=at,
            timezone=tz,
            days=ALL_DAYS,
            role_id=role_id,
            next_run_at=next_run_at,
            created_by=7,
            created_at=self.clock.now(),
            limit=25,
        )

    def runs(self) -> list[tuple[int, str, str, int | None]]:
        with sqlite3.connect(self.path) as raw:
            return raw.execute(
                "SELECT schedule_id, due_at, state, message_id FROM schedule_runs"
                " ORDER BY due_at, schedule_id"
            ).fetchall()

    async def run_all_due(self) -> int:
        total = 0
        while claimed := await self.dispatcher.run_due():
            total += claimed
        return total


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def fake_discord(clock: FakeClock) -> FakeDiscord:
    return FakeDiscord(clock)


async def test_a_schedule_due_now_is_posted_exactly_once(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord
) -> None:
    async with World(tmp_path, clock, fake_discord) as world:
        schedule = await world.add()
        assert await world.run_all_due() == 0  # 08:59:30: not yet
        assert fake_discord.posts() == []

        clock.set(NINE + dt.timedelta(seconds=1))
        assert await world.run_all_due() == 1
        assert await world.run_all_due() == 0
        [post] = fake_discord.posts()
        assert post.nonce == run_nonce(schedule.id, NINE)
        assert post.embed.author.name == "Daily quote"
        assert post.content is None
        assert post.mentions == {"parse": []}  # no pings at all
        assert world.runs() == [
            (schedule.id, NINE.isoformat(timespec="microseconds"), "sent", post.id)
        ]
        after = await world.store.schedule(schedule.id, GUILD)
        assert after is not None and after.next_run_at == NINE + dt.timedelta(days=1)

    # A restart: a new dispatcher over the same database posts nothing more, and then sleeps
    # until tomorrow's run rather than polling.
    async with World(tmp_path, clock, fake_discord) as world:
        assert await world.dispatcher.recover() == 0
        assert await world.run_all_due() == 0
        assert len(fake_discord.posts()) == 1

        async def stop_after_one_idle(wake: asyncio.Event, seconds: float) -> None:
            world.idles.append(seconds)
            world.dispatcher._stopping = True

        world.dispatcher._idle = stop_after_one_idle
        await world.dispatcher.run_forever()
        assert world.idles == [15 * 60]  # a day away: it looks again in 15 minutes at most
        world.dispatcher._stopping = False
        clock.set(NINE + dt.timedelta(days=1, minutes=-5))
        await world.dispatcher.run_forever()
        assert world.idles[-1] == pytest.approx(5 * 60)  # exactly until the next run is due
        assert len(fake_discord.posts()) == 1


async def test_the_role_is_the_only_mention_and_it_is_pinged(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord
) -> None:
    async with World(tmp_path, clock, fake_discord) as world:
        await world.add(role_id=4242)
        clock.set(NINE)
        await world.run_all_due()
        [post] = fake_discord.posts()
        assert post.content == "<@&4242>"
        assert post.mentions == {"parse": [], "roles": ["4242"]}  # that role, nobody else


async def test_a_crash_between_claim_and_send_is_sent_once_after_restart(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord
) -> None:
    async with World(tmp_path, clock, fake_discord) as world:
        schedule = await world.add()
        clock.set(NINE)
        fake_discord.crash_before_send = True
        with pytest.raises((Crash, BaseExceptionGroup)):
            await world.dispatcher.run_due()
        assert fake_discord.posts() == []
        assert [r[2] for r in world.runs()] == ["claimed"]

    fake_discord.crash_before_send = False
    clock.advance(dt.timedelta(minutes=3))  # the bot comes back three minutes later
    async with World(tmp_path, clock, fake_discord) as world:
        assert await world.dispatcher.recover() == 1
        assert await world.run_all_due() == 0
        [post] = fake_discord.posts()
        assert post.nonce == run_nonce(schedule.id, NINE)
        assert [r[2:] for r in world.runs()] == [("sent", post.id)]


@pytest.mark.parametrize("downtime", [dt.timedelta(minutes=1), dt.timedelta(minutes=10)])
async def test_a_crash_between_send_and_record_never_posts_twice(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord, downtime: dt.timedelta
) -> None:
    """Discord has the message, the run was never recorded as sent. After a restart (soon, or
    ten minutes later, when Discord no longer remembers the nonce) the bot finds its post in
    the channel by the run's marker and records it, without sending again."""
    async with World(tmp_path, clock, fake_discord) as world:
        schedule = await world.add()
        clock.set(NINE)
        fake_discord.crash_after_send = True  # Discord has the message; we never record it
        with pytest.raises((Crash, BaseExceptionGroup)):
            await world.dispatcher.run_due()
        assert len(fake_discord.posts()) == 1
        assert [r[2] for r in world.runs()] == ["claimed"]

    fake_discord.crash_after_send = False
    clock.advance(downtime)
    async with World(tmp_path, clock, fake_discord) as world:
        assert await world.dispatcher.recover() == 1
        assert await world.run_all_due() == 0
    nonce = run_nonce(schedule.id, NINE)
    assert [a.nonce for a in fake_discord.attempts] == [nonce]  # sent once, found after
    assert fake_discord.lookups == 1
    [post] = fake_discord.posts()
    assert [r[2:] for r in world.runs()] == [("sent", post.id)]


async def test_a_send_without_an_answer_is_looked_for_before_it_is_sent_again(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord
) -> None:
    """Three tries, none answered, though the first arrived: the run stays claimed, and once
    Discord answers again the post is found in the channel, not sent a second time."""
    async with World(tmp_path, clock, fake_discord) as world:
        await world.add()
        clock.set(NINE)
        fake_discord.lose_answers = 3
        with pytest.raises(UnfinishedRuns):
            await world.run_all_due()
        assert len(fake_discord.posts()) == 1 and len(fake_discord.attempts) == 3
        assert [r[2] for r in world.runs()] == ["claimed"]
        clock.advance(dt.timedelta(minutes=10))  # long past Discord's memory of the nonce
        assert await world.dispatcher.recover() == 1
    [post] = fake_discord.posts()
    assert len(fake_discord.attempts) == 3
    assert [r[2:] for r in world.runs()] == [("sent", post.id)]


async def test_a_post_whose_run_cannot_be_recorded_is_recorded_later_not_sent_again(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord
) -> None:
    """The database goes away just as the post's run is recorded as sent: the post is out and
    the bot knows it; when the database is back the run is recorded, with no second send
    and no look in the channel."""
    async with World(tmp_path, clock, fake_discord) as world:
        await world.add()
        fail_once(world.store, "mark_run_sent")
        clock.set(NINE)
        with pytest.raises(UnfinishedRuns):
            await world.run_all_due()
        assert [r[2] for r in world.runs()] == ["claimed"]
        assert await world.dispatcher.recover() == 1
    [post] = fake_discord.posts()
    assert len(fake_discord.attempts) == 1 and fake_discord.lookups == 0
    assert [r[2:] for r in world.runs()] == [("sent", post.id)]


async def test_a_post_that_could_not_be_made_is_made_again_not_lost(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord
) -> None:
    """The database goes away once while the server's shuffle bag is read: nothing was sent,
    the run stays claimed (not failed) and goes out on the next try, once."""
    async with World(tmp_path, clock, fake_discord) as world:
        await world.add()
        fail_once(world.store, "draw")
        clock.set(NINE)
        with pytest.raises(UnfinishedRuns):
            await world.run_all_due()
        assert [r[2] for r in world.runs()] == ["claimed"] and fake_discord.attempts == []
        clock.advance(1)
        assert await world.dispatcher.recover() == 1
    [post] = fake_discord.posts()
    assert fake_discord.lookups == 0  # it knew nothing had been sent
    assert [r[2:] for r in world.runs()] == [("sent", post.id)]


@pytest.mark.parametrize(("downtime", "posted"), [(1, True), (10, False)])
async def test_without_the_channels_history_only_the_nonce_can_prevent_a_double(
    tmp_path: Path,
    clock: FakeClock,
    fake_discord: FakeDiscord,
    downtime: int,
    posted: bool,
) -> None:
    """A crash before the send; the bot may not read the channel's history. Soon after, the
    run's nonce still protects a resend, so it is sent; ten minutes later nothing could tell a
    second post from the first, so it is not sent, and the schedule says why."""
    async with World(tmp_path, clock, fake_discord) as world:
        schedule = await world.add()
        clock.set(NINE)
        fake_discord.crash_before_send = True
        with pytest.raises((Crash, BaseExceptionGroup)):
            await world.dispatcher.run_due()
    fake_discord.crash_before_send = False
    clock.advance(dt.timedelta(minutes=downtime))
    async with World(tmp_path, clock, fake_discord) as world:
        channel = SimpleNamespace(
            name="daily", permissions_for=lambda me: discord.Permissions(read_message_history=False)
        )
        guild = SimpleNamespace(
            get_channel=lambda channel_id: channel, me=object(), preferred_locale="en-US"
        )
        poster = world.dispatcher._poster
        poster.bot.get_guild = lambda guild_id: guild  # type: ignore[attr-defined]
        await world.dispatcher.recover()
        after = await world.store.schedule(schedule.id, GUILD)
    assert len(fake_discord.posts()) == (1 if posted else 0)
    assert fake_discord.lookups == 0
    assert [r[2] for r in world.runs()] == ["sent" if posted else "failed"]
    assert after is not None
    if not posted:
        assert after.failing_reason is not None
        shown = reason_text(after.failing_reason, Language.EN)
        assert shown.startswith("a post interrupted by a restart was not sent again: ")
        assert "Read Message History in #daily" in shown
        assert "#daily 채널의 메시지 기록 보기" in reason_text(after.failing_reason, Language.KO)


async def test_a_run_interrupted_too_long_ago_is_skipped_not_sent(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    async with World(tmp_path, clock, fake_discord) as world:
        await world.add()
        clock.set(NINE)
        fake_discord.crash_before_send = True
        with pytest.raises((Crash, BaseExceptionGroup)):
            await world.dispatcher.run_due()

    fake_discord.crash_before_send = False
    clock.advance(dt.timedelta(hours=2))  # longer than the grace
    caplog.set_level(logging.WARNING, logger="bot.scheduler")
    async with World(tmp_path, clock, fake_discord) as world:
        assert await world.dispatcher.recover() == 1
        assert fake_discord.posts() == []
        assert [r[2] for r in world.runs()] == ["skipped"]
    assert "skipped schedule" in caplog.text


@pytest.mark.parametrize(
    ("downtime", "posted_late"),
    [
        (dt.timedelta(minutes=59), True),  # inside the grace window: posted late
        (dt.timedelta(minutes=61), False),  # outside: skipped
        (dt.timedelta(days=6, minutes=30), True),  # a week away: only today's run, late
        (dt.timedelta(days=6, hours=3), False),  # a week away, past today's grace: nothing
    ],
)
async def test_catch_up_after_downtime(
    tmp_path: Path,
    clock: FakeClock,
    fake_discord: FakeDiscord,
    downtime: dt.timedelta,
    posted_late: bool,
) -> None:
    async with World(tmp_path, clock, fake_discord) as world:
        schedule = await world.add()
        clock.set(NINE + downtime)  # the bot was down at 09:00 and comes back now
        await world.dispatcher.recover()
        await world.run_all_due()
        posts = fake_discord.posts()
        assert len(posts) == (1 if posted_late else 0)  # never a burst of missed posts
        if posted_late:
            today_nine = (NINE + downtime).replace(hour=9, minute=0)
            assert posts[0].nonce == run_nonce(schedule.id, today_nine)
        states = [r[2] for r in world.runs()]
        assert states.count("sent") == len(posts)
        assert "claimed" not in states
        after = await world.store.schedule(schedule.id, GUILD)
        assert after is not None and after.next_run_at > clock.now()


async def test_a_burst_of_2000_posts_is_paced_by_the_token_bucket(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord
) -> None:
    rate = 40.0
    async with World(tmp_path, clock, fake_discord, rate=rate) as world:
        for n in range(2000):  # 2000 servers, all due at 09:00
            await world.add(guild_id=10_000 + n, channel_id=20_000 + n)
        clock.set(NINE)

        answered_during_burst: list[int] = []

        async def an_interaction() -> None:
            # The event loop stays free: other work runs while the burst is being sent.
            for _ in range(50):
                await asyncio.sleep(0)
            answered_during_burst.append(len(fake_discord.attempts))

        burst = asyncio.create_task(world.run_all_due())
        await an_interaction()
        assert await burst == 2000

    micros = dt.timedelta(microseconds=1)
    times = sorted((a.at - NINE) // micros for a in fake_discord.attempts)
    assert len(times) == 2000 and sum(len(m) for m in fake_discord.messages.values()) == 2000
    assert times[-1] / 1e6 == pytest.approx((2000 - 1) / rate, abs=0.1)  # ~50 s of fake time
    # In every one-second window, at most `rate` posts.
    start = 0
    for end, at in enumerate(times):
        while at - times[start] >= 1_000_000:
            start += 1
        assert end - start + 1 <= rate, times[start : end + 1]
    assert answered_during_burst and answered_during_burst[0] < 2000


async def test_a_deleted_channel_makes_the_schedule_failing_then_paused_after_three(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord
) -> None:
    gone, healthy = CHANNEL, CHANNEL + 1
    fake_discord.refuse[gone] = http_error(discord.NotFound, 404, 10003, "Unknown Channel")
    async with World(tmp_path, clock, fake_discord) as world:
        broken = await world.add(channel_id=gone)
        other = await world.add(channel_id=healthy, content="fact")
        for day in range(4):
            clock.set(NINE + dt.timedelta(days=day, seconds=5))
            await world.run_all_due()
            now = await world.store.schedule(broken.id, GUILD)
            assert now is not None
            if day < 3:
                assert now.failures == day + 1
                assert now.failing_reason is not None
                shown = reason_text(now.failing_reason, Language.EN)
                assert shown.startswith("the channel was deleted")
            assert now.state == ("paused" if day >= 2 else "active")
        # The broken schedule tried three times, then stopped; the other posted every day.
        assert len([a for a in fake_discord.attempts if a.channel_id == gone]) == 3
        assert len(fake_discord.posts(healthy)) == 4
        healthy_now = await world.store.schedule(other.id, GUILD)
        assert healthy_now is not None and not healthy_now.failing


async def test_a_lost_permission_is_explained_and_a_success_heals_the_schedule(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord
) -> None:
    fake_discord.refuse[CHANNEL] = http_error(discord.Forbidden, 403, 50013, "Missing Permissions")
    async with World(tmp_path, clock, fake_discord) as world:
        schedule = await world.add()
        clock.set(NINE)
        await world.run_all_due()
        failing = await world.store.schedule(schedule.id, GUILD)
        assert failing is not None and failing.state == "active"
        # Without the server in its cache, the bot says what it knows (bot/posting.py), as a
        # message each moderator reads in their language (bot/ui/schedules.py).
        assert failing.failing_reason is not None
        assert (
            reason_text(failing.failing_reason, Language.EN)
            == "the bot can no longer reach this server's channel"
        )
        assert reason_text(failing.failing_reason, Language.KO) == (
            "봇이 이 서버의 채널에 더 이상 접근할 수 없어요"
        )

        del fake_discord.refuse[CHANNEL]  # a moderator fixed the channel
        clock.set(NINE + dt.timedelta(days=1))
        await world.run_all_due()
        healed = await world.store.schedule(schedule.id, GUILD)
        assert healed is not None and (healed.failures, healed.failing_reason) == (0, None)
        assert len(fake_discord.posts()) == 1


async def test_server_errors_are_retried_with_the_same_nonce_and_do_not_mark_failing(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord
) -> None:
    async with World(tmp_path, clock, fake_discord) as world:
        schedule = await world.add()
        fake_discord.flaky = [http_error(discord.DiscordServerError, 503, 0, "unavailable")]
        clock.set(NINE)
        await world.run_all_due()
        assert len(fake_discord.posts()) == 1
        assert len({a.nonce for a in fake_discord.attempts}) == 1
        assert len(fake_discord.attempts) == 2 and 5.0 in world.sleeps

        # Discord down for longer: retried within bounds, then left claimed (any of the tries
        # may have arrived), neither failed nor failing; once Discord answers again, the run
        # is looked for in the channel, not there, and sent once.
        fake_discord.flaky = [http_error(discord.DiscordServerError, 503, 0, "unavailable")] * 3
        clock.set(NINE + dt.timedelta(days=1))
        with pytest.raises(UnfinishedRuns):
            await world.run_all_due()
        assert len(fake_discord.attempts) == 5
        assert [r[2] for r in world.runs()] == ["sent", "claimed"]
        after = await world.store.schedule(schedule.id, GUILD)
        assert after is not None and not after.failing and after.state == "active"
        clock.advance(60)
        assert await world.dispatcher.recover() == 1
        assert fake_discord.lookups == 1
        assert len(fake_discord.posts()) == 2
        assert [r[2] for r in world.runs()] == ["sent", "sent"]


async def test_quotes_do_not_repeat_until_all_were_posted_in_the_server(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord
) -> None:
    async with World(tmp_path, clock, fake_discord) as world:
        await world.add()
        count = len(world.dataset.quotes)
        for day in range(count):
            clock.set(NINE + dt.timedelta(days=day))
            await world.run_all_due()
        shown = [details_of(p) for p in fake_discord.posts()]
        assert len(shown) == count and len(set(shown)) == count


async def test_on_this_day_follows_the_schedule_timezone_and_falls_back_to_a_fact(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord
) -> None:
    # 00:30 in Seoul on 24 January is still 23 January in UTC: the post is about the 24th.
    seoul_run = dt.datetime(2024, 1, 23, 15, 30, tzinfo=dt.UTC)
    clock.set(seoul_run - dt.timedelta(minutes=1))
    async with World(tmp_path, clock, fake_discord) as world:
        await world.add(
            content="onthisday", at=dt.time(0, 30), tz="Asia/Seoul", next_run_at=seoul_run
        )
        clock.set(seoul_run)
        await world.run_all_due()
        [post] = fake_discord.posts()
        assert post.embed.title == "On this day: 24 January"
        assert "premiered" in (post.embed.description or "")

        clock.set(seoul_run + dt.timedelta(days=1))  # 25 January: nothing happened then
        await world.run_all_due()
        fallback = fake_discord.posts()[-1]
        assert "so here is a fact instead" in (fallback.embed.description or "")
        assert details_of(fallback).startswith("fact:f-")


async def test_trivia_posts_through_the_trivia_runner_with_the_paced_send(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord
) -> None:
    async with World(tmp_path, clock, fake_discord) as world:
        schedule = await world.add(content="trivia")
        clock.set(NINE)
        await world.run_all_due()
        [post] = fake_discord.posts()
        assert post.embed.title == "Daily trivia question"
        assert post.view is not None and len(post.view.children) >= 2  # the answer buttons
        # The run's nonce is the message's, and the key that makes a resend after a crash
        # post the same game.
        assert post.nonce == run_nonce(schedule.id, NINE)
        game = await world.store.game_for_run(run_nonce(schedule.id, NINE))
        assert game is not None and game.current_message == post.id
        assert [r[2] for r in world.runs()] == ["sent"]


async def test_posts_are_in_the_servers_language(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord
) -> None:
    """A server whose preferred locale is Korean gets Korean posts; a moderator's
    `/settings language en` wins over it (SPEC §3a)."""
    async with World(tmp_path, clock, fake_discord) as world:
        korean_guild = SimpleNamespace(preferred_locale="ko", get_channel=lambda _: None, me=None)
        poster = world.dispatcher._poster
        poster.bot.get_guild = lambda guild_id: korean_guild  # type: ignore[attr-defined]
        await world.add(content="trivia")
        await world.add(content="quote", channel_id=CHANNEL + 1)
        clock.set(NINE)
        await world.run_all_due()
        [question] = fake_discord.posts()
        assert question.embed.title == "오늘의 퀴즈"
        asked = question.embed.description or ""
        assert any(q.question_ko and q.question_ko in asked for q in world.dataset.questions)
        [quote] = fake_discord.posts(CHANNEL + 1)
        assert quote.embed.author.name == "오늘의 인용"

        await world.store.set_guild_language(GUILD, "en")
        clock.set(NINE + dt.timedelta(days=1))
        await world.run_all_due()
        assert fake_discord.posts()[-1].embed.title == "Daily trivia question"
        assert fake_discord.posts(CHANNEL + 1)[-1].embed.author.name == "Daily quote"


async def test_a_daily_question_whose_run_cannot_be_recorded_still_opens_and_is_revealed(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord
) -> None:
    """The database goes away just as a daily question's run is recorded as sent: the
    question is in the channel, so its game goes on (never ended as "nothing was posted"),
    the run is recorded when the database is back, and the question is revealed an hour on."""
    async with World(tmp_path, clock, fake_discord) as world:
        schedule = await world.add(content="trivia")
        fail_once(world.store, "mark_run_sent")
        clock.set(NINE)
        with pytest.raises(UnfinishedRuns):
            await world.run_all_due()
        game = await world.store.game_for_run(run_nonce(schedule.id, NINE))
        assert game is not None and game.state == "running"
        assert await world.dispatcher.recover() == 1
        [post] = fake_discord.posts()
        assert [r[2:] for r in world.runs()] == [("sent", post.id)]
        clock.advance(dt.timedelta(hours=1))
        for _ in range(100):
            if world.trivia_channel.reveals:
                break
            await asyncio.sleep(0.01)
        assert [message for message, _ in world.trivia_channel.reveals] == [post.id]
        assert len(fake_discord.attempts) == 1


async def test_two_daily_questions_revealed_together_both_count_in_the_streak(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord
) -> None:
    """Two daily questions of one server at the same minute, a fan right on both: their
    reveals come together, and the fan's daily streak counts both (not the last one written)."""
    fan = 4242
    async with World(tmp_path, clock, fake_discord) as world:
        await world.add(content="trivia")
        await world.add(content="trivia", channel_id=CHANNEL + 1)
        clock.set(NINE)
        await world.run_all_due()
        games = [g for g in world.games.live.values()]
        assert len(games) == 2
        for live in games:
            question = world.dataset.question(live.record.question_ids[0])
            assert question is not None
            right = live.record.choices[0].index(question.answer)
            await world.games.answer(
                game_id=live.record.id,
                index=0,
                choice=right,
                user_id=fan,
                channel_id=live.record.channel_id,
                guild_id=GUILD,
            )
        clock.advance(dt.timedelta(hours=1))
        for _ in range(200):
            if len(world.trivia_channel.reveals) == 2 and not world.games.live:
                break
            await asyncio.sleep(0.01)
        assert not world.games.live
        streaks = await world.store.daily_streaks(GUILD, [fan])
        assert (streaks[fan].current, streaks[fan].best) == (2, 2)
        stats = await world.store.player_stats(GUILD, fan)
        assert (stats.daily_streak, stats.best_daily_streak) == (2, 2)
        # The reveals showed the streak each of them made: 1, then 2.
        assert sorted(streak[fan] for _, streak in world.trivia_channel.reveals) == [1, 2]


async def test_daily_questions_closing_together_are_revealed_at_the_posts_pace(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord
) -> None:
    """300 servers' daily questions posted at 09:00 all close at 10:00 (here the clock jumps
    an hour, as when the bot was busy or down): each reveal (an edit, which Discord's global
    rate limit counts) waits its turn in the pace the posts take, `rate` a second."""
    rate = 40.0
    async with World(tmp_path, clock, fake_discord, rate=rate) as world:
        for n in range(300):
            await world.add(content="trivia", guild_id=10_000 + n, channel_id=20_000 + n)
        clock.set(NINE)
        assert await world.run_all_due() == 300
        turns: list[dt.datetime] = []
        take = world.bucket.take

        async def counted() -> None:
            await take()
            turns.append(clock.now())

        world.bucket.take = counted  # type: ignore[method-assign]
        clock.set(NINE + dt.timedelta(hours=1, minutes=5))
        for _ in range(1000):
            if len(world.trivia_channel.reveals) == 300 and not world.games.live:
                break
            await asyncio.sleep(0.01)
        assert len(world.trivia_channel.reveals) == 300 and not world.games.live
    assert len(turns) == 300  # one turn a reveal
    start = 0
    for end, at in enumerate(turns):
        while at - turns[start] >= dt.timedelta(seconds=1):
            start += 1
        # `rate` a second, and the one token the bucket starts with
        assert end - start + 1 <= rate + 1, f"{end - start + 1} reveals within a second"


def test_a_reveal_still_rate_limited_after_discord_pys_tries_is_tried_again() -> None:
    """A 429 discord.py gave up on is a moment to wait (the trivia runner tries again, as
    when Discord does not answer), not a game that failed; other refusals stay refusals."""
    with pytest.raises(ChannelUnreachable), _channel_errors():
        raise http_error(discord.HTTPException, 429, 0, "You are being rate limited.")
    with pytest.raises(discord.HTTPException), _channel_errors():
        raise http_error(discord.HTTPException, 400, 50035, "Invalid Form Body")


async def test_adding_a_schedule_wakes_the_sleeping_dispatcher(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord
) -> None:
    async with World(tmp_path, clock, fake_discord) as world:
        from bot.domain.clock import wait_or_timeout

        # Really wait on the clock (up to 15 minutes of it, which the test never moves).
        world.dispatcher._idle = functools.partial(wait_or_timeout, clock)
        task = world.dispatcher.start()
        await asyncio.sleep(0.05)
        assert not task.done()  # asleep: nothing is due
        await world.add(next_run_at=clock.now())  # due now, as a moderator just added it
        world.dispatcher.wake()
        for _ in range(100):
            if fake_discord.posts():
                break
            await asyncio.sleep(0.01)
        assert len(fake_discord.posts()) == 1
        await world.dispatcher.stop()  # wakes it and lets it finish
        assert task.done() and not task.cancelled()


async def test_stopping_before_the_bot_is_ready_is_immediate(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord
) -> None:
    async with World(tmp_path, clock, fake_discord) as world:
        never_ready = asyncio.Event()
        task = world.dispatcher.start(before=never_ready.wait)
        await asyncio.sleep(0.01)
        await asyncio.wait_for(world.dispatcher.stop(), timeout=1)
        assert task.done()


async def test_a_round_that_fails_is_logged_and_tried_again_the_dispatcher_lives_on(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    async with World(tmp_path, clock, fake_discord) as world:
        await world.add()
        claim = world.store.claim_due_runs
        failures = [StoreUnavailable("the disk is full"), StoreUnavailable("the disk is full")]

        async def flaky_claim(*args: Any, **kwargs: Any) -> Any:
            if failures:  # e.g. a full disk, or a lock held longer than the busy timeout
                raise failures.pop()
            return await claim(*args, **kwargs)

        world.store.claim_due_runs = flaky_claim  # type: ignore[method-assign]
        clock.set(NINE)
        task = world.dispatcher.start()
        for _ in range(200):
            if fake_discord.posts():
                break
            await asyncio.sleep(0.01)
        assert len(fake_discord.posts()) == 1  # posted once the database was back
        assert world.idles[:2] == [1.0, 2.0]  # a pause after each failed round, doubling
        assert caplog.text.count("scheduled posts: error") == 2
        assert not task.done()
        await world.dispatcher.stop()


async def test_a_wake_from_before_an_outage_does_not_skip_the_pause_between_tries(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord
) -> None:
    async with World(tmp_path, clock, fake_discord) as world:
        from bot.domain.clock import wait_or_timeout

        world.dispatcher._idle = functools.partial(wait_or_timeout, clock)  # really wait
        tries = 0

        async def down(*args: Any, **kwargs: Any) -> Any:
            nonlocal tries
            tries += 1
            await asyncio.sleep(0)  # as a real connection would, so a busy loop shows as tries
            raise StoreUnavailable("the database is down")

        world.store.claim_due_runs = down  # type: ignore[method-assign]
        world.dispatcher.wake()  # a moderator changed a schedule just before
        task = world.dispatcher.start()
        await asyncio.sleep(0.2)
        assert tries == 1  # then it waits its pause, and the clock does not move
        clock.advance(1.0)
        for _ in range(100):
            if tries == 2:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert tries == 2  # one more try after the pause, then the next, longer pause
        assert not task.done()
        await world.dispatcher.stop()


async def test_a_run_that_cannot_be_finished_never_holds_up_the_other_servers_posts(
    tmp_path: Path, clock: FakeClock, fake_discord: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    """One run cannot be finished: its channel refuses the post and its failure can never be
    written (a bad row). It stays claimed and is tried again on a pause of its own, growing;
    the schedule of another server due ten minutes later still posts on time."""
    async with World(tmp_path, clock, fake_discord) as world:
        stuck = await world.add()
        later = NINE + dt.timedelta(minutes=10)
        await world.add(channel_id=CHANNEL + 1, at=dt.time(9, 10), next_run_at=later)
        fake_discord.refuse[CHANNEL] = http_error(
            discord.Forbidden, 403, 50013, "Missing Permissions"
        )
        mark_failed = world.store.mark_run_failed
        tries = 0

        async def failing(schedule_id: int, *args: Any, **kwargs: Any) -> Any:
            nonlocal tries
            if schedule_id == stuck.id:
                tries += 1
                raise StoreUnavailable("this row cannot be written")
            return await mark_failed(schedule_id, *args, **kwargs)

        world.store.mark_run_failed = failing  # type: ignore[method-assign]
        clock.set(NINE)
        task = world.dispatcher.start()
        for _ in range(500):
            if fake_discord.posts(CHANNEL + 1):
                break
            await asyncio.sleep(0.01)
        assert [p.at for p in fake_discord.posts(CHANNEL + 1)] == [later]  # on time, once
        assert tries >= 3  # tried again and again meanwhile
        assert "trying them again in 1 s" in caplog.text
        assert "trying them again in 2 s" in caplog.text  # each pause longer than the last
        assert not task.done()
        await world.dispatcher.stop()
