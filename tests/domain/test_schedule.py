from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, available_timezones

import pytest

from bot.domain.clock import FakeClock
from bot.domain.language import Language
from bot.domain.records import ScheduleRecord
from bot.domain.refusal import Refusal
from bot.domain.schedule import (
    ALL_DAYS,
    TIMEZONE_ABBREVIATIONS,
    WEEKDAYS,
    WEEKENDS,
    PostKind,
    ScheduleState,
    catch_up,
    format_days,
    next_run_after,
    parse_days,
    parse_run_nonce,
    parse_time,
    parse_timezone,
    run_nonce,
    shown_timezone,
    timezone_suggestions,
    usable_timezone,
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def told(refusal: Refusal, language: Language = Language.EN) -> str:
    """What a refusal says to a reader of `language`."""
    from bot.i18n import render

    return render(refusal.message, language, **refusal.params)


# --- reading moderators' input ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00", time(9, 0)),
        ("9:05", time(9, 5)),
        (" 23:59 ", time(23, 59)),
        ("0:00", time(0)),
        # as fans write it, in English…
        ("9am", time(9)),
        ("9 PM", time(21)),
        ("9 pm", time(21)),
        ("9 am", time(9)),
        ("9AM", time(9)),
        ("9:30pm", time(21, 30)),
        ("12 a.m.", time(0)),
        ("12pm", time(12)),
        ("noon", time(12)),
        # …and in Korean
        ("오전 9시", time(9)),
        ("오후 9시", time(21)),
        ("오후9시", time(21)),
        ("오후 9시 30분", time(21, 30)),
        ("오후9시30분", time(21, 30)),
        ("오후 9시 반", time(21, 30)),
        ("오후 9:30", time(21, 30)),
        ("오후 12시", time(12)),
        ("오전 12시", time(0)),
        ("밤 11시", time(23)),
        ("밤 12시", time(0)),
        ("저녁 7시", time(19)),
        ("새벽 2시", time(2)),
        ("21시", time(21)),
        ("9시 5분", time(9, 5)),
        ("정오", time(12)),
        ("자정", time(0)),
    ],
)
def test_parse_time(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    "text",
    ["24:00", "12:60", "9", "9:5", "", "12:00:00", "١٢:٠٠", "13pm", "0am", "오후 13시", "25시"],
)
def test_parse_time_rejects_with_a_friendly_sentence(text: str) -> None:
    with pytest.raises(Refusal) as caught:
        parse_time(text)
    assert caught.value.message == "time.unreadable"
    assert "HH:MM in 24-hour time" in told(caught.value)
    assert "24시간제 HH:MM" in told(caught.value, Language.KO)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ALL_DAYS),
        ("daily", ALL_DAYS),
        ("Daily", ALL_DAYS),
        ("weekdays", WEEKDAYS),
        ("WEEKENDS", WEEKENDS),
        ("mon,wed,fri", frozenset({0, 2, 4})),
        ("Mon, Wed , FRI", frozenset({0, 2, 4})),
        ("monday,tuesday", frozenset({0, 1})),
        ("sun", frozenset({6})),
        ("sat,sun", WEEKENDS),
        ("thurs,tues", frozenset({1, 3})),
        ("mon-fri", WEEKDAYS),
        ("fri - mon", frozenset({4, 5, 6, 0})),
        ("weekdays,sat", frozenset(range(6))),
        # in Korean (SPEC §3a)
        ("매일", ALL_DAYS),
        ("평일", WEEKDAYS),
        ("주말", WEEKENDS),
        ("월,수,금", frozenset({0, 2, 4})),
        ("월수금", frozenset({0, 2, 4})),
        ("월 수 금", frozenset({0, 2, 4})),
        ("월·수·금", frozenset({0, 2, 4})),
        ("월요일,수요일", frozenset({0, 2})),
        ("월요일 수요일", frozenset({0, 2})),
        ("토일", WEEKENDS),
        ("일요일", frozenset({6})),
        ("월~금", WEEKDAYS),
        ("화욜", frozenset({1})),
    ],
)
def test_parse_days(text: str, expected: frozenset[int]) -> None:
    assert parse_days(text) == expected


