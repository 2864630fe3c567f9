"""Scheduled posts (SPEC §6): reading what moderators type, and when a schedule runs next.

Local times follow the schedule's timezone through daylight-saving changes: a time that does
not exist that day runs at the first valid minute after the gap; an ambiguous one runs once,
at its first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

from bot.domain.refusal import Refusal


class PostKind(StrEnum):
    """What a schedule posts (SPEC §6). `POST_KINDS` says how each is offered and shown; the
    database's CHECK constraint lists the same values (a new kind needs a migration)."""

    QUOTE = "quote"
    FACT = "fact"
    ONTHISDAY = "onthisday"
    TRIVIA = "trivia"


@dataclass(frozen=True)
class PostKindInfo:
    choice: str  # how /schedule add offers it
    noun: str  # what a post is ("quote"); "On this day" names itself


POST_KINDS: dict[PostKind, PostKindInfo] = {
    PostKind.QUOTE: PostKindInfo("Quote", "quote"),
    PostKind.FACT: PostKindInfo("Fact", "fact"),
    PostKind.ONTHISDAY: PostKindInfo("On this day", "On this day"),
    PostKind.TRIVIA: PostKindInfo("Trivia question (open for an hour)", "trivia question"),
}


def post_title(kind: PostKind, days: frozenset[int]) -> str:
    """What a scheduled post is called, from its days: "Daily quote", "Weekdays quote",
    "Quote · Mon, Wed, Fri"; "On this day" whatever its days."""
    noun = POST_KINDS[kind].noun
    if kind is PostKind.ONTHISDAY:
        return noun
    named = {ALL_DAYS: "Daily", WEEKDAYS: "Weekdays", WEEKENDS: "Weekends"}.get(days)
    if named is not None:
        return f"{named} {noun}"
    listed = ", ".join(DAY_NAMES[d].capitalize() for d in sorted(days))
    return f"{noun[0].upper()}{noun[1:]} · {listed}"


MAX_SCHEDULES_PER_GUILD = 25


class ScheduleState(StrEnum):
    ACTIVE = "active"  # a failing schedule is active with a failing reason
    PAUSED = "paused"


class RunState(StrEnum):
    CLAIMED = "claimed"  # taken by a dispatcher, not yet sent
    SENT = "sent"
    SKIPPED = "skipped"  # missed by more than the grace
    FAILED = "failed"


DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
_DAY_ALIASES: dict[str, int] = {
    **{name: number for number, name in enumerate(DAY_NAMES)},
    **{name: number for number, name in enumerate(_FULL_DAY_NAMES)},
    "tues": 1,
    "thur": 3,
    "thurs": 3,
}
ALL_DAYS: frozenset[int] = frozenset(range(7))
WEEKDAYS: frozenset[int] = frozenset(range(5))
WEEKENDS: frozenset[int] = frozenset({5, 6})
_DAY_SETS: dict[str, frozenset[int]] = {
    "daily": ALL_DAYS,
    "weekdays": WEEKDAYS,
    "weekends": WEEKENDS,
}
_DAY_SET_ALIASES: dict[str, frozenset[int]] = {
    **_DAY_SETS,
    "every day": ALL_DAYS,
    "everyday": ALL_DAYS,
    "weekday": WEEKDAYS,
    "weekend": WEEKENDS,
}

# Offered by the timezone autocomplete before the moderator has typed anything.
COMMON_TIMEZONES: tuple[str, ...] = (
    "UTC",
    "Asia/Seoul",
    "Asia/Tokyo",
    "Asia/Manila",
    "Asia/Jakarta",
    "Asia/Bangkok",
    "Asia/Kolkata",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "America/Mexico_City",
    "Australia/Sydney",
)

_TIME = re.compile(r"(?P<hour>\d{1,2}):(?P<minute>\d{2})", re.ASCII)
_DAY_SEPARATORS = re.compile(r"[\s,]+")
# Discord rejects a numeric nonce outside a signed 64-bit integer; leave room for the minute.
_NONCE_MINUTE_DIGITS = 10
_MAX_NONCE_SCHEDULE_ID = (2**63 - 1) // 10**_NONCE_MINUTE_DIGITS


class ScheduleInputError(Refusal):
    """A moderator's input we cannot use; the message is a friendly sentence or two."""


