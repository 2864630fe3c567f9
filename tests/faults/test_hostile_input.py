"""Hostile input, property-based: whatever a Discord client can put in an option, the bot
answers in time, shows no traceback, pings nobody and sends nothing Discord would reject.

One emulator and one bot serve the whole module (a module-scoped harness with its own event
loop), so each of the few hundred examples costs one interaction, not a bot start.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.models import TOPICS
from tests.e2e.helpers import NO_PINGS, all_text
from tests.fakediscord import permissions as P
from tests.fakediscord.botproc import BotProcess
from tests.fakediscord.emulator import Emulator
from tests.fakediscord.fixtures import BOTS_KEY, _teardown_problems
from tests.fakediscord.interactions import CallbackResponse, Interaction
from tests.fakediscord.models import Channel, Guild, Member

T = TypeVar("T")

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

NASTY = [
    "@everyone",
    "@here",
    "<@123>",
    "<@!123>",
    "<@&456>",
    "<#789>",
    "@everyone <@123> @here",
    "**bold** __under__ *it* ~~strike~~ `code` ||spoiler||",
    "```py\nprint(1)\n```",
    "> quote\n# heading\n- list",
    "[link](https://example.com)",
    "\\*escaped\\*",
    "\u202eevil\u202c",
    "مرحبا بالعالم",
    "שלום עולם",
    "\u200b",
    "a\u200bb\u200cc\u200dd\ufeff",
    "💜🫶🏻👩‍❤️‍👨🏳️‍🌈",
    "ㅤ",
    "사랑이 이긴다",
    "IU 아이유",
    "V 뷔",
    "   ",
    "\n\t\n",
    "Love wins all" * 3,
    "%s %d {0} {name}",
    "'; DROP TABLE trivia_scores; --",
    "../../etc/passwd",
    "\x00\x01\x7f",
    "A" * 40,
    "e\u0301" * 20,
    "Z̵̡̢̛͎a̶l̷g̸o̴",
]


def hostile(max_size: int, min_size: int = 1) -> st.SearchStrategy[str]:
    """Strings a fan could type, up to the option's max_length."""
    nasty = st.sampled_from(NASTY)
    return (
        st.one_of(
            nasty,
            st.text(min_size=min_size, max_size=max_size),
            st.lists(st.one_of(nasty, st.text(max_size=8)), min_size=1, max_size=12).map("".join),
            nasty.map(lambda s: (s * (max_size // max(1, len(s)) + 1))[:max_size]),  # full length
        )
        .map(lambda s: s[:max_size])
        .filter(lambda s: len(s) >= min_size)
    )


class Harness:
    """One emulator and one bot process, on an event loop of their own."""

    def __init__(self, tmp_path: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.emulator = Emulator()
        self.tmp_path = tmp_path
        self.counter = itertools.count()
        self.bot: BotProcess | None = None

    def run(self, work: Awaitable[T]) -> T:
        return self.loop.run_until_complete(work)

    async def start(self) -> None:
        await self.emulator.start()
        self.guild = self.emulator.add_guild("Love Wins All")
        self.channel = self.guild.text_channels[0]
        self.fan = self.emulator.add_member(self.guild, "fan")
        mods = self.emulator.add_role(self.guild, "mods", permissions=P.MANAGE_GUILD)
        self.moderator = self.emulator.add_member(self.guild, "mod", roles=[mods])
        self.bot = BotProcess(
            self.emulator,
            database_path=self.tmp_path / "bot.sqlite3",
            log_path=self.tmp_path / "bot.log",
        )
        await self.bot.start()

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.stop()
            self.bot.close()
        await self.emulator.stop()

    def new_channel(self) -> Channel:
        return self.emulator.add_channel(self.guild, f"play-{next(self.counter)}")

    async def answered(self, inter: Interaction) -> CallbackResponse:
        """The interaction was answered in time, without a traceback, a ping or a violation."""
        reply = await inter.response(timeout=5)
        assert inter.latency is not None and inter.latency < 3, inter.latency
        texts = [reply.content, *(all_text(e) for e in reply.embeds)]
        if reply.type == 5:  # deferred: the real answer comes as the edited original
            message = await inter.original(timeout=10)
            texts += [message.text]
            assert message.allowed_mentions in (None, NO_PINGS), message.allowed_mentions
        if reply.type in (4, 7):
            assert reply.data.get("allowed_mentions") == NO_PINGS, reply.data
        for text in texts:
            assert "Traceback" not in text and 'File "' not in text, text
            assert "something went wrong on my side" not in text, text  # an internal error
        assert not self.emulator.violations, self.emulator.violations
        assert not inter.rejected, inter.rejected
        return reply

    async def slash(
        self, who: Member, command: str, where: Channel | None = None, /, **options: Any
    ) -> CallbackResponse:
        inter = await self.emulator.slash(self.guild, where or self.channel, who, command, options)
        return await self.answered(inter)


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    h = Harness(tmp_path_factory.mktemp("hostile"))
    try:
        h.run(h.start())
        yield h
    finally:
        h.run(h.stop())
        h.loop.close()
    problems = _teardown_problems(h.emulator)
    assert not problems, problems


@pytest.fixture(autouse=True)
def bot_output_on_failure(harness: Harness, request: pytest.FixtureRequest) -> None:
    assert harness.bot is not None
    request.node.stash[BOTS_KEY] = [harness.bot]


@PROPERTY
@given(
    speaker=st.one_of(st.none(), hostile(6000)),
    search=st.one_of(st.none(), hostile(40)),
    quote_id=st.one_of(st.none(), hostile(60)),
)
def test_quote_options(
    harness: Harness, speaker: str | None, search: str | None, quote_id: str | None
) -> None:
    options = {
        k: v
        for k, v in (("speaker", speaker), ("search", search), ("id", quote_id))
        if v is not None
    }

    async def check() -> None:
        reply = await harness.slash(harness.fan, "quote", **options)
        buttons = [c for row in reply.components for c in row.get("components", [])]
        if any(b.get("label") == "Another quote" for b in buttons):  # its custom_id has them
            last = harness.emulator.interactions[max(harness.emulator.interactions)]
            await harness.answered(await harness.emulator.click(last, "Another quote", harness.fan))

    harness.run(check())


@PROPERTY
@given(typed=hostile(6000, min_size=0))
def test_speaker_autocomplete(harness: Harness, typed: str) -> None:
    async def check() -> None:
        inter = await harness.emulator.autocomplete_interaction(
            harness.guild, harness.channel, harness.fan, "quote", "speaker", typed
        )
        reply = await harness.answered(inter)
        assert reply.type == 8 and len(reply.choices) <= 25

    harness.run(check())


@PROPERTY
@given(topic=st.one_of(st.none(), st.sampled_from(sorted(TOPICS))))
def test_fact_topic(harness: Harness, topic: str | None) -> None:
    options = {"topic": topic} if topic else {}
    harness.run(harness.slash(harness.fan, "fact", **options))


@PROPERTY
@given(
    date=st.one_of(
        st.none(),
        hostile(40),
        st.dates().map(str),
        st.tuples(st.integers(-99, 99), st.integers(-99, 99)).map(lambda md: f"{md[0]}/{md[1]}"),
        st.tuples(
            st.sampled_from(["Jan", "February", "feb", "Sept", "Dec"]), st.integers(-5, 40)
        ).map(lambda md: f"{md[0]} {md[1]}"),
    )
)
def test_onthisday_date(harness: Harness, date: str | None) -> None:
    options = {"date": date} if date else {}
    harness.run(harness.slash(harness.fan, "onthisday", **options))


@PROPERTY
@given(
    questions=st.one_of(st.none(), st.integers(1, 20)),
    difficulty=st.one_of(st.none(), st.sampled_from(["mixed", "easy", "medium", "hard"])),
    seconds=st.one_of(st.none(), st.integers(10, 60)),
)
def test_trivia_play_options(
    harness: Harness, questions: int | None, difficulty: str | None, seconds: int | None
) -> None:
    options = {
        k: v
        for k, v in (("questions", questions), ("difficulty", difficulty), ("seconds", seconds))
        if v is not None
    }

    async def check() -> None:
        channel = harness.new_channel()
        reply = await harness.slash(harness.fan, "trivia play", channel, **options)
        if not reply.is_ephemeral:  # a game started: end it, that must be answered too
            await harness.slash(harness.fan, "trivia stop", channel)

    harness.run(check())


@PROPERTY
@given(name=hostile(32), who=st.sampled_from(["member", "self", "stranger", "bot", "none"]))
def test_trivia_stats_member(harness: Harness, name: str, who: str) -> None:
    async def check() -> None:
        em = harness.emulator
        target: Any = {
            "member": lambda: em.add_member(harness.guild, name),
            "self": lambda: harness.fan,
            "stranger": lambda: em.add_user(name),  # not in the server
            "bot": lambda: em.bot_member(harness.guild),
            "none": lambda: None,
        }[who]()
        options = {"member": target} if target is not None else {}
        await harness.slash(harness.fan, "trivia stats", **options)

    harness.run(check())


@PROPERTY
@given(
    time=hostile(10),
    timezone=st.one_of(st.none(), hostile(64)),
    days=st.one_of(st.none(), hostile(60)),
    content=st.sampled_from(["quote", "fact", "onthisday", "trivia"]),
)
def test_schedule_add_options(
    harness: Harness, time: str, timezone: str | None, days: str | None, content: str
) -> None:
    options = {k: v for k, v in (("timezone", timezone), ("days", days)) if v is not None}

    async def check() -> None:
        await harness.slash(
            harness.moderator,
            "schedule add",
            channel=harness.channel,
            content=content,
            time=time,
            **options,
        )
        inter = await harness.emulator.autocomplete_interaction(
            harness.guild,
            harness.channel,
            harness.moderator,
            "schedule add",
            "timezone",
            timezone or "",
            {"channel": harness.channel, "content": content, "time": time},
        )
        await harness.answered(inter)

    harness.run(check())


@PROPERTY
@given(tz=hostile(64), schedule_id=st.integers(1, 2**53 - 1))
def test_settings_timezone_and_schedule_ids(harness: Harness, tz: str, schedule_id: int) -> None:
    async def check() -> None:
        await harness.slash(harness.moderator, "settings timezone", tz=tz)
        for command in ("schedule pause", "schedule resume", "schedule remove"):
            await harness.slash(harness.moderator, command, id=schedule_id)

    harness.run(check())


# --- what only a modified client could send ----------------------------------------------------

RAW_OPTIONS: list[tuple[str, list[str], list[dict[str, Any]]]] = [
    ("fact", [], [{"name": "topic", "type": 3, "value": "not-a-topic"}]),
    ("trivia", ["play"], [{"name": "difficulty", "type": 3, "value": "impossible"}]),
    ("trivia", ["leaderboard"], [{"name": "period", "type": 3, "value": "century"}]),
    (
        "schedule",
        ["add"],
        [
            {"name": "channel", "type": 7, "value": "1"},
            {"name": "content", "type": 3, "value": "poems"},
            {"name": "time", "type": 3, "value": "09:00"},
        ],
    ),
]


@pytest.mark.parametrize(
    ("command", "path", "options"),
    RAW_OPTIONS,
    ids=[f"{c} {' '.join(p)} {o[0]['name']}" for c, p, o in RAW_OPTIONS],
)
def test_values_the_discord_client_would_not_send(
    harness: Harness, command: str, path: list[str], options: list[dict[str, Any]]
) -> None:
    """A choice value the bot does not offer (any more): what a client with a stale command
    list sends until it refreshes, and what the emulator's driver refuses to send. Discord
    itself checks lengths and number ranges, so those are not tried here. Still one calm
    answer."""
    em = harness.emulator
    cmd = em.commands[command]
    data: dict[str, Any] = {"id": cmd["id"], "name": command, "type": 1, "options": options}
    for name in reversed(path):
        data["options"] = [{"name": name, "type": 1, "options": data["options"]}]

    async def check() -> None:
        channel = harness.new_channel()
        who = harness.moderator if command == "schedule" else harness.fan
        inter = em._new_interaction(2, harness.guild, channel, who, data, name=command)
        reply = await harness.answered(inter)
        if not reply.is_ephemeral and path == ["play"]:
            await harness.slash(harness.fan, "trivia stop", channel)

    harness.run(check())


def _unused(guild: Guild) -> None:  # keeps the type imports honest for readers
    del guild
