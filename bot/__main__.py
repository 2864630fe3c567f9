"""`lwa-bot` / `python -m bot`: run | check [--online] | preview KIND | reports |
migrate --to DATABASE_URL (SPEC §2, §4, §8).

Exit codes: 0 normal, 2 bad configuration (one line naming the variable; a token or gateway
settings Discord refuses count), 3 invalid dataset (every problem, one a line), 1 when
`check --online` cannot reach Discord or Discord ends the connection for another reason.
None prints a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import os
import random
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import discord

from bot import __version__
from bot.config import ConfigError, Settings, check_database_url, load_settings
from bot.connection import (
    FATAL_CLOSES,
    TOKEN_REFUSED,
    UNREACHABLE,
    DiscordUnreachable,
    TokenRefused,
    describe_unreachable,
    fetch_identity,
    refusal_line,
)
from bot.domain import dates
from bot.domain.clock import Backoff, Clock, SystemClock, wait_or_timeout
from bot.domain.dataset import DatasetError, korean_coverage, load_dataset
from bot.domain.language import Language
from bot.domain.models import TOPICS, Dataset
from bot.i18n import catalogue, render, use_catalogue
from bot.store import Store, StoreError, describe_backend, open_store

if TYPE_CHECKING:
    from bot.app import LoveWinsAllBot
    from bot.metrics import Metrics

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_DATASET = 0, 1, 2, 3
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
    # aiosqlite logs two lines for every statement at DEBUG: noise that drowns the bot's own
    # debugging (and costs a formatted line per database call).
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, root.level))


class _ConfigFailure(Exception):
    """A configuration problem found while running a command: one line, exit code 2."""


@contextlib.asynccontextmanager
async def _database(
    settings: Settings, clock: Clock | None = None, *, writable: bool = True
) -> AsyncIterator[Store]:
    """The opened store, closed afterwards; a database that cannot be used is one line."""
    try:
        store = await open_store(settings, clock, writable=writable)
    except StoreError as error:
        variable = "DATABASE_URL" if settings.database_url else "DATABASE_PATH"
        raise _ConfigFailure(f"{variable}: {error} (see .env.example)") from None
    try:
        yield store
    finally:
        await store.close()


def _fail(code: int, lines: Sequence[str]) -> int:
    for line in lines:
        print(line, file=sys.stderr)
    return code


async def _run(settings: Settings, dataset: Dataset, clock: Clock) -> int:

    async with _database(settings, clock) as store:
        return await _serve(settings, dataset, clock, store)


async def _serve(settings: Settings, dataset: Dataset, clock: Clock, store: Store) -> int:
    from bot.metrics import Metrics, MetricsServer, MetricsServerError

    bots: list[LoveWinsAllBot] = []  # the current attempt's bot
    metrics = Metrics()

    async def health() -> tuple[bool, list[str]]:
        if not bots:
            return False, ["gateway: not connected"]
        return await bots[-1].health()

    if settings.metrics_port is None:
        return await _connect(settings, dataset, clock, store, metrics, bots)
    server = MetricsServer(metrics, settings.metrics_host, settings.metrics_port, health)
    try:
        await server.start()
    except MetricsServerError as error:
        return _fail(EXIT_CONFIG, [f"{error} (see .env.example)"])
    try:
        return await _connect(settings, dataset, clock, store, metrics, bots)
    finally:
        await server.stop()


async def _connect(
    settings: Settings,
    dataset: Dataset,
    clock: Clock,
    store: Store,
    metrics: Metrics,
    bots: list[LoveWinsAllBot],
) -> int:
    """Run the bot until it is stopped: a fresh one after each failure to reach Discord."""
    from bot.app import GatewayConnectAborted, LoveWinsAllBot, apply_endpoints

    apply_endpoints(settings)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    closing: list[asyncio.Task[None]] = []

    def shut_down(name: str) -> None:
        log.info("%s received: finishing in-flight work and shutting down", name)
        stopping.set()
        if bots and not bots[-1].closing:
            closing.append(loop.create_task(bots[-1].close()))

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, shut_down, sig.name)
    backoff = Backoff()
    refused: str | None = None
    try:
        # Discord unreachable at start-up is not a configuration error (SPEC §2): one line,
        # then a fresh bot after a pause (1 s doubling to 60 s) until it connects or is stopped.
        while not stopping.is_set():
            bot = LoveWinsAllBot(settings, dataset, store, clock=clock, metrics=metrics)
            bots[:] = [bot]
            try:
                async with bot:
                    await bot.start(settings.token)
            except UNREACHABLE as error:
                if stopping.is_set():
                    break
                delay = backoff.next()
                log.warning(
                    "cannot reach Discord at %s: %s; trying again in %g s",
                    settings.api_base,
                    describe_unreachable(error),
                    delay,
                )
                await wait_or_timeout(clock, stopping, delay)
                continue
            except GatewayConnectAborted:
                pass  # stopped while the gateway was unreachable
            except Exception:
                if not stopping.is_set():
                    raise
                # Closed halfway through starting (a request on the closed session): the
                # operator asked to stop, and that is what happened.
                log.debug("start-up interrupted by the shutdown", exc_info=True)
            break
    except (
        discord.LoginFailure,
        discord.ConnectionClosed,
        discord.PrivilegedIntentsRequired,
    ) as error:
        refused = refusal_line(error)
    if refused is not None:  # the last line the operator sees
        return _fail(EXIT_CONFIG if refused in FATAL_CLOSES.values() else EXIT_FAILED, [refused])
    log.info("stopped cleanly")
    return EXIT_OK


# The files SQLite makes beside a database: its WAL, the WAL's index, a rollback journal.
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


class _FirstRun:
    """What `check` makes when the SQLite database does not exist yet, so it can take it away
    again: the file, the files SQLite puts beside it and the folders it had to create. The bot
    creates them at its first run; a check leaves nothing behind."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.new_files = [
            file
            for file in (path, *(Path(f"{path}{suffix}") for suffix in SQLITE_SIDE_FILES))
            if not os.path.lexists(file)  # a link, even to nowhere, is not ours to remove
        ]
        self.new_folders: list[Path] = []  # deepest first
        folder = path.parent
        while not os.path.lexists(folder) and folder != folder.parent:
            self.new_folders.append(folder)
            folder = folder.parent

    @classmethod
    def of(cls, settings: Settings) -> _FirstRun | None:
        """Set when the settings name a SQLite file that is not there yet."""
        if settings.database_url or os.path.lexists(settings.database_path):
            return None
        return cls(settings.database_path)

    def undo(self) -> bool:
        """Remove what the check made; False, removing nothing, when another program opened
        the new database meanwhile (SQLite removes the -wal and -shm files only when the last
        connection to it closes)."""
        if any(os.path.lexists(f) for f in self.new_files if f.name.endswith(("-wal", "-shm"))):
            return False
        for file in self.new_files:
            with contextlib.suppress(OSError):  # never made (the check failed before it)
                file.unlink()
        for folder in self.new_folders:
            with contextlib.suppress(OSError):  # not empty (someone else's file) stays
                folder.rmdir()
        return True