@pytest.mark.parametrize("text", ["mon,fryday", "someday", ",", "1,2", "월화수요", "요일", "mon~"])
def test_parse_days_rejects_unknown_days(text: str) -> None:
    with pytest.raises(Refusal) as caught:
        parse_days(text)
    assert "mon,wed,fri" in told(caught.value)
    assert "월,수,금" in told(caught.value, Language.KO)


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (ALL_DAYS, "daily"),
        (WEEKDAYS, "weekdays"),
        (WEEKENDS, "weekends"),
        (frozenset({4, 0, 2}), "mon,wed,fri"),
        (frozenset({6}), "sun"),
    ],
)
def test_format_days_round_trips(days: frozenset[int], text: str) -> None:
    assert format_days(days) == text
    assert parse_days(text) == days


def test_format_days_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        format_days(frozenset())
    with pytest.raises(ValueError):
        format_days(frozenset({7}))


def test_parse_timezone_returns_the_canonical_name() -> None:
    assert parse_timezone("Asia/Seoul") == "Asia/Seoul"
    assert parse_timezone(" asia/seoul ") == "Asia/Seoul"
    assert parse_timezone("america/new york") == "America/New_York"
    assert parse_timezone("UTC") == "UTC"


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "Asia", "../etc/passwd", "UTC+15", "XYZT"])
def test_parse_timezone_rejects_unknown_names(name: str) -> None:
    with pytest.raises(Refusal) as caught:
        parse_timezone(name)
    assert caught.value.message.startswith("timezone.")
    assert "timezone" in told(caught.value) and "시간대" in told(caught.value, Language.KO)


def test_parse_timezone_suggests_a_close_name() -> None:
    with pytest.raises(Refusal) as caught:
        parse_timezone("Asia/Seo")
    assert told(caught.value) == ("I don't know the timezone “Asia/Seo”. Did you mean Asia/Seoul?")
    assert "Asia/Seoul" in told(caught.value, Language.KO)


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("KST", "Asia/Seoul"),
        ("kst", "Asia/Seoul"),
        ("JST", "Asia/Tokyo"),
        ("Seoul", "Asia/Seoul"),
        ("new york", "America/New_York"),
        ("UTC+9", "Etc/GMT-9"),  # IANA's Etc signs are the other way round
        ("GMT+09:00", "Etc/GMT-9"),
        ("utc-3", "Etc/GMT+3"),
        ("+05:30", "Asia/Kolkata"),
        ("UTC", "UTC"),
        ("gmt", "GMT"),  # an IANA name of its own
    ],
)
def test_timezones_people_type(typed: str, zone: str) -> None:
    assert parse_timezone(typed) == zone
    # The autocomplete finds it first, offered as people write it (UTC+9, not Etc/GMT-9).
    assert timezone_suggestions(typed)[0] == shown_timezone(zone)
    assert parse_timezone(timezone_suggestions(typed)[0]) == zone


@pytest.mark.parametrize(
    ("typed", "stored", "shown"),
    [
        ("UTC+9", "Etc/GMT-9", "UTC+9"),
        ("utc+09:00", "Etc/GMT-9", "UTC+9"),
        ("GMT-3", "Etc/GMT+3", "UTC-3"),
        ("UTC−3", "Etc/GMT+3", "UTC-3"),
        ("+14", "Etc/GMT-14", "UTC+14"),
        ("UTC-12", "Etc/GMT+12", "UTC-12"),
        ("UTC+0", "UTC", "UTC"),
        ("Etc/GMT-9", "Etc/GMT-9", "UTC+9"),  # typed as IANA writes it, shown the usual way
        ("Etc/UTC", "Etc/UTC", "UTC"),
        ("UTC+5:30", "Asia/Kolkata", "Asia/Kolkata (UTC+5:30)"),
        ("GMT+0545", "Asia/Kathmandu", "Asia/Kathmandu (UTC+5:45)"),
        ("UTC-9:30", "Pacific/Marquesas", "Pacific/Marquesas (UTC-9:30)"),
        ("Asia/Seoul", "Asia/Seoul", "Asia/Seoul"),
    ],
)
def test_an_offset_is_stored_for_the_scheduler_and_shown_as_people_write_it(
    typed: str, stored: str, shown: str
) -> None:
    """Issue 22: "UTC+9" was shown back as "Etc/GMT-9", whose sign reads backwards to
    everyone. The store keeps the zone the scheduler loads; people read the offset, in both
    languages, and what they read is understood when typed again."""
    from bot.ui.schedules import timezone_text

    assert parse_timezone(typed) == stored
    for language in Language:
        assert timezone_text(stored, language) == shown
        assert "Etc/" not in timezone_text(stored, language)
    again = ZoneInfo(parse_timezone(shown_timezone(stored)))  # typed again, the same time
    assert [again.utcoffset(d) for d in (JANUARY, JULY)] == [
        ZoneInfo(stored).utcoffset(d) for d in (JANUARY, JULY)
    ]


