from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, available_timezones

import pytest

from bot.domain.clock import FakeClock
from bot.domain.schedule import (
    ALL_DAYS,
    TIMEZONE_ABBREVIATIONS,
    WEEKDAYS,
    WEEKENDS,
    PostKind,
    ScheduleInputError,
    catch_up,
    format_days,
    next_run_after,
    parse_days,
    parse_run_nonce,
    parse_time,
    parse_timezone,
    post_title,
    run_nonce,
    timezone_label,
    timezone_suggestions,
    usable_timezone,
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- reading moderators' input ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("09:00", time(9, 0)), ("9:05", time(9, 5)), (" 23:59 ", time(23, 59)), ("0:00", time(0))],
)
def test_parse_time(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["24:00", "12:60", "9", "9:5", "9am", "", "12:00:00", "١٢:٠٠"])
def test_parse_time_rejects_with_a_friendly_sentence(text: str) -> None:
    with pytest.raises(ScheduleInputError, match=r"HH:MM in 24-hour time"):
        parse_time(text)


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
    ],
)
def test_parse_days(text: str, expected: frozenset[int]) -> None:
    assert parse_days(text) == expected


@pytest.mark.parametrize("text", ["mon,fryday", "someday", ",", "1,2"])
def test_parse_days_rejects_unknown_days(text: str) -> None:
    with pytest.raises(ScheduleInputError, match="mon,wed,fri"):
        parse_days(text)


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
    with pytest.raises(ScheduleInputError) as caught:
        parse_timezone(name)
    assert "timezone" in str(caught.value)


def test_parse_timezone_suggests_a_close_name() -> None:
    with pytest.raises(ScheduleInputError, match="Asia/Seoul"):
        parse_timezone("Asia/Seo")


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
    assert timezone_suggestions(typed)[0] == zone  # the autocomplete finds it first


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
            assert suggested in HOST_ZONES, (typed, suggested)
        if not -12 * 60 <= minutes <= 14 * 60:
            with pytest.raises(ScheduleInputError) as caught:
                parse_timezone(typed)
            assert "UTC-12" in str(caught.value) and "UTC+14" in str(caught.value), typed
            continue
        try:
            zone = parse_timezone(typed)
        except ScheduleInputError:
            assert extra, f"{typed} is a whole-hour offset in range, and must be understood"
            continue
        assert zone in HOST_ZONES, (typed, zone)
        offsets = {ZoneInfo(zone).utcoffset(day) for day in (JANUARY, JULY)}
        assert timedelta(minutes=minutes) in offsets, (typed, zone)


@pytest.mark.parametrize("typed", ["UTC-13", "UTC-14", "GMT-13:00", "-14", "utc−13", "UTC+15"])
def test_offsets_beyond_the_earths_are_refused_kindly(typed: str) -> None:
    with pytest.raises(ScheduleInputError) as caught:
        parse_timezone(typed)
    assert str(caught.value) == (
        f"“{typed}” is not a timezone any place uses: UTC offsets run from UTC-12 to UTC+14. "
        "Use a name such as Asia/Seoul, Europe/Berlin or UTC, or KST, or UTC+9."
    )
    assert not [z for z in timezone_suggestions(typed) if z.startswith("Etc/GMT+1")]


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
    with pytest.raises(ScheduleInputError, match="I don't know the timezone “MRT”"):
        parse_timezone("MRT")
    assert "Mars/Olympus" not in timezone_suggestions("mrt")


def test_eastern_and_mountain_time_keep_summer_time() -> None:
    assert ZoneInfo(parse_timezone("EST")).utcoffset(JULY) == timedelta(hours=-4)
    assert ZoneInfo(parse_timezone("MST")).utcoffset(JULY) == timedelta(hours=-6)
    assert ZoneInfo(parse_timezone("CET")).utcoffset(JULY) == timedelta(hours=2)
    assert parse_timezone("EST5EDT") == "EST5EDT"  # tzdata's other names still read as typed


def test_an_offset_zone_is_shown_with_its_offset() -> None:
    assert timezone_label("Etc/GMT-9") == "Etc/GMT-9 (UTC+9, no daylight saving)"
    assert timezone_label("Etc/GMT+3") == "Etc/GMT+3 (UTC-3, no daylight saving)"
    assert timezone_label("Asia/Seoul") == "Asia/Seoul"


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
    with pytest.raises(ScheduleInputError):
        parse_timezone(name)
    assert usable_timezone(name) is None
    assert not [n for n in timezone_suggestions(name.split("/")[0]) if n.startswith(name[:5])]
    assert usable_timezone("asia/seoul") == "Asia/Seoul"
    assert usable_timezone(None) is None


@pytest.mark.parametrize(
    ("kind", "days", "title"),
    [
        (PostKind.QUOTE, ALL_DAYS, "Daily quote"),
        (PostKind.FACT, WEEKDAYS, "Weekdays fact"),
        (PostKind.TRIVIA, WEEKENDS, "Weekends trivia question"),
        (PostKind.QUOTE, frozenset({0, 2, 4}), "Quote · Mon, Wed, Fri"),
        (PostKind.ONTHISDAY, frozenset({0}), "On this day"),
    ],
)
def test_a_post_is_named_after_its_days(kind: PostKind, days: frozenset[int], title: str) -> None:
    assert post_title(kind, days) == title
