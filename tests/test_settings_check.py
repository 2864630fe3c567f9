"""/settings check's verdict per channel (`bot.cogs.settings.channel_health`): all is well only
where the bot can post and no schedule is paused or failing, so the title never says "all
good" above a line that asks the moderator to act."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import discord

from bot.cogs.settings import channel_health
from bot.domain.language import Language
from bot.domain.records import ScheduleRecord
from bot.i18n import render
from bot.ui.settings import channel_line


class Channel:
    name = "daily"

    def __init__(self, permissions: discord.Permissions) -> None:
        self.permissions = permissions

    def permissions_for(self, member: Any) -> discord.Permissions:
        return self.permissions


class Guild:
    def __init__(self, channel: Channel | None) -> None:
        self.channel = channel

    def get_channel(self, channel_id: int) -> Channel | None:
        return self.channel


def schedules(*states: tuple[str, bool]) -> list[ScheduleRecord]:
    return [
        cast(ScheduleRecord, SimpleNamespace(id=n, state=state, failing=failing))
        for n, (state, failing) in enumerate(states, start=1)
    ]


def health(
    channel: Channel | None, records: list[ScheduleRecord], language: Language = Language.EN
) -> tuple[bool, str]:
    verdict = channel_health(cast(Any, Guild(channel)), cast(Any, object()), 42, records, language)
    view_channel = render("permission.view_channel", language)
    return verdict.well, channel_line(verdict, language, view_channel)


def test_a_channel_where_everything_posts_is_well() -> None:
    well, line = health(Channel(discord.Permissions.all()), schedules(("active", False)))
    assert well and line.startswith("✅") and "resume" not in line


def test_a_paused_or_failing_schedule_is_not_well_though_the_bot_can_post() -> None:
    for state, failing in (("paused", False), ("active", True)):
        well, line = health(Channel(discord.Permissions.all()), schedules((state, failing)))
        assert not well and "#1 paused or failing" in line and "/schedule resume" in line


def test_a_missing_permission_or_channel_is_not_well_and_says_what_to_do() -> None:
    well, line = health(Channel(discord.Permissions.none()), schedules(("active", False)))
    assert not well and line.startswith("❌") and "Edit Channel" in line
    well, line = health(None, schedules(("active", False)))
    assert not well and "Remove those schedules" in line


def test_a_korean_moderator_reads_the_verdict_in_korean() -> None:
    well, line = health(
        Channel(discord.Permissions.all()), schedules(("paused", False)), Language.KO
    )
    assert not well and "#1 일정은 일시 정지됐거나" in line and "/schedule resume" in line
    well, line = health(None, schedules(("active", False)), Language.KO)
    assert not well and "**채널 보기** 권한" in line