def test_the_autocomplete_offers_offsets_as_people_write_them() -> None:
    """Typing an offset, or tzdata's Etc/ names, offers "UTC+9": never a backwards sign."""
    assert timezone_suggestions("UTC+9")[:1] == ["UTC+9"]
    assert timezone_suggestions("GMT+9") == ["UTC+9"]  # not also Etc/GMT+9, which is UTC-9
    assert timezone_suggestions("-14") == []  # no place is at UTC-14, and Etc/GMT-14 is +14
    etc = timezone_suggestions("etc/gmt", limit=100)
    assert etc and not [z for z in etc if "Etc/GMT" in z]
    assert {"UTC+9", "UTC-3", "UTC+14", "UTC-12"} <= set(etc)
    assert all(parse_timezone(z) in HOST_ZONES for z in etc)


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("서울", "Asia/Seoul"),
        ("한국", "Asia/Seoul"),
        ("한국 시간", "Asia/Seoul"),
        ("한국시간", "Asia/Seoul"),
        ("한국 표준시", "Asia/Seoul"),
        ("서울시", "Asia/Seoul"),
        ("대한민국", "Asia/Seoul"),
        ("도쿄", "Asia/Tokyo"),
        ("일본", "Asia/Tokyo"),
        ("일본 시간", "Asia/Tokyo"),
        ("뉴욕", "America/New_York"),
        ("미국 서부", "America/Los_Angeles"),
        ("런던", "Europe/London"),
        ("자카르타", "Asia/Jakarta"),
        ("Korea time", "Asia/Seoul"),
        ("korean time", "Asia/Seoul"),
    ],
)
def test_places_people_name_in_korean_and_english(typed: str, zone: str) -> None:
    assert parse_timezone(typed) == zone
    assert timezone_suggestions(typed)[0] == zone  # the autocomplete finds it first


def test_the_autocomplete_finds_a_korean_place_as_it_is_typed() -> None:
    assert timezone_suggestions("서")[0] == "Asia/Seoul"
    assert timezone_suggestions("한국 시")[0] == "Asia/Seoul"
    assert timezone_suggestions("도")[0] == "Asia/Tokyo"
    assert "Europe/London" in timezone_suggestions("런")


def test_every_place_is_a_zone_the_host_knows() -> None:
    from bot.domain.schedule import PLACE_TIMEZONES

    assert set(PLACE_TIMEZONES.values()) <= HOST_ZONES


HOST_ZONES = available_timezones()
JANUARY, JULY = datetime(2025, 1, 15, 12), datetime(2025, 7, 15, 12)


def _offset_spellings(minutes: int) -> list[str]:
    """How people type the offset `minutes` east of UTC: UTC+9, GMT+09:00, +0930, utc−3."""
    hours, rest = divmod(abs(minutes), 60)
    typed: list[str] = []
    for sign in ("+", "-", "−") if minutes == 0 else (("+",) if minutes > 0 else ("-", "−")):
        if rest == 0:
            typed += [f"UTC{sign}{hours}", f"gmt {sign} {hours}", f"{sign}{hours:02d}"]
        typed += [f"UTC{sign}{hours}:{rest:02d}", f"GMT{sign}{hours:02d}{rest:02d}"]
    return typed


@pytest.mark.parametrize("extra", [0, 30, 45])
def test_every_offset_is_a_zone_the_host_knows_or_is_refused(extra: int) -> None:
    """Offsets run from UTC-12 to UTC+14: anything else is refused with the usual sentence,
    never read as a zone that does not exist (Etc/GMT+13), which would break every later use.
    Every whole hour from -15 to +15, and each with `extra` minutes."""
    for hours in range(-15, 16):
        _check_offset(hours * 60 + (extra if hours >= 0 else -extra), extra)


