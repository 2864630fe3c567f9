"""A server's settings as moderators see them (SPEC §6 `/settings`): the timezone and language
set, and the health check."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import discord

from bot.domain.schedule import timezone_label
from bot.ui.embeds import COLOUR, DESCRIPTION_MAX, ERROR_COLOUR, _embed, _field, join_within


def timezone_set_embed(timezone: str, now: dt.datetime) -> discord.Embed:
    local = now.astimezone(ZoneInfo(timezone))
    return _embed(
        "Server timezone set",
        f"This server's timezone is now **{timezone_label(timezone)}** (it is "
        f"{local.strftime('%H:%M')} there). "
        "New schedules use it unless they name another, and `/onthisday` uses its date. "
        "Existing schedules keep the timezone they were made with.",
    )


def settings_check_embed(
    channel_lines: list[str], timezone: str | None, dataset_version: str, all_well: bool
) -> discord.Embed:
    title = "Health check: all good" if all_well else "Health check: something needs fixing"
    description = (
        join_within(channel_lines, DESCRIPTION_MAX)
        if channel_lines
        else "No scheduled posts yet, so there are no channels to check."
    )
    embed = _embed(title, description, COLOUR if all_well else ERROR_COLOUR)
    _field(
        embed,
        "Server timezone",
        f"{timezone}" if timezone else "not set: UTC is used (set it with `/settings timezone`)",
        inline=True,
    )
    _field(embed, "Dataset version", dataset_version, inline=True)
    return embed
