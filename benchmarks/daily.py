"""The daily challenge under load: N fans (default 200) play `/daily` at the same moment.

Each round, on a fresh emulator and bot process (a fresh SQLite file, or a fresh PostgreSQL
database), the fans are spread over `--servers` servers (default 50) and, every fourth fan, the
DM of a user install (no server shared with the bot). In the same bot process:
1. Baseline: the same fans in the same places run `/quote`, all dispatched at once, then each
   clicks "Another quote" on their latest reply three times (each click waits for the fan's
   previous reply, as a person's would; the fans are concurrent with each other), then half of
   them click "Details".
2. The challenge: the same fans run `/daily play`, all dispatched at once (an ephemeral
   question with its choice buttons), then each clicks through the three questions (each click
   an UPDATE_MESSAGE turning the message into the next question, then the result), right or
   wrong by the fan's index, then half of them press Share.

Per phase (play, answer 1-3, share; and /quote, another 1-3, details): dispatch->callback
latency as the emulator measures it, answers after 3 s, deferrals, errors; each daily phase's
p99 against its baseline phase's, in the same round. The emulator's interaction deadline is
raised to 60 s so that a slow answer is measured rather than refused.

Afterwards the database is read directly: one attempt per fan, three answers each with the
choice clicked and its right/wrong, every attempt finished with `correct` equal to what the fan
chose; each fan's result as their last message shows it (marks, count, seconds, streak) equal to
the database's; each server fan on their server's board, shared where they pressed Share.
Reported as lost (a row or share missing), doubled (rows beyond one attempt and three answers a
fan) and mismatched (message, database and clicks disagree).

`--backend sqlite|postgres|both` (default both: each in every round, the order alternating);
PostgreSQL: a fresh database `lwa_bench_<random>` per round on `LWA_BENCH_POSTGRES_URL` (default
the local server), dropped afterwards.

    uv run python -m benchmarks.daily [--quick] [--backend sqlite|postgres|both] [--fans N] ...
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sqlite3
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import (
    BOT_MODULE,
    RESULTS_DIR,
    BenchEmulator,
    fmt,
    header,
    log_problems,
    machine,
    median,
    postgres_database,
    postgres_version,
    ratio,
    start_bot,
    stop_bot,
    summary,
    table,
    write_results,
)
from bot.config import DEFAULT_DATA_DIR
from bot.domain import daily
from bot.domain.dataset import load_dataset
from bot.domain.models import Dataset
from tests.fakediscord.interactions import Interaction
from tests.fakediscord.models import Channel, Guild, Member, Message, User

DEADLINE = 3.0  # Discord's: an interaction not answered by then fails
EMULATOR_DEADLINE = 60.0  # the emulator's, raised so that a slow answer is measured
WAIT = 90.0  # the longest a fan waits for one answer (beyond EMULATOR_DEADLINE: a lost one)
DM_EVERY = 4  # every fourth fan plays in the DM of their user install

SQLITE, POSTGRES = "sqlite", "postgres"
LABELS = {SQLITE: "SQLite", POSTGRES: "PostgreSQL"}
BACKENDS = {"sqlite": (SQLITE,), "postgres": (POSTGRES,), "both": (SQLITE, POSTGRES)}

# The daily phases, and the baseline phase of the same shape each is compared with.
PHASES = ("play", "answer 1", "answer 2", "answer 3", "share")
BASELINE = {
    "play": "/quote",
    "answer 1": "another 1",
    "answer 2": "another 2",
    "answer 3": "another 3",
    "share": "details",
}
ALL = "all phases"
UPDATE_MESSAGE, REPLY = 7, 4

SHARE_LINE = re.compile(
    r"Love wins all daily #(?P<number>\d+) (?P<marks>[🟩🟥]+) (?P<correct>\d+)/(?P<total>\d+)"
    r" · (?P<seconds>\d+) s 🔥(?P<streak>\d+)"
)
QUESTION_TITLE = re.compile(r"Daily challenge #(?P<number>\d+) · (?P<index>\d)/(?P<total>\d)")
RESULT_TITLE = re.compile(r"Daily challenge #(?P<number>\d+): (?P<correct>\d+)/(?P<total>\d+)")
CHOICE_ID = re.compile(r"lwa:d:(?P<day>\d+):(?P<index>\d):(?P<choice>\d)")


# --- the fans ------------------------------------------------------------------------------


@dataclass
class Fan:
    """One fan: where they play, what they mean to answer, and what they saw."""

    index: int
    user: Member | User
    guild: Guild | None  # None: the DM of their user install
    channel: Channel | None  # their server's channel (None in a DM)

    day: int | None = None
    clicked: list[int] = field(default_factory=list)  # the choice clicked, question by question
    shown: dict[str, int | str] | None = None  # their result as their last message shows it
    shared_line: str | None = None  # the share line their Share answered with
    problems: list[str] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def rights(self) -> tuple[bool, ...]:
        """Right or wrong, question by question: the fan's index in binary (all 8 patterns)."""
        return tuple(((self.index >> k) & 1) == 0 for k in range(daily.QUESTIONS_PER_DAY))

    @property
    def shares(self) -> bool:
        """Half of the fans press Share (and, in the baseline, Details)."""
        return ((self.index >> 3) & 1) == 0

    @property
    def in_dm(self) -> bool:
        return self.guild is None

    async def slash(self, emu: BenchEmulator, command: str) -> Interaction:
        if self.guild is None:
            return await emu.slash_dm(self.user, command)
        assert self.channel is not None
        return await emu.slash(self.guild, self.channel, self.user, command)