def _check_offset(minutes: int, extra: int) -> None:
    for typed in _offset_spellings(minutes):
        for suggested in timezone_suggestions(typed):
            assert parse_timezone(suggested) in HOST_ZONES, (typed, suggested)
        if not -12 * 60 <= minutes <= 14 * 60:
            with pytest.raises(Refusal) as caught:
                parse_timezone(typed)
            assert "UTC-12" in told(caught.value) and "UTC+14" in told(caught.value), typed
            continue
        try:
            zone = parse_timezone(typed)
        except Refusal:
            assert extra, f"{typed} is a whole-hour offset in range, and must be understood"
            continue
        assert zone in HOST_ZONES, (typed, zone)
        offsets = {ZoneInfo(zone).utcoffset(day) for day in (JANUARY, JULY)}
        assert timedelta(minutes=minutes) in offsets, (typed, zone)


@pytest.mark.parametrize("typed", ["UTC-13", "UTC-14", "GMT-13:00", "-14", "utc−13", "UTC+15"])
def test_offsets_beyond_the_earths_are_refused_kindly(typed: str) -> None:
    with pytest.raises(Refusal) as caught:
        parse_timezone(typed)
    assert told(caught.value) == (
        f"“{typed}” is not a timezone any place uses: UTC offsets run from UTC-12 to UTC+14. "
        "Use a name such as Asia/Seoul, Europe/Berlin or UTC, or KST, or UTC+9."
    )
    suggested = timezone_suggestions(typed)  # never a zone of another offset (Etc/GMT-14)
    assert not [z for z in suggested if z.startswith(("Etc/GMT", "UTC+1", "UTC-1"))]


@pytest.mark.parametrize(("abbreviation", "zone"), sorted(TIMEZONE_ABBREVIATIONS.items()))
def test_every_abbreviation_means_the_bots_own_zone(abbreviation: str, zone: str) -> None:
    """The bot's table wins over tzdata's legacy names (EST, MST, CET, EET are fixed zones
    there, without daylight saving): EST means New York's time, summer included."""
    assert zone in HOST_ZONES
    for typed in (abbreviation, abbreviation.upper(), f" {abbreviation.capitalize()} "):
        assert parse_timezone(typed) == zone, typed
        assert timezone_suggestions(typed)[0] == zone, typed


