"""Moderators schedule daily posts, through the real bot process and the emulator (SPEC §6).

The bot runs on a clock the test holds: the test moves it to the minute a post is due, and an
hour on while the bot is down. What needs days to pass (failing three days in a row, catch-up
after downtime, pacing) is covered with a fake clock in tests/test_scheduler.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.domain import dates
from tests.e2e.helpers import all_text, dataset, moderator, posts, run, schedule_id, shown_id
from tests.fakediscord import permissions as P
from tests.fakediscord.botproc import BotProcess
from tests.fakediscord.emulator import Emulator
from tests.fakediscord.fixtures import Shared


async def test_moderators_only_and_what_is_refused(
    shared: Shared, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator, guild = shared.emulator, shared.guild
    general = guild.text_channels[0]
    mod = moderator(emulator, guild)

    # Both groups are hidden from members without Manage Server by default…
    for name in ("schedule", "settings"):
        assert str(emulator.commands[name]["default_member_permissions"]) == str(P.MANAGE_GUILD)
    # …and checked when run, for a server that showed them to everyone anyway.
    check_can_use = emulator._check_can_use
    monkeypatch.setattr(
        emulator,
        "_check_can_use",
        lambda cmd, *rest: check_can_use({**cmd, "default_member_permissions": None}, *rest),
    )
    fan = emulator.add_member(guild, "fan")
    for command, options in (
        ("schedule list", {}),
        ("settings timezone", {"tz": "UTC"}),
        ("schedule add", {"channel": general, "content": "quote", "time": "09:00"}),
    ):
        refused = await run(emulator, guild, general, fan, command, **options)
        assert "Manage Server" in refused["description"]
    assert await run(emulator, guild, general, fan, "schedule list") and not posts(
        emulator, general
    )

    # A channel where the bot may not send, or not embed: refused, naming the permission.
    quiet = emulator.add_channel(guild, "quiet")
    emulator.set_overwrite(quiet, emulator.bot_role(guild), deny=P.SEND_MESSAGES)
    plain = emulator.add_channel(guild, "plain")
    emulator.set_overwrite(plain, emulator.bot_role(guild), deny=P.EMBED_LINKS)
    await asyncio.sleep(0.3)  # the bot's cache takes the CHANNEL_CREATE/UPDATE events
    refused = await run(
        emulator, guild, general, mod, "schedule add", channel=quiet, content="fact", time="09:00"
    )
    assert "Send Messages" in refused["description"] and "quiet" in refused["description"]
    assert "Embed Links" not in refused["description"]  # only what was denied, not implied
    assert refused["title"] == "I can't do that here yet"  # the bot's problem, not the mod's
    refused = await run(
        emulator, guild, general, mod, "schedule add", channel=plain, content="fact", time="09:00"
    )
    assert "Embed Links" in refused["description"]

    # Bad time, timezone or days: a friendly sentence with the right form.
    for options, hint in (
        ({"time": "25:00"}, "HH:MM"),
        ({"time": "09:00", "timezone": "Mars/Olympus"}, "timezone"),
        ({"time": "09:00", "days": "someday"}, "mon,wed,fri"),
    ):
        refused = await run(
            emulator,
            guild,
            general,
            mod,
            "schedule add",
            channel=general,
            content="quote",
            **options,
        )
        assert hint in refused["description"], refused

    # Another server's schedule is "not found" and never touched.
    other = emulator.add_guild("Other server")
    other_mod = moderator(emulator, other, "other-mod")
    await asyncio.sleep(0.3)
    added = await run(
        emulator,
        other,
        other.text_channels[0],
        other_mod,
        "schedule add",
        channel=other.text_channels[0],
        content="fact",
        time="09:00",
    )
    theirs = schedule_id(added)
    for command in ("schedule remove", "schedule pause", "schedule resume"):
        refused = await run(emulator, guild, general, mod, command, id=theirs)
        assert f"no schedule #{theirs}" in refused["description"]
    listed = await run(emulator, other, other.text_channels[0], other_mod, "schedule list")
    assert f"#{theirs}" in all_text(listed) and "active" in all_text(listed)
    assert f"#{theirs}" not in all_text(await run(emulator, guild, general, mod, "schedule list"))

    # Timezone autocomplete, and a preview that posts nothing in the channel.
    choices = await emulator.autocomplete(
        guild, general, mod, "settings timezone", focused="tz", value="seoul"
    )
    assert [c["value"] for c in choices][:1] == ["Asia/Seoul"]
    for content in ("quote", "fact", "onthisday", "trivia"):
        sample = await run(emulator, guild, general, mod, "schedule preview", content=content)
        assert sample.get("author", {}).get("name") or sample.get("title")
    assert posts(emulator, general) == []


async def test_a_daily_post_arrives_once_even_across_a_restart(
    emulator: Emulator, bot: BotProcess
) -> None:
    guild = emulator.guilds[0]
    general = guild.text_channels[0]
    doomed = emulator.add_channel(guild, "doomed")
    quiz = emulator.add_channel(guild, "quiz")
    fans = emulator.add_role(guild, "daily-fans", 0, mentionable=True)
    mod = moderator(emulator, guild)
    player = emulator.add_member(guild, "player")
    await asyncio.sleep(0.3)

    # The server's timezone is Seoul; a schedule without one follows it.
    await run(emulator, guild, general, mod, "settings timezone", tz="asia/seoul")
    seoul = ZoneInfo("Asia/Seoul")
    assert bot.clock is not None
    due = (bot.clock.now().astimezone(seoul) + dt.timedelta(minutes=2)).replace(
        second=0, microsecond=0
    )
    at = due.strftime("%H:%M")

    added = await run(
        emulator,
        guild,
        general,
        mod,
        "schedule add",
        channel=general,
        content="quote",
        time=at,
        role=fans,
    )
    first = schedule_id(added)
    assert f"<t:{int(due.timestamp())}:F>" in added["description"]
    assert "Asia/Seoul" in added["description"]
    broken = schedule_id(
        await run(
            emulator, guild, general, mod, "schedule add", channel=doomed, content="fact", time=at
        )
    )
    await run(
        emulator, guild, general, mod, "schedule add", channel=quiz, content="trivia", time=at
    )
    listed = all_text(await run(emulator, guild, general, mod, "schedule list"))
    assert f"#{first}" in listed and f"#{broken}" in listed and "active" in listed
    emulator.delete_channel(doomed)  # deleted before the post is due
    bot.clock.set(due - dt.timedelta(seconds=1))  # a second before the minute turns

    post = await emulator.wait_for_message(general, lambda m: bool(m.embeds), timeout=10)
    assert post.embed["author"]["name"] == "Daily quote"
    # The quote, its context line and the buttons a /quote reply has.
    quote = dataset().quote(shown_id(post))
    assert quote is not None
    assert post.embed["description"] == f"“{quote.text}”\n— *{quote.setting}*"
    assert [b["label"] for b in post.buttons] == ["Another quote", "Details"]
    details = await (await emulator.click(post, "Details", player)).response()
    assert details.is_ephemeral and quote.context in all_text(details.embeds[0])
    assert post.content == f"<@&{fans.id}>"  # the chosen role is the only mention
    assert post.allowed_mentions == {"parse": [], "roles": [str(fans.id)]}
    assert post.nonce is not None

    # The deleted channel's schedule is failing, with the reason; the other one posted.
    failing = ""
    for _ in range(20):
        failing = all_text(await run(emulator, guild, general, mod, "schedule list"))
        if "failing" in failing:
            break
        await asyncio.sleep(0.5)
    assert "failing" in failing and "deleted" in failing

    # The daily trivia question arrived too; a fan answers it.
    question = await emulator.wait_for_message(quiz, lambda m: bool(m.buttons), timeout=30)
    assert question.embed["title"] == "Daily trivia question"
    asked = next(q for q in dataset().questions if q.question == question.embed["description"])
    click = await emulator.click(question, asked.answer, player)
    assert "Locked in" in (await click.response()).embeds[0]["description"]

    # The bot stops; by the time it is back the question's hour is over. Nothing is posted
    # twice, and the pending reveal still happens at start-up and scores.
    await bot.stop()
    bot.clock.advance(dt.timedelta(hours=1))
    await bot.start()
    shown = await emulator.wait_for_edit(
        question, lambda m: any(b.get("label") == "Report a problem" for b in m.buttons), timeout=20
    )
    assert all(b.get("disabled") for b in shown.buttons if b["label"] in asked.choices)
    assert asked.answer in shown.text and "1 of 1 answered right" in shown.text
    # The reveal says where the daily challenge is, and opens the fan's own.
    challenge = await (await emulator.click(shown, "Today's /daily challenge", player)).response()
    assert challenge.is_ephemeral and "Daily challenge #" in challenge.embeds[0]["title"]
    # The reveal is shown first and scored right after (a crash in between re-reveals it at
    # the next start), so the points may reach the leaderboard a moment after the edit.
    leaderboard = ""
    for _ in range(20):
        board = await emulator.slash(guild, quiz, player, "trivia leaderboard")
        leaderboard = (await board.response()).embeds[0]["description"]
        if f"<@{player.id}>" in leaderboard:
            break
        await asyncio.sleep(0.25)
    assert f"<@{player.id}>" in leaderboard
    # The dispatcher recovered, looked at what is due and went to sleep until tomorrow.
    await bot.wait_for_log("nothing due; next scheduled run")
    assert len(posts(emulator, general)) == 1
    assert len([m for m in posts(emulator, quiz) if m.buttons]) == 1
    assert emulator.stats.get("nonce:deduplicated", 0) == 0  # nothing was even resent
    listed = all_text(await run(emulator, guild, general, mod, "schedule list"))
    tomorrow = int((due + dt.timedelta(days=1)).timestamp())
    assert f"<t:{tomorrow}:R>" in listed  # next run is tomorrow, same local time

    check = await run(emulator, guild, general, mod, "settings check")
    text = all_text(check)
    assert "✅" in text and "❌" in text and "deleted" in text
    assert "Asia/Seoul" in text and dataset().version in text


async def test_times_and_offsets_as_moderators_write_them(shared: Shared) -> None:
    """Issue 22: `9am`, `9 pm`, `21시`, `오후 9시` are times; `UTC+9` is stored as the zone the
    scheduler loads but read everywhere as "UTC+9" (never Etc/GMT-9, whose sign reads
    backwards); the days are said once, in the title ("Fact · Mon, Wed, Fri")."""
    emulator, guild = shared.emulator, shared.guild
    general = guild.text_channels[0]
    mod = moderator(emulator, guild)

    typed_zone = await emulator.autocomplete(
        guild, general, mod, "schedule add", focused="timezone", value="UTC+9"
    )
    assert typed_zone[:1] == [{"name": "UTC+9", "value": "UTC+9"}], typed_zone
    ids = []
    for typed, local in (
        ("9am", "09:00"),
        ("9 pm", "21:00"),
        ("21시", "21:00"),
        ("오후 9시", "21:00"),
    ):
        added = await run(
            emulator,
            guild,
            general,
            mod,
            "schedule add",
            channel=general,
            content="fact",
            time=typed,
            timezone="UTC+9",
            days="mon,wed,fri",
        )
        ids.append(schedule_id(added))
        said = added["description"]
        assert f"**Fact · Mon, Wed, Fri** in <#{general.id}> at {local} UTC+9." in said, said
        assert "Etc/" not in all_text(added) and said.count("Mon") == 1
        assert "mon,wed,fri" not in all_text(added)

    listed = await run(emulator, guild, general, mod, "schedule list")
    assert "Etc/" not in all_text(listed) and "mon,wed,fri" not in all_text(listed)
    for number, schedule in zip(ids, listed["fields"], strict=True):
        assert schedule["name"] == f"#{number} · Fact · Mon, Wed, Fri"
        assert " UTC+9\n" in schedule["value"] and "Mon" not in schedule["value"], schedule
    numbers = await emulator.autocomplete(guild, general, mod, "schedule pause", focused="id")
    assert [c["name"] for c in numbers] == [
        f"#{ids[0]} · Fact · Mon, Wed, Fri in #{general.name} at 09:00 UTC+9",
        *(f"#{n} · Fact · Mon, Wed, Fri in #{general.name} at 21:00 UTC+9" for n in ids[1:]),
    ]
    for number in ids:  # removed, said the same way
        removed = await run(emulator, guild, general, mod, "schedule remove", id=number)
        assert "UTC+9." in removed["description"] and "Etc/" not in removed["description"]

    # The server's timezone, typed as an offset, is read back as one.
    zone = await run(emulator, guild, general, mod, "settings timezone", tz="GMT-03:00")
    assert "**UTC-3**" in zone["description"] and "Etc/" not in all_text(zone)
    check = await run(emulator, guild, general, mod, "settings check")
    assert "UTC-3" in all_text(check) and "Etc/" not in all_text(check)
    refused = await run(
        emulator,
        guild,
        general,
        mod,
        "schedule add",
        channel=general,
        content="quote",
        time="9",
        timezone="UTC+9",
    )
    assert "9am" in refused["description"]  # what to type instead, as fans write it


async def test_onthisday_counts_in_the_servers_today_and_at_the_next_anniversary(
    shared: Shared,
) -> None:
    """Issue 22: "today" is the server's (UTC+9 here: already tomorrow while UTC's date has
    events), and a day without events points to the next anniversary, whose "N years ago"
    (behind Details) is counted at that anniversary, not at today."""
    emulator, guild = shared.emulator, shared.guild
    general = guild.text_channels[0]
    mod, fan = moderator(emulator, guild), emulator.add_member(guild, "fan")
    await run(emulator, guild, general, mod, "settings timezone", tz="UTC+9")

    def busy(day: dt.date) -> bool:
        return bool(dates.events_on(dataset().events, day.month, day.day))

    utc_day = shared.clock.now().astimezone(dt.UTC).date() + dt.timedelta(days=1)
    while not busy(utc_day) or busy(utc_day + dt.timedelta(days=1)):
        utc_day += dt.timedelta(days=1)
    server_day = utc_day + dt.timedelta(days=1)
    # 16:00 UTC on a day with events is 01:00 the next day, without any, in UTC+9.
    shared.clock.set(dt.datetime.combine(utc_day, dt.time(16), dt.UTC))
    countdown = dates.countdown(dataset().events, server_day)
    assert countdown.next_day is not None
    asked = await emulator.slash(guild, general, fan, "onthisday")
    embed = (await asked.response()).embeds[0]
    assert embed["title"] == f"On this day: {server_day.day} {server_day:%B}", embed
    next_label = f"{countdown.next_day.day} {countdown.next_day:%B}"
    assert f"The next anniversary is **{next_label}**" in embed["description"]

    details = await (await emulator.click(asked.message, "Details", fan)).response()
    text = details.embeds[0]["description"]
    for event in countdown.next_events:
        years = countdown.next_day.year - event.date.year  # at the anniversary
        ago = "1 year ago" if years == 1 else f"{years} years ago"
        assert f"**{event.date.year}** ({ago})" in text, (ago, text)

    # A day with events, in UTC+9 while UTC's date is still the day before: the reply and its
    # Details count the years at the server's today.
    event_day = server_day + dt.timedelta(days=1)
    while not busy(event_day):
        event_day += dt.timedelta(days=1)
    shared.clock.set(dt.datetime.combine(event_day - dt.timedelta(days=1), dt.time(16), dt.UTC))
    asked = await emulator.slash(guild, general, fan, "onthisday")
    embed = (await asked.response()).embeds[0]
    assert embed["title"] == f"On this day: {event_day.day} {event_day:%B}", embed
    details = await (await emulator.click(asked.message, "Details", fan)).response()
    for n, event in enumerate(dates.events_on(dataset().events, event_day.month, event_day.day)):
        years = event_day.year - event.date.year
        ago = "this year" if years == 0 else "1 year ago" if years == 1 else f"{years} years ago"
        assert f"**{event.date.year}** ({ago})" in details.embeds[0]["description"]
        if n == 0:  # a busy day's reply lists as many as fit
            assert f"**{event.date.year}** · {ago}" in embed["description"]
