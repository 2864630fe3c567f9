"""Scheduled posts (SPEC §6): reading what moderators type, in English or Korean (§3a: `월,수,금`,
`오후 9시 30분`, `서울`), and when a schedule runs next. What cannot be read is a `Refusal`: the
id of its words in the catalogue, with what was typed.

Local times follow the schedule's timezone through daylight-saving changes: a time that does
not exist that day runs at the first valid minute after the gap; an ambiguous one runs once,
at its first occurrence.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

from bot.domain.language import msg
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
    choice: str  # how /schedule add offers it (Discord shows it in Korean through commands.po)


POST_KINDS: dict[PostKind, PostKindInfo] = {
    PostKind.QUOTE: PostKindInfo("Quote"),
    PostKind.FACT: PostKindInfo("Fact"),
    PostKind.ONTHISDAY: PostKindInfo("On this day"),
    PostKind.TRIVIA: PostKindInfo("Trivia question (open for an hour)"),
}


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
    "매일": ALL_DAYS,
    "매일매일": ALL_DAYS,
    "날마다": ALL_DAYS,
    "평일": WEEKDAYS,
    "주중": WEEKDAYS,
    "주말": WEEKENDS,
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
# 9am, 9 pm, 9:30pm, 9 p.m.: how fans write a time in English besides HH:MM.
_TWELVE_HOUR = re.compile(
    r"(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?P<half>[ap])\.?\s*m\.?", re.ASCII
)
# 오전 9시, 오후 9시 30분, 오후 9시 반, 오후 9:30, 21시: how Korean fans write one. The part of the
# day comes first; without one, the hour is read on the 24-hour clock.
_KOREAN_TIME = re.compile(
    r"(?:(?P<half>오전|오후|새벽|아침|저녁|밤)\s*)?(?P<hour>\d{1,2})"
    r"(?:\s*시(?:\s*(?P<minute>\d{1,2})\s*분|\s*(?P<half_hour>반))?|:(?P<clock_minute>\d{2}))",
    re.ASCII,
)
_AFTERNOON = frozenset({"오후", "저녁"})
_NAMED_TIMES: dict[str, time] = {
    "noon": time(12),
    "midday": time(12),
    "midnight": time(0),
    "정오": time(12),
    "자정": time(0),
}
_DAY_SEPARATORS = re.compile(r"[\s,，、·/&+]+")
_DAY_RANGE = re.compile(r"\s*[~\-–]\s*")
# Discord rejects a numeric nonce outside a signed 64-bit integer; leave room for the minute.
_NONCE_MINUTE_DIGITS = 10
_MAX_NONCE_SCHEDULE_ID = (2**63 - 1) // 10**_NONCE_MINUTE_DIGITS


def parse_time(text: str) -> time:
    """Read a local time: `HH:MM` or `H:MM` on the 24-hour clock, and as fans also write it:
    `9am`, `9:30 pm`, `noon`, `오전 9시`, `오후 9시 30분`, `오후 9시 반`, `21시`, `정오`.
    What cannot be read is refused (`Refusal`, with what was typed, shortened, as `typed`),
    as are unreadable days and timezones below."""
    cleaned = " ".join(text.split()).casefold()
    found = (
        _NAMED_TIMES.get(cleaned)
        or _twenty_four_hour(cleaned)
        or _twelve_hour(cleaned)
        or _korean_time(cleaned)
    )
    if found is None:
        raise Refusal("time.unreadable", typed=_shorten(text))
    return found


def _twenty_four_hour(cleaned: str) -> time | None:
    match = _TIME.fullmatch(cleaned)
    return _time(int(match["hour"]), int(match["minute"])) if match else None


def _twelve_hour(cleaned: str) -> time | None:
    match = _TWELVE_HOUR.fullmatch(cleaned)
    if match is None or not 1 <= int(match["hour"]) <= 12:
        return None
    hour = int(match["hour"]) % 12 + (12 if match["half"] == "p" else 0)
    return _time(hour, int(match["minute"] or 0))


def _korean_time(cleaned: str) -> time | None:
    match = _KOREAN_TIME.fullmatch(cleaned)
    if match is None:
        return None
    hour, half = int(match["hour"]), match["half"]
    minute = match["minute"] or match["clock_minute"] or ("30" if match["half_hour"] else "0")
    if half is not None:
        if hour > 12:
            return None  # 오후 13시: no such time
        if half in _AFTERNOON:
            hour = hour % 12 + 12
        elif half == "밤":  # 밤 11시 is 23:00, 밤 12시 midnight, 밤 1시 one in the morning
            hour = hour + 12 if 6 <= hour < 12 else hour % 12
        else:  # 오전, 새벽, 아침: 오전 12시 is midnight
            hour %= 12
    return _time(hour, int(minute))


def _time(hour: int, minute: int) -> time | None:
    return time(hour, minute) if hour < 24 and minute < 60 else None


# Korean day names: 월 (Monday) … 일 (Sunday), also as 월요일 and 월욜, and run together (월수금).
_KOREAN_DAYS = "월화수목금토일"
_KOREAN_DAY_RUN = re.compile(rf"(?:[{_KOREAN_DAYS}](?:요일|욜)?)+")
_KOREAN_DAY = re.compile(rf"([{_KOREAN_DAYS}])(?:요일|욜)?")


def parse_days(text: str) -> frozenset[int]:
    """Read the days a schedule runs on (0 = Monday): `daily` (also for empty input),
    `weekdays`, `weekends`, a list of day names such as `mon,wed,fri`, or a range such as
    `mon-fri`; in Korean too: `매일`, `평일`, `주말`, `월,수,금`, `월수금`, `월요일,수요일`,
    `월~금`."""
    cleaned = _DAY_RANGE.sub("~", " ".join(text.split()).casefold())
    if not cleaned:
        return ALL_DAYS
    if cleaned in _DAY_SET_ALIASES:
        return _DAY_SET_ALIASES[cleaned]
    days: set[int] = set()
    for name in _DAY_SEPARATORS.split(cleaned):
        if name:
            days |= _days_named(name)
    if not days:
        raise Refusal("days.none")
    return frozenset(days)


def _days_named(name: str) -> frozenset[int]:
    """The days one word of a list names: a day, a set of days (weekdays), a Korean run of
    days (월수금) or a range (mon~fri, 월~금, 금~월 across the weekend)."""
    if name in _DAY_SET_ALIASES:
        return _DAY_SET_ALIASES[name]
    if name in _DAY_ALIASES:
        return frozenset({_DAY_ALIASES[name]})
    if _KOREAN_DAY_RUN.fullmatch(name):
        return frozenset(_KOREAN_DAYS.index(day) for day in _KOREAN_DAY.findall(name))
    ends = name.split("~")
    if len(ends) == 2 and all(_single_day(end) is not None for end in ends):
        first, last = (_single_day(end) for end in ends)
        assert first is not None and last is not None
        return frozenset((first + step) % 7 for step in range((last - first) % 7 + 1))
    raise Refusal("days.unknown", typed=_shorten(name))


def _single_day(name: str) -> int | None:
    if name in _DAY_ALIASES:
        return _DAY_ALIASES[name]
    match = _KOREAN_DAY.fullmatch(name)
    return _KOREAN_DAYS.index(match[1]) if match else None


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
    8 * 60 + 45: "Australia/Eucla",
    9 * 60 + 30: "Australia/Darwin",
    -(3 * 60 + 30): "America/St_Johns",
    -(9 * 60 + 30): "Pacific/Marquesas",
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
    """ "seoul", "new york" -> the one region whose city is that name (Etc/GMT+9 is no city:
    "GMT+9" is UTC+9, read as an offset)."""
    found = [
        name
        for key, name in _timezones_by_folded_name().items()
        if "/" in key and not key.startswith("etc/") and key.rsplit("/", 1)[1] == folded
    ]
    return found[0] if len(found) == 1 else None


# Places people name for a timezone, in Korean and English, beyond tzdata's city names (SPEC
# §3a): a country (한국, Japan) is its most used zone. Keys are folded and without spaces; a
# trailing "시간" / "표준시" / "time" is looked past (한국 시간, 일본 표준시, Korea time).
PLACE_TIMEZONES: dict[str, str] = {
    **dict.fromkeys(
        ("서울", "한국", "대한민국", "남한", "부산", "인천", "대구", "대전", "광주", "제주"),
        "Asia/Seoul",
    ),
    **dict.fromkeys(("korea", "southkorea", "korean"), "Asia/Seoul"),
    **dict.fromkeys(("도쿄", "동경", "일본", "오사카", "japan", "japanese"), "Asia/Tokyo"),
    **dict.fromkeys(("베이징", "북경", "중국", "상하이", "china"), "Asia/Shanghai"),
    "홍콩": "Asia/Hong_Kong",
    **dict.fromkeys(("타이베이", "대만", "taiwan"), "Asia/Taipei"),
    "마카오": "Asia/Macau",
    **dict.fromkeys(("싱가포르", "싱가폴"), "Asia/Singapore"),
    **dict.fromkeys(("쿠알라룸푸르", "말레이시아", "malaysia"), "Asia/Kuala_Lumpur"),
    **dict.fromkeys(("마닐라", "필리핀", "philippines"), "Asia/Manila"),
    **dict.fromkeys(("자카르타", "인도네시아", "indonesia"), "Asia/Jakarta"),
    **dict.fromkeys(("방콕", "태국", "thailand"), "Asia/Bangkok"),
    **dict.fromkeys(("호치민", "하노이", "베트남", "vietnam"), "Asia/Ho_Chi_Minh"),
    **dict.fromkeys(("뉴델리", "델리", "뭄바이", "인도", "india"), "Asia/Kolkata"),
    **dict.fromkeys(("두바이", "아랍에미리트"), "Asia/Dubai"),
    **dict.fromkeys(("모스크바", "러시아"), "Europe/Moscow"),
    **dict.fromkeys(("이스탄불", "튀르키예", "터키"), "Europe/Istanbul"),
    **dict.fromkeys(("런던", "영국", "uk"), "Europe/London"),
    **dict.fromkeys(("파리", "프랑스", "france"), "Europe/Paris"),
    **dict.fromkeys(("베를린", "독일", "germany"), "Europe/Berlin"),
    **dict.fromkeys(("마드리드", "스페인", "spain"), "Europe/Madrid"),
    **dict.fromkeys(("로마", "이탈리아", "italy"), "Europe/Rome"),
    **dict.fromkeys(("암스테르담", "네덜란드"), "Europe/Amsterdam"),
    **dict.fromkeys(("뉴욕", "워싱턴", "미국동부"), "America/New_York"),
    **dict.fromkeys(("시카고", "미국중부"), "America/Chicago"),
    **dict.fromkeys(("덴버", "미국산악"), "America/Denver"),
    **dict.fromkeys(
        ("로스앤젤레스", "엘에이", "샌프란시스코", "시애틀", "미국서부"),
        "America/Los_Angeles",
    ),
    "토론토": "America/Toronto",
    "밴쿠버": "America/Vancouver",
    **dict.fromkeys(("멕시코시티", "멕시코"), "America/Mexico_City"),
    **dict.fromkeys(("상파울루", "브라질", "brazil"), "America/Sao_Paulo"),
    **dict.fromkeys(("부에노스아이레스", "아르헨티나"), "America/Argentina/Buenos_Aires"),
    **dict.fromkeys(("시드니", "호주", "australia"), "Australia/Sydney"),
    "멜버른": "Australia/Melbourne",
    **dict.fromkeys(("오클랜드", "뉴질랜드"), "Pacific/Auckland"),
    **dict.fromkeys(("하와이", "호놀룰루", "hawaii"), "Pacific/Honolulu"),
    **dict.fromkeys(("협정세계시", "세계표준시", "세계시"), "UTC"),
}
_PLACE_SUFFIXES = ("표준시", "시간", "시", "standardtime", "time")


def _place_key(typed: str) -> str:
    return "".join(typed.split()).replace("_", "").casefold()


def _place_zone(typed: str) -> str | None:
    """ "서울", "한국 시간", "일본 표준시", "Korea time" -> the zone of the place named."""
    key = _place_key(typed)
    if key in PLACE_TIMEZONES:
        return PLACE_TIMEZONES[key]
    for suffix in _PLACE_SUFFIXES:
        if key.endswith(suffix) and key[: -len(suffix)] in PLACE_TIMEZONES:
            return PLACE_TIMEZONES[key[: -len(suffix)]]
    return None


def parse_timezone(name: str) -> str:
    """The IANA region for what someone typed: a region name in any case ("asia/seoul"), a
    common abbreviation ("KST"), an offset ("UTC+9", "GMT+09:00"), a city ("Seoul") or a place
    in Korean or English ("서울", "한국 시간", "도쿄", "Japan"). An offset is kept as the zone
    the scheduler loads (Etc/GMT-9) and shown as people wrote it (`shown_timezone`: UTC+9)."""
    cleaned = name.strip().replace(" ", "_")
    folded = cleaned.casefold()
    for canonical in _meanings(name, folded):
        if canonical is not None:
            return canonical
    offset = _offset_minutes(name)
    if offset is not None and offset not in _OFFSET_RANGE_MINUTES:
        raise Refusal("timezone.out_of_range", typed=_shorten(name))
    suggestions = timezone_suggestions(name, limit=3) if cleaned else []
    if suggestions:
        raise Refusal(
            "timezone.did_you_mean", typed=_shorten(name), suggestions=", ".join(suggestions)
        )
    raise Refusal("timezone.unknown", typed=_shorten(name))


def _meanings(typed: str, folded: str) -> list[str | None]:
    """What `typed` (`folded`: trimmed, spaces as underscores, casefolded) may mean, best first,
    each a zone this host knows or None: the bot's own abbreviations before tzdata's names
    (whose EST or CET are fixed legacy zones), then an offset, then a city, then a place."""
    return [
        _known(TIMEZONE_ABBREVIATIONS.get(folded)),
        _timezones_by_folded_name().get(folded),
        _known(_offset_zone(typed)),
        _city_zone(folded),
        _known(_place_zone(typed)),
    ]


# tzdata's names for UTC itself, besides "UTC" (and "GMT", which reads as itself).
_ZERO_OFFSET_NAMES = frozenset(
    {"Etc/GMT", "Etc/GMT0", "Etc/GMT+0", "Etc/GMT-0", "Etc/UTC", "Etc/UCT", "Etc/Universal"}
    | {"Etc/Zulu", "Etc/Greenwich", "GMT0", "GMT+0", "GMT-0", "UCT", "Universal", "Zulu"}
)
_ETC_OFFSET = re.compile(r"Etc/GMT(?P<sign>[+-])(?P<hours>\d{1,2})")


def offset_name(minutes: int) -> str:
    """A fixed offset as people write it: "UTC+9", "UTC-3", "UTC+5:30" ("UTC" for none);
    `parse_timezone` reads it back."""
    if minutes == 0:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'+' if minutes > 0 else '-'}{hours}" + (f":{rest:02d}" if rest else "")


def fixed_offset(name: str) -> int | None:
    """For a zone that is nothing but an offset (Etc/GMT-9, Etc/UTC), that offset in minutes
    east of UTC ("Etc/GMT-9" -> 540: IANA's Etc signs are the other way round); None for a
    region, whose offset follows its rules."""
    if name in _ZERO_OFFSET_NAMES:
        return 0
    match = _ETC_OFFSET.fullmatch(name)
    if match is None:
        return None
    return (-60 if match["sign"] == "+" else 60) * int(match["hours"])


def shown_timezone(name: str) -> str:
    """A timezone as people read and type it: an offset zone as its offset ("UTC+9", never
    "Etc/GMT-9", whose sign reads backwards), any other zone by its IANA name."""
    offset = fixed_offset(name)
    return name if offset is None else offset_name(offset)


@cache
def _steady_offsets() -> dict[str, int]:
    """The regions an offset that is not whole hours stands for (`_FRACTIONAL_OFFSETS`), by
    their offset, where that offset holds all year (Asia/Kolkata: not America/St_Johns)."""
    steady: dict[str, int] = {}
    for minutes, zone in _FRACTIONAL_OFFSETS.items():
        if _known(zone) is None:
            continue
        offsets = {
            ZoneInfo(zone).utcoffset(datetime(year, month, 15))
            for year in (2025, 2026)
            for month in (1, 7)
        }
        if offsets == {timedelta(minutes=minutes)}:
            steady[zone] = minutes
    return steady


def region_offset(name: str) -> int | None:
    """The offset of a region people reach by typing an offset that is not whole hours
    ("UTC+5:30" is Asia/Kolkata), when it holds all year: 330 for Asia/Kolkata; None otherwise."""
    return _steady_offsets().get(name)


def timezone_suggestions(prefix: str, limit: int = 25) -> list[str]:
    """Timezone names for autocomplete: what `prefix` means as an abbreviation, offset, city or
    place first, then the zones of places whose name starts with it ("서" -> Asia/Seoul), then
    names containing it (case-insensitive; spaces match underscores), names starting with it
    before names with a part starting with it ("seoul" -> Asia/Seoul). An offset zone is
    offered as people write it ("UTC+9", not Etc/GMT-9), which `parse_timezone` reads back."""
    needle = prefix.strip().replace(" ", "_").casefold()
    if limit <= 0:
        return []
    if not needle:
        return list(COMMON_TIMEZONES[:limit])
    meant = [zone for zone in _meanings(prefix, needle) if zone is not None]
    key = _place_key(prefix)
    places = [
        zone
        for place, zone in PLACE_TIMEZONES.items()
        if not place.isascii() and place.startswith(key) and _known(zone)
    ]

    def rank(name: str) -> tuple[int, str]:
        folded = name.casefold()
        if folded.startswith(needle):
            return (0, name)
        if any(part.startswith(needle) for part in folded.split("/")):
            return (1, name)
        return (2, name)

    matching = [n for n in _timezones_by_folded_name().values() if needle in n.casefold()]
    if _offset_minutes(prefix) is not None:  # "-14" is UTC-14, not Etc/GMT-14 (UTC+14)
        matching = [n for n in matching if fixed_offset(n) is None]
    ordered = [*meant, *places, *sorted(matching, key=rank)]
    return list(dict.fromkeys(shown_timezone(zone) for zone in ordered))[:limit]


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


# --- why a schedule fails, as the database keeps it -------------------------------------------


def stored_reason(message_id: str, **params: str | int | list[str]) -> str:
    """A failing reason as the database keeps it: a message id of the catalogue and its
    parameters, as JSON text (`{"id": …, "params": {…}}`), shown later to each moderator in
    their language (`bot.ui.schedules.reason_text`). A `permissions` parameter is a list of
    Discord's permission names (`send_messages`)."""
    return json.dumps({"id": message_id, "params": params}, ensure_ascii=False)


def read_reason(stored: str) -> tuple[str, dict[str, object]] | None:
    """The message id and parameters of a reason `stored_reason` wrote; None for a reason
    stored as plain text (by an older version)."""
    if not stored.startswith("{"):
        return None
    try:
        data = json.loads(stored)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    message_id, params = data.get("id"), data.get("params", {})
    if not isinstance(message_id, str) or not isinstance(params, dict):
        return None
    return message_id, {str(key): value for key, value in params.items()}


def unusable_reason(timezone: object, error: Exception) -> str:
    """Why a schedule this host cannot use (a stored row it cannot read) was paused."""
    if isinstance(error, KeyError) or "zone" in str(error).lower():  # ZoneInfoNotFoundError
        return stored_reason(msg("schedule.failing.unknown_timezone"), timezone=str(timezone))
    return stored_reason(msg("schedule.failing.damaged"))
