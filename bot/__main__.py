"""`lwa-bot` / `python -m bot`: run | check | preview KIND | reports (SPEC §2, §4).

Exit codes: 0 normal, 2 bad configuration (one line naming the variable), 3 invalid dataset
(every problem, one a line). Neither prints a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import random
import signal
import sys
from collections.abc import Sequence

import discord

from bot import __version__
from bot.config import ConfigError, Settings, load_settings
from bot.domain import dates
from bot.domain.clock import Clock, SystemClock
from bot.domain.dataset import DatasetError, load_dataset
from bot.domain.models import TOPICS, Dataset
from bot.store.sqlite import SQLiteStore, StoreError

EXIT_OK, EXIT_CONFIG, EXIT_DATASET = 0, 2, 3
PREVIEW_KINDS = ("quote", "fact", "trivia", "onthisday")
log = logging.getLogger("bot")


class RedactToken(logging.Filter):
    """Belt and braces: the token never reaches a log line, whoever logs it."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token:
            message = record.getMessage()
            if self.token in message:
                record.msg, record.args = message.replace(self.token, "[token]"), None
        return True


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactToken(settings.token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)


def _fail(code: int, lines: Sequence[str]) -> int:
    for line in lines:
        print(line, file=sys.stderr)
    return code


async def _run(settings: Settings, dataset: Dataset, clock: Clock) -> int:
    from bot.app import LoveWinsAllBot, apply_endpoints

    apply_endpoints(settings)
    store = SQLiteStore(settings.database_path, clock)
    try:
        await store.open()
    except StoreError as error:
        return _fail(EXIT_CONFIG, [f"DATABASE_PATH: {error} (see .env.example)"])
    bot = LoveWinsAllBot(settings, dataset, store, clock=clock)
    loop = asyncio.get_running_loop()
    closing: list[asyncio.Task[None]] = []

    def shut_down(name: str) -> None:
        log.info("%s received: finishing in-flight work and shutting down", name)
        if not closing:
            closing.append(loop.create_task(bot.close()))

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, shut_down, sig.name)
    try:
        async with bot:
            await bot.start(settings.token)
    except discord.LoginFailure:
        return _fail(
            EXIT_CONFIG,
            ["DISCORD_TOKEN was refused by Discord: check the token in .env (see .env.example)"],
        )
    finally:
        await store.close()
    log.info("stopped cleanly")
    return EXIT_OK


async def _check(settings: Settings, dataset: Dataset) -> int:
    store = SQLiteStore(settings.database_path)
    try:
        await store.open()
        schema = await store.schema_version()
    except StoreError as error:
        return _fail(EXIT_CONFIG, [f"DATABASE_PATH: {error} (see .env.example)"])
    finally:
        await store.close()
    counts = dataset.counts()
    print(f"lwa-bot {__version__}: configuration OK")
    print(
        f"dataset {dataset.version} in {settings.data_dir}: "
        + ", ".join(f"{n} {kind}" for kind, n in counts.items())
    )
    by_difficulty = {
        d: sum(q.difficulty == d for q in dataset.questions) for d in ("easy", "medium", "hard")
    }
    print("trivia by difficulty: " + ", ".join(f"{n} {d}" for d, n in by_difficulty.items()))
    print(f"database {settings.database_path}: schema version {schema}")
    target = f"server {settings.dev_guild_id}" if settings.dev_guild_id else "global"
    print(f"slash commands sync: {target}")
    return EXIT_OK


async def _reports(settings: Settings, dataset: Dataset) -> int:
    """Every server's trivia reports, newest first, for operators."""
    store = SQLiteStore(settings.database_path)
    try:
        await store.open()
        reports = await store.reports(None, limit=1000)
    except StoreError as error:
        return _fail(EXIT_CONFIG, [f"DATABASE_PATH: {error} (see .env.example)"])
    finally:
        await store.close()
    if not reports:
        print("No trivia reports.")
    for r in reports:
        question = dataset.question(r.question_id)
        text = question.question if question else "(no longer in the dataset)"
        print(
            f"#{r.id} {r.created_at:%Y-%m-%d %H:%M} UTC  server {r.guild_id}  "
            f"question {r.question_id}  reporter {r.reporter_id}\n"
            f"    Q: {text}\n    Report: {r.reason}"
        )
    return EXIT_OK