def parse_time(text: str) -> time:
    """Read a 24-hour local time, `HH:MM` or `H:MM`."""
    match = _TIME.fullmatch(text.strip())
    if match:
        hour, minute = int(match["hour"]), int(match["minute"])
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise ScheduleInputError(
        f"“{_shorten(text)}” is not a time I can use: give it as HH:MM in 24-hour time, "
        "for example 09:00 or 18:30."
    )


def parse_days(text: str) -> frozenset[int]:
    """Read the days a schedule runs on (0 = Monday): `daily` (also for empty input),
    `weekdays`, `weekends`, or a list of day names such as `mon,wed,fri`."""
    cleaned = " ".join(text.split()).casefold()
    if not cleaned:
        return ALL_DAYS
    if cleaned in _DAY_SET_ALIASES:
        return _DAY_SET_ALIASES[cleaned]
    days: set[int] = set()
    for name in _DAY_SEPARATORS.split(cleaned):
        if not name:
            continue
        if name not in _DAY_ALIASES:
            raise ScheduleInputError(
                f"I don't know the day “{_shorten(name)}”: use daily, weekdays, weekends "
                "or a comma list of days such as mon,wed,fri."
            )
        days.add(_DAY_ALIASES[name])
    if not days:
        raise ScheduleInputError(
            "Please name at least one day: daily, weekdays, weekends or a list such as mon,wed,fri."
        )
    return frozenset(days)


def format_days(days: frozenset[int]) -> str:
    """The canonical text for a set of days; parse_days reads it back to the same set."""
    if not days or not days <= ALL_DAYS:
        raise ValueError(f"not a set of weekdays 0-6: {sorted(days)}")
    for name, day_set in _DAY_SETS.items():
        if days == day_set:
            return name
    return ",".join(DAY_NAMES[day] for day in sorted(days))


def is_region_timezone(name: str) -> bool:
    """An IANA region name (Asia/Seoul, UTC), not one of tzdata's other entries: `localtime`
    (whatever the host is set to), `Factory`, and the `posix/` and `right/` copies."""
    return name not in ("localtime", "Factory", "posixrules") and not name.startswith(
        ("posix/", "right/")
    )


@cache
def _timezones_by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones() if is_region_timezone(name)}


def usable_timezone(name: str | None) -> str | None:
    """`name` if it is a region timezone this host knows, else None: for a setting stored
    earlier (or on another host), which must not break what depends on it."""
    if not name:
        return None
    return _timezones_by_folded_name().get(name.casefold())


# What people type for a timezone besides its IANA name (SPEC §6): the abbreviations fans of a
# K-pop song most often use, each mapped to one region that keeps its rules. These win over
# tzdata's legacy names of the same spelling (EST, MST, CET, EET are fixed offsets there, with no
# summer time: an hour off all summer for someone who typed EST in New York).
TIMEZONE_ABBREVIATIONS: dict[str, str] = {
    "kst": "Asia/Seoul",
    "jst": "Asia/Tokyo",
    "cst": "America/Chicago",  # also China Standard Time; US use is the more common in typing
    "hkt": "Asia/Hong_Kong",
    "sgt": "Asia/Singapore",
    "pht": "Asia/Manila",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "cdt": "America/Chicago",
    "est": "America/New_York",
    "edt": "America/New_York",
    "bst": "Europe/London",
    "cet": "Europe/Paris",
    "cest": "Europe/Paris",
    "eet": "Europe/Athens",
    "ist": "Asia/Kolkata",
    "wib": "Asia/Jakarta",
    "ict": "Asia/Bangkok",
    "aest": "Australia/Sydney",
    "aedt": "Australia/Sydney",
    "nzst": "Pacific/Auckland",
    "brt": "America/Sao_Paulo",
    "utc": "UTC",  # "GMT" is tzdata's own name for the same time, and reads as itself
    "z": "UTC",
}
# Offsets that are not whole hours have no Etc/ zone: each maps to the region that uses it.
_FRACTIONAL_OFFSETS: dict[int, str] = {
    5 * 60 + 30: "Asia/Kolkata",
    5 * 60 + 45: "Asia/Kathmandu",
    3 * 60 + 30: "Asia/Tehran",
    4 * 60 + 30: "Asia/Kabul",
    6 * 60 + 30: "Asia/Yangon",
    9 * 60 + 30: "Australia/Darwin",
    -(3 * 60 + 30): "America/St_Johns",
}
# The offsets places use: from UTC-12 (Baker Island) to UTC+14 (Line Islands).
_OFFSET_RANGE_MINUTES = range(-12 * 60, 14 * 60 + 1)
_OFFSET = re.compile(
    r"(?:utc|gmt)?\s*(?P<sign>[+\-−])\s*(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?",
    re.IGNORECASE,
)


