from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.domain.clock import FakeClock
from bot.domain.dates import (
    DATE_EXAMPLES,
    DATE_EXAMPLES_KO,
    DateParseError,
    MonthDay,
    countdown,
    day_key,
    events_on,
    nearest_anniversary,
    parse_day,
    read_day_key,
    today_in,
    years_ago,
)
from bot.domain.models import Event
from bot.i18n import Language, render


def event(event_id: str, day: date, at: time | None = None) -> Event:
    return Event(
        id=event_id, date=day, text=f"event {event_id}", source="src", evidence="...", time=at
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01-24", MonthDay(1, 24)),
        ("1-24", MonthDay(1, 24)),
        ("2024-01-24", MonthDay(1, 24, 2024)),
        ("1/24", MonthDay(1, 24)),
        ("01/24", MonthDay(1, 24)),
        ("Jan 24", MonthDay(1, 24)),
        ("jan 24", MonthDay(1, 24)),
        ("JANUARY 24", MonthDay(1, 24)),
        ("January 24", MonthDay(1, 24)),
        ("24 January", MonthDay(1, 24)),
        ("24 jan", MonthDay(1, 24)),
        ("January 24th", MonthDay(1, 24)),
        ("Jan. 24", MonthDay(1, 24)),
        ("January 24, 2024", MonthDay(1, 24, 2024)),
        ("24th of January", MonthDay(1, 24)),
        ("  Jan   24  ", MonthDay(1, 24)),
        ("\t01-24\n", MonthDay(1, 24)),
        ("Sept 3", MonthDay(9, 3)),
        ("dec 31", MonthDay(12, 31)),
        ("1st March", MonthDay(3, 1)),
        ("02-29", MonthDay(2, 29)),
        ("Feb 29", MonthDay(2, 29)),
        ("2024-02-29", MonthDay(2, 29, 2024)),
        # Korean, as Korean fans write dates
        ("1월 24일", MonthDay(1, 24)),
        ("1월24일", MonthDay(1, 24)),
        ("01월 24일", MonthDay(1, 24)),
        ("1월 24", MonthDay(1, 24)),
        ("2024년 1월 24일", MonthDay(1, 24, 2024)),
        ("2024년1월24일", MonthDay(1, 24, 2024)),
        ("  12월   31일 ", MonthDay(12, 31)),
        ("2월 29일", MonthDay(2, 29)),
        ("2024. 1. 24.", MonthDay(1, 24, 2024)),
        ("2024.01.24", MonthDay(1, 24, 2024)),
        ("1.24", MonthDay(1, 24)),
        ("1. 24.", MonthDay(1, 24)),
    ],
)
def test_parse_day_reads_every_accepted_form(text: str, expected: MonthDay) -> None:
    assert parse_day(text) == expected


def test_every_example_shown_to_fans_is_accepted() -> None:
    for example in (*DATE_EXAMPLES, *DATE_EXAMPLES_KO):
        assert parse_day(example).month == 1
        assert parse_day(example).day == 24


def said(error: DateParseError, language: Language = Language.EN) -> str:
    """What a reader is told about `error`."""
    return render(error.message, language, **error.params)


@pytest.mark.parametrize(
    "text",
    [
        "13-01",
        "02-30",
        "13-45",
        "00-10",
        "04-31",
        "hello",
        "",
        "   ",
        "Janvember 3",
        "Jan 32",
        "2023-02-29",
        "24",
        "1/2/3/4",
        "January",
        "13월 1일",
        "2월 30일",
        "1월",
        "24일",
        "2023년 2월 29일",
    ],
)
def test_parse_day_rejects_unreadable_dates_with_one_friendly_sentence(text: str) -> None:
    with pytest.raises(DateParseError) as caught:
        parse_day(text)
    assert isinstance(caught.value, ValueError)
    english, korean = said(caught.value), said(caught.value, Language.KO)
    assert english.startswith("I could not read")
    assert english.endswith(".") and korean.endswith(".")
    assert "\n" not in english and "\n" not in korean
    assert "날짜" in korean


def test_parse_day_error_says_why_when_it_can() -> None:
    for text, english, korean in (
        ("02-30", "February has no day 30", "2월에는 30일이 없어요"),
        ("2월 30일", "February has no day 30", "2월에는 30일이 없어요"),
        ("2023-02-29", "2023 was not a leap year", "2023년은 윤년이 아니라서"),
        ("Janvember 3", "not a month", "달 이름"),
        ("13월 1일", "there is no month 13", "13월은 없어요"),
    ):
        with pytest.raises(DateParseError) as caught:
            parse_day(text)
        assert english in said(caught.value), text
        assert korean in said(caught.value, Language.KO), text
        assert f"“{text}”" in said(caught.value, Language.KO)


def test_events_on_finds_that_calendar_day_in_any_year_sorted_by_date_and_time() -> None:
    late = event("late", date(2024, 1, 24), time(18, 0))
    early = event("early", date(2024, 1, 24), time(9, 0))
    older = event("older", date(2023, 1, 24))
    other = event("other", date(2024, 1, 25))
    assert events_on([late, other, early, older], 1, 24) == [older, early, late]
    assert events_on([late, other], 3, 3) == []


