"""What a new fan or moderator meets first, against the real bot process (issue #14): /help,
"Details" buttons that outlive a restart, timezones typed as people say them, and weekly
leaderboards that start in the server's own week.

The module has its own bot, whose clock the tests move forward to the moments they need.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.ui.embeds import event_line, event_text
from tests.e2e.helpers import NO_PINGS, all_text, dataset, moderator, run, shown_id
from tests.fakediscord import permissions as P
from tests.fakediscord.fixtures import Shared
from tests.fakediscord.models import Channel, Member
from tests.faults.helpers import click_answer, is_question, question_of, revealed


async def test_help_lists_what_each_member_can_use(shared: Shared) -> None:
    emulator, guild = shared.emulator, shared.guild
    general = guild.text_channels[0]
    fan, mod = emulator.add_member(guild, "fan"), moderator(emulator, guild)

    for_fan = await (await emulator.slash(guild, general, fan, "help")).response()
    assert for_fan.is_ephemeral
    text = all_text(for_fan.embeds[0])
    for command in ("/quote", "/fact", "/onthisday", "/about", "/trivia play"):
        assert f"`{command}`" in text, command
    assert "/schedule" not in text and "Moderators" not in text

    for_mod = await (await emulator.slash(guild, general, mod, "help")).response()
    text = all_text(for_mod.embeds[0])
    assert "/trivia play" in text
    assert "/schedule add" in text and "/settings timezone" in text and "/trivia reports" in text


async def test_details_work_after_a_restart(shared: Shared) -> None:
    emulator, guild = shared.emulator, shared.guild
    general, fan = guild.text_channels[0], emulator.add_member(guild, "fan")
    inter = await emulator.slash(guild, general, fan, "quote")
    quote = dataset().quote(shown_id(await inter.response()))
    assert quote is not None

    await shared.bot.restart()
    click = await emulator.click(inter.message, "Details", fan)
    details = await click.response()
    assert details.is_ephemeral and click.latency is not None and click.latency < 3
    shown = all_text(details.embeds[0])
    assert quote.context in shown
    assert dataset().source_of(quote).publisher in shown


async def play_one(shared: Shared, channel: Channel, player: Member) -> None:
    """A one-question game that `player` answers right; it ends with its standings."""
    emulator, guild = shared.emulator, shared.guild
    started = await (
        await emulator.slash(guild, channel, player, "trivia play", questions=1, seconds=10)
    ).response()
    assert not started.is_ephemeral, started.embeds
    message = await emulator.wait_for_message(channel, is_question(1, 1), timeout=20)
    assert "Locked in" in await click_answer(emulator, message, player, question_of(message).answer)
    shared.clock.advance(10)
    await emulator.wait_for_edit(message, revealed, timeout=20)
    await emulator.wait_for_message(  # this game's: the channel may have had others
        channel, lambda m: "Final standings" in m.text, timeout=20, after=message.id
    )


async def test_a_week_starts_on_monday_in_the_servers_own_timezone(shared: Shared) -> None:
    emulator, guild = shared.emulator, shared.guild
    general, mod = guild.text_channels[0], moderator(emulator, guild)
    early, late = emulator.add_member(guild, "sunday"), emulator.add_member(guild, "monday")

    # "KST", as Korean fans write it, is Asia/Seoul (UTC+9, no daylight saving time).
    reply = await run(emulator, guild, general, mod, "settings timezone", tz="KST")
    assert "Asia/Seoul" in reply["description"]

    # Sunday 23:00 in Seoul (14:00 UTC): the last hour of Seoul's week...
    sunday = dt.datetime(2031, 1, 5, 14, 0, tzinfo=dt.UTC)
    assert sunday.weekday() == 6 and shared.clock.now() < sunday
    shared.clock.set(sunday)
    await play_one(shared, general, early)
    # ...and Monday 00:30 in Seoul (15:30 UTC), still Sunday in UTC: a new week in Seoul.
    shared.clock.set(sunday + dt.timedelta(hours=1, minutes=30))
    await play_one(shared, general, late)

    week = await (
        await emulator.slash(guild, general, late, "trivia leaderboard", period="week")
    ).response()
    board = week.embeds[0]
    assert f"<@{late.id}>" in board["description"]
    assert f"<@{early.id}>" not in board["description"]  # last week, in Seoul
    since = board["footer"]["text"]
    assert "Since Monday 6 January 2031, 00:00" in since and "Asia/Seoul" in since, since

    ever = await (await emulator.slash(guild, general, late, "trivia leaderboard")).response()
    assert f"<@{early.id}>" in ever.embeds[0]["description"]
    assert f"<@{late.id}>" in ever.embeds[0]["description"]


async def test_a_welcome_when_the_bot_joins_a_server(shared: Shared) -> None:
    emulator = shared.emulator
    await shared.bot.wait_for_log("ready as")  # a server added now is one the bot joins
    joined = emulator.add_guild("New fans", system_channel=True)
    quiet = emulator.add_guild("Quiet fans")  # no system channel: nowhere to say hello
    muted = emulator.add_guild(  # the bot may read its system channel, not write there
        "Muted fans", system_channel=True, everyone_permissions=P.VIEW_CHANNEL, bot_permissions=0
    )
    lobby = joined.text_channels[0]
    welcome = await emulator.wait_for_message(lobby, lambda m: bool(m.embeds), timeout=10)
    text = welcome.text
    assert "/quote" in text and "/help" in text and "/schedule add" in text
    assert welcome.allowed_mentions == NO_PINGS

    await shared.bot.restart()  # every server is known at start: nobody is welcomed twice
    await shared.bot.wait_for_log("ready as")
    assert [m.id for m in emulator.channel_messages(lobby)] == [welcome.id]
    for guild in (quiet, muted):
        assert emulator.channel_messages(guild.text_channels[0]) == []


async def test_the_songs_anniversary_post_leads_with_the_release_and_opens_the_whole_day(
    shared: Shared,
) -> None:
    """A moderator's daily on-this-day post on 24 January: the day's main events first (the
    ones a source timed: the video at midnight, the song at 6 PM), "Details" under it, and
    that button still answering after a restart."""
    emulator, guild = shared.emulator, shared.guild
    channel = emulator.add_channel(guild, "anniversary")
    mod, fan = moderator(emulator, guild, "anniv-mod"), emulator.add_member(guild, "anniv-fan")
    await run(emulator, guild, channel, mod, "settings timezone", tz="서울")
    seoul = ZoneInfo("Asia/Seoul")
    morning = dt.datetime(2032, 1, 24, 8, 58, tzinfo=seoul)
    assert shared.clock.now() < morning
    shared.clock.set(morning)
    added = await run(
        emulator,
        guild,
        channel,
        mod,
        "schedule add",
        channel=channel,
        content="onthisday",
        time="9am",
    )
    assert "09:00" in all_text(added)
    shared.clock.set(morning + dt.timedelta(minutes=2) - dt.timedelta(seconds=1))
    post = await emulator.wait_for_message(channel, lambda m: bool(m.embeds), timeout=10)

    day = [e for e in dataset().events if (e.date.month, e.date.day) == (1, 24)]
    timed = sorted((e for e in day if e.time is not None), key=lambda e: (e.date, e.time))
    lines = post.embed["description"].splitlines()
    assert len(timed) >= 2 and len(day) > len(lines) - 1  # a busy day: some are behind Details
    for line, event in zip(lines[:-1], timed, strict=False):
        assert event_line(event)[:40] in line, (line, event.id)
    assert "Details" in lines[-1]  # "…and N more on this day: Details shows them"
    assert [b["label"] for b in post.buttons] == ["Details"]

    await shared.bot.restart()
    click = await emulator.click(post, "Details", fan)
    details = await click.response()
    assert details.is_ephemeral and click.latency is not None and click.latency < 3
    shown = all_text(details.embeds[0])
    for event in day:  # every event of the day, the ones the post had no room for too
        assert event_text(event)[:40] in shown, event.id