def _offset_minutes(text: str) -> int | None:
    """ "UTC+9" -> 540, "GMT-03:30" -> -210: the offset `text` spells, in minutes east of UTC,
    or None when `text` is not an offset."""
    match = _OFFSET.fullmatch(text.strip())
    if match is None:
        return None
    hours, minutes = int(match["hours"]), int(match["minutes"] or 0)
    if minutes >= 60:
        return None
    sign = -1 if match["sign"] in "-−" else 1
    return sign * (hours * 60 + minutes)


def _offset_zone(text: str) -> str | None:
    """ "UTC+9", "GMT+09:00", "+0530" -> a zone with that offset (Etc/GMT-9: IANA's sign is the
    other way round), or None when `text` is not an offset some place uses."""
    offset = _offset_minutes(text)
    if offset is None or offset not in _OFFSET_RANGE_MINUTES:
        return None
    hours, minutes = divmod(abs(offset), 60)
    if minutes == 0:
        return "UTC" if hours == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{hours}"
    return _FRACTIONAL_OFFSETS.get(offset)


def _known(zone: str | None) -> str | None:
    """`zone` when this host has it as a region, else None: nothing read from what someone
    typed may name a zone that later fails to load."""
    return zone if zone is not None and usable_timezone(zone) == zone else None


def _city_zone(folded: str) -> str | None:
    """ "seoul", "new york" -> the one region whose city is that name."""
    found = [
        name
        for key, name in _timezones_by_folded_name().items()
        if "/" in key and key.rsplit("/", 1)[1] == folded
    ]
    return found[0] if len(found) == 1 else None


def parse_timezone(name: str) -> str:
    """The IANA region for what someone typed: a region name in any case ("asia/seoul"), a
    common abbreviation ("KST"), an offset ("UTC+9", "GMT+09:00") or a city ("Seoul")."""
    cleaned = name.strip().replace(" ", "_")
    folded = cleaned.casefold()
    for canonical in _meanings(name, folded):
        if canonical is not None:
            return canonical
    offset = _offset_minutes(name)
    if offset is not None and offset not in _OFFSET_RANGE_MINUTES:
        raise ScheduleInputError(
            f"“{_shorten(name)}” is not a timezone any place uses: UTC offsets run from UTC-12 "
            "to UTC+14. Use a name such as Asia/Seoul, Europe/Berlin or UTC, or KST, or UTC+9."
        )
    suggestions = timezone_suggestions(cleaned, limit=3) if cleaned else []
    if suggestions:
        hint = f"did you mean {' or '.join(suggestions)}?"
    else:
        hint = "use a name such as Asia/Seoul, Europe/Berlin or UTC, or KST, or UTC+9."
    raise ScheduleInputError(f"I don't know the timezone “{_shorten(name)}”; {hint}")


def _meanings(typed: str, folded: str) -> list[str | None]:
    """What `typed` (`folded`: trimmed, spaces as underscores, casefolded) may mean, best first,
    each a zone this host knows or None: the bot's own abbreviations before tzdata's names
    (whose EST or CET are fixed legacy zones), then an offset, then a city."""
    return [
        _known(TIMEZONE_ABBREVIATIONS.get(folded)),
        _timezones_by_folded_name().get(folded),
        _known(_offset_zone(typed)),
        _city_zone(folded),
    ]


def timezone_label(name: str) -> str:
    """How a timezone is shown: its IANA name, and for an Etc/ zone the offset it means."""
    match = re.fullmatch(r"Etc/GMT(?P<sign>[+-])(?P<hours>\d{1,2})", name)
    if match is None:
        return name
    sign = "-" if match["sign"] == "+" else "+"  # IANA's Etc/GMT signs are the other way round
    return f"{name} (UTC{sign}{match['hours']}, no daylight saving)"


