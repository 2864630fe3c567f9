"""Korean fans (SPEC §3a, issue #21): the fan commands answer a fan whose Discord speaks Korean
(`ko`) in Korean, whatever the server's language, and a fan whose Discord speaks English in
English, even in a Korean server; the welcome post is in the server's language.

First, fast checks of what Korean readers are shown of the dataset (no bot); then the real bot
process, one per module (`shared`), driven through the emulator as fans would.
"""

from __future__ import annotations

import datetime as dt

from bot.domain import catalog, dates
from bot.domain.models import Dataset, Event, Fact, Person, Quote, Source
from bot.i18n import Language, render
from bot.ui import embeds
from bot.ui.details import quote_details
from tests.e2e.helpers import NO_PINGS, all_text, dataset, field, shown_id
from tests.fakediscord.fixtures import Shared

KO, EN = Language.KO, Language.EN

# --- what a Korean reader is shown (no bot) -----------------------------------------------------

ENGLISH_SOURCE = Source("nme", "IU and V", "NME", "https://nme.example/iu", dt.date(2024, 1, 16))
KOREAN_SOURCE = Source("yna", "아이유 인터뷰", "연합뉴스", "", dt.date(2024, 1, 24), language="ko")
IU = Person("iu", "IU", "singer", "nme", ("Lee Ji-eun",), name_ko="아이유")


def pack(*quotes: Quote, facts: tuple[Fact, ...] = ()) -> Dataset:
    sources = {s.id: s for s in (ENGLISH_SOURCE, KOREAN_SOURCE)}
    return Dataset(sources, {"iu": IU}, quotes, facts, (), ())


def quote(**fields: object) -> Quote:
    base: dict[str, object] = {
        "id": "q-iu-test",
        "speaker": "iu",
        "text": "Love wins all, in the end",
        "context": "IU to NME",
        "source": "nme",
        "evidence": "She said: “Love wins all, in the end”, smiling.",
    }
    return Quote(**{**base, **fields})  # type: ignore[arg-type]


def test_a_quote_keeps_the_published_words_and_marks_the_bots_korean() -> None:
    q = quote(
        text_ko="결국 사랑이 모든 걸 이겨요",
        evidence_ko="그녀는 웃으며 말했다.",
        setting="IU, talking to NME, Jan 2024",
        setting_ko="아이유, NME 인터뷰에서 (2024년 1월)",
    )
    embed = embeds.quote_embed(q, pack(q), KO)
    assert embed.title == "아이유의 말"
    # her words as published, then one line of where and when, in the reader's language
    assert (
        embed.description == "“Love wins all, in the end”\n— *아이유, NME 인터뷰에서 (2024년 1월)*"
    )
    assert field_of(embed, "봇이 번역한 글") == "“결국 사랑이 모든 걸 이겨요”"
    assert embed.footer.text is None  # no internal id on a card: it is under Details
    assert quote_details(q, pack(q), KO).footer.text == "인용 q-iu-test"
    assert "2024. 1. 16." in field_of(embed, "출처")  # Babel's Korean date
    english = embeds.quote_embed(q, pack(q), EN)
    assert english.title == "IU said" and len(english.fields) == 1  # no Korean for English readers
    details = quote_details(q, pack(q), KO)
    names = [f.name for f in details.fields]
    assert "출처의 원문" in names and names.count("봇이 번역한 글") == 1  # the passage's Korean


def test_an_events_time_is_said_once_in_either_language() -> None:
    def event(time: dt.time, text: str, text_ko: str) -> Event:
        day = dt.date(2024, 1, 24)
        return Event("e", day, text, "nme", "…", time, "Asia/Seoul", text_ko=text_ko)

    released = event(
        dt.time(18), "The song was released at 6 PM KST.", "한국 시간 오후 6시에 발매됐어요."
    )
    assert embeds.event_line(released, EN) == "The song was released at 6 PM KST."
    assert embeds.event_line(released, KO) == "한국 시간 오후 6시에 발매됐어요."
    topped = event(dt.time(19), "It was No. 1 an hour later.", "1시간 뒤 1위에 올랐어요.")
    assert embeds.event_line(topped, EN) == "19:00 KST, It was No. 1 an hour later."
    assert embeds.event_line(topped, KO) == "한국 시간 오후 7시, 1시간 뒤 1위에 올랐어요."
    posted = event(dt.time(0), "A poster was posted.", "포스터가 올라왔어요.")
    assert embeds.event_line(posted, KO) == "한국 시간 자정, 포스터가 올라왔어요."
    late = event(dt.time(7, 20), "By 7:20 AM KST, 15 million views.", "오전 7시 20분 기준 조회수")
    assert embeds.event_line(late, EN).startswith("By") and embeds.event_line(late, KO)[0] == "오"
    other = event(dt.time(18), "At 16 PM, nothing.", "오후 16시")  # 6 PM is not in "16 PM"
    assert embeds.event_line(other, EN).startswith("18:00 KST, ")