async def _check(settings: Settings, dataset: Dataset, *, online: bool) -> int:
    # A database that is not there yet is created, migrated and written to exactly as the bot
    # would, then removed: the check proves the bot can make it without making it.
    first_run = _FirstRun.of(settings)
    removed = False
    try:
        async with _database(settings) as store:
            schema = await store.schema_version()
    finally:
        if first_run is not None:
            removed = first_run.undo()
    database_line = f"database: {describe_backend(settings)}, schema version {schema}"
    if first_run is not None and removed:
        folders = len(first_run.new_folders)
        made = "" if not folders else f" and the folder{'s' * (folders > 1)} it made"
        database_line = (
            f"database: {describe_backend(settings)} does not exist yet: the bot will create it "
            f"at its first run (check created it to test it, schema version {schema}, then "
            f"removed it{made})"
        )
    elif first_run is not None:
        database_line += (
            " (created by this check, but another program opened it meanwhile, so it was "
            "left in place)"
        )
    if online:
        try:
            identity = await fetch_identity(settings)
        except TokenRefused:
            return _fail(EXIT_CONFIG, [TOKEN_REFUSED])
        except DiscordUnreachable as error:
            return _fail(EXIT_FAILED, [str(error)])
        token_line = (
            f"DISCORD_TOKEN: accepted by Discord, for the bot {identity.name} ({identity.id})"
        )
    else:
        token_line = (
            "DISCORD_TOKEN: its form looks right, but the token itself was not checked "
            "(`lwa-bot check --online` asks Discord)"
        )
    counts = dataset.counts()
    print(f"lwa-bot {__version__}: configuration OK")
    print(token_line)
    print(
        f"dataset {dataset.version} in {settings.data_dir}: "
        + ", ".join(f"{n} {kind}" for kind, n in counts.items())
    )
    by_difficulty = {
        d: sum(q.difficulty == d for q in dataset.questions) for d in ("easy", "medium", "hard")
    }
    print("trivia by difficulty: " + ", ".join(f"{n} {d}" for d, n in by_difficulty.items()))
    print(
        "Korean: "
        + ", ".join(f"{c.korean}/{c.total} {c.kind}" for c in korean_coverage(dataset))
        + " (English: all)"
    )
    messages = catalogue()
    english = messages.ids(Language.EN)
    print(
        f"messages: {len(english)} in English, {len(english & messages.ids(Language.KO))} of "
        f"them in Korean, {len(messages.commands)} command texts in Korean"
        + (f" (from LOCALES_DIR {settings.locales_dir})" if settings.locales_dir else "")
    )
    print(database_line)
    target = f"server {settings.dev_guild_id}" if settings.dev_guild_id else "global"
    print(f"slash commands sync: {target}")
    return EXIT_OK


