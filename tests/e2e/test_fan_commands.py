"""Fans use /quote, /fact, /onthisday and /about against the real bot process (SPEC §4).

The tests share one bot process (each in a server of its own) unless they restart it.
"""

from __future__ import annotations

import datetime as dt

from bot.domain import dates
from bot.domain.models import TOPICS
from bot.i18n import Language, render
from tests.e2e.helpers import NO_PINGS, all_text, dataset, field, shown_id
from tests.fakediscord.emulator import Emulator
from tests.fakediscord.fixtures import Shared
from tests.fakediscord.models import Channel, Guild, Member


def place(shared: Shared) -> tuple[Emulator, Guild, Channel, Member]:
    """Where a fan types: the test's own server, on the module's bot."""
    emulator, guild = shared.emulator, shared.guild
    return emulator, guild, guild.text_channels[0], emulator.add_member(guild, "uaena")


async def test_quote_shows_a_dataset_quote_with_its_source(shared: Shared) -> None:
    emulator, guild, channel, fan = place(shared)
    inter = await emulator.slash(guild, channel, fan, "quote")
    reply = await inter.response()
    assert reply.type == 4 and not reply.is_ephemeral
    assert inter.latency is not None and inter.latency < 3
    embed = reply.embeds[0]
    quote = dataset().quote(shown_id(reply))
    assert quote is not None
    # the text exactly as in the dataset, and one line of who, where and when
    assert embed["description"] == f"“{quote.text}”\n— *{quote.setting}*"
    assert "footer" not in embed and quote.id not in all_text(embed)  # ids stay behind Details
    assert dataset().people[quote.speaker].name in embed["title"]
    source = dataset().source_of(quote)
    assert source.publisher in field(embed, "Source")  # one short source line
    assert reply.data["allowed_mentions"] == NO_PINGS
    assert [b["label"] for b in inter.message.buttons] == ["Another quote", "Details"]

    details = await emulator.click(inter.message, "Details", fan)
    more = await details.response()
    assert more.is_ephemeral and quote.context in all_text(more.embeds[0])
    assert quote.id in more.embeds[0]["footer"]["text"]  # for a report or `/quote id`
    assert (source.url or source.publisher) in all_text(more.embeds[0])


async def test_speaker_autocomplete_knows_aliases(shared: Shared) -> None:
    emulator, guild, channel, fan = place(shared)
    for typed in ("Tae", "kim taehyung", "뷔", "v"):
        choices = await emulator.autocomplete(
            guild, channel, fan, "quote", focused="speaker", value=typed
        )
        assert "v" in [c["value"] for c in choices], (typed, choices)
    everyone = await emulator.autocomplete(guild, channel, fan, "quote", focused="speaker")
    assert {c["value"] for c in everyone} >= {"iu", "v", "um-tae-hwa", "edam"}
    assert len(everyone) <= 25


async def test_quote_filters_by_typed_speaker_and_search_words(shared: Shared) -> None:
    emulator, guild, channel, fan = place(shared)
    reply = await (
        await emulator.slash(guild, channel, fan, "quote", speaker="Kim Taehyung")
    ).response()
    assert dataset().quote(shown_id(reply)).speaker == "v"  # type: ignore[union-attr]

    reply = await (
        await emulator.slash(guild, channel, fan, "quote", search="CAMCORDER")
    ).response()
    quote = dataset().quote(shown_id(reply))
    assert quote is not None and "camcorder" in (quote.text + quote.gloss).lower()


async def test_quote_by_id_and_the_mistakes(shared: Shared) -> None:
    emulator, guild, channel, fan = place(shared)
    wanted = dataset().quotes[3]
    reply = await (await emulator.slash(guild, channel, fan, "quote", id=wanted.id)).response()
    assert shown_id(reply) == wanted.id

    for options, hint in (
        ({"id": "q-nope"}, "no quote with the id"),
        ({"speaker": "Jungkook"}, "don't know anyone called"),
        ({"search": "zyxwv qwerty"}, "fewer or shorter words"),
    ):
        inter = await emulator.slash(guild, channel, fan, "quote", **options)
        reply = await inter.response()
        assert reply.is_ephemeral, options
        assert hint in reply.embeds[0]["description"], reply.embeds[0]
        assert inter.latency is not None and inter.latency < 3