def test_years_ago() -> None:
    assert years_ago(date(2024, 1, 24), date(2025, 1, 24)) == 1
    assert years_ago(date(2024, 1, 24), date(2026, 1, 23)) == 1
    assert years_ago(date(2024, 1, 24), date(2024, 6, 1)) == 0
    assert years_ago(date(2020, 2, 29), date(2024, 2, 29)) == 4


def test_countdown_on_an_empty_day_names_the_next_and_previous_days() -> None:
    events = [
        event("a", date(2024, 3, 2)),
        event("b", date(2024, 3, 5)),
        event("c", date(2023, 3, 5)),
    ]
    result = countdown(events, date(2025, 3, 3))
    assert result.next_day == date(2025, 3, 5)
    assert result.days_until == 2
    assert [e.id for e in result.next_events] == ["c", "b"]
    assert result.previous_day == date(2025, 3, 2)
    assert result.days_since == 1
    assert [e.id for e in result.previous_events] == ["a"]


def test_countdown_is_strictly_after_and_before_today() -> None:
    events = [event("today", date(2024, 1, 24))]
    result = countdown(events, date(2025, 1, 24))
    assert result.next_day == date(2026, 1, 24)
    assert result.days_until == 365
    assert result.previous_day == date(2024, 1, 24)
    assert result.days_since == 366


def test_countdown_wraps_over_the_new_year() -> None:
    events = [event("jan", date(2024, 1, 24)), event("nov", date(2023, 11, 1))]
    result = countdown(events, date(2025, 12, 30))
    assert result.next_day == date(2026, 1, 24)
    assert result.days_until == 25
    assert result.previous_day == date(2025, 11, 1)
    # ... and backwards over it
    result = countdown(events, date(2026, 1, 2))
    assert result.previous_day == date(2025, 11, 1)
    assert result.next_day == date(2026, 1, 24)


def test_countdown_february_29_only_in_leap_years() -> None:
    events = [event("leap", date(2024, 2, 29))]
    result = countdown(events, date(2025, 2, 27))
    assert result.next_day == date(2028, 2, 29)
    assert result.previous_day == date(2024, 2, 29)


def test_countdown_without_events() -> None:
    result = countdown([], date(2025, 3, 3))
    assert result.next_day is None
    assert result.previous_day is None
    assert result.next_events == []
    assert result.previous_events == []


def test_today_in_uses_the_servers_timezone() -> None:
    clock = FakeClock(datetime(2024, 1, 23, 16, 30, tzinfo=UTC))
    assert today_in("UTC", clock.now()) == date(2024, 1, 23)
    assert today_in("Asia/Seoul", clock.now()) == date(2024, 1, 24)  # 01:30 in Seoul
    assert today_in("America/Los_Angeles", clock.now()) == date(2024, 1, 23)
    assert today_in("", clock.now()) == date(2024, 1, 23)
    assert today_in("Not/AZone", clock.now()) == date(2024, 1, 23)


def test_today_in_a_server_set_to_an_offset() -> None:
    """/settings timezone UTC+9 is kept as Etc/GMT-9: its today is already tomorrow at 16:00
    UTC, as in Seoul."""
    now = datetime(2026, 12, 6, 16, 0, tzinfo=UTC)
    assert today_in("Etc/GMT-9", now) == date(2026, 12, 7)
    assert today_in("Etc/GMT+3", now) == date(2026, 12, 6)


def test_a_details_key_names_a_day_or_the_anniversary_it_is_counted_at() -> None:
    assert day_key(1, 24) == "01-24"
    assert read_day_key("01-24") == (1, 24, None)
    assert read_day_key("02-29") == (2, 29, None)  # in any year, so in a leap year
    assert day_key(12, 25, date(2026, 12, 25)) == "2026-12-25"
    assert read_day_key("2026-12-25") == (12, 25, date(2026, 12, 25))
    for junk in ("13-01", "02-30", "2026-02-29", "0000-01-24", "1-24", "x", "2026-12-25-1"):
        assert read_day_key(junk) is None, junk


@pytest.mark.parametrize(
    ("month", "day", "today", "nearest"),
    [
        (12, 25, date(2026, 12, 7), date(2026, 12, 25)),  # later this month
        (1, 2, date(2026, 12, 30), date(2027, 1, 2)),  # next year's is nearer
        (12, 30, date(2027, 1, 2), date(2026, 12, 30)),  # last year's is nearer
        (1, 24, date(2027, 1, 24), date(2027, 1, 24)),  # today
        (2, 29, date(2027, 3, 1), date(2027, 2, 28)),  # a common year's 28th
    ],
)
def test_years_are_counted_at_the_nearest_anniversary(
    month: int, day: int, today: date, nearest: date
) -> None:
    assert nearest_anniversary(month, day, today) == nearest