def test_a_name_the_host_does_not_know_is_never_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the table says, parse_timezone only returns zones this host can load."""
    monkeypatch.setitem(TIMEZONE_ABBREVIATIONS, "mrt", "Mars/Olympus")
    with pytest.raises(Refusal) as caught:
        parse_timezone("MRT")
    assert told(caught.value).startswith("I don't know the timezone “MRT”")
    assert "Mars/Olympus" not in timezone_suggestions("mrt")


def test_eastern_and_mountain_time_keep_summer_time() -> None:
    assert ZoneInfo(parse_timezone("EST")).utcoffset(JULY) == timedelta(hours=-4)
    assert ZoneInfo(parse_timezone("MST")).utcoffset(JULY) == timedelta(hours=-6)
    assert ZoneInfo(parse_timezone("CET")).utcoffset(JULY) == timedelta(hours=2)
    assert parse_timezone("EST5EDT") == "EST5EDT"  # tzdata's other names still read as typed


def test_an_offset_zone_is_shown_with_its_offset() -> None:
    from bot.ui.schedules import timezone_text

    assert timezone_text("Etc/GMT-9", Language.EN) == "UTC+9"
    assert timezone_text("Etc/GMT+3", Language.EN) == "UTC-3"
    assert timezone_text("Asia/Seoul", Language.EN) == "Asia/Seoul"
    assert timezone_text("America/St_Johns", Language.EN) == "America/St_Johns"  # summer time


def test_timezone_suggestions_for_autocomplete() -> None:
    assert timezone_suggestions("seoul") == ["Asia/Seoul"]
    assert timezone_suggestions("SEO") == ["Asia/Seoul"]
    assert timezone_suggestions("new y") == ["America/New_York"]
    europe = timezone_suggestions("eu")
    assert len(europe) == 25
    assert all(name.casefold().startswith("eu") for name in europe[:10])
    # names starting with the text come before ones merely containing it
    berlin = timezone_suggestions("ber")
    assert berlin.index("Europe/Berlin") < len(berlin)
    starts = [n for n in berlin if n.casefold().startswith("ber")]
    assert berlin[: len(starts)] == starts
    assert "UTC" in timezone_suggestions("")
    assert len(timezone_suggestions("", limit=3)) == 3
    assert timezone_suggestions("a", limit=5) == timezone_suggestions("A")[:5]


# --- when a schedule runs --------------------------------------------------------------------


def test_seoul_daily_at_nine_no_dst() -> None:
    after = utc(2024, 1, 23, 12, 0)  # 21:00 in Seoul
    run = next_run_after(time(9, 0), "Asia/Seoul", ALL_DAYS, after)
    assert run == utc(2024, 1, 24, 0, 0)
    assert run.tzinfo is UTC
    # and the next one, a day later, in summer too (Seoul has no DST)
    assert next_run_after(time(9, 0), "Asia/Seoul", ALL_DAYS, run) == utc(2024, 1, 25, 0, 0)
    assert next_run_after(time(9, 0), "Asia/Seoul", ALL_DAYS, utc(2024, 7, 1, 1)) == utc(
        2024, 7, 2, 0, 0
    )


def test_a_schedule_added_after_todays_time_first_runs_tomorrow() -> None:
    clock = FakeClock(utc(2025, 6, 10, 10, 0))  # 19:00 in Seoul
    assert next_run_after(time(18, 0), "Asia/Seoul", ALL_DAYS, clock.now()) == utc(
        2025, 6, 11, 9, 0
    )
    assert next_run_after(time(20, 0), "Asia/Seoul", ALL_DAYS, clock.now()) == utc(
        2025, 6, 10, 11, 0
    )


def test_next_run_is_strictly_after() -> None:
    due = utc(2025, 6, 10, 9, 0)
    assert next_run_after(time(9, 0), "UTC", ALL_DAYS, due) == utc(2025, 6, 11, 9, 0)
    assert next_run_after(time(9, 0), "UTC", ALL_DAYS, due - timedelta(seconds=1)) == due


def test_spring_forward_gap_new_york_runs_at_the_end_of_the_gap() -> None:
    # 2025-03-09: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist that day.
    after = utc(2025, 3, 8, 12, 0)
    first = next_run_after(time(2, 30), "America/New_York", ALL_DAYS, after)
    assert first == utc(2025, 3, 9, 7, 0)  # 03:00 EDT
    # the day after, 02:30 EDT exists again
    assert next_run_after(time(2, 30), "America/New_York", ALL_DAYS, first) == utc(
        2025, 3, 10, 6, 30
    )
    # times around the gap are untouched
    assert next_run_after(time(1, 59), "America/New_York", ALL_DAYS, after) == utc(
        2025, 3, 9, 6, 59
    )
    assert next_run_after(time(3, 0), "America/New_York", ALL_DAYS, after) == utc(2025, 3, 9, 7, 0)


def test_spring_forward_gap_berlin() -> None:
    # 2025-03-30: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
    after = utc(2025, 3, 29, 12, 0)
    assert next_run_after(time(2, 30), "Europe/Berlin", ALL_DAYS, after) == utc(2025, 3, 30, 1, 0)
    assert next_run_after(time(2, 0), "Europe/Berlin", ALL_DAYS, after) == utc(2025, 3, 30, 1, 0)
    assert next_run_after(time(9, 0), "Europe/Berlin", ALL_DAYS, after) == utc(2025, 3, 30, 7, 0)


def test_fall_back_overlap_new_york_runs_once_at_the_first_occurrence() -> None:
    # 2025-11-02: 02:00 EDT falls back to 01:00 EST, so 01:30 happens twice.
    after = utc(2025, 11, 1, 12, 0)
    first = next_run_after(time(1, 30), "America/New_York", ALL_DAYS, after)
    assert first == utc(2025, 11, 2, 5, 30)  # 01:30 EDT
    # not again at 01:30 EST (06:30 UTC) but the next day
    assert next_run_after(time(1, 30), "America/New_York", ALL_DAYS, first) == utc(
        2025, 11, 3, 6, 30
    )
    # even when asked between the two occurrences
    between = utc(2025, 11, 2, 6, 0)
    assert next_run_after(time(1, 30), "America/New_York", ALL_DAYS, between) == utc(
        2025, 11, 3, 6, 30
    )


def test_fall_back_overlap_berlin() -> None:
    # 2025-10-26: 03:00 CEST falls back to 02:00 CET, so 02:30 happens twice.
    after = utc(2025, 10, 25, 12, 0)
    first = next_run_after(time(2, 30), "Europe/Berlin", ALL_DAYS, after)
    assert first == utc(2025, 10, 26, 0, 30)  # 02:30 CEST
    assert next_run_after(time(2, 30), "Europe/Berlin", ALL_DAYS, first) == utc(2025, 10, 27, 1, 30)


def test_a_daily_schedule_through_dst_fires_once_a_day_at_local_time() -> None:
    run = utc(2025, 3, 1, 0, 0)
    runs = []
    for _ in range(60):
        run = next_run_after(time(9, 0), "America/New_York", ALL_DAYS, run)
        runs.append(run)
    for earlier, later in itertools.pairwise(runs):
        assert (later - earlier) in (timedelta(hours=23), timedelta(hours=24))
    local_hours = {r.astimezone(ZoneInfo("America/New_York")).hour for r in runs}
    assert local_hours == {9}


def test_day_filters_follow_the_local_date() -> None:
    # Friday 2025-06-13 20:00 UTC is already Saturday 05:00 in Seoul.
    after = utc(2025, 6, 13, 20, 0)
    # weekdays at 09:00 Seoul: skip Sat/Sun local, so Monday 2025-06-16 09:00 KST
    assert next_run_after(time(9, 0), "Asia/Seoul", WEEKDAYS, after) == utc(2025, 6, 16, 0, 0)
    # weekends at 09:00 Seoul: Saturday 2025-06-14 09:00 KST, the same local day
    assert next_run_after(time(9, 0), "Asia/Seoul", WEEKENDS, after) == utc(2025, 6, 14, 0, 0)
    # a list: mon,wed,fri from Saturday -> Monday
    mwf = parse_days("mon,wed,fri")
    assert next_run_after(time(9, 0), "Asia/Seoul", mwf, after) == utc(2025, 6, 16, 0, 0)
    monday = utc(2025, 6, 16, 0, 0)
    assert next_run_after(time(9, 0), "Asia/Seoul", mwf, monday) == utc(2025, 6, 18, 0, 0)
    # once a week: Sunday only, from a Sunday after its time -> a week later
    sunday_evening = utc(2025, 6, 15, 12, 0)  # 21:00 KST Sunday
    assert next_run_after(time(9, 0), "Asia/Seoul", frozenset({6}), sunday_evening) == utc(
        2025, 6, 22, 0, 0
    )


def test_next_run_refuses_naive_times_and_empty_days() -> None:
    with pytest.raises(ValueError):
        next_run_after(time(9), "UTC", ALL_DAYS, datetime(2025, 1, 1))
    with pytest.raises(ValueError):
        next_run_after(time(9), "UTC", frozenset(), utc(2025, 1, 1))


# --- after downtime and exactly once ---------------------------------------------------------


def test_catch_up() -> None:
    clock = FakeClock(utc(2025, 6, 10, 9, 0))
    grace = timedelta(minutes=60)
    due = clock.now()
    assert catch_up(due + timedelta(seconds=1), clock.now(), grace) == "wait"
    assert catch_up(due, clock.now(), grace) == "send"
    clock.advance(timedelta(minutes=59))
    assert catch_up(due, clock.now(), grace) == "send"
    clock.advance(timedelta(minutes=1))
    assert catch_up(due, clock.now(), grace) == "send"  # exactly at the edge
    clock.advance(1)
    assert catch_up(due, clock.now(), grace) == "skip"
    clock.advance(timedelta(days=2))
    assert catch_up(due, clock.now(), grace) == "skip"


def test_run_nonce_is_deterministic_unique_and_fits_discord() -> None:
    due = utc(2025, 6, 10, 9, 0)
    assert run_nonce(7, due) == run_nonce(7, due)
    assert run_nonce(7, due) == run_nonce(7, due.astimezone(timezone(timedelta(hours=9))))
    seen = {
        run_nonce(schedule_id, due + timedelta(minutes=m))
        for schedule_id in (0, 1, 2, 10, 11, 123456)
        for m in (0, 1, 10, 60 * 24, 60 * 24 * 365 * 50)
    }
    assert len(seen) == 6 * 5
    for nonce in seen:
        assert nonce.isdecimal()
        assert len(nonce) <= 25
        assert int(nonce) < 2**63
    # the minute is zero-padded, so schedule 1 and schedule 11 never share a prefix
    assert run_nonce(1, due) != run_nonce(11, due)
    assert len(run_nonce(1, due)) < len(run_nonce(11, due))
    # a plain concatenation would make these two equal ("1" + "28928160" == "12" + "8928160")
    minute = timedelta(minutes=1)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert run_nonce(1, epoch + 28928160 * minute) != run_nonce(12, epoch + 8928160 * minute)


def test_run_nonce_rejects_out_of_range() -> None:
    with pytest.raises(ValueError):
        run_nonce(-1, utc(2025, 1, 1))
    with pytest.raises(ValueError):
        run_nonce(10**12, utc(2025, 1, 1))


def test_run_nonce_reads_back_as_its_schedule_and_due_minute() -> None:
    due = utc(2025, 6, 10, 9, 0)
    assert parse_run_nonce(run_nonce(7, due)) == (7, due)
    with pytest.raises(ValueError):
        parse_run_nonce("run-1")


@pytest.mark.parametrize("name", ["localtime", "Factory", "posix/Asia/Seoul", "right/UTC"])
def test_only_region_names_are_timezones(name: str) -> None:
    """tzdata's other entries are not regions: `localtime` is whatever the host says."""
    with pytest.raises(Refusal):
        parse_timezone(name)
    assert usable_timezone(name) is None
    assert not [n for n in timezone_suggestions(name.split("/")[0]) if n.startswith(name[:5])]
    assert usable_timezone("asia/seoul") == "Asia/Seoul"
    assert usable_timezone(None) is None