async def test_quotes_do_not_repeat_in_a_channel_until_all_were_shown(shared: Shared) -> None:
    emulator, guild, channel, fan = place(shared)
    edam = {q.id for q in dataset().quotes if q.speaker == "edam"}
    seen = []
    for _ in edam:
        reply = await (
            await emulator.slash(guild, channel, fan, "quote", speaker="edam")
        ).response()
        seen.append(shown_id(reply))
    assert sorted(seen) == sorted(edam)


async def test_a_plain_quote_never_repeats_one_a_filter_showed_this_round(shared: Shared) -> None:
    """The channel has one rotation: eight quotes of V, then plain /quote until every quote
    was shown once. Not one comes twice (filters used to keep bags of their own)."""
    emulator, guild, _, fan = place(shared)
    channel = emulator.add_channel(guild, "one-rotation")
    seen = []
    for options in [{"speaker": "v"}] * 8 + [{}] * (len(dataset().quotes) - 8):
        reply = await (await emulator.slash(guild, channel, fan, "quote", **options)).response()
        seen.append(shown_id(reply))
    assert all(dataset().quote(q).speaker == "v" for q in seen[:8])  # type: ignore[union-attr]
    assert sorted(seen) == sorted(q.id for q in dataset().quotes)


async def test_another_quote_keeps_the_filters_and_works_after_a_restart(shared: Shared) -> None:
    emulator, guild, channel, fan = place(shared)
    first = await emulator.slash(guild, channel, fan, "quote", speaker="V")
    await first.response()
    click = await emulator.click(first.message, "Another quote", fan)
    reply = await click.response()
    assert dataset().quote(shown_id(reply)).speaker == "v"  # type: ignore[union-attr]
    assert shown_id(reply) != shown_id(first.message)

    await shared.bot.restart()
    click = await emulator.click(first.message, "Another quote", fan)
    reply = await click.response()
    assert not reply.is_ephemeral
    assert dataset().quote(shown_id(reply)).speaker == "v"  # type: ignore[union-attr]
    assert click.latency is not None and click.latency < 3


async def test_fact_by_topic_names_its_source_and_evidence(shared: Shared) -> None:
    emulator, guild, channel, fan = place(shared)
    inter = await emulator.slash(guild, channel, fan, "fact", topic="charts")
    reply = await inter.response()
    embed = reply.embeds[0]
    fact = dataset().fact(shown_id(reply))
    assert fact is not None and fact.topic == "charts"
    assert render(TOPICS["charts"], Language.EN) in embed["title"]  # "Charts and records"
    assert embed["description"] == fact.text
    assert "footer" not in embed and fact.id not in all_text(embed)
    assert dataset().source_of(fact).url in field(embed, "Source")
    assert [b["label"] for b in inter.message.buttons] == ["Another fact", "Details"]
    # The source's own words (and the bot's English for them) are one click away.
    details = await (await emulator.click(inter.message, "Details", fan)).response()
    assert details.is_ephemeral
    assert fact.evidence[:200] in field(details.embeds[0], "From the source")
    if fact.evidence_en:
        assert fact.evidence_en[:200] in field(
            details.embeds[0], "In English (the bot's translation)"
        )
    another = await (await emulator.click(inter.message, "Another fact", fan)).response()
    again = dataset().fact(shown_id(another))
    assert again is not None and again.topic == "charts" and again.id != fact.id


