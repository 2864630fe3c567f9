"""Moderators' schedules as they see them (SPEC §6), in the reader's language (§3a): how a
schedule and its posts are named, its state and why it fails, and the replies of `/schedule`.

A schedule's failing reason is stored in the database when a run fails and read later, by
moderators of any language: it is kept as a message of the catalogue with its parameters
(`stored_reason`, JSON text) and rendered for each reader (`reason_text`); a reason stored as
plain text by an older version is shown as it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import discord

from bot.domain.records import ScheduleRecord
from bot.domain.schedule import (
    ALL_DAYS,
    WEEKDAYS,
    WEEKENDS,
    PostKind,
    ScheduleState,
    offset_name,
    read_reason,
    region_offset,
    shown_timezone,
)
from bot.i18n import Language, catalogue, msg, render
from bot.ui.embeds import _embed, _field, _footer, clip
from bot.ui.notices import permission_names

# What a post is called, by what it posts and on which days (a list of days: "Quote · Mon").
_TITLES: dict[PostKind, dict[str, str]] = {
    PostKind.QUOTE: {
        "daily": msg("schedule.title.quote.daily"),
        "weekdays": msg("schedule.title.quote.weekdays"),
        "weekends": msg("schedule.title.quote.weekends"),
        "days": msg("schedule.title.quote.days"),
    },
    PostKind.FACT: {
        "daily": msg("schedule.title.fact.daily"),
        "weekdays": msg("schedule.title.fact.weekdays"),
        "weekends": msg("schedule.title.fact.weekends"),
        "days": msg("schedule.title.fact.days"),
    },
    PostKind.TRIVIA: {
        "daily": msg("schedule.title.trivia.daily"),
        "weekdays": msg("schedule.title.trivia.weekdays"),
        "weekends": msg("schedule.title.trivia.weekends"),
        "days": msg("schedule.title.trivia.days"),
    },
}
_DAY_SETS: dict[frozenset[int], str] = {
    ALL_DAYS: "daily",
    WEEKDAYS: "weekdays",
    WEEKENDS: "weekends",
}
_DAY_SET_NAMES = {
    "daily": msg("schedule.days.daily"),
    "weekdays": msg("schedule.days.weekdays"),
    "weekends": msg("schedule.days.weekends"),
}
_DAY_NAMES = (
    msg("schedule.day.mon"),
    msg("schedule.day.tue"),
    msg("schedule.day.wed"),
    msg("schedule.day.thu"),
    msg("schedule.day.fri"),
    msg("schedule.day.sat"),
    msg("schedule.day.sun"),
)
STATE_LIMIT = 160  # a state line in /schedule list (25 of them fit Discord's 6000 characters)


def _listed_days(days: frozenset[int], language: Language) -> str:
    return ", ".join(render(_DAY_NAMES[day], language) for day in sorted(days))


def post_title(kind: PostKind, days: frozenset[int], language: Language) -> str:
    """What a scheduled post is called, from its days: "Daily quote", "Weekdays quote",
    "Quote · Mon, Wed, Fri" (오늘의 인용, 평일 인용, 인용 · 월, 수, 금); "On this day" whatever
    its days."""
    if kind is PostKind.ONTHISDAY:
        return render("schedule.title.onthisday", language)
    named = _DAY_SETS.get(days)
    if named is not None:
        return render(_TITLES[kind][named], language)
    return render(_TITLES[kind]["days"], language, days=_listed_days(days, language))


def days_text(days: frozenset[int], language: Language) -> str:
    """The days a schedule runs on: daily, weekdays, weekends, or "Mon, Wed, Fri"."""
    named = _DAY_SETS.get(days)
    if named is not None:
        return render(_DAY_SET_NAMES[named], language)
    return _listed_days(days, language)


def timezone_text(name: str, language: Language) -> str:
    """A timezone as people read it, wherever one is shown: an offset zone as its offset
    ("UTC+9", "UTC-3", never Etc/GMT-9, whose sign reads backwards), a region by its IANA
    name, with the offset people type for it when that is not whole hours and holds all year
    ("Asia/Kolkata (UTC+5:30)")."""
    offset = region_offset(name)
    if offset is not None:  # names, in any language: no words to translate
        return f"{name} ({offset_name(offset)})"
    return shown_timezone(name)


def _schedule_when(record: ScheduleRecord, language: Language) -> str:
    """When a schedule posts, beside its title: its time and timezone, and its days only when
    the title does not say them already (every title does, but "On this day")."""
    time, timezone = record.local_time.strftime("%H:%M"), timezone_text(record.timezone, language)
    if record.content is not PostKind.ONTHISDAY:
        return render("schedule.when", language, time=time, timezone=timezone)
    days = days_text(record.days, language)
    return render("schedule.when.days", language, time=time, timezone=timezone, days=days)


def schedule_choice(record: ScheduleRecord, channel_name: str | None, language: Language) -> str:
    """How the schedule-number autocomplete names a schedule."""
    where = f"#{channel_name}" if channel_name else render("schedule.choice.a_channel", language)
    return render(
        "schedule.choice",
        language,
        id=record.id,
        title=post_title(record.content, record.days, language),
        channel=where,
        time=record.local_time.strftime("%H:%M"),
        timezone=timezone_text(record.timezone, language),
    )


def _unix(instant: dt.datetime) -> int:
    return int(instant.timestamp())


# --- why a schedule fails -------------------------------------------------------------------


def reason_text(stored: str, language: Language) -> str:
    """A stored failing reason in `language`; one stored as plain text is shown as it is."""
    found = read_reason(stored)
    if found is None or found[0] not in catalogue().messages[Language.EN]:
        return stored
    message_id, params = found
    permissions = params.get("permissions")
    if isinstance(permissions, list):
        params["permissions"] = permission_names([str(p) for p in permissions], language)
    return render(message_id, language, **params)


def schedule_state(record: ScheduleRecord, language: Language) -> str:
    reason = reason_text(record.failing_reason, language) if record.failing_reason else None
    if record.state == ScheduleState.PAUSED:
        if reason and record.failures:
            return render(
                "schedule.state.paused_after", language, failures=record.failures, reason=reason
            )
        if reason:
            return render("schedule.state.paused_because", language, reason=reason)
        return render("schedule.state.paused", language)
    if reason and record.failures == 1:
        return render("schedule.state.failing.one", language, failures=1, reason=reason)
    if reason:
        return render("schedule.state.failing", language, failures=record.failures, reason=reason)
    return render("schedule.state.active", language)


# --- the replies of /schedule ----------------------------------------------------------------


def schedule_added_embed(
    record: ScheduleRecord, notes: list[str], language: Language
) -> discord.Embed:
    next_run = _unix(record.next_run_at)
    embed = _embed(
        render("schedule.added.title", language, id=record.id),
        render(
            "schedule.added.body",
            language,
            title=post_title(record.content, record.days, language),
            channel=f"<#{record.channel_id}>",
            when=_schedule_when(record, language),
            next_full=f"<t:{next_run}:F>",
            next_relative=f"<t:{next_run}:R>",
        ),
    )
    if record.role_id:
        _field(
            embed,
            render("schedule.added.mentions.name", language),
            render("schedule.added.mentions", language, role=f"<@&{record.role_id}>"),
        )
    for note in notes:
        _field(embed, render("schedule.added.note", language), note)
    _footer(embed, render("schedule.added.footer", language, id=record.id))
    return embed


def schedules_embed(records: list[ScheduleRecord], limit: int, language: Language) -> discord.Embed:
    title = render("schedule.list.title", language)
    if not records:
        return _embed(title, render("schedule.list.empty", language))
    embed = _embed(title, render("schedule.list.count", language, count=len(records), limit=limit))
    # 25 fields at most; keep each short enough that all of them fit in 6000 characters.
    for record in records[:25]:
        label = post_title(record.content, record.days, language)
        lines = [f"<#{record.channel_id}> · {_schedule_when(record, language)}"]
        if record.role_id:
            lines.append(render("schedule.list.mentions", language, role=f"<@&{record.role_id}>"))
        if record.state == ScheduleState.ACTIVE:
            when = f"<t:{_unix(record.next_run_at)}:R>"
            lines.append(render("schedule.list.next", language, when=when))
        lines.append(clip(schedule_state(record, language), STATE_LIMIT))
        _field(embed, f"#{record.id} · {label}", "\n".join(lines))
    if any(r.failing_reason for r in records):
        _footer(embed, render("schedule.list.failing_footer", language))
    return embed


# How a change is told: its title, and what follows from it.
_CHANGES: Mapping[str, tuple[str, str]] = {
    "removed": (msg("schedule.removed.title"), msg("schedule.removed.detail")),
    "paused": (msg("schedule.paused.title"), msg("schedule.paused.detail")),
    "resumed": (msg("schedule.resumed.title"), msg("schedule.resumed.detail")),
}


def schedule_changed_embed(
    change: str, record: ScheduleRecord, language: Language
) -> discord.Embed:
    """The reply to `/schedule remove | pause | resume` (`change`: removed, paused, resumed)."""
    title, detail = _CHANGES[change]
    return _embed(
        render(title, language, id=record.id),
        render(
            "schedule.changed.body",
            language,
            id=record.id,
            title=post_title(record.content, record.days, language),
            channel=f"<#{record.channel_id}>",
            when=_schedule_when(record, language),
            detail=render(
                detail, language, id=record.id, next_full=f"<t:{_unix(record.next_run_at)}:F>"
            ),
        ),
    )


def sample_post_embed(embed: discord.Embed, language: Language) -> discord.Embed:
    """An ephemeral preview: the post as it would look, marked as a sample."""
    footer = embed.footer.text
    if footer:
        _footer(embed, render("schedule.sample.footer", language, footer=footer))
    else:
        _footer(embed, render("schedule.sample", language))
    return embed