def make_fans(emu: BenchEmulator, count: int, servers: int) -> list[Fan]:
    guilds = [emu.add_guild(f"Love Wins All fans {n}") for n in range(servers)]
    fans = []
    for n in range(count):
        if n % DM_EVERY == DM_EVERY - 1 or not guilds:
            user = emu.add_user(f"dm-fan{n}")  # shares no server with the bot
            emu.install_for_user(user)
            fans.append(Fan(n, user, None, None))
        else:
            guild = guilds[n % len(guilds)]
            member = emu.add_member(guild, f"fan{n}")
            fans.append(Fan(n, member, guild, guild.text_channels[0]))
    return fans


# --- measuring -----------------------------------------------------------------------------


@dataclass
class Answered:
    latency: float | None  # dispatch -> first callback (None: none)
    final: float | None  # dispatch -> the answer itself (a deferred one's later edit)
    callback_type: int | None
    ok: bool


class Phases:
    """What every interaction of a run got, by phase."""

    def __init__(self) -> None:
        self.by_phase: dict[str, list[Answered]] = {}

    def add(self, phase: str, answered: Answered) -> None:
        self.by_phase.setdefault(phase, []).append(answered)

    def figures(self, phase: str) -> dict[str, Any]:
        items = (
            [a for v in self.by_phase.values() for a in v]
            if phase == ALL
            else self.by_phase.get(phase, [])
        )
        lat = [a.latency for a in items if a.latency is not None]
        final = [a.final for a in items if a.final is not None]
        return {
            "interactions": len(items),
            "latency": summary(lat),
            "final_latency": summary(final),
            "late": sum(1 for x in lat if x > DEADLINE),
            "unanswered": sum(1 for a in items if a.latency is None),
            "deferred": sum(1 for a in items if a.callback_type in (5, 6)),
            "errors": sum(1 for a in items if not a.ok),
        }


async def settle(
    emu: BenchEmulator, inter: Interaction, source: Message | None = None, version: int = 0
) -> Answered:
    """Wait for the interaction's callback and, if it was a deferral, for the answer that
    follows it (the original response filled in, or the source message edited)."""
    await emu.wait_done([inter], timeout=WAIT)
    cb = inter.callback
    if cb is None:
        return Answered(None, None, None, False)
    final: float | None = cb.latency
    if cb.type in (5, 6):

        def answered() -> bool:
            if cb.type == 5:
                message = inter.original_message
                return message is not None and not message.is_loading
            assert source is not None
            return emu.messages[source.id].version > version

        try:
            await emu.wait_until(answered, WAIT, f"the answer after deferring {inter!r}")
            final = time.monotonic() - inter.dispatched_at
        except AssertionError:
            final = None
    return Answered(cb.latency, final, cb.type, final is not None)


def buttons_with(message: Message, prefix: str) -> list[dict[str, Any]]:
    return [b for b in message.buttons if str(b.get("custom_id", "")).startswith(prefix)]