def test_a_quote_with_its_korean_original_names_the_korean_source() -> None:
    q = quote(original_ko="결국 사랑이 이긴다", original_source="yna", text_ko="")
    embed = embeds.quote_embed(q, pack(q), KO)
    assert embed.description == "“결국 사랑이 이긴다”"
    assert field_of(embed, "출처 (한국어 원문)").startswith("연합뉴스")
    details = quote_details(q, pack(q), KO)
    assert field_of(details, "기사에 실린 말") == "“Love wins all, in the end”"


def test_a_quote_said_in_korean_is_shown_as_said_and_glossed_for_english_readers() -> None:
    q = quote(text="사랑이 이겨요", language="ko", gloss="Love wins", source="yna", evidence="")
    assert embeds.quote_embed(q, pack(q), KO).description == "“사랑이 이겨요”"
    assert not embeds.quote_embed(q, pack(q), KO).fields[:-1]  # no translation to Korean readers
    english = embeds.quote_embed(q, pack(q), EN)
    assert field_of(english, "In English (the bot's translation)") == "“Love wins”"


def test_a_long_quote_and_its_translation_leave_the_published_words_to_details() -> None:
    q = quote(text="word " * 80, text_ko="말 " * 100)
    embed = embeds.quote_embed(q, pack(q), KO)
    assert embed.description is not None and embed.description.startswith("“말 말")
    assert "봇이 번역한 글이에요" in embed.description  # marked as the bot's words
    assert field_of(quote_details(q, pack(q), KO), "기사에 실린 말").startswith("“word word")


def test_a_fact_in_korean_and_korean_names_and_words_are_understood() -> None:
    fact = Fact("f-x", "charts", "It topped Melon.", "nme", "It topped Melon.", text_ko="멜론 1위")
    embed = embeds.fact_embed(fact, pack(facts=(fact,)), KO)
    assert embed.title == "팩트 · 차트와 기록" and embed.description == "멜론 1위"
    assert embeds.fact_embed(fact, pack(facts=(fact,)), EN).description == "It topped Melon."
    q = quote(text_ko="결국 사랑이 모든 걸 이겨요")
    assert catalog.find_person(pack(q), "아이유") == IU
    assert catalog.people_matching(pack(q), "아이") == [IU]
    assert catalog.quotes_matching(pack(q), None, "사랑") == [q]  # "사랑이" holds "사랑"


def test_korean_days_and_dates() -> None:
    assert embeds.day_label(1, 24, KO) == "1월 24일" and embeds.day_label(1, 24, EN) == "24 January"
    assert embeds.long_date(dt.date(2024, 1, 24), KO) == "2024년 1월 24일"
    assert "`1월 24일`" in embeds.date_examples(KO) and "`Jan 24`" in embeds.date_examples(EN)
    assert render("onthisday.next", KO, day="2월 3일", when="내일").endswith("내일이에요:")
    assert render("onthisday.next", KO, day="2월 3일", when="3일 후").endswith("3일 후예요:")
    assert dates.parse_day("2024년 1월 24일") == dates.MonthDay(1, 24, 2024)


def field_of(embed: object, name: str) -> str:
    for f in getattr(embed, "fields", []):
        if f.name == name:
            return str(f.value)
    raise AssertionError(f"no field {name!r}")


# --- the real bot ---------------------------------------------------------------------------


