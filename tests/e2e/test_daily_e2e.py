"""Fans play the daily challenge, `/daily play` and `/daily board` (SPEC §4), through the real bot
process: privately, in a server and in a DM, once a day, resumed after a restart, shared, and on
days in a row with the bot's clock (the test holds it).

The tests share one bot process; each makes its own fans. The clock only moves forward (a test
may move it to the next day in Korea), so each test reads the day's number from it.
"""

from __future__ import annotations

import datetime as dt
import re

from bot.domain import daily
from bot.domain.models import Question
from tests.e2e.helpers import NO_PINGS, dataset
from tests.fakediscord.emulator import Emulator
from tests.fakediscord.fixtures import Shared
from tests.fakediscord.models import Channel, Guild, Member, Message, User

UPDATE_MESSAGE = 7
SHARE_LINE = re.compile(
    r"Love wins all daily #(?P<number>\d+) (?P<marks>[🟩🟥]{3}) (?P<correct>\d)/3"
    r" · (?P<seconds>\d+) s 🔥(?P<streak>\d+)"
)


def question_on(message: Message, korean: bool = False) -> Question:
    """The question a fan's challenge message asks (its last line, in bold)."""
    shown = message.embeds[0]["description"].rsplit("\n", 1)[-1].strip("*")
    found = [q for q in dataset().questions if (q.question_ko if korean else q.question) == shown]
    assert len(found) == 1, f"no single question reads {shown!r}"
    return found[0]


async def answer(
    emulator: Emulator, message: Message, fan: Member | User, right: bool, locale: str = "en-US"
) -> Message:
    """The fan clicks the right answer (or a wrong one) on their challenge message, which
    becomes the next question or their result."""
    korean = locale == "ko"
    question = question_on(message, korean)
    right_label = question.answer_ko if korean else question.answer
    labels = [b["label"] for b in message.buttons]
    label = right_label if right else next(label for label in labels if label != right_label)
    click = await emulator.click(message, label, fan, locale=locale)
    response = await click.response()
    assert response.type == UPDATE_MESSAGE, response.embeds
    assert click.latency is not None and click.latency < 3
    return emulator.messages[message.id]


async def play(
    emulator: Emulator, guild: Guild, channel: Channel, fan: Member, locale: str = "en-US"
) -> Message:
    """`/daily play` in a server: the fan's private challenge message."""
    inter = await emulator.slash(guild, channel, fan, "daily play", locale=locale)
    response = await inter.response()
    assert response.type == 4 and response.is_ephemeral
    assert inter.latency is not None and inter.latency < 3
    return inter.message


def today(shared: Shared) -> int:
    """Today's challenge number, on the bot's clock, moved past midnight in Korea first if it
    is about to strike: a test's challenge does not change under it."""
    now = shared.clock.now()
    if daily.next_starts_at(now) - now < dt.timedelta(minutes=10):
        shared.clock.advance(daily.next_starts_at(now) - now + dt.timedelta(minutes=1))
    return daily.today_number(shared.clock.now())


async def test_two_fans_play_the_same_three_questions_in_a_server_and_a_dm(
    shared: Shared,
) -> None:
    emulator, guild = shared.emulator, shared.guild
    channel = guild.text_channels[0]
    hana = emulator.add_member(guild, "hana")
    dm_fan = emulator.add_user("daily-dm-fan")  # shares no server with the bot
    emulator.install_for_user(dm_fan)
    number = today(shared)

    message = await play(emulator, guild, channel, hana)
    assert message.embeds[0]["title"] == f"Daily challenge #{number} · 1/3"
    asked_hana: list[str] = []
    for right in (True, False, True):
        asked_hana.append(question_on(message).id)
        message = await answer(emulator, message, hana, right)
    result = message.embeds[0]
    assert result["title"] == f"Daily challenge #{number}: 2/3"
    assert "❌ Not this time" not in result["description"]  # the last one was right
    assert "✅ Right" in result["description"] and "Source: " in result["description"]
    line = SHARE_LINE.search(result["description"])
    assert line is not None and line["marks"] == "🟩🟥🟩" and line["streak"] == "1"
    assert int(line["number"]) == number
    assert [b["label"] for b in message.buttons] == ["Share"]

    dm = await emulator.slash_dm(dm_fan, "daily play")
    assert (await dm.response()).is_ephemeral
    dm_message = dm.message
    asked_dm: list[str] = []
    for _ in range(3):
        asked_dm.append(question_on(dm_message).id)
        dm_message = await answer(emulator, dm_message, dm_fan, True)
    assert asked_dm == asked_hana  # the same questions, in the same order, for everyone
    dm_line = SHARE_LINE.search(dm_message.embeds[0]["description"])
    assert dm_line is not None and dm_line["marks"] == "🟩🟩🟩"

    # A second attempt: the result again, nothing to answer.
    again = await play(emulator, guild, channel, hana)
    assert again.embeds[0]["title"] == f"Daily challenge #{number}: 2/3"
    assert "You've played today's challenge" in again.embeds[0]["description"]
    assert [b["label"] for b in again.buttons] == ["Share"]

    # Shared in the server: posted in the channel for everyone, once, without pinging.
    share = await emulator.click(message, "Share", hana)
    posted = await share.response()
    assert posted.type == 4 and not posted.is_ephemeral
    assert f"<@{hana.id}> played today's challenge" in posted.content
    assert line[0] in posted.content and posted.data["allowed_mentions"] == NO_PINGS
    twice = await (await emulator.click(message, "Share", hana)).response()
    assert twice.is_ephemeral and "already shared" in twice.content
    # In a DM, the line to copy.
    copy = await (await emulator.click(dm_message, "Share", dm_fan)).response()
    assert copy.is_ephemeral and f"```\n{dm_line[0]}\n```" in copy.content

    # The server's board: who played here today (not the DM fan), and the streaks.
    viewer = emulator.add_member(guild, "board-viewer")
    board = await (await emulator.slash(guild, channel, viewer, "daily board")).response()
    assert not board.is_ephemeral and board.data["allowed_mentions"] == NO_PINGS
    text = board.embeds[0]["description"]
    assert board.embeds[0]["title"] == f"Daily challenge #{number}: today's board"
    assert f"🥇 <@{hana.id}> — 2/3 · {line['seconds']} s" in text
    assert str(dm_fan.id) not in text
    assert "Longest streaks" in text and f"<@{hana.id}> 🔥1" in text

    dm_board = await (await emulator.slash_dm(dm_fan, "daily board")).response()
    assert dm_board.is_ephemeral and "`/daily board` in one" in dm_board.embeds[0]["description"]