# --- the baseline: /quote, "Another quote" x3, "Details" -----------------------------------


def is_quote(inter: Interaction) -> bool:
    cb = inter.callback
    return (
        cb is not None
        and cb.type == REPLY
        and not cb.is_ephemeral
        and bool(cb.embeds)
        and inter.original_message is not None
        and bool(buttons_with(inter.original_message, "lwa:quote:"))
    )


async def quote_fan(emu: BenchEmulator, fan: Fan, first: Interaction, phases: Phases) -> None:
    answered = await settle(emu, first)
    ok = answered.ok and is_quote(first)
    phases.add("/quote", Answered(answered.latency, answered.final, answered.callback_type, ok))
    if not ok:
        fan.problems.append(f"/quote: {first!r}")
        return
    message = first.message
    for round_ in range(1, 4):
        another = buttons_with(message, "lwa:quote:")[0]["custom_id"]
        click = await emu.click(message, another, fan.user)
        answered = await settle(emu, click)
        ok = answered.ok and is_quote(click)
        phase = f"another {round_}"
        phases.add(phase, Answered(answered.latency, answered.final, answered.callback_type, ok))
        if not ok:
            fan.problems.append(f"{phase}: {click!r}")
            return
        message = click.message
    if fan.shares:
        details = buttons_with(message, "lwa:details:")[0]["custom_id"]
        click = await emu.click(message, details, fan.user)
        answered = await settle(emu, click)
        cb = click.callback
        ok = answered.ok and cb is not None and cb.type == REPLY and cb.is_ephemeral
        phases.add(
            "details", Answered(answered.latency, answered.final, answered.callback_type, ok)
        )


# --- the challenge: /daily play, three answers, Share ----------------------------------------