async def test_onthisday_reads_every_date_form(shared: Shared) -> None:
    emulator, guild, channel, fan = place(shared)
    events = dates.events_on(dataset().events, 1, 24)
    assert len(events) >= 2, "the dataset has events on 24 January"
    for typed in ("01-24", "2024-01-24", "1/24", "Jan 24", "24 January", "January 24"):
        inter = await emulator.slash(guild, channel, fan, "onthisday", date=typed)
        embed = (await inter.response()).embeds[0]
        assert embed["title"] == "On this day: 24 January", typed
        lines = embed["description"].splitlines()  # one line an event
        assert events[0].text in lines[0], typed
        # counted at the nearest 24 January (asked in December, it is next month's)
        years = dates.nearest_anniversary(1, 24, shared.clock.now().date()).year - 2024
        assert f"{years} year" in lines[0]
    # Every event of the day, with its passage and source, is behind "Details".
    details = await (await emulator.click(inter.message, "Details", fan)).response()
    assert details.is_ephemeral
    text = all_text(details.embeds[0])
    assert all(e.text in text and e.evidence[:100] in text for e in events)


async def test_onthisday_explains_a_bad_date_with_examples(shared: Shared) -> None:
    emulator, guild, channel, fan = place(shared)
    for typed in ("13-45", "someday", "Feb 30"):
        reply = await (
            await emulator.slash(guild, channel, fan, "onthisday", date=typed)
        ).response()
        assert reply.is_ephemeral
        assert "Jan 24" in reply.embeds[0]["description"]


async def test_an_empty_day_counts_down_to_the_next_event(shared: Shared) -> None:
    emulator, guild, channel, fan = place(shared)
    busy = {(e.date.month, e.date.day) for e in dataset().events}
    empty = next(
        d
        for d in (dt.date(2025, 1, 1) + dt.timedelta(days=n) for n in range(365))
        if (d.month, d.day) not in busy
    )
    reply = await (
        await emulator.slash(
            guild, channel, fan, "onthisday", date=f"{empty.month:02d}-{empty.day:02d}"
        )
    ).response()
    embed = reply.embeds[0]
    assert not reply.is_ephemeral
    assert "next anniversary" in embed["description"]
    assert "days" in embed["description"] or "tomorrow" in embed["description"]
    countdown = dates.countdown(
        dataset().events, dt.date(shared.clock.now().year, empty.month, empty.day)
    )
    assert countdown.next_events[0].text in embed["description"]  # never an empty embed


async def test_about_shows_the_counts_and_every_source(shared: Shared) -> None:
    emulator, guild, channel, fan = place(shared)
    inter = await emulator.slash(guild, channel, fan, "about")
    embed = (await inter.response()).embeds[0]
    counts = dataset().counts()
    text = field(embed, "Dataset")
    for kind, word in (
        ("quotes", "quotes"),
        ("facts", "facts"),
        ("questions", "trivia"),
        ("events", "timeline"),
        ("sources", "sources"),
    ):
        assert f"{counts[kind]} {word}" in text
    opener = await emulator.click(inter.message, "All sources", fan)
    page = await opener.response()
    assert page.is_ephemeral
    current = opener.message
    listed = [current.embeds[0]["description"]]
    pages = int(current.embeds[0]["title"].split("/")[-1].rstrip(")"))
    for _ in range(pages - 1):
        turn = await emulator.click(current, "Next ▶", fan)
        assert (await turn.response()).type == 7  # the page is edited in place
        current = emulator.messages[current.id]
        listed.append(current.embeds[0]["description"])
    everything = "\n".join(listed)
    assert all(s.url in everything for s in dataset().sources.values() if s.url)


async def test_the_token_never_reaches_the_log(shared: Shared) -> None:
    emulator, guild, channel, fan = place(shared)
    await (await emulator.slash(guild, channel, fan, "quote")).response()
    logs = shared.bot.logs()
    assert "DEBUG" in logs  # the fixture runs the bot at LOG_LEVEL=DEBUG
    assert emulator.token not in logs
