"""Reading the dates fans type for /onthisday (in English and in Korean: `Jan 24`, `1월 24일`),
and the on-this-day lookup and countdowns."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.language import Language, msg
from bot.domain.models import Event
from bot.domain.refusal import Bilingual, Refusal

# Shown by the caller next to a DateParseError, so fans see what works (in their language).
DATE_EXAMPLES: tuple[str, ...] = ("01-24", "2024-01-24", "1/24", "Jan 24", "24 January")
DATE_EXAMPLES_KO: tuple[str, ...] = ("1월 24일", "2024년 1월 24일", "1/24", "01-24")


def date_examples(language: Language) -> tuple[str, ...]:
    return DATE_EXAMPLES_KO if language is Language.KO else DATE_EXAMPLES


_MONTH_NAMES: tuple[str, ...] = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# Full names and three-letter abbreviations; "sept" because people write it.
_MONTHS: dict[str, int] = {
    **{name: number for number, name in enumerate(_MONTH_NAMES, start=1)},
    **{name[:3]: number for number, name in enumerate(_MONTH_NAMES, start=1)},
    "sept": 9,
}

# A leap year, so that 29 February is a valid day when no year is given.
_ANY_LEAP_YEAR = 2000
# 29 February recurs at most 8 years apart (e.g. 2096 -> 2104), so any anniversary
# falls within this many years of a given day.
_ANNIVERSARY_SEARCH_YEARS = 9

_ORDINAL = r"(?:st|nd|rd|th)?"
_SEP = r"[\s/-]+"
_NUMERIC_FORMS: tuple[re.Pattern[str], ...] = (
    # 2024-01-24, 01-24, 1-24
    re.compile(r"(?:(?P<year>\d{4})-)?(?P<month>\d{1,2})-(?P<day>\d{1,2})", re.ASCII),
    # 2024/01/24
    re.compile(r"(?P<year>\d{4})/(?P<month>\d{1,2})/(?P<day>\d{1,2})", re.ASCII),
    # 1/24, 01/24, 1/24/2024 (month first, as in the US)
    re.compile(r"(?P<month>\d{1,2})/(?P<day>\d{1,2})(?:/(?P<year>\d{4}))?", re.ASCII),
)
_KOREAN_FORMS: tuple[re.Pattern[str], ...] = (
    # 1월 24일, 1월24일, 2024년 1월 24일, 1월 24 (the 일 left out)
    re.compile(r"(?:(?P<year>\d{4})\s*년\s*)?(?P<month>\d{1,2})\s*월\s*(?P<day>\d{1,2})\s*일?"),
    # 2024. 1. 24., 2024.01.24, 1. 24., 1.24 (how Korean writes dates in numbers)
    re.compile(
        r"(?:(?P<year>\d{4})\s*\.\s*)?(?P<month>\d{1,2})\s*\.\s*(?P<day>\d{1,2})\s*\.?",
        re.ASCII,
    ),
)
_NAMED_FORMS: tuple[re.Pattern[str], ...] = (
    # January 24, Jan. 24th, jan 24 2024
    re.compile(
        rf"(?P<month>[a-z]+)\.?{_SEP}(?P<day>\d{{1,2}}){_ORDINAL}(?:{_SEP}(?P<year>\d{{4}}))?",
        re.ASCII,
    ),
    # 24 January, 24th of Jan, 24-jan-2024
    re.compile(
        rf"(?P<day>\d{{1,2}}){_ORDINAL}{_SEP}(?:of{_SEP})?(?P<month>[a-z]+)\.?"
        rf"(?:{_SEP}(?P<year>\d{{4}}))?",
        re.ASCII,
    ),
)


class DateParseError(Refusal):
    """A date a fan typed that we cannot read: the id of one friendly sentence saying why
    (`text` is what they typed), which the caller shows with examples."""


@dataclass(frozen=True, slots=True)
class MonthDay:
    month: int
    day: int
    year: int | None = None


def _unreadable(text: str, why: str = "", **params: object) -> DateParseError:
    """`why` is the id of the reason, when there is one; without, the date is just unreadable."""
    shown = text.strip()
    if not shown:
        return DateParseError(msg("date.empty"))
    if len(shown) > 40:
        shown = shown[:39] + "…"
    return DateParseError(why or msg("date.unreadable"), text=shown, **params)


def _month_name(month: int) -> Bilingual:
    return Bilingual(_MONTH_NAMES[month - 1].capitalize(), f"{month}월")


def _validated(text: str, month: int, day: int, year: int | None) -> MonthDay:
    if not 1 <= month <= 12:
        raise _unreadable(text, msg("date.no_such_month"), month=month)
    try:
        date(year if year is not None else _ANY_LEAP_YEAR, month, day)
    except ValueError:
        if year is not None and (month, day) == (2, 29):
            raise _unreadable(text, msg("date.not_a_leap_year"), year=year) from None
        raise _unreadable(
            text, msg("date.no_such_day"), month=_month_name(month), day=day
        ) from None
    return MonthDay(month=month, day=day, year=year)


def _number(value: str | None) -> int | None:
    return int(value) if value else None


def parse_day(text: str) -> MonthDay:
    """Read a calendar day ("01-24", "2024-01-24", "1/24", "Jan 24", "24 January", "1월 24일",
    "2024년 1월 24일", "2024. 1. 24." ...)."""
    cleaned = " ".join(text.replace(",", " ").split()).casefold()
    for pattern in (*_NUMERIC_FORMS, *_KOREAN_FORMS):
        match = pattern.fullmatch(cleaned)
        if match:
            return _validated(text, int(match["month"]), int(match["day"]), _number(match["year"]))
    for pattern in _NAMED_FORMS:
        match = pattern.fullmatch(cleaned)
        if match:
            month = _MONTHS.get(match["month"])
            if month is None:
                raise _unreadable(text, msg("date.unknown_month"), word=match["month"])
            return _validated(text, month, int(match["day"]), _number(match["year"]))
    raise _unreadable(text)


def _event_sort_key(event: Event) -> tuple[date, bool, time, str]:
    # On one day, the events a source timed to the hour (a release, a chart's first hour) come
    # first, in their order; the ones known only by their day follow.
    return (event.date, event.time is None, event.time or time.min, event.id)


def events_on(events: Iterable[Event], month: int, day: int) -> list[Event]:
    """Events that fall on this calendar day in any year, oldest first."""
    matching = [e for e in events if e.date.month == month and e.date.day == day]
    return sorted(matching, key=_event_sort_key)


def years_ago(event_day: date, today: date) -> int:
    """Whole years from `event_day` to `today` (0 within the first year; negative if future)."""
    if event_day > today:
        return -years_ago(today, event_day)
    years = today.year - event_day.year
    if (today.month, today.day) < (event_day.month, event_day.day):
        years -= 1
    return years


@dataclass(frozen=True, slots=True)
class Countdown:
    """The nearest anniversaries around a day: the next one after it and the last one before."""

    next_day: date | None
    days_until: int  # 0 when there is no next day (no events at all)
    next_events: list[Event]
    previous_day: date | None
    days_since: int  # 0 when there is no previous day
    previous_events: list[Event]


def _anniversary(month: int, day: int, year: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:  # 29 February in a common year
        return None


def _next_anniversary(month: int, day: int, today: date) -> date | None:
    for year in range(today.year, today.year + _ANNIVERSARY_SEARCH_YEARS):
        candidate = _anniversary(month, day, year)
        if candidate is not None and candidate > today:
            return candidate
    return None


def _previous_anniversary(month: int, day: int, today: date) -> date | None:
    for year in range(today.year, today.year - _ANNIVERSARY_SEARCH_YEARS, -1):
        candidate = _anniversary(month, day, year)
        if candidate is not None and candidate < today:
            return candidate
    return None


def nearest_anniversary(month: int, day: int, today: date) -> date:
    """The calendar day (`month`, `day`) nearest `today`: this year's, or last or next year's
    when that is closer (29 February: the 28th in a common year). "N years ago" is counted at
    it: asked on 7 December 2026 about 25 December, a 2023 event is 3 years ago."""
    candidates = [
        _anniversary(month, day, year) or date(year, month, day - 1)
        for year in (today.year - 1, today.year, today.year + 1)
    ]
    return min(candidates, key=lambda candidate: abs((candidate - today).days))


def countdown(events: Iterable[Event], today: date) -> Countdown:
    """The next calendar day strictly after `today` with an event anniversary, and the last
    one strictly before it. Anniversaries are calendar days in any year, like /onthisday;
    29 February only falls on 29 February, so only in leap years."""
    event_list = list(events)
    calendar_days = {(e.date.month, e.date.day) for e in event_list}
    upcoming = [
        d for d in (_next_anniversary(m, dd, today) for m, dd in calendar_days) if d is not None
    ]
    past = [
        d for d in (_previous_anniversary(m, dd, today) for m, dd in calendar_days) if d is not None
    ]
    next_day = min(upcoming, default=None)
    previous_day = max(past, default=None)
    return Countdown(
        next_day=next_day,
        days_until=(next_day - today).days if next_day else 0,
        next_events=events_on(event_list, next_day.month, next_day.day) if next_day else [],
        previous_day=previous_day,
        days_since=(today - previous_day).days if previous_day else 0,
        previous_events=(
            events_on(event_list, previous_day.month, previous_day.day) if previous_day else []
        ),
    )


def today_in(tz_name: str, now_utc: datetime) -> date:
    """The calendar date at `now_utc` in the named timezone (UTC when unset or unknown,
    so a stale server setting never breaks /onthisday)."""
    if now_utc.tzinfo is None:
        raise ValueError("now_utc must be timezone-aware")
    try:
        zone: ZoneInfo | None = ZoneInfo(tz_name) if tz_name else None
    except (ZoneInfoNotFoundError, ValueError, OSError):
        zone = None
    return now_utc.astimezone(zone or UTC).date()


def day_key(month: int, day: int, counted_at: date | None = None) -> str:
    """How a "Details" button names a calendar day: "12-25", whose events' "N years ago"
    are counted at the reader's today, or "2026-12-25", an anniversary the reply pointed to
    (the next one after a day without events), counted at that anniversary."""
    if counted_at is not None:
        return counted_at.isoformat()
    return f"{month:02d}-{day:02d}"


def read_day_key(key: str) -> tuple[int, int, date | None] | None:
    """The (month, day, date counted at or None) a `day_key` names; None for anything else."""
    match = re.fullmatch(r"(?:(?P<year>\d{4})-)?(?P<month>\d{2})-(?P<day>\d{2})", key, re.ASCII)
    if match is None:
        return None
    year = int(match["year"]) if match["year"] else None
    month, day = int(match["month"]), int(match["day"])
    try:  # without a year, 2000: a leap year, where 29 February exists
        counted_at = date(_ANY_LEAP_YEAR if year is None else year, month, day)
    except ValueError:
        return None
    return month, day, counted_at if year is not None else None