def timezone_suggestions(prefix: str, limit: int = 25) -> list[str]:
    """Timezone names for autocomplete: what `prefix` means as an abbreviation, offset or city
    first, then names containing it (case-insensitive; spaces match underscores), names starting
    with it before names with a part starting with it ("seoul" -> Asia/Seoul)."""
    needle = prefix.strip().replace(" ", "_").casefold()
    if limit <= 0:
        return []
    if not needle:
        return list(COMMON_TIMEZONES[:limit])
    meant = [zone for zone in _meanings(prefix, needle) if zone is not None]

    def rank(name: str) -> tuple[int, str]:
        folded = name.casefold()
        if folded.startswith(needle):
            return (0, name)
        if any(part.startswith(needle) for part in folded.split("/")):
            return (1, name)
        return (2, name)

    matching = [n for n in _timezones_by_folded_name().values() if needle in n.casefold()]
    ordered = list(dict.fromkeys([*meant, *sorted(matching, key=rank)]))
    return ordered[:limit]


def _local_wall_time(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def _resolve_local(day: date, local_time: time, zone: ZoneInfo) -> datetime:
    """The UTC instant a wall-clock time happens on `day`: the first occurrence when the
    clocks fall back, the end of the gap when they spring forward over it."""
    wall = datetime.combine(day, local_time)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _local_wall_time(first, zone) == wall:
        return first
    # In a gap: with fold=1 the instant falls before the gap, with fold=0 after it.
    # The wall clock only moves forward across the gap, so bisect for its end.
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    after = first
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) / 2
        if _local_wall_time(middle, zone) >= wall:
            after = middle
        else:
            before = middle
    # Transitions fall on whole minutes; round up in case of sub-second leftovers.
    whole_minute = after.replace(second=0, microsecond=0)
    return whole_minute if whole_minute == after else whole_minute + timedelta(minutes=1)


def next_run_after(
    local_time: time, tz_name: str, days: frozenset[int], after: datetime
) -> datetime:
    """The first run strictly after `after` (UTC), at `local_time` in `tz_name` on a local date
    whose weekday (0 = Monday) is in `days`."""
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    if not days or not days <= ALL_DAYS:
        raise ValueError(f"not a set of weekdays 0-6: {sorted(days)}")
    zone = ZoneInfo(tz_name)
    start = after.astimezone(zone).date() - timedelta(days=1)
    # From yesterday (a local date behind UTC), nine days hold every weekday at least once
    # after `after`, whatever the offset; ten leave a margin.
    for offset in range(10):
        day = start + timedelta(days=offset)
        if day.weekday() not in days:
            continue
        run = _resolve_local(day, local_time.replace(tzinfo=None), zone)
        if run > after:
            return run
    raise AssertionError("unreachable: every weekday occurs within ten days")


def catch_up(due_at: datetime, now: datetime, grace: timedelta) -> Literal["send", "skip", "wait"]:
    """What to do with a run due at `due_at`: not yet due, due (or late within the grace
    period), or missed for too long to be worth posting."""
    if due_at > now:
        return "wait"
    if now - due_at <= grace:
        return "send"
    return "skip"


def run_nonce(schedule_id: int, due_at: datetime) -> str:
    """A deterministic Discord `nonce` for one run: the same (schedule, due minute) always gives
    the same decimal string, and different ones never collide. At most 19 digits."""
    if due_at.tzinfo is None:
        raise ValueError("due_at must be timezone-aware")
    if not 0 <= schedule_id <= _MAX_NONCE_SCHEDULE_ID:
        raise ValueError(f"schedule id out of range for a nonce: {schedule_id}")
    due_minute = int(due_at.timestamp()) // 60
    if not 0 <= due_minute < 10**_NONCE_MINUTE_DIGITS:
        raise ValueError(f"due time out of range for a nonce: {due_at.isoformat()}")
    return str(schedule_id * 10**_NONCE_MINUTE_DIGITS + due_minute)


def parse_run_nonce(nonce: str) -> tuple[int, datetime]:
    """The (schedule id, due time) a `run_nonce` was made from."""
    number = int(nonce)
    schedule_id, due_minute = divmod(number, 10**_NONCE_MINUTE_DIGITS)
    return schedule_id, datetime.fromtimestamp(due_minute * 60, UTC)


def _shorten(text: str, limit: int = 40) -> str:
    shown = text.strip()
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