async def test_a_korean_fan_gets_help_quotes_facts_and_days_in_korean(shared: Shared) -> None:
    emulator, guild = shared.emulator, shared.guild
    channel, fan = guild.text_channels[0], emulator.add_member(guild, "유애나")

    help_reply = await (await emulator.slash(guild, channel, fan, "help", locale="ko")).response()
    text = all_text(help_reply.embeds[0])
    assert help_reply.is_ephemeral and help_reply.embeds[0]["title"] == "제가 할 수 있는 일"
    assert f"`/quote` — {render('help.quote', KO)}" in text and "`/trivia play`" in text

    # A speaker typed in Korean, the reply in Korean, its buttons too.
    inter = await emulator.slash(guild, channel, fan, "quote", speaker="뷔", locale="ko")
    reply = await inter.response()
    embed = reply.embeds[0]
    q = dataset().quote(shown_id(reply))
    assert q is not None and q.speaker == "v"
    assert embed["title"] == "뷔의 말" and "footer" not in embed and q.id not in all_text(embed)
    shown = embeds.quote_words(q, dataset(), KO)
    assert embed["description"].startswith(f"“{shown.text}”")
    assert embed["description"].endswith(f"— *{q.setting_ko}*")
    assert reply.data["allowed_mentions"] == NO_PINGS
    assert [b["label"] for b in inter.message.buttons] == ["다른 인용", "자세히"]
    details = await (await emulator.click(inter.message, "자세히", fan, locale="ko")).response()
    assert details.is_ephemeral
    assert (q.context_ko or q.context) in field(details.embeds[0], "언제, 어디서 한 말인가요")

    # Words searched in Korean find the quote whose Korean has them.
    found = await (
        await emulator.slash(guild, channel, fan, "quote", search="찹쌀떡", locale="ko")
    ).response()
    assert shown_id(found) == "q-v-chapssaltteok"

    inter = await emulator.slash(guild, channel, fan, "fact", topic="charts", locale="ko")
    reply = await inter.response()
    embed = reply.embeds[0]
    fact = dataset().fact(shown_id(reply))
    assert fact is not None and embed["title"] == "팩트 · 차트와 기록"
    assert embed["description"] == (fact.text_ko or fact.text)
    assert "출처" in [f["name"] for f in embed["fields"]]

    events = dates.events_on(dataset().events, 1, 24)
    day = await (
        await emulator.slash(guild, channel, fan, "onthisday", date="1월 24일", locale="ko")
    ).response()
    embed = day.embeds[0]
    assert embed["title"] == "이날의 기록: 1월 24일"
    first = embed["description"].splitlines()[0]
    # counted at the nearest 24 January (asked in December, it is next month's)
    years = dates.nearest_anniversary(1, 24, shared.clock.now().date()).year - 2024
    assert f"**2024** · {years}년 전 — " in first
    assert (events[0].text_ko or events[0].text) in first

    mistake = await (
        await emulator.slash(guild, channel, fan, "onthisday", date="2월 30일", locale="ko")
    ).response()
    said = mistake.embeds[0]["description"]
    assert mistake.is_ephemeral and mistake.embeds[0]["title"] == "이렇게 해 보세요"
    assert said.startswith("“2월 30일”에서 날짜를 읽지 못했어요. 2월에는 30일이 없어요.")
    assert "`1월 24일`" in said and said.endswith("처럼 입력해 보세요.")


async def test_a_korean_server_is_welcomed_in_korean_and_english_fans_read_english(
    shared: Shared,
) -> None:
    emulator = shared.emulator
    await shared.bot.wait_for_log("ready as")  # a server added now is one the bot joins
    guild = emulator.add_guild("유애나 서버", system_channel=True, locale="ko")
    lobby = guild.text_channels[0]
    welcome = await emulator.wait_for_message(lobby, lambda m: bool(m.embeds), timeout=10)
    assert welcome.embeds[0]["title"] == "안녕하세요! 💜"
    assert "/quote" in welcome.text and "/schedule add" in welcome.text

    fan = emulator.add_member(guild, "global-fan")  # Discord in English (en-US)
    inter = await emulator.slash(guild, lobby, fan, "quote")
    reply = await inter.response()
    embed = reply.embeds[0]
    q = dataset().quote(shown_id(reply))
    assert q is not None and embed["description"] == f"“{q.text}”\n— *{q.setting}*"
    assert embed["title"] == f"{dataset().people[q.speaker].name} said"
    assert [b["label"] for b in inter.message.buttons] == ["Another quote", "Details"]
    # A Korean date is understood from anyone; the answer is in the asker's language.
    day = await (
        await emulator.slash(guild, lobby, fan, "onthisday", date="2024년 1월 24일")
    ).response()
    assert day.embeds[0]["title"] == "On this day: 24 January"
