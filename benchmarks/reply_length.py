"""How long the bot's replies are, as a fan reads them on a phone: every reply kind, in each of
the bot's languages (English and Korean), rendered by the bot's own `bot.ui` code over the whole
shipped dataset.

    uv run python -m benchmarks.reply_length [--data DIR] [--language en|ko] [--json]

Visible characters are what Discord shows of the reply's text, not what the bot sends: the
embed's title, description, field names and values and footer (the buttons under it are not
counted), with Markdown markers (`**`, `` ` ``, `> `) left out, a link `[text](url)` counted
as its text, a mention `<@id>` as a 12-character name and a timestamp `<t:N:R>` as "in 20
seconds". The default reply of every kind must stay within REPLY_LIMIT in both languages (the
tests hold it: tests/test_reply_length.py); the "Details" replies, one click away, are listed
for comparison.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import inspect
import json
import random
import re
import statistics
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord

from bot.config import DEFAULT_DATA_DIR
from bot.domain import daily
from bot.domain.clock import FakeClock
from bot.domain.daily import Answer, Attempt, BoardRow, Result, StreakRow
from bot.domain.dataset import load_dataset
from bot.domain.models import Dataset, Question
from bot.domain.schedule import PostKind
from bot.domain.trivia import (
    OpenQuestion,
    PlayerResult,
    Recap,
    Reveal,
    Standing,
    asked,
    shuffled_choices,
)
from bot.i18n import LANGUAGES, Language, render
from bot.services.content import ContentService, DailyPost
from bot.services.daily import Board, Day, Progress
from bot.ui import daily as daily_ui
from bot.ui import details, embeds
from bot.ui import trivia as trivia_ui

REPLY_LIMIT = 600  # visible characters of a default reply (issue #14)
TODAY = dt.date(2026, 11, 29)
NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)

_LINK = re.compile(r"\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)")
_MENTION = re.compile(r"<@[!&]?\d+>")
_TIMESTAMP = re.compile(r"<t:\d+(?::[tTdDfFR])?>")
_MARKUP = re.compile(r"\*\*|__|`|^> ", re.MULTILINE)


def visible(text: str | None) -> str:
    """`text` as Discord shows it (approximately: see the module's docstring)."""
    if not text:
        return ""
    text = _LINK.sub(r"\1", text)
    text = _MENTION.sub("@" + "x" * 11, text)
    text = _TIMESTAMP.sub("in 20 seconds", text)
    return _MARKUP.sub("", text)


def visible_length(embed: discord.Embed) -> int:
    parts = [embed.title, embed.description, embed.footer.text, embed.author.name]
    for f in embed.fields:
        parts += [f.name, f.value]
    return sum(len(visible(p)) for p in parts)


@dataclass(frozen=True)
class Reply:
    kind: str
    key: str
    length: int
    # The text the fan asked for (a quote, fact or question) is shown whole: never cut.
    whole: bool = True
    language: Language = Language.EN


def _in(language: Language, render: Callable[..., discord.Embed], *args: Any) -> discord.Embed:
    """`render(*args)` in `language`, for a ui function that takes one (the trivia ones take
    it as the conversion to Korean reaches them; until then they answer in English)."""
    if "language" in inspect.signature(render).parameters:
        return render(*args, language=language)
    return render(*args)


def _question_text(question: Question, language: Language) -> str:
    """The question as the trivia embed shows it to a reader of `language`."""
    localized = "language" in inspect.signature(trivia_ui.question_embed).parameters
    if localized and language is Language.KO and question.question_ko:
        return question.question_ko
    return question.question


def _players(n: int) -> list[int]:
    return [10**17 + i for i in range(n)]


def _reveal(question: Any, rng: random.Random, players: int, right: int) -> Reveal:
    choices = shuffled_choices(question, rng)
    correct = choices.index(question.answer)
    wrong = (correct + 1) % len(choices)
    results = tuple(
        PlayerResult(
            user_id=user,
            choice_index=correct if i < right else wrong,
            correct=i < right,
            points=900 - 40 * i if i < right else 0,
            answered_at=NOW,
            streak=1 if i < right else 0,
            total_points=900 - 40 * i if i < right else 0,
        )
        for i, user in enumerate(_players(players))
    )
    return Reveal(
        index=0,
        question=question,
        choices=choices,
        correct_index=correct,
        results=results,
        right=right,
        answered=players,
        ended_silent=False,
        finished=False,
    )


def measure(dataset: Dataset, languages: Iterable[Language] = LANGUAGES) -> list[Reply]:
    """Every reply kind in every language of `languages`, over every item of the dataset it
    can show."""
    return [reply for language in languages for reply in _measure(dataset, language)]


def _measure(dataset: Dataset, language: Language) -> list[Reply]:
    rng = random.Random(14)
    content = ContentService(dataset, None, FakeClock(NOW), rng)  # type: ignore[arg-type]
    replies: list[Reply] = []

    def reply(kind: str, key: str, embed: discord.Embed, text: str = "") -> None:
        shown = " ".join(
            visible(p) for p in (embed.description, *(f.value for f in embed.fields)) if p
        )
        whole = visible(text) in shown
        replies.append(Reply(kind, key, visible_length(embed), whole, language))

    def detail(kind: str, key: str, embed: discord.Embed) -> None:
        replies.append(Reply(kind, key, visible_length(embed), True, language))

    for quote in dataset.quotes:
        words = embeds.quote_words(quote, dataset, language).text
        reply("/quote", quote.id, embeds.quote_embed(quote, dataset, language), words)
        detail("/quote · Details", quote.id, details.quote_details(quote, dataset, language))
        daily = DailyPost(kind=PostKind.QUOTE, quote=quote)
        embed = embeds.daily_post_embed(daily, dataset, language=language)
        reply("daily quote", quote.id, embed, words)
    for f in dataset.facts:
        embed = embeds.fact_embed(f, dataset, language)
        reply("/fact", f.id, embed, embeds.fact_text(f, language))
        detail("/fact · Details", f.id, details.fact_details(f, dataset, language))
    for month, day in _calendar():
        found = content.day(month, day, TODAY)
        key = f"{month:02d}-{day:02d}"
        embed = embeds.day_embed(found, dataset, language)
        kind = "/onthisday (a day with events)" if found.events else "/onthisday (an empty day)"
        reply(kind, key, embed)
        if found.events:
            more = details.day_details(dataset, month, day, TODAY, language)
            detail("/onthisday · Details", key, more)
    for q in dataset.questions:
        open_q = OpenQuestion(
            0, 5, q, shuffled_choices(q, rng), NOW, NOW + dt.timedelta(seconds=20)
        )
        embed = _in(language, trivia_ui.question_embed, open_q)
        reply("trivia question", q.id, embed, _question_text(q, language))
        reveal = _reveal(q, rng, players=6, right=4)
        reply(
            "trivia reveal (6 players)",
            q.id,
            _in(language, trivia_ui.reveal_embed, reveal, 5, dataset),
        )
        streaks = {user: 12 for user in _players(8)}
        daily_reveal = _reveal(q, rng, players=8, right=6)
        embed = _in(language, trivia_ui.reveal_embed, daily_reveal, 1, dataset, True, streaks)
        reply("daily trivia reveal (8 players)", q.id, embed)
        detail("trivia · Details", q.id, details.question_details(q, dataset, language))
    for players in (10, 40):
        standings = [
            Standing(u, 4000 - 90 * i if i < players * 4 // 5 else 0, 4, 5, 3, NOW)
            for i, u in enumerate(_players(players))
        ]
        # With its highlights, the toughest question the longest of the dataset.
        toughest = max(dataset.questions, key=lambda q: len(_question_text(q, language)))
        first = _players(players)[0]
        recap = Recap(fastest=(first, 2.4), longest_streak=(first, 5), hardest=(toughest, 3, 40))
        show = functools.partial(trivia_ui.standings_embed, recap=recap)
        embed = _in(language, show, standings, "Final standings")
        reply(f"game standings ({players} players)", "-", embed)
    _daily_challenge(dataset, language, reply)
    reply("/about", "-", embeds.about_embed(dataset, "1.0.0", language))
    for where, in_server, moderator in (
        ("DM", False, False),
        ("fan", True, False),
        ("moderator", True, True),
    ):
        embed = embeds.help_embed(in_server=in_server, moderator=moderator, language=language)
        reply(f"/help ({where})", "-", embed)
    reply("welcome post", "-", embeds.welcome_embed(language))
    return replies


def _daily_challenge(dataset: Dataset, language: Language, reply: Callable[..., None]) -> None:
    """The daily challenge over a whole round of days: each question as shown after the answer
    before it (with the "welcome back" note, the longest case), each day's result, and a
    board of 40 players."""
    number = 1
    seen: set[str] = set()
    while True:
        questions = daily.day_questions(number, dataset.questions)
        if seen & {q.id for q in questions}:
            break  # the round is over
        seen |= {q.id for q in questions}
        day = Day(number, questions, tuple(daily.day_choices(number, q) for q in questions))
        for index in range(1, len(questions) + 1):
            answers = tuple(Answer(0, n % 2 == 0, NOW) for n in range(index))
            done = index == len(questions)
            result = Result(number, daily.marks(answers), 1234, 365) if done else None
            progress = Progress(day, Attempt(number, NOW, answers, result), NOW)
            note = render("daily.play.resumed", language)
            shown = daily_ui.progress_message(progress, dataset, language, note=note)["embed"]
            if done:
                reply("daily challenge result", f"#{number}", shown)
            else:
                question = questions[index]
                reply("daily challenge question", question.id, shown, asked(question, language))
        number += 1
    players = _players(40)
    rows = [BoardRow(user, 3 - n % 4, 3, 100 + n, 365) for n, user in enumerate(players[:10])]
    streaks = [StreakRow(user, 365) for user in players[:5]]
    board = Board(number, rows, len(players), streaks, NOW)
    reply("/daily board (40 players)", "-", daily_ui.board_embed(board, language))


def _calendar() -> Iterable[tuple[int, int]]:
    day = dt.date(2024, 1, 1)  # a leap year: every calendar day
    while day.year == 2024:
        yield day.month, day.day
        day += dt.timedelta(days=1)


def table(replies: list[Reply], limit: Callable[[str], bool]) -> list[dict[str, Any]]:
    """One row a language and reply kind: how many, the median and the longest."""
    rows = []
    groups = list(dict.fromkeys((r.language, r.kind) for r in replies))
    for language, kind in groups:
        group = [r for r in replies if r.language == language and r.kind == kind]
        longest = max(group, key=lambda r: r.length)
        rows.append(
            {
                "language": str(language),
                "kind": kind,
                "n": len(group),
                "median": round(statistics.median(r.length for r in group)),
                "max": longest.length,
                "longest": longest.key,
                "limited": limit(kind),
            }
        )
    return rows


def is_default(kind: str) -> bool:
    """A default reply (held to REPLY_LIMIT), not a "Details" one."""
    return "Details" not in kind


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="dataset folder")
    parser.add_argument(
        "--language", choices=[str(language) for language in LANGUAGES], help="only this one"
    )
    parser.add_argument("--json", action="store_true", help="print the table as JSON")
    args = parser.parse_args(argv)
    languages = [Language(args.language)] if args.language else list(LANGUAGES)
    replies = measure(load_dataset(args.data), languages)
    rows = table(replies, is_default)
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
    else:
        print(f"visible characters per reply; default replies must be <= {REPLY_LIMIT}")
        for language in languages:
            print(f"\n{language}:\n")
            print(f"| {'reply':<34} | {'n':>4} | {'median':>6} | {'max':>5} | longest |")
            print(f"| {'-' * 34} | {'-' * 4} | {'-' * 6} | {'-' * 5} | --- |")
            for row in rows:
                if row["language"] != language:
                    continue
                print(
                    f"| {row['kind']:<34} | {row['n']:>4} | {row['median']:>6} |"
                    f" {row['max']:>5} | {row['longest']} |"
                )
    over = [r for r in rows if r["limited"] and r["max"] > REPLY_LIMIT]
    cut = [r for r in replies if not r.whole]
    for r in over:
        print(
            f"over the limit: {r['language']} {r['kind']} ({r['max']}, {r['longest']})",
            file=sys.stderr,
        )
    for c in cut:
        print(f"cut: {c.language} {c.kind} {c.key}", file=sys.stderr)
    return 1 if over or cut else 0


if __name__ == "__main__":
    raise SystemExit(main())