async def _reports(settings: Settings, dataset: Dataset) -> int:
    """Every server's trivia reports, newest first, for operators."""
    async with _database(settings, writable=False) as store:  # a read-only copy is fine
        reports = await store.reports(None, limit=1000)
    if not reports:
        print("No trivia reports.")
    for r in reports:
        question = dataset.question(r.question_id)
        text = question.question if question else "(no longer in the dataset)"
        if r.resolved_at is None:
            outcome = "open"
        else:
            told = f"told {r.told_at:%Y-%m-%d %H:%M} UTC" if r.told_at else "not told yet"
            outcome = (
                f"{r.status} by moderator {r.resolved_by} {r.resolved_at:%Y-%m-%d %H:%M} UTC;"
                f" reporter {told}"
            )
        print(
            f"#{r.id} {r.created_at:%Y-%m-%d %H:%M} UTC  server {r.guild_id}  "
            f"question {r.question_id}  reporter {r.reporter_id}\n"
            f"    Q: {text}\n    Report: {r.reason}\n    Outcome: {outcome}"
        )
    return EXIT_OK


async def _migrate(
    settings: Settings, target_url: str, *, replace: bool, progress_every: float = 2.0
) -> int:
    """Copy the SQLite database DATABASE_PATH into PostgreSQL at `target_url` (SPEC §8),
    telling how it goes on standard error (a line rewritten in place on a terminal)."""
    from bot.store.migrate import (
        MigrationFailed,
        MigrationRefused,
        ProgressLines,
        SourceUnusable,
        migrate,
    )

    def write(text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()

    live = sys.stderr.isatty()
    progress = ProgressLines(write, every=progress_every, live=live)

    try:  # checked as DATABASE_URL is, and never echoed (it may hold a password)
        target_url = check_database_url(target_url, "--to")
    except ConfigError as error:
        return _fail(EXIT_CONFIG, [f"DATABASE_URL (--to): {error.problem} (see .env.example)"])
    try:
        try:
            result = await migrate(
                settings.database_path, target_url, replace=replace, progress=progress
            )
        finally:
            progress.close()
    except StoreError as error:
        variable = "DATABASE_PATH" if isinstance(error, SourceUnusable) else "DATABASE_URL (--to)"
        return _fail(EXIT_CONFIG, [f"{variable}: {error} (see .env.example)"])
    except (MigrationRefused, MigrationFailed) as error:
        return _fail(EXIT_FAILED, [f"migrate: {error}"])
    print(f"copied {result.source} into the {result.target}:")
    for table in result.tables:
        print(f"  {table.table}: {table.rows} rows ({table.group})")
    total = sum(t.rows for t in result.tables)
    replaced = ", replacing what it held" if result.replaced else ""
    print(
        f"{total} rows in {len(result.tables)} tables, counts verified{replaced}; schema version "
        f"{result.schema_version}. Set DATABASE_URL to it to run the bot on PostgreSQL."
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
            f"{render(TOPICS[fact.topic], Language.EN)}: {fact.text}\n"
            f"  From the source: {fact.evidence}\n"
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
        from bot.ui.embeds import when  # "1 year ago", "this year", as fans read it

        return "\n".join(f"{e.date.year} ({when(e, today)}): {e.text}" for e in events)
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
    check = sub.add_parser(
        "check", help="validate configuration, dataset and database; no network by default"
    )
    check.add_argument(
        "--online",
        action="store_true",
        help="also ask Discord whether it accepts the token (one request)",
    )
    prev = sub.add_parser("preview", help="print a sample post as plain text")
    prev.add_argument("kind", choices=PREVIEW_KINDS)
    sub.add_parser("reports", help="list every server's trivia question reports")
    move = sub.add_parser(
        "migrate", help="copy the SQLite database (DATABASE_PATH) into PostgreSQL"
    )
    move.add_argument(
        "--to", required=True, metavar="DATABASE_URL", help="postgresql://user@host:5432/name"
    )
    move.add_argument(
        "--replace",
        action="store_true",
        help="overwrite a target that already holds other data",
    )
    move.add_argument(
        "--progress-every",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="how often to print a table's progress on standard error (default 2)",
    )
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
    if settings.locales_dir is not None:
        try:
            use_catalogue(settings.locales_dir)
        except (OSError, ValueError) as error:
            return _fail(
                EXIT_CONFIG, [f"LOCALES_DIR: the catalogue in {settings.locales_dir}: {error}"]
            )
    if command == "migrate":  # needs no dataset
        try:
            return asyncio.run(
                _migrate(
                    settings, args.to, replace=args.replace, progress_every=args.progress_every
                )
            )
        except KeyboardInterrupt:
            return _fail(EXIT_FAILED, ["migrate: interrupted; running it again is safe"])
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
    try:
        if command == "check":
            return asyncio.run(_check(settings, dataset, online=args.online))
        if command == "reports":
            return asyncio.run(_reports(settings, dataset))
        with contextlib.suppress(KeyboardInterrupt):
            return asyncio.run(_run(settings, dataset, clock))
    except _ConfigFailure as failure:
        return _fail(EXIT_CONFIG, [str(failure)])
    return EXIT_OK


def console_main() -> None:
    sys.exit(main())


if __name__ == "__main__":
    console_main()