# --- how schedules read, in both languages (bot.ui.schedules) --------------------------------


@pytest.mark.parametrize(
    ("kind", "days", "english", "korean"),
    [
        (PostKind.QUOTE, ALL_DAYS, "Daily quote", "오늘의 인용"),
        (PostKind.FACT, WEEKDAYS, "Weekdays fact", "평일 팩트"),
        (PostKind.TRIVIA, WEEKENDS, "Weekends trivia question", "주말 퀴즈"),
        (PostKind.TRIVIA, ALL_DAYS, "Daily trivia question", "오늘의 퀴즈"),
        (PostKind.QUOTE, frozenset({0, 2, 4}), "Quote · Mon, Wed, Fri", "인용 · 월, 수, 금"),
        (PostKind.ONTHISDAY, frozenset({0}), "On this day", "이날의 기록"),
    ],
)
def test_a_post_is_named_in_the_readers_language(
    kind: PostKind, days: frozenset[int], english: str, korean: str
) -> None:
    from bot.ui.schedules import post_title as title

    assert title(kind, days, Language.EN) == english
    assert title(kind, days, Language.KO) == korean


def test_days_and_timezones_read_in_both_languages() -> None:
    from bot.ui.schedules import days_text, timezone_text

    assert days_text(WEEKDAYS, Language.EN) == "weekdays"
    assert days_text(WEEKDAYS, Language.KO) == "평일"
    assert days_text(parse_days("월수금"), Language.KO) == "월, 수, 금"
    assert days_text(parse_days("월수금"), Language.EN) == "Mon, Wed, Fri"
    assert timezone_text("Asia/Seoul", Language.KO) == "Asia/Seoul"
    assert timezone_text("Etc/GMT-9", Language.KO) == "UTC+9"