class Expected:
    """The questions and choices of a day as the bot deals them on a fresh database (the same
    functions it calls), to know which button is right."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._days: dict[int, tuple[tuple[str, ...], tuple[int, ...]]] = {}

    def day(self, number: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """(each question's text, the position of its right choice)."""
        known = self._days.get(number)
        if known is None:
            questions = daily.day_questions(number, self.dataset.questions)
            texts = tuple(q.question for q in questions)
            rights = tuple(daily.day_choices(number, q).index(q.answer) for q in questions)
            known = self._days[number] = (texts, rights)
        return known


def shown_question(message: Message) -> str:
    description = str(message.embeds[0].get("description", "")) if message.embeds else ""
    return description.rsplit("\n", 1)[-1].strip("*")


def question_on(message: Message, index: int) -> tuple[int, list[int]] | None:
    """(the day, the choices' positions) if the message asks question `index`, else None."""
    if not message.embeds:
        return None
    title = QUESTION_TITLE.fullmatch(str(message.embeds[0].get("title", "")))
    if title is None or int(title["index"]) != index + 1:
        return None
    choices = []
    day = int(title["number"])
    for button in buttons_with(message, "lwa:d:"):
        match = CHOICE_ID.fullmatch(str(button["custom_id"]))
        if match is None or int(match["day"]) != day or int(match["index"]) != index:
            return None
        choices.append(int(match["choice"]))
    return (day, choices) if choices else None


async def daily_fan(
    emu: BenchEmulator, fan: Fan, play: Interaction, phases: Phases, expected: Expected
) -> None:
    answered = await settle(emu, play)
    cb = play.callback
    message = play.original_message
    asked = question_on(message, 0) if message is not None else None
    ok = (
        answered.ok
        and cb is not None
        and cb.is_ephemeral
        and message is not None
        and asked is not None
    )
    phases.add("play", Answered(answered.latency, answered.final, answered.callback_type, ok))
    if not ok or message is None or asked is None:
        fan.problems.append(f"play: {play!r} {message and message.embeds}")
        return
    day = fan.day = asked[0]
    texts, rights = expected.day(day)
    for index in range(daily.QUESTIONS_PER_DAY):
        asked = question_on(message, index)
        phase = f"answer {index + 1}"
        if asked is None or asked[0] != day:
            fan.problems.append(f"{phase}: the message asks no question {index + 1}")
            return
        if shown_question(message) != texts[index]:
            fan.problems.append(f"{phase}: not the question the day deals: {texts[index]!r}")
        right = rights[index]
        wrong = [c for c in asked[1] if c != right]
        choice = right if fan.rights[index] else wrong[fan.index % len(wrong)]
        version = message.version
        click = await emu.click(message, f"lwa:d:{day}:{index}:{choice}", fan.user)
        fan.clicked.append(choice)
        answered = await settle(emu, click, message, version)
        after = emu.messages[message.id]
        cb = click.callback
        ok = answered.ok and cb is not None and cb.type in (UPDATE_MESSAGE, 6)
        if ok and index + 1 < daily.QUESTIONS_PER_DAY:
            ok = question_on(after, index + 1) is not None
        elif ok:
            ok = bool(after.embeds) and RESULT_TITLE.fullmatch(after.embeds[0]["title"]) is not None
        if ok and "already answered" in str(after.embeds[0].get("description", "")):
            ok = False
        phases.add(phase, Answered(answered.latency, answered.final, answered.callback_type, ok))
        if not ok:
            fan.problems.append(f"{phase}: {click!r} {after.embeds}")
            return
        message = after
    line = SHARE_LINE.search(str(message.embeds[0].get("description", "")))
    title = RESULT_TITLE.fullmatch(str(message.embeds[0].get("title", "")))
    if line is None or title is None:
        fan.problems.append(f"result: no share line in {message.embeds}")
        return
    fan.shown = {
        "marks": "".join("1" if m == "🟩" else "0" for m in line["marks"]),
        "correct": int(line["correct"]),
        "title_correct": int(title["correct"]),
        "seconds": int(line["seconds"]),
        "streak": int(line["streak"]),
        "number": int(line["number"]),
    }
    if not fan.shares:
        return
    click = await emu.click(message, f"lwa:dshare:{day}", fan.user)
    answered = await settle(emu, click)
    cb = click.callback
    ok = answered.ok and cb is not None and cb.type == REPLY and line[0] in cb.content
    if ok and cb is not None:
        # In a server: posted for everyone, naming the fan; in a DM: the line to copy.
        ok = cb.is_ephemeral if fan.in_dm else (not cb.is_ephemeral and str(fan.id) in cb.content)
        fan.shared_line = line[0]
    phases.add("share", Answered(answered.latency, answered.final, answered.callback_type, ok))
    if not ok:
        fan.problems.append(f"share: {click!r} {cb and cb.content!r}")


async def everyone(
    emu: BenchEmulator,
    fans: Sequence[Fan],
    command: str,
    then: Callable[[Fan, Interaction], Awaitable[None]],
) -> float:
    """Every fan runs `command` (all dispatched at once), then goes on with `then`; the wall
    time from the first dispatch to the last fan's last answer."""
    started = time.monotonic()
    firsts = [await fan.slash(emu, command) for fan in fans]
    await asyncio.gather(*(then(fan, first) for fan, first in zip(fans, firsts, strict=True)))
    return time.monotonic() - started


# --- the database afterwards ---------------------------------------------------------------

ATTEMPTS = (
    "SELECT user_id, day, finished_at IS NOT NULL, correct, seconds, streak FROM challenge_attempts"
)
ANSWERS = "SELECT user_id, day, question_index, choice_index, correct FROM challenge_answers"
BOARDS = "SELECT guild_id, day, user_id, shared_at IS NOT NULL FROM challenge_boards"


async def read_rows(backend: str, db: Path, url: str | None) -> dict[str, list[tuple[Any, ...]]]:
    queries = {"attempts": ATTEMPTS, "answers": ANSWERS, "boards": BOARDS}
    if backend == SQLITE:
        with contextlib.closing(sqlite3.connect(db)) as conn:
            return {k: [tuple(r) for r in conn.execute(q).fetchall()] for k, q in queries.items()}
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return {k: [tuple(r) for r in await conn.fetch(q)] for k, q in queries.items()}
    finally:
        await conn.close()


def check_database(fans: Sequence[Fan], rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, Any]:
    """Lost, doubled and mismatched, against what the fans clicked and saw."""
    per_q = daily.QUESTIONS_PER_DAY
    attempts: dict[tuple[int, int], list[tuple[Any, ...]]] = {}
    for r in rows["attempts"]:
        attempts.setdefault((int(r[0]), int(r[1])), []).append(r)
    answers: dict[tuple[int, int, int], list[tuple[Any, ...]]] = {}
    for r in rows["answers"]:
        answers.setdefault((int(r[0]), int(r[1]), int(r[2])), []).append(r)
    boards: dict[tuple[int, int, int], list[tuple[Any, ...]]] = {}
    for r in rows["boards"]:
        boards.setdefault((int(r[0]), int(r[1]), int(r[2])), []).append(r)

    lost: dict[str, int] = {"attempts": 0, "answers": 0, "unfinished": 0, "board": 0, "shares": 0}
    mismatched: dict[str, int] = {"answers": 0, "correct": 0, "shown": 0}
    notes: list[str] = []
    fan_keys = set()
    for fan in fans:
        day = fan.day
        if day is None:  # never got a question: nothing of theirs can be expected
            lost["attempts"] += 1
            lost["answers"] += per_q
            continue
        key = (fan.id, day)
        fan_keys.add(key)
        attempt = attempts.get(key)
        if not attempt:
            lost["attempts"] += 1
            notes.append(f"fan {fan.index}: no attempt")
        for index in range(per_q):
            found = answers.get((fan.id, day, index))
            if not found:
                lost["answers"] += 1
                continue
            row = found[0]
            if index >= len(fan.clicked) or int(row[3]) != fan.clicked[index]:
                mismatched["answers"] += 1
                notes.append(f"fan {fan.index} q{index + 1}: stored choice {row[3]}")
            elif bool(row[4]) != fan.rights[index]:
                mismatched["answers"] += 1
                notes.append(f"fan {fan.index} q{index + 1}: stored correct={row[4]}")
        if attempt:
            _, _, finished, correct, seconds, streak = attempt[0]
            if not finished:
                lost["unfinished"] += 1
                notes.append(f"fan {fan.index}: attempt not finished")
            elif int(correct) != sum(fan.rights):
                mismatched["correct"] += 1
                notes.append(f"fan {fan.index}: correct {correct}, chose {sum(fan.rights)} right")
            stored_marks = "".join(
                str(int(answers[(fan.id, day, i)][0][4])) if (fan.id, day, i) in answers else "?"
                for i in range(per_q)
            )
            shown = fan.shown
            if finished and shown is not None:
                want: dict[str, int | str] = {
                    "marks": stored_marks,
                    "correct": int(correct),
                    "title_correct": int(correct),
                    "seconds": int(seconds),
                    "streak": int(streak),
                    "number": day,
                }
                if shown != want:
                    mismatched["shown"] += 1
                    notes.append(f"fan {fan.index}: shown {shown}, stored {want}")
        if fan.guild is not None:
            board = boards.get((fan.guild.id, day, fan.id))
            if not board:
                lost["board"] += 1
            elif fan.shared_line is not None and not board[0][3]:
                lost["shares"] += 1
                notes.append(f"fan {fan.index}: shared, but not marked shared")
    strangers = [k for k in attempts if k not in fan_keys]
    doubled = {
        "attempts": sum(len(v) - 1 for v in attempts.values()) + len(strangers),
        "answers": sum(len(v) - 1 for v in answers.values())
        + sum(1 for k in answers if (k[0], k[1]) not in fan_keys)
        + sum(1 for k in answers if k[2] >= per_q),
        "board": sum(len(v) - 1 for v in boards.values()),
    }
    return {
        "attempts": len(rows["attempts"]),
        "answers": len(rows["answers"]),
        "finished": sum(1 for r in rows["attempts"] if r[2]),
        "board_rows": len(rows["boards"]),
        "shared_rows": sum(1 for r in rows["boards"] if r[3]),
        "lost": sum(lost.values()),
        "lost_detail": lost,
        "doubled": sum(doubled.values()),
        "doubled_detail": doubled,
        "mismatched": sum(mismatched.values()),
        "mismatched_detail": mismatched,
        "notes": notes[:20],
    }


# --- a round -------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def database_for(backend: str) -> AsyncIterator[str | None]:
    if backend != POSTGRES:
        yield None
        return
    async with postgres_database() as url:
        yield url


async def one_run(
    backend: str, args: argparse.Namespace, workdir: Path, rnd: int, expected: Expected
) -> dict[str, Any]:
    async with database_for(backend) as url:
        return await _one_run(backend, args, workdir, rnd, url, expected)


async def _one_run(
    backend: str,
    args: argparse.Namespace,
    workdir: Path,
    rnd: int,
    database_url: str | None,
    expected: Expected,
) -> dict[str, Any]:
    emu = BenchEmulator(interaction_deadline=EMULATOR_DEADLINE)
    await emu.start()
    try:
        fans = make_fans(emu, args.fans, args.servers)
        name = f"daily-{backend}-r{rnd}"
        extra: dict[str, str] = {}
        module = BOT_MODULE
        if database_url is not None:
            extra["DATABASE_URL"] = database_url
        if args.profile:
            RESULTS_DIR.mkdir(parents=True, exist_ok=True)
            out = RESULTS_DIR / f"profile-daily-{backend}-r{rnd}.txt"
            extra |= {"BENCH_PROFILE_MODULE": module, "BENCH_PROFILE_OUT": str(out)}
            module = "benchmarks.profiled"
        proc, startup = await start_bot(emu, module, workdir, name=name, extra_env=extra)
        quote_phases, daily_phases = Phases(), Phases()
        try:
            # Warm-up: imports, the first bags, the caches; not measured.
            warm = Phases()
            for start in range(0, args.warmup, 10):
                batch = fans[start : start + 10]
                firsts = [await fan.slash(emu, "quote") for fan in batch]
                await asyncio.gather(*(settle(emu, i) for i in firsts))
                for i in firsts:
                    warm.add("warm-up", Answered(i.latency, i.latency, None, True))

            async def quote_then(fan: Fan, first: Interaction) -> None:
                await quote_fan(emu, fan, first, quote_phases)

            async def daily_then(fan: Fan, first: Interaction) -> None:
                await daily_fan(emu, fan, first, daily_phases, expected)

            quote_wall = await everyone(emu, fans, "quote", quote_then)
            await asyncio.sleep(0.5)  # the quotes' bag writes behind the replies
            daily_wall = await everyone(emu, fans, "daily play", daily_then)
        finally:
            code = await stop_bot(proc)
        rows = await read_rows(backend, proc.database_path, database_url)
        log = proc.logs()
        return {
            "backend": backend,
            "round": rnd,
            "startup": startup,
            "quote_wall_s": quote_wall,
            "daily_wall_s": daily_wall,
            "quote": {p: quote_phases.figures(p) for p in (*BASELINE.values(), ALL)},
            "daily": {p: daily_phases.figures(p) for p in (*PHASES, ALL)},
            "database": check_database(fans, rows),
            "fans": len(fans),
            "fans_in_dms": sum(1 for f in fans if f.in_dm),
            "fans_sharing": sum(1 for f in fans if f.shares),
            "fan_problems": [f"fan {f.index}: {p}" for f in fans for p in f.problems][:20],
            "fans_with_problems": sum(1 for f in fans if f.problems),
            "exit_code": code,
            "deferral_warnings_in_log": log.count("deferring it"),
            "late_callbacks_at_60s": len(emu.late_callbacks),
            "double_acks": emu.stats["callbacks:double"],
            "violations": [str(v)[:300] for v in emu.violations[:5]],
            "log_errors": log_problems(proc),
            "log": str(proc.log_path.name),
        }
    finally:
        await emu.stop()


# --- the whole run -------------------------------------------------------------------------


def _ms(value: float) -> float:
    return round(value * 1000.0, 1)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    backends: tuple[str, ...] = BACKENDS[args.backend]
    expected = Expected(load_dataset(DEFAULT_DATA_DIR))
    runs: list[dict[str, Any]] = []
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lwa-bench-daily-") as tmp:
        workdir = Path(tmp)
        for rnd in range(args.rounds):
            order = backends if rnd % 2 == 0 else tuple(reversed(backends))
            for backend in order:
                print(f"round {rnd + 1}/{args.rounds}: {LABELS[backend]} ...", flush=True)
                run = await one_run(backend, args, workdir, rnd, expected)
                d, q, db = run["daily"], run["quote"], run["database"]
                print(
                    "  /quote p99 {:.0f} ms, clicks p99 {:.0f} ms; /daily play p99 {:.0f} ms, "
                    "answers p99 {:.0f}/{:.0f}/{:.0f} ms, share p99 {:.0f} ms; >3 s {}, "
                    "errors {}, deferred {}; lost {}, doubled {}, mismatched {}".format(
                        _ms(q["/quote"]["latency"]["p99"]),
                        _ms(max(q[f"another {k}"]["latency"]["p99"] for k in (1, 2, 3))),
                        _ms(d["play"]["latency"]["p99"]),
                        *(_ms(d[f"answer {k}"]["latency"]["p99"]) for k in (1, 2, 3)),
                        _ms(d["share"]["latency"]["p99"]),
                        d[ALL]["late"] + d[ALL]["unanswered"],
                        d[ALL]["errors"],
                        d[ALL]["deferred"],
                        db["lost"],
                        db["doubled"],
                        db["mismatched"],
                    ),
                    flush=True,
                )
                runs.append(run)
    elapsed = time.monotonic() - began

    def of(backend: str, *path: str) -> list[Any]:
        out = []
        for r in runs:
            if r["backend"] != backend:
                continue
            v: Any = r
            for p in path:
                v = v[p]
            out.append(v)
        return out

    rows: list[list[Any]] = []
    per_round: dict[str, dict[str, list[float]]] = {}
    for backend in backends:
        per_round[backend] = {}
        for phase in (*PHASES, ALL):
            base = BASELINE.get(phase, ALL)
            d99 = [float(x) for x in of(backend, "daily", phase, "latency", "p99")]
            q99 = [float(x) for x in of(backend, "quote", base, "latency", "p99")]
            ratios = [ratio(a, b) for a, b in zip(d99, q99, strict=True)]
            per_round[backend][phase] = ratios
            rows.append(
                [
                    LABELS[backend],
                    phase,
                    int(median(of(backend, "daily", phase, "interactions"))),
                    _ms(median(of(backend, "daily", phase, "latency", "p50"))),
                    _ms(median(d99)),
                    _ms(max(of(backend, "daily", phase, "latency", "max"))),
                    sum(of(backend, "daily", phase, "late"))
                    + sum(of(backend, "daily", phase, "unanswered")),
                    sum(of(backend, "daily", phase, "errors")),
                    sum(of(backend, "daily", phase, "deferred")),
                    base,
                    _ms(median(q99)),
                    median(ratios),
                    ", ".join(fmt(x, 2) for x in ratios),
                ]
            )
    print()
    print(
        table(
            [
                "backend",
                "phase",
                "n/round",
                "p50 ms",
                "p99 ms",
                "max ms",
                ">3 s",
                "errors",
                "deferred",
                "baseline",
                "base p99 ms",
                "p99 ratio",
                "per round",
            ],
            rows,
            title=f"/daily: {args.fans} fans at once (medians of {args.rounds} rounds; "
            ">3 s, errors and deferred: sums; max: of all rounds)",
        )
    )
    base_rows: list[list[Any]] = []
    for backend in backends:
        for phase in (*BASELINE.values(), ALL):
            base_rows.append(
                [
                    LABELS[backend],
                    phase,
                    int(median(of(backend, "quote", phase, "interactions"))),
                    _ms(median(of(backend, "quote", phase, "latency", "p50"))),
                    _ms(median(of(backend, "quote", phase, "latency", "p99"))),
                    _ms(max(of(backend, "quote", phase, "latency", "max"))),
                    sum(of(backend, "quote", phase, "late"))
                    + sum(of(backend, "quote", phase, "unanswered")),
                    sum(of(backend, "quote", phase, "errors")),
                ]
            )
    print()
    print(
        table(
            ["backend", "phase", "n/round", "p50 ms", "p99 ms", "max ms", ">3 s", "errors"],
            base_rows,
            title="Baseline: the same fans, /quote at once, 'Another quote' x3, half 'Details'",
        )
    )
    db_rows = []
    for r in runs:
        db = r["database"]
        db_rows.append(
            [
                LABELS[r["backend"]],
                r["round"] + 1,
                f"{db['attempts']} / {r['fans']}",
                f"{db['answers']} / {3 * r['fans']}",
                f"{db['finished']} / {r['fans']}",
                db["lost"],
                db["doubled"],
                db["mismatched"],
                r["fans_with_problems"],
                round(r["daily_wall_s"], 2),
                round(r["quote_wall_s"], 2),
            ]
        )
    print()
    print(
        table(
            [
                "backend",
                "round",
                "attempts",
                "answers",
                "finished",
                "lost",
                "doubled",
                "mismatched",
                "fans w/ problems",
                "daily wall s",
                "quote wall s",
            ],
            db_rows,
            title="The database afterwards; each run's wall time (first dispatch -> last answer)",
        )
    )
    pg_vs_sqlite: dict[str, list[float]] = {}
    if len(backends) == 2:
        for phase in (*PHASES, ALL):
            pg = of(POSTGRES, "daily", phase, "latency", "p99")
            sq = of(SQLITE, "daily", phase, "latency", "p99")
            pg_vs_sqlite[phase] = [ratio(a, b) for a, b in zip(pg, sq, strict=True)]
        print()
        print(
            "PostgreSQL / SQLite, /daily p99 by phase (per round): "
            + "; ".join(
                f"{phase} {fmt(median(v), 2)} ({', '.join(fmt(x, 2) for x in v)})"
                for phase, v in pg_vs_sqlite.items()
            )
        )
    late = sum(r["daily"][ALL]["late"] + r["daily"][ALL]["unanswered"] for r in runs)
    errors = sum(r["daily"][ALL]["errors"] for r in runs)
    lost = sum(r["database"]["lost"] for r in runs)
    doubled = sum(r["database"]["doubled"] for r in runs)
    mismatched = sum(r["database"]["mismatched"] for r in runs)
    targets = {
        "daily_answers_after_3s": {"value": late, "target": "0", "pass": late == 0},
        "daily_errors": {"value": errors, "target": "0", "pass": errors == 0},
        "lost": {"value": lost, "target": "0", "pass": lost == 0},
        "doubled": {"value": doubled, "target": "0", "pass": doubled == 0},
        "mismatched": {"value": mismatched, "target": "0", "pass": mismatched == 0},
    }
    print()
    for name, t in targets.items():
        print(
            f"target {name}: {t['value']} (target {t['target']}) {'PASS' if t['pass'] else 'FAIL'}"
        )
    for r in runs:
        problems = (
            r["log_errors"]
            or r["violations"]
            or r["late_callbacks_at_60s"]
            or r["fan_problems"]
            or r["database"]["notes"]
            or r["double_acks"]
            or r["deferral_warnings_in_log"]
        )
        if problems:
            print(
                f"problems in {LABELS[r['backend']]} round {r['round'] + 1}: "
                f"log {r['log_errors'][:3]} violations {r['violations'][:2]} "
                f"late@60s={r['late_callbacks_at_60s']} double acks={r['double_acks']} "
                f"deferrals logged={r['deferral_warnings_in_log']} "
                f"fans {r['fan_problems'][:3]} database {r['database']['notes'][:3]}"
            )
    print(f"\nrun time {elapsed:.0f} s")
    return {
        "parameters": vars(args),
        "backends": list(backends),
        "table": rows,
        "baseline_table": base_rows,
        "database_table": db_rows,
        "p99_ratio_to_baseline_per_round": per_round,
        "postgres_vs_sqlite_p99_per_round": pg_vs_sqlite,
        "targets": targets,
        "run_time_s": elapsed,
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (50 fans, 1 round)")
    parser.add_argument("--fans", type=int, default=None, help="fans playing at once (200)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per backend (3)")
    parser.add_argument("--servers", type=int, default=50, help="servers the fans are in (50)")
    parser.add_argument("--warmup", type=int, default=50, help="/quotes before measuring (50)")
    parser.add_argument(
        "--backend",
        choices=tuple(BACKENDS),
        default="both",
        help="the bot's database: sqlite, postgres, or both (default; the order alternating by "
        "round); PostgreSQL: LWA_BENCH_POSTGRES_URL, default the local server",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the bot under pyinstrument (needs `uv run --with pyinstrument`); the text "
        "reports go to benchmarks/results/profile-daily-*.txt; figures are then slower",
    )
    args = parser.parse_args()
    args.fans = args.fans or (50 if args.quick else 200)
    args.rounds = args.rounds or (1 if args.quick else 3)
    info = machine()
    if args.backend != "sqlite":
        info["postgresql"] = asyncio.run(postgres_version())
    header("daily", info, args)
    data = asyncio.run(main_async(args))
    write_results("daily", {"machine": info, **data})


if __name__ == "__main__":
    main()
