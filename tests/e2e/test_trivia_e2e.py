"""Fans play trivia together in a channel, through the real bot process (SPEC §4).

The bot runs on a clock the test holds: a question closes when the test moves the clock past
its time, right after the fans clicked, instead of after real seconds.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from bot.domain.trivia import offers_fifty_fifty
from bot.services.games import REVEAL_PAUSE_SECONDS
from tests.dataset_factory import write_dataset
from tests.e2e.helpers import NO_PINGS, dataset, posts
from tests.fakediscord import permissions as P
from tests.fakediscord.botproc import BotProcess
from tests.fakediscord.emulator import Emulator
from tests.fakediscord.fixtures import Shared
from tests.fakediscord.models import Member, Message
from tests.faults.helpers import (
    choice_buttons,
    click_answer,
    is_question,
    question_of,
    revealed,
    start_game,
    wrong_label,
)

SUCCESS, SECONDARY = 3, 2
MANAGE_GUILD = 1 << 5


async def test_a_two_question_game_with_three_fans(shared: Shared) -> None:
    emulator, guild = shared.emulator, shared.guild
    channel = guild.text_channels[0]
    right, wrong, silent = (emulator.add_member(guild, n) for n in ("right", "wrong", "silent"))
    await start_game(emulator, guild, channel, right, questions=2, seconds=10)

    for n in (1, 2):
        message = await emulator.wait_for_message(channel, is_question(n, 2), timeout=20)
        question = question_of(message)
        choices = choice_buttons(message)
        assert 2 <= len(choices) <= 4
        assert sorted(b["label"] for b in choices) == sorted(question.choices)
        fifty = offers_fifty_fifty(question)  # medium and hard ones, with 3 choices or more
        assert [b["label"] for b in message.buttons if b not in choices] == ["50/50"] * fifty
        assert message.allowed_mentions == NO_PINGS
        assert "Locked in" in await click_answer(emulator, message, right, question.answer)
        assert "already answered" in await click_answer(
            emulator, message, right, wrong_label(message, question)
        )
        assert "Locked in" in await click_answer(
            emulator, message, wrong, wrong_label(message, question)
        )

        shared.clock.advance(10)  # the question's time is up
        shown = await emulator.wait_for_edit(message, revealed, timeout=20)
        styles = {b["label"]: b["style"] for b in shown.buttons if b["label"] in question.choices}
        assert styles[question.answer] == SUCCESS
        assert all(s == SECONDARY for label, s in styles.items() if label != question.answer)
        assert question.answer in shown.text and question.explanation in shown.text
        assert "1 of 2 answered right" in shown.text
        assert dataset().source_of(question).publisher in shown.text
        shared.clock.advance(REVEAL_PAUSE_SECONDS)  # time to read the reveal

    final = await emulator.wait_for_message(
        channel, lambda m: "Final standings" in m.text, timeout=20
    )
    assert final.allowed_mentions == NO_PINGS
    lines = final.embed["description"].splitlines()
    assert f"<@{right.id}>" in lines[0] and "2/2 correct" in lines[0] and "🥇" in lines[0]
    assert f"<@{wrong.id}>" in lines[1] and lines[1].startswith("No points this time")
    assert "🥈" not in final.text  # a player without points gets no medal
    assert f"<@{silent.id}>" not in final.text
    # The game's highlights: the fastest right answer, the longest streak; both questions
    # were got right by one of two, so the first of them is the toughest.
    assert re.search(rf"Fastest: <@{right.id}>, \d+\.\d s", final.text)
    assert f"Best streak: <@{right.id}>, 2 in a row" in final.text
    assert "Toughest: “" in final.text and "(1/2 right)" in final.text

    board = await (await emulator.slash(guild, channel, silent, "trivia leaderboard")).response()
    text = board.embeds[0]["description"]
    points = int(re.search(rf"<@{right.id}> — ([\d,]+) points", text)[1].replace(",", ""))  # type: ignore[index]
    assert 1000 <= points <= 2000  # two right answers, 500-1000 each
    assert f"<@{wrong.id}>" not in text  # only players with points are ranked
    assert f"<@{silent.id}>" not in text
    stats = await (await emulator.slash(guild, channel, right, "trivia stats")).response()
    assert "2 right of 2" in str(stats.embeds[0])


async def test_play_again_starts_the_same_game_anew_also_after_a_restart(shared: Shared) -> None:
    emulator, guild = shared.emulator, shared.guild
    channel = emulator.add_channel(guild, "again")
    starter, friend = emulator.add_member(guild, "again-1"), emulator.add_member(guild, "again-2")
    await emulator.slash(
        guild, channel, starter, "trivia play", questions=1, seconds=12, topic="charts"
    )
    first = await emulator.wait_for_message(channel, is_question(1, 1), timeout=20)
    shared.clock.advance(12)
    standings = await emulator.wait_for_message(
        channel, lambda m: "Final standings" in m.text, timeout=20
    )
    assert [b["label"] for b in standings.buttons] == ["Play again"]

    async def again(presser: Member) -> Message:
        click = await emulator.click(standings, "Play again", presser)
        started = await click.response()
        assert not started.is_ephemeral, started.embeds
        text = started.embeds[0]["description"]
        assert f"<@{presser.id}> started a quiz: **1** mixed question, **12 s**" in text
        assert "Topic: **Charts and records**" in text  # the same settings
        question = await emulator.wait_for_message(
            channel, is_question(1, 1), timeout=20, after=click.message.id
        )
        assert question_of(question).topic == "charts"
        return question

    second = await again(friend)  # anyone in the channel may press it
    assert question_of(second).id != question_of(first).id  # new questions
    busy = await (await emulator.click(standings, "Play again", starter)).response()
    assert busy.is_ephemeral and "already running" in busy.embeds[0]["description"]
    await (await emulator.slash(guild, channel, friend, "trivia stop")).response()

    await shared.bot.restart()
    await again(starter)  # the old standings' button still works
    await (await emulator.slash(guild, channel, starter, "trivia stop")).response()


async def test_fifty_fifty_halves_a_right_answer_once_and_only_before_answering(
    shared: Shared,
) -> None:
    emulator, guild = shared.emulator, shared.guild
    channel = emulator.add_channel(guild, "half")
    helped, unaided = emulator.add_member(guild, "half-1"), emulator.add_member(guild, "half-2")
    for _ in range(10):  # a medium question with three choices or more (true/false has none)
        after = max((m.id for m in emulator.channel_messages(channel)), default=0)
        await emulator.slash(
            guild, channel, helped, "trivia play", questions=1, seconds=10, difficulty="medium"
        )
        message = await emulator.wait_for_message(
            channel, is_question(1, 1), timeout=20, after=after
        )
        asked = question_of(message)
        labels = [b["label"] for b in message.buttons]
        if len(asked.choices) >= 3:
            assert "50/50" in labels
            break
        assert "50/50" not in labels  # two choices: nothing to take away
        await (await emulator.slash(guild, channel, helped, "trivia stop")).response()
    else:
        pytest.fail("no medium question with three choices in ten games")

    shown = await (await emulator.click(message, "50/50", helped)).response()
    assert shown.is_ephemeral
    left = re.findall(r"\*\*(.+?)\*\*", shown.embeds[0]["description"])
    assert len(left) == 2 and asked.answer in left and set(left) <= set(asked.choices)
    again = await (await emulator.click(message, "50/50", helped)).response()
    assert "already" in again.embeds[0]["description"]  # once per question
    assert "Locked in" in await click_answer(emulator, message, helped, asked.answer)
    assert "Locked in" in await click_answer(emulator, message, unaided, asked.answer)
    late = await (await emulator.click(message, "50/50", unaided)).response()
    assert "answered this question already" in late.embeds[0]["description"]

    shared.clock.advance(10)
    await emulator.wait_for_message(channel, lambda m: "Final standings" in m.text, timeout=20)

    async def stats(member: Member) -> dict[str, str]:
        reply = await (
            await emulator.slash(guild, channel, member, "trivia stats", member=member)
        ).response()
        return {f["name"]: f["value"] for f in reply.embeds[0]["fields"]}

    mine, theirs = await stats(helped), await stats(unaided)
    points, full = int(mine["Points"].replace(",", "")), int(theirs["Points"].replace(",", ""))
    assert abs(2 * points - full) <= 15, (points, full)  # half, for answers a moment apart
    assert mine["50/50s used"] == "1" and theirs["50/50s used"] == "0"


async def test_the_start_message_says_what_the_game_will_be(shared: Shared) -> None:
    emulator, guild = shared.emulator, shared.guild
    channel = emulator.add_channel(guild, "topic-night")
    fan = emulator.add_member(guild, "topic-fan")
    started = await (
        await emulator.slash(
            guild,
            channel,
            fan,
            "trivia play",
            questions=2,
            difficulty="hard",
            seconds=15,
            topic="music-video",
        )
    ).response()
    text = started.embeds[0]["description"]
    assert "**2** hard questions, **15 s** each" in text
    assert "Topic: **The music video**" in text
    message = await emulator.wait_for_message(channel, is_question(1, 2), timeout=20)
    assert question_of(message).topic == "music-video"
    await (await emulator.slash(guild, channel, fan, "trivia stop")).response()


async def test_one_game_per_channel_and_who_may_stop_it(shared: Shared) -> None:
    emulator, guild = shared.emulator, shared.guild
    channel = guild.text_channels[0]
    starter, fan = emulator.add_member(guild, "starter"), emulator.add_member(guild, "fan")
    await start_game(emulator, guild, channel, starter, questions=3, seconds=30)
    message = await emulator.wait_for_message(channel, is_question(1, 3), timeout=20)

    second = await (await emulator.slash(guild, channel, fan, "trivia play")).response()
    assert second.is_ephemeral
    assert "already running" in second.embeds[0]["description"]
    assert f"<@{starter.id}>" in second.embeds[0]["description"]

    refused = await (await emulator.slash(guild, channel, fan, "trivia stop")).response()
    assert refused.is_ephemeral and "Manage Messages" in refused.embeds[0]["description"]

    # The fan's answer is locked in; the starter stops the game before the time is up.
    asked = question_of(message)
    assert "Locked in" in await click_answer(emulator, message, fan, asked.answer)
    stopped = await (await emulator.slash(guild, channel, starter, "trivia stop")).response()
    assert not stopped.is_ephemeral  # one message: who stopped it, and the standings
    assert stopped.embeds[0]["title"] == "Final standings"
    assert f"<@{starter.id}> stopped the game" in stopped.embeds[0]["description"]
    # The open question is revealed like any other, and the answer locked in is scored.
    assert f"<@{fan.id}>" in stopped.embeds[0]["description"]
    shown = emulator.messages[message.id]
    assert revealed(shown) and asked.answer in shown.text and "Answers close" not in shown.text
    assert all(b.get("disabled") for b in shown.buttons if b["label"] in asked.choices)
    posted = posts(emulator, channel)
    assert not [m for m in posted if "Final standings" in m.text]  # nothing besides the reply
    again = await (
        await emulator.slash(guild, channel, fan, "trivia play", questions=1, seconds=10)
    ).response()
    assert not again.is_ephemeral  # the channel is free again


async def test_a_killed_bot_closes_the_game_and_keeps_the_points(
    emulator: Emulator, bot: BotProcess
) -> None:
    guild = emulator.guilds[0]
    channel = guild.text_channels[0]
    fan = emulator.add_member(guild, "fan")
    await start_game(emulator, guild, channel, fan, questions=3, seconds=10, topic="charts")
    first = await emulator.wait_for_message(channel, is_question(1, 3), timeout=20)
    await click_answer(emulator, first, fan, question_of(first).answer)
    assert bot.clock is not None
    bot.clock.advance(10)
    await emulator.wait_for_edit(first, revealed, timeout=20)
    bot.clock.advance(REVEAL_PAUSE_SECONDS)
    second = await emulator.wait_for_message(channel, is_question(2, 3), timeout=20)
    await click_answer(emulator, second, fan, question_of(second).answer)

    await bot.kill()  # SIGKILL: no chance to clean up
    await bot.restart()
    notice = await emulator.wait_for_message(channel, lambda m: "restarted" in m.text, timeout=20)
    assert "ended after question 2 of 3" in notice.text
    # "Play again" starts the same settings, the topic too (kept with the game).
    assert [b["custom_id"] for b in notice.buttons] == ["lwa:again:3:mixed:10:charts"]
    assert revealed(emulator.messages[second.id])  # no live buttons left behind
    board = await (await emulator.slash(guild, channel, fan, "trivia leaderboard")).response()
    assert f"<@{fan.id}>" in board.embeds[0]["description"]
    assert "2 correct" in board.embeds[0]["description"]  # both answers counted, once


@pytest.mark.xdist_group("timing")
async def test_two_hundred_fans_click_at_once(shared: Shared) -> None:
    emulator, guild = shared.emulator, shared.guild
    channel = guild.text_channels[0]
    fans = [emulator.add_member(guild, f"fan{n}") for n in range(200)]
    await start_game(emulator, guild, channel, fans[0], questions=1, seconds=15)
    message = await emulator.wait_for_message(channel, is_question(1, 1), timeout=20)
    question = question_of(message)
    labels = [b["label"] for b in choice_buttons(message)]
    clicks = await asyncio.gather(
        *(emulator.click(message, labels[n % len(labels)], fan) for n, fan in enumerate(fans))
    )
    replies = await asyncio.gather(*(c.response(timeout=10) for c in clicks))
    assert all("Locked in" in r.embeds[0]["description"] for r in replies)
    assert max(c.latency or 99 for c in clicks) < 3
    right = sum(1 for n in range(200) if labels[n % len(labels)] == question.answer)
    shared.clock.advance(15)
    shown = await emulator.wait_for_edit(message, revealed, timeout=30)
    assert f"{right} of 200 answered right" in shown.text


async def test_a_report_is_resolved_by_a_moderator_and_its_reporter_told_once(
    shared: Shared,
) -> None:
    emulator, guild = shared.emulator, shared.guild
    channel = guild.text_channels[0]
    fan = emulator.add_member(guild, "fan")
    mods = emulator.add_role(guild, "mods", permissions=MANAGE_GUILD)
    moderator = emulator.add_member(guild, "moderator", roles=[mods])
    await start_game(emulator, guild, channel, fan, questions=1, seconds=10)
    message = await emulator.wait_for_message(channel, is_question(1, 1), timeout=20)
    question = question_of(message)
    shared.clock.advance(10)
    shown = await emulator.wait_for_edit(message, revealed, timeout=20)
    text_begins = question.question[:40]  # the question named by its words, on one line

    opened = await emulator.click(shown, "Report a problem", fan)
    assert (await opened.response()).type == 9  # a modal
    submitted = await emulator.submit_modal(
        opened, {"What is wrong with this question?": "Two choices look right to me"}, fan
    )
    thanks = await submitted.response()
    assert thanks.is_ephemeral
    assert text_begins in thanks.embeds[0]["description"]
    assert question.id not in thanks.embeds[0]["description"]

    refused = await (await emulator.slash(guild, channel, fan, "trivia reports")).response()
    assert refused.is_ephemeral and "Manage Server" in refused.embeds[0]["description"]
    listing = await emulator.slash(guild, channel, moderator, "trivia reports")
    listed = await listing.response()
    assert listed.is_ephemeral
    text = listed.embeds[0]["description"]
    assert text_begins in text and question.id not in text
    assert "Two choices look right to me" in text
    fix = listing.message.button("1 · Mark fixed")

    # A fan who gets hold of the button (a copy of it) is kindly refused; nothing changes.
    copy = emulator.craft_bot_message(channel, [fix["custom_id"]])
    sneaky = await (await emulator.click(copy, "button 0", fan)).response()
    assert sneaky.is_ephemeral and "Only moderators" in sneaky.embeds[0]["description"]

    await emulator.click(listing, "1 · Mark fixed", moderator)
    updated = await listing.wait_for_edit(lambda m: "Marked fixed" in m.text)
    assert "No open reports" in updated.text and not updated.buttons

    # The reporter's next command brings the outcome, once, after its own answer.
    first = await emulator.slash(guild, channel, fan, "trivia stats")
    assert (await first.response()).embeds[0]["title"] == "Trivia stats"  # its answer first
    [notice] = await first.followups(1)
    assert notice.is_ephemeral and "was marked fixed — thank you!" in notice.text
    assert text_begins in notice.text
    second = await emulator.slash(guild, channel, fan, "trivia stats")
    await second.response()
    with pytest.raises(AssertionError, match="timed out"):
        await second.followups(1, timeout=0.5)


async def test_not_enough_questions_says_how_many_exist(
    emulator: Emulator, bot_factory: Any, tmp_path: Path
) -> None:
    small = write_dataset(tmp_path / "small-data")  # one easy and one medium question
    await bot_factory(extra_env={"DATA_DIR": str(small)})
    guild = emulator.guilds[0]
    fan = emulator.add_member(guild, "fan")
    reply = await (
        await emulator.slash(
            guild, guild.text_channels[0], fan, "trivia play", questions=3, difficulty="easy"
        )
    ).response()
    assert reply.is_ephemeral
    assert "Only 1 question" in reply.embeds[0]["description"]


async def test_a_channel_the_bot_cannot_post_in_is_refused(shared: Shared) -> None:
    emulator, guild = shared.emulator, shared.guild
    quiet = emulator.add_channel(guild, "announcements")
    emulator.set_overwrite(quiet, emulator.bot_role(guild), deny=1 << 11)  # Send Messages
    fan = emulator.add_member(guild, "fan")
    reply = await (await emulator.slash(guild, quiet, fan, "trivia play")).response()
    told = reply.embeds[0]
    # The bot's own problem, not the fan's mistake; only what was really denied is named
    # (Embed Links goes with Send Messages); a fan is asked to tell a moderator, not to do
    # a moderator's job.
    assert reply.is_ephemeral and told["title"] == "I can't do that here yet"
    assert "**Send Messages**" in told["description"] and "Embed Links" not in told["description"]
    assert "moderator" in told["description"] and "Edit Channel" not in told["description"]
    assert not posts(emulator, quiet)
    # A moderator (who can edit the channel's permissions) is told exactly what to change.
    mod_role = emulator.add_role(guild, "channel-mods", P.MANAGE_CHANNELS | P.MANAGE_ROLES)
    mod = emulator.add_member(guild, "channel-mod", roles=[mod_role])
    reply = await (await emulator.slash(guild, quiet, mod, "trivia play")).response()
    told = reply.embeds[0]
    assert told["title"] == "I can't do that here yet"
    assert "Give my role **Send Messages**" in told["description"]
    assert "Edit Channel → Permissions" in told["description"]