def _record(**changes: object) -> ScheduleRecord:
    record = ScheduleRecord(
        id=3,
        guild_id=1,
        channel_id=2,
        content=PostKind.QUOTE,
        local_time=time(9),
        timezone="Asia/Seoul",
        days=frozenset({0, 2, 4}),
        role_id=None,
        state=ScheduleState.ACTIVE,
        failing_reason=None,
        failures=0,
        next_run_at=utc(2024, 1, 24),
        created_by=7,
        created_at=utc(2024, 1, 23),
    )
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]


def test_a_failing_reason_is_stored_as_a_message_and_read_in_each_language() -> None:
    from bot.domain.schedule import stored_reason, unusable_reason
    from bot.ui.schedules import reason_text, schedule_state

    stored = stored_reason(
        "schedule.failing.lost_permissions",
        permissions=["send_messages", "embed_links"],
        channel="daily",
    )
    assert reason_text(stored, Language.EN) == (
        "the bot lost Send Messages and Embed Links in #daily "
        "(give it back in the channel's settings)"
    )
    assert "메시지 보내기, 링크 첨부" in reason_text(stored, Language.KO)
    failing = _record(failing_reason=stored, failures=2)
    assert schedule_state(failing, Language.EN).startswith("⚠️ failing (2 failures in a row): ")
    assert schedule_state(failing, Language.KO).startswith("⚠️ 실패 중(2번 연속): 봇이 #daily")
    unknown = unusable_reason("Mars/Olympus", KeyError("Mars/Olympus"))
    assert "“Mars/Olympus”" in reason_text(unknown, Language.EN)
    assert "“Mars/Olympus”" in reason_text(unknown, Language.KO)
    assert reason_text(unknown, Language.KO) != reason_text(unknown, Language.EN)
    damaged = unusable_reason("Asia/Seoul", ValueError("bad days"))
    assert "add it again" in reason_text(damaged, Language.EN)