def preview(dataset: Dataset, kind: str, rng: random.Random, now: dt.datetime) -> str:
    """A plain-text sample of what the bot would post."""
    if kind == "quote":
        quote = rng.choice(dataset.quotes)
        speaker = dataset.people[quote.speaker].name
        gloss = (
            f"\n  (in English, the dataset's translation: “{quote.gloss}”)" if quote.gloss else ""
        )
        source = dataset.source_of(quote)
        return (
            f"“{quote.text}”{gloss}\n  — {speaker}, {quote.context}\n"
            f"  Source: {source.publisher} {source.url}\n  [{quote.id}]"
        )
    if kind == "fact":
        fact = rng.choice(dataset.facts)
        source = dataset.source_of(fact)
        return (
            f"{TOPICS[fact.topic]}: {fact.text}\n  From the source: {fact.evidence}\n"
            f"  Source: {source.publisher} {source.url}\n  [{fact.id}]"
        )
    if kind == "trivia":
        question = rng.choice(dataset.questions)
        choices = list(question.choices)
        rng.shuffle(choices)
        lines = [f"[{question.difficulty}] {question.question}"]
        lines += [f"  {'ABCD'[i]}. {c}" for i, c in enumerate(choices)]
        lines.append(f"Answer: {question.answer}. {question.explanation}")
        return "\n".join(lines)
    today = dates.today_in("UTC", now)
    events = dates.events_on(dataset.events, today.month, today.day)
    if events:
        return "\n".join(
            f"{e.date.year} ({dates.years_ago(e.date, today)} years ago): {e.text}" for e in events
        )
    countdown = dates.countdown(dataset.events, today)
    lines = [f"Nothing happened on {today:%d %B} in the story of “Love wins all”."]
    if countdown.next_day:
        lines.append(
            f"Next: {countdown.next_day:%d %B} (in {countdown.days_until} days): "
            + countdown.next_events[0].text
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lwa-bot", description="The Love Wins All Discord bot.")
    parser.add_argument("--version", action="version", version=f"lwa-bot {__version__}")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the default)")
    sub.add_parser("check", help="validate configuration, dataset and database; no network")
    prev = sub.add_parser("preview", help="print a sample post as plain text")
    prev.add_argument("kind", choices=PREVIEW_KINDS)
    sub.add_parser("reports", help="list every server's trivia question reports")
    return parser


def main(argv: Sequence[str] | None = None, *, clock: Clock | None = None) -> int:
    """The CLI. `clock` is the bot's time source (the system clock unless a test launcher
    passes its own)."""
    clock = clock or SystemClock()
    args = build_parser().parse_args(argv)
    command = args.command or "run"
    try:
        settings = load_settings(require_token=command in ("run", "check"))
    except ConfigError as error:
        return _fail(EXIT_CONFIG, [str(error)])
    setup_logging(settings)
    try:
        dataset = load_dataset(settings.data_dir)
    except DatasetError as error:
        return _fail(
            EXIT_DATASET,
            [
                f"The dataset in {settings.data_dir} is invalid ({len(error.problems)} problems):",
                *(str(p) for p in error.problems),
            ],
        )
    if command == "preview":
        print(preview(dataset, args.kind, random.Random(), clock.now()))
        return EXIT_OK
    if command == "check":
        return asyncio.run(_check(settings, dataset))
    if command == "reports":
        return asyncio.run(_reports(settings, dataset))
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_run(settings, dataset, clock))
    return EXIT_OK


def console_main() -> None:
    sys.exit(main())


if __name__ == "__main__":
    console_main()
