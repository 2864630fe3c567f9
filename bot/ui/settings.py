"""A server's settings as moderators see them (SPEC §6 `/settings`): the timezone and language
set, and the health check."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from zoneinfo import ZoneInfo

import discord

from bot.domain.language import Language
from bot.i18n import msg, render
from bot.ui.embeds import COLOUR, DESCRIPTION_MAX, ERROR_COLOUR, _embed, _field, join_within
from bot.ui.schedules import timezone_text

LANGUAGE_NAMES = {Language.EN: msg("language.en"), Language.KO: msg("language.ko")}


def language_name(language: Language, reader: Language) -> str:
    """A language's name as the reader calls it (한국어, Korean)."""
    return render(LANGUAGE_NAMES[language], reader)


def timezone_set_embed(timezone: str, now: dt.datetime, language: Language) -> discord.Embed:
    local = now.astimezone(ZoneInfo(timezone))
    return _embed(
        render("settings.timezone_set.title", language),
        render(
            "settings.timezone_set.body",
            language,
            zone=timezone_text(timezone, language),
            time=local.strftime("%H:%M"),
        ),
    )


def language_set_embed(chosen: Language, language: Language) -> discord.Embed:
    return _embed(
        render("settings.language_set.title", language),
        render("settings.language_set.body", language, name=language_name(chosen, language)),
    )


class Reach(Enum):
    """What the health check found about one channel the server's schedules post in."""

    GONE = "gone"  # deleted, or the bot cannot see it
    UNCHECKED = "unchecked"  # the bot's own member could not be read
    MISSING = "missing"  # permissions to post are missing
    FINE = "fine"


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    channel_id: int
    schedule_ids: tuple[int, ...]
    reach: Reach
    fix: str = ""  # for MISSING: the sentence naming what to give the bot, in the reader's words
    stopped: tuple[int, ...] = field(default=())  # paused or failing schedules

    @property
    def well(self) -> bool:
        return self.reach is Reach.FINE and not self.stopped


def _ids(ids: tuple[int, ...]) -> str:
    return ", ".join(f"#{i}" for i in ids)


def channel_line(health: ChannelHealth, language: Language, view_channel: str) -> str:
    """One line of /settings check."""
    params = {"channel": health.channel_id, "ids": _ids(health.schedule_ids)}
    if health.reach is Reach.GONE:
        return render("settings.check.gone", language, view_channel=view_channel, **params)
    if health.reach is Reach.UNCHECKED:
        return render("settings.check.unchecked", language, **params)
    if health.reach is Reach.MISSING:
        return render("settings.check.missing", language, fix=health.fix, **params)
    line = render("settings.check.fine", language, **params)
    if health.stopped:
        line += " " + render("settings.check.stopped", language, which=_ids(health.stopped))
    return line


def settings_check_embed(
    channel_lines: list[str],
    timezone: str | None,
    server_language: Language,
    language_chosen: bool,
    dataset_version: str,
    all_well: bool,
    language: Language,
) -> discord.Embed:
    if all_well:
        title = render("settings.check.title.good", language)
    else:
        title = render("settings.check.title.bad", language)
    description = (
        join_within(channel_lines, DESCRIPTION_MAX)
        if channel_lines
        else render("settings.check.no_schedules", language)
    )
    embed = _embed(title, description, COLOUR if all_well else ERROR_COLOUR)
    _field(
        embed,
        render("settings.check.timezone", language),
        timezone_text(timezone, language)
        if timezone
        else render("settings.check.timezone.unset", language),
        inline=True,
    )
    name = language_name(server_language, language)
    if language_chosen:
        source = render("settings.check.language.chosen", language, name=name)
    else:
        source = render("settings.check.language.from_locale", language, name=name)
    _field(embed, render("settings.check.language", language), source, inline=True)
    _field(embed, render("settings.check.dataset", language), dataset_version, inline=True)
    return embed