@pytest.mark.parametrize(
    "old",
    [
        "the channel was deleted (remove this schedule and add one for another channel)",
        "its timezone “Mars/Olympus” is not known on this host: remove this schedule {sic}",
        '{"id": "no.such.message", "params": {}}',
    ],
)
def test_a_reason_stored_as_text_is_shown_as_it_is(old: str) -> None:
    from bot.ui.schedules import reason_text, schedule_state

    assert reason_text(old, Language.KO) == old
    paused = _record(state=ScheduleState.PAUSED, failing_reason=old, failures=0)
    assert schedule_state(paused, Language.KO) == f"⏸️ 일시 중지됨: {old}"


# --- a schedule as moderators read it: its days once, its timezone as they wrote it ----------


def _everything_shown(record: ScheduleRecord, language: Language) -> list[str]:
    """Each place a moderator reads a schedule: the reply to /schedule add, its field in
    /schedule list, the reply to pause (remove and resume say it the same way), and the
    schedule-number autocomplete."""
    from bot.ui.schedules import (
        schedule_added_embed,
        schedule_changed_embed,
        schedule_choice,
        schedules_embed,
    )

    added = schedule_added_embed(record, [], language)
    listed = schedules_embed([record], 25, language)
    paused = schedule_changed_embed("paused", record, language)
    field = listed.fields[0]
    return [
        added.description or "",
        f"{field.name}\n{field.value}",
        paused.description or "",
        schedule_choice(record, "fans", language),
    ]


@pytest.mark.parametrize(
    ("days", "english", "korean"),
    [
        (frozenset({0, 2, 4}), "Mon, Wed, Fri", "월, 수, 금"),
        (ALL_DAYS, "Daily", "오늘의"),
        (WEEKDAYS, "Weekdays", "평일"),
    ],
)
def test_a_schedule_says_its_days_once(days: frozenset[int], english: str, korean: str) -> None:
    """Issue 22: "**Fact · Mon, Wed, Fri** … · mon,wed,fri": the title names the days, so
    the line after it does not name them again (nor in the stored form, mon,wed,fri)."""
    record = _record(content=PostKind.FACT, days=days, timezone="Etc/GMT-9")
    for language, named in ((Language.EN, english), (Language.KO, korean)):
        for shown in _everything_shown(record, language):
            assert shown.count(named) == 1, shown
            assert format_days(days) not in shown, shown
            for day in ("Mon", "Fri", "daily", "weekdays", "매일", "월", "금"):
                assert shown.count(day) <= 1, (day, shown)


def test_an_on_this_day_schedule_says_its_days_after_its_time() -> None:
    """ "On this day" is its title whatever the days: they are said once, after the time."""
    record = _record(content=PostKind.ONTHISDAY, days=frozenset({0, 2, 4}), timezone="Etc/GMT-9")
    added, listed, paused, _choice = _everything_shown(record, Language.EN)
    for shown in (added, listed, paused):
        assert "09:00 UTC+9 · Mon, Wed, Fri" in shown and shown.count("Mon") == 1, shown
    korean = _everything_shown(record, Language.KO)
    assert "월, 수, 금 · UTC+9 기준 09:00" in korean[0] and korean[0].count("월") == 1


@pytest.mark.parametrize(
    ("stored", "shown"),
    [("Etc/GMT-9", "UTC+9"), ("Etc/GMT+3", "UTC-3"), ("Asia/Kolkata", "Asia/Kolkata (UTC+5:30)")],
)
def test_a_schedule_shows_its_offset_as_it_was_typed(stored: str, shown: str) -> None:
    """Every place a schedule's timezone is read shows "UTC+9", never "Etc/GMT-9"."""
    record = _record(timezone=stored, days=frozenset({0, 2, 4}))
    for language in Language:
        for text in _everything_shown(record, language):
            assert shown in text and "Etc/" not in text, text
    assert "09:00 UTC+9." in _everything_shown(_record(timezone="Etc/GMT-9"), Language.EN)[0]
    assert "UTC+9 기준 09:00" in _everything_shown(_record(timezone="Etc/GMT-9"), Language.KO)[0]
