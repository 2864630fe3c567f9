"""Moderators' schedules as they see them (SPEC §6): how a schedule is named, its state, and
the replies of `/schedule`."""

from __future__ import annotations

import datetime as dt

import discord

from bot.domain.records import ScheduleRecord
from bot.domain.schedule import ScheduleState, format_days, post_title, timezone_label
from bot.ui.embeds import _embed, _field, _footer, clip


def _schedule_when(record: ScheduleRecord) -> str:
    when = f"{record.local_time.strftime('%H:%M')} {timezone_label(record.timezone)}"
    return f"{when} · {_days_label(record)}"


def schedule_choice(record: ScheduleRecord, channel_name: str | None) -> str:
    """How the schedule-number autocomplete names a schedule."""
    where = f"#{channel_name}" if channel_name else "a channel"
    when = f"{record.local_time.strftime('%H:%M')} {record.timezone}"
    return f"#{record.id} · {post_title(record.content, record.days)} in {where} at {when}"


def _days_label(record: ScheduleRecord) -> str:
    return format_days(record.days)


def _unix(instant: dt.datetime) -> int:
    return int(instant.timestamp())


def schedule_state(record: ScheduleRecord) -> str:
    if record.state == ScheduleState.PAUSED:
        if record.failing_reason and record.failures:
            return f"⏸️ paused after {record.failures} failures in a row: {record.failing_reason}"
        if record.failing_reason:
            return f"⏸️ paused: {record.failing_reason}"
        return "⏸️ paused"
    if record.failing_reason:
        failures = "1 failure" if record.failures == 1 else f"{record.failures} failures"
        return f"⚠️ failing ({failures} in a row): {record.failing_reason}"
    return "✅ active"


def schedule_added_embed(record: ScheduleRecord, notes: list[str]) -> discord.Embed:
    label = post_title(record.content, record.days)
    embed = _embed(
        f"Schedule #{record.id} added",
        f"**{label}** in <#{record.channel_id}> at {_schedule_when(record)}.\n"
        f"Next post: <t:{_unix(record.next_run_at)}:F> (<t:{_unix(record.next_run_at)}:R>).",
    )
    if record.role_id:
        _field(embed, "Mentions", f"<@&{record.role_id}> with each post")
    for note in notes:
        _field(embed, "Note", note)
    _footer(embed, f"Schedule #{record.id} · /schedule list shows them all")
    return embed


def schedules_embed(records: list[ScheduleRecord], limit: int) -> discord.Embed:
    if not records:
        return _embed(
            "Scheduled posts",
            "This server has no scheduled posts yet. Add one with `/schedule add`, for "
            "example a daily quote at 09:00.",
        )
    embed = _embed("Scheduled posts", f"{len(records)} of {limit} schedules in this server.")
    # 25 fields at most; keep each short enough that all of them fit in 6000 characters.
    for record in records[:25]:
        label = post_title(record.content, record.days)
        lines = [f"<#{record.channel_id}> · {_schedule_when(record)}"]
        if record.role_id:
            lines.append(f"mentions <@&{record.role_id}>")
        if record.state == ScheduleState.ACTIVE:
            lines.append(f"next <t:{_unix(record.next_run_at)}:R>")
        lines.append(clip(schedule_state(record), 160))
        _field(embed, f"#{record.id} · {label}", "\n".join(lines))
    if any(r.failing_reason for r in records):
        _footer(
            embed,
            "A failing schedule retries on its next run and pauses itself after 3 failures. "
            "Fix the channel (see /settings check), then /schedule resume ID.",
        )
    return embed


def schedule_changed_embed(title: str, record: ScheduleRecord, detail: str) -> discord.Embed:
    label = post_title(record.content, record.days)
    return _embed(
        title,
        f"#{record.id} · **{label}** in <#{record.channel_id}> at {_schedule_when(record)}.\n"
        f"{detail}",
    )


def sample_post_embed(embed: discord.Embed) -> discord.Embed:
    """An ephemeral preview: the post as it would look, marked as a sample."""
    _footer(embed, f"Sample · {embed.footer.text}" if embed.footer.text else "Sample")
    return embed
