"""Scheduled posts in a Korean server, through the real bot process (SPEC §3a, §6).

Each moderator is answered in their own Discord language (what they asked for, what they typed
wrong, the list of schedules with why one fails); what a schedule posts for the channel is in the
server's language, here Korean (its preferred locale) until a moderator sets it to English.
Moderators type days, times and timezones as they write them: `월,수,금`, `오전 9시`, `서울`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from tests.e2e.helpers import NO_PINGS, all_text, moderator, posts, schedule_id
from tests.fakediscord.fixtures import Shared
from tests.fakediscord.models import Channel, Guild, Member

SEOUL = ZoneInfo("Asia/Seoul")


async def ask(
    shared: Shared, guild: Guild, member: Member, command: str, locale: str, **options: Any
) -> dict[str, Any]:
    """A moderator's command from a Discord set to `locale`: a private reply; its embed."""
    where: Channel = guild.text_channels[0]
    interaction = await shared.emulator.slash(guild, where, member, command, options, locale=locale)
    reply = await interaction.response()
    assert reply.is_ephemeral and reply.data.get("allowed_mentions", NO_PINGS) == NO_PINGS
    return dict(reply.embeds[0])


def next_monday_wednesday_or_friday(now: dt.datetime) -> dt.datetime:
    """09:00 in Seoul on the next Monday, Wednesday or Friday after today (Seoul's)."""
    day = now.astimezone(SEOUL).date() + dt.timedelta(days=1)
    while day.weekday() not in (0, 2, 4):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(9), SEOUL)


async def test_a_korean_moderator_schedules_in_korean_and_the_post_is_in_the_servers_language(
    shared: Shared,
) -> None:
    emulator = shared.emulator
    guild = emulator.add_guild("러브 윈즈 올 팬 서버", locale="ko")
    general = guild.text_channels[0]
    doomed = emulator.add_channel(guild, "doomed")
    korean_mod = moderator(emulator, guild, "관리자")
    mod = moderator(emulator, guild, "mod")
    await asyncio.sleep(0.3)  # the bot's cache takes the new channel
    due = next_monday_wednesday_or_friday(shared.clock.now())
    shared.clock.set(due - dt.timedelta(minutes=5))

    # The timezone autocomplete understands Korean places.
    for typed in ("서울", "한국 시간"):
        choices = await emulator.autocomplete(
            guild, general, korean_mod, "schedule add", focused="timezone", value=typed, locale="ko"
        )
        assert [c["value"] for c in choices][:1] == ["Asia/Seoul"]

    # A Korean moderator sets the server to 서울, then types days and time in Korean; each
    # reply is Korean and names the IANA zone used.
    zone = await ask(shared, guild, korean_mod, "settings timezone", "ko", tz="서울")
    assert zone["title"] == "서버 시간대를 설정했어요" and "**Asia/Seoul**" in zone["description"]
    added = await ask(
        shared,
        guild,
        korean_mod,
        "schedule add",
        "ko",
        channel=general,
        content="quote",
        time="오전 9시",
        days="월,수,금",
    )
    first = schedule_id(added)
    assert added["title"].startswith(f"예약 게시물 #{first}") and added["title"].endswith(
        "추가했어요"
    )
    assert "**인용 · 월, 수, 금** · <#" in added["description"]
    assert "에서 Asia/Seoul 기준 09:00" in added["description"]  # the days said once, above
    assert added["description"].count("월, 수, 금") == 1
    assert f"다음 게시: <t:{int(due.timestamp())}:F>" in added["description"]

    # An English-speaking moderator of the same server is answered in English, and may type
    # the time as fans do in English.
    english = await ask(
        shared,
        guild,
        mod,
        "schedule add",
        "en-US",
        channel=doomed,
        content="fact",
        time="9am",
        timezone="KST",
        days="mon,wed,fri",
    )
    broken = schedule_id(english)
    assert english["title"] == f"Schedule #{broken} added"
    assert (
        f"**Fact · Mon, Wed, Fri** in <#{doomed.id}> at 09:00 Asia/Seoul." in english["description"]
    )
    assert english["description"].count("Mon, Wed, Fri") == 1

    # A time that cannot be read: each is told in their own language.
    for member, locale, expected in (
        (korean_mod, "ko", "알아볼 수 없는 시간이에요"),
        (mod, "en-US", "HH:MM in 24-hour time"),
    ):
        refused = await ask(
            shared,
            guild,
            member,
            "schedule add",
            locale,
            channel=general,
            content="quote",
            time="25시",
        )
        assert expected in refused["description"], refused

    # A speaker nobody knows (a fan command's option, read by the same checks): the people
    # to pick from are named as Korean fans write them.
    unknown = await ask(shared, guild, korean_mod, "quote", "ko", speaker="누구지")
    assert "“누구지”: 누구인지 모르겠어요" in unknown["description"]
    assert "아이유" in unknown["description"] and "뷔" in unknown["description"]
    assert "IU" not in unknown["description"]

    # At 09:00 on a Monday, Wednesday or Friday in Seoul the quote is posted, in Korean (the
    # server's language); the doomed channel is gone by then.
    emulator.delete_channel(doomed)
    shared.clock.set(due - dt.timedelta(seconds=1))
    post = await emulator.wait_for_message(general, lambda m: bool(m.embeds), timeout=10)
    assert post.embed["author"]["name"] == "인용 · 월, 수, 금"

    # /schedule list: Korean for the Korean moderator, English for the other, each with why
    # the other schedule fails, stored once and read in the reader's language.
    korean = english_list = ""
    for _ in range(20):
        korean = all_text(await ask(shared, guild, korean_mod, "schedule list", "ko"))
        if "실패 중" in korean:
            break
        await asyncio.sleep(0.25)
    english_list = all_text(await ask(shared, guild, mod, "schedule list", "en-US"))
    assert "예약 게시물" in korean and f"#{first} · 인용 · 월, 수, 금" in korean
    assert "✅ 작동 중" in korean and "다음 게시: <t:" in korean
    assert "⚠️ 실패 중(1번 연속): 채널이 삭제됐어요" in korean
    assert "Scheduled posts" in english_list and f"#{first} · Quote · Mon, Wed, Fri" in english_list
    assert "✅ active" in english_list
    assert "⚠️ failing (1 failure in a row): the channel was deleted" in english_list
    assert len(posts(emulator, general)) == 1

    # The server's language came from its preferred locale; a moderator sets it to English
    # (`/settings language en`), and the next post is in English.
    check = await ask(shared, guild, korean_mod, "settings check", "ko")
    assert fields(check)["서버 언어"].startswith("한국어, 서버 기본 언어를 따라요")
    chosen = await ask(shared, guild, korean_mod, "settings language", "ko", lang="en")
    assert chosen["title"] == "서버 언어를 설정했어요" and "**영어**" in chosen["description"]
    check = await ask(shared, guild, mod, "settings check", "en-US")
    assert fields(check)["Server language"] == "English (set with `/settings language`)"
    following = due + dt.timedelta(days=2 if due.weekday() < 4 else 3)  # Wednesday or Monday
    shared.clock.set(following - dt.timedelta(seconds=1))
    await emulator.wait_until(lambda: len(posts(emulator, general)) == 2, 10, "the next post")
    assert posts(emulator, general)[-1].embed["author"]["name"] == "Quote · Mon, Wed, Fri"


def fields(embed: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in embed.get("fields", [])}