async def test_a_restart_mid_challenge_resumes_and_a_second_device_gives_no_second_try(
    shared: Shared,
) -> None:
    emulator, guild = shared.emulator, shared.guild
    channel = guild.text_channels[0]
    fan = emulator.add_member(guild, "two-phones")
    today(shared)  # not about to end

    phone = await play(emulator, guild, channel, fan, locale="ko")
    assert phone.embeds[0]["title"].startswith("데일리 챌린지 #")
    phone = await answer(emulator, phone, fan, True, locale="ko")
    assert "✅ 정답이에요" in phone.embeds[0]["description"]

    await shared.bot.restart()
    phone = await answer(emulator, phone, fan, False, locale="ko")  # the same buttons still work
    assert phone.embeds[0]["title"].endswith("· 3/3")

    # A second device: /daily play opens where the fan is, not a new try.
    tablet = await play(emulator, guild, channel, fan)
    assert tablet.embeds[0]["title"].endswith("· 3/3")
    assert "Welcome back" in tablet.embeds[0]["description"]
    tablet = await answer(emulator, tablet, fan, True)
    line = SHARE_LINE.search(tablet.embeds[0]["description"])
    assert line is not None and line["marks"] == "🟩🟥🟩"

    # The phone still shows the third question: its answer is not a second try.
    phone = await answer(emulator, phone, fan, False, locale="ko")
    description = phone.embeds[0]["description"]
    assert "그 문제는 이미 답했어요" in description
    assert "🟩🟥🟩 2/3" in description and "🟩🟥🟥" not in description


async def test_days_in_a_row_make_a_streak_and_yesterdays_buttons_close(shared: Shared) -> None:
    emulator, guild = shared.emulator, shared.guild
    channel = emulator.add_channel(guild, "streaks")
    fan = emulator.add_member(guild, "every-day")
    first_day = today(shared)

    yesterday = await play(emulator, guild, channel, fan)
    asked_first = question_on(yesterday).id
    for _ in range(3):
        yesterday = await answer(emulator, yesterday, fan, True)
    late_fan = emulator.add_member(guild, "late")
    unfinished = await play(emulator, guild, channel, late_fan)

    # The next day in Korea, a minute past midnight (the clock only moves forward).
    next_start = daily.next_starts_at(shared.clock.now())
    shared.clock.advance(next_start - shared.clock.now() + dt.timedelta(minutes=1))
    assert today(shared) == first_day + 1

    message = await play(emulator, guild, channel, fan)
    assert message.embeds[0]["title"] == f"Daily challenge #{first_day + 1} · 1/3"
    assert question_on(message).id != asked_first
    for right in (False, False, False):
        message = await answer(emulator, message, fan, right)
    description = message.embeds[0]["description"]
    assert "🔥 **2** days in a row" in description
    line = SHARE_LINE.search(description)
    assert line is not None and line["correct"] == "0" and line["streak"] == "2"

    board = await (await emulator.slash(guild, channel, fan, "daily board")).response()
    assert f"<@{fan.id}> 🔥2" in board.embeds[0]["description"]

    # Past the day's grace, a question of the day before no longer takes answers.
    shared.clock.advance(daily.GRACE)
    question = question_on(unfinished)
    late = await (await emulator.click(unfinished, question.answer, late_fan)).response()
    assert late.is_ephemeral and "That challenge has ended" in late.embeds[0]["description"]
