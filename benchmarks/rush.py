"""The 09:00 KST rush (issue 24): scheduled posts due at once, their daily trivia reveals an
hour later, and fans playing through both.

`--servers` servers (default 10,000; `--quick` 400), one channel and one daily schedule each,
contents round-robin over quote, fact, onthisday and trivia, all due at the same instant. The
bot runs on a clock the benchmark holds (tests/fakediscord/clock.py, speed 1): after the burst
the benchmark moves it forward an hour, so every daily trivia question posted in the burst falls
due for its reveal at once. SQLite: one bot process; PostgreSQL: `--processes` (default 2), one
shard each (SHARD_COUNT=N, SHARD_IDS=i; the schedules spread evenly over the shards). Each
process paces at its share of POST_RATE_PER_SECOND (`--rate`, default 40); the emulator enforces
Discord's global ceiling of 50 requests/s. Every process serves METRICS_PORT, scraped at every
phase boundary.

Phases (every interaction belongs to the phase in which it was dispatched):
- quiet: `--quiet` seconds (default 30) before the posts are due (the bot's clock is moved to
  that moment once the processes are ready and warmed up);
- burst: from the due instant until every scheduled post is out;
- (gap: until the phases' trivia games are between questions: not reported);
- reveals: from the clock's jump of an hour until every daily question is revealed.

Load in every phase, from the first instant of quiet to the end:
- `/quote` and `/fact`, open loop, `--steady` a second each (default 5), in turn in servers of
  each shard;
- a `/trivia play questions=5 seconds=10` game of `--players` players (default 50) in a channel
  of its own, started at each phase's start; each player clicks every question (the clicks
  spread over 2 s);
- `/daily play` and its three answers (and Share, for half of them) by a new fan every
  1/`--daily-rate` seconds (default 1/s), each answer waiting for the previous update;
- during the burst, two fans answer each of the first `--answered` daily trivia questions
  (default 300; `--quick` 40) as it appears, one right and one wrong: the reveals have scores
  and streaks to write.

Reported per backend and phase: interactions, ack (dispatch -> first callback) p50 / p99 / max,
late (> 3 s, or none), p99 against the quiet phase's; scheduled posts a second over the burst
against POST_RATE_PER_SECOND; 429s; the event loop's longest stall (the highest bucket of
`lwa_event_loop_lag_seconds` reached during the phase, and `lwa_event_loop_lag_max_seconds` if
it rose); reveals done / expected and how long after the jump the last came. Afterwards the
database: every post once (per channel), every run `sent`, every locked-in answer of the games
and of the daily questions scored once in trivia_scores and counted once in trivia_totals, the
daily question fans' streaks, every daily challenge attempt complete (benchmarks/daily.py's
check).

Targets (burst and reveals, each backend): ack p99 <= 500 ms, 0 late, posts/s >= 0.95 of the
rate, 0 lost, 0 doubled; 0 429s.

    uv run python -m benchmarks.rush [--quick] [--backend sqlite|postgres|both]
        [--servers 10000] [--rate 40] [--quiet 30] [--steady 5] [--players 50] ...
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import datetime as dt
import math
import os
import re
import socket
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.common import (
    BenchEmulator,
    fmt,
    header,
    log_problems,
    machine,
    postgres_database,
    postgres_version,
    ratio,
    stop_bot,
    summary,
    table,
    write_results,
)
from benchmarks.daily import (
    Answered,
    Expected,
    Fan,
    Phases,
    check_database,
    daily_fan,
    read_rows,
)
from benchmarks.schedules import (
    copy_logs,
    max_in_window,
    rate_of,
    seed,
    seed_postgres,
    start_processes,
)
from bot.config import DEFAULT_DATA_DIR
from bot.domain.dataset import load_dataset
from bot.domain.models import Question
from bot.services.games import REVEAL_PAUSE_SECONDS
from tests.fakediscord.botproc import BotProcess
from tests.fakediscord.clock import BotClock
from tests.fakediscord.emulator import _Request
from tests.fakediscord.interactions import Interaction
from tests.fakediscord.models import Channel, Guild, Member, Message

DEADLINE = 3.0  # Discord's: an interaction not answered by then fails
EMULATOR_DEADLINE = 60.0  # the emulator's, raised so that a slow answer is measured
WAIT = 90.0  # the longest the benchmark waits for one answer
CEILING = 50  # Discord's global requests a second (the emulator's)
P99_TARGET = 0.5  # seconds, in the burst and the reveals

CONTENTS = ("quote", "fact", "onthisday", "trivia")
PHASES = ("quiet", "burst", "reveals")
SQLITE, POSTGRES = "sqlite", "postgres"
LABELS = {SQLITE: "SQLite", POSTGRES: "PostgreSQL"}
BACKENDS = {"sqlite": (SQLITE,), "postgres": (POSTGRES,), "both": (SQLITE, POSTGRES)}

LEAD = dt.timedelta(minutes=15)  # seeded due instant, on the bot's clock, after its start
HOUR = dt.timedelta(hours=1)
CLICK_SPREAD = 2.0  # seconds over which a game's players click a question
REPORT_PREFIX = "lwa:report:"  # a revealed question's "Report a problem"
CHOICE_PREFIX = "lwa:t:"  # lwa:t:<game>:<index>:<choice>
AGAIN_PREFIX = "lwa:again:"  # "Play again" under a game's standings
GAME_FAILED = re.compile(r"trivia game \d+ (?:failed|had to stop)")


# --- the emulator, with every message edit's time -------------------------------------------


class RushEmulator(BenchEmulator):
    """BenchEmulator, plus the time of every message edit (a reveal is an edit of its
    question) and of every 429, and listeners told of every channel post (channel id, message
    id)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.edits: dict[int, list[float]] = {}
        self.post_listeners: list[Callable[[int, int], None]] = []
        original = self._channel_routes.edit_message

        async def edit_message(req: _Request) -> Any:
            result = await original(req)
            self.edits.setdefault(int(req.params["message_id"]), []).append(time.monotonic())
            return result

        self._rest.router.rebind(original, edit_message)
        self.rate_limited: list[float] = []  # when each 429 was answered
        answer_429 = self._rest._ratelimit_429

        def counted_429(*args: Any, **kw: Any) -> Any:
            self.rate_limited.append(time.monotonic())
            return answer_429(*args, **kw)

        setattr(self._rest, "_ratelimit_429", counted_429)  # noqa: B010

    async def _r_create_message(self, req: _Request) -> Any:
        result = await super()._r_create_message(req)
        if isinstance(result, dict) and "id" in result:
            for listener in self.post_listeners:
                listener(int(req.params["channel_id"]), int(result["id"]))
        return result


# --- what every interaction got, and when -----------------------------------------------------


@dataclass
class Sample:
    kind: str
    dispatched: float  # monotonic
    latency: float | None  # dispatch -> first callback; None: none came
    ok: bool
    deferred: bool = False


class Timeline:
    """The phases' starts (monotonic); an instant belongs to the latest phase begun."""

    def __init__(self) -> None:
        self.marks: list[tuple[float, str]] = []

    def mark(self, phase: str, at: float | None = None) -> float:
        moment = time.monotonic() if at is None else at
        self.marks.append((moment, phase))
        return moment

    def phase_at(self, moment: float) -> str:
        name = "warm-up"
        for at, phase in self.marks:
            if moment < at:
                break
            name = phase
        return name

    def bounds(self, phase: str) -> tuple[float, float]:
        for n, (at, name) in enumerate(self.marks):
            if name == phase:
                end = self.marks[n + 1][0] if n + 1 < len(self.marks) else time.monotonic()
                return at, end
        return float("nan"), float("nan")


class Recorder:
    """Samples, plus interactions whose outcome is read once they are all answered."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self.open: list[tuple[str, Interaction]] = []

    def add(self, sample: Sample) -> None:
        self.samples.append(sample)

    def later(self, kind: str, inter: Interaction) -> None:
        self.open.append((kind, inter))

    async def settle(self, emu: BenchEmulator) -> None:
        """Wait for the open interactions' callbacks and turn them into samples."""
        await emu.wait_done([i for _, i in self.open], timeout=WAIT)
        for kind, inter in self.open:
            cb = inter.callback
            ok = cb is not None and cb.type in (4, 5)
            self.add(
                Sample(
                    kind, inter.dispatched_at, inter.latency, ok, cb is not None and cb.type == 5
                )
            )
        self.open = []


class DailyPhases(Phases):
    """benchmarks.daily's per-step record, as samples of the moment each step was dispatched."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self.recorder = recorder

    def add(self, phase: str, answered: Answered) -> None:
        super().add(phase, answered)
        took = answered.final if answered.final is not None else answered.latency
        dispatched = time.monotonic() - (took if took is not None else WAIT)
        self.recorder.add(
            Sample(
                f"/daily {phase}",
                dispatched,
                answered.latency,
                answered.ok,
                answered.callback_type in (5, 6),
            )
        )


def phase_figures(samples: Sequence[Sample]) -> dict[str, Any]:
    lat = [s.latency for s in samples if s.latency is not None]
    return {
        "n": len(samples),
        "latency": summary(lat),
        "late": sum(1 for s in samples if s.latency is None or s.latency > DEADLINE),
        "errors": sum(1 for s in samples if not s.ok),
        "deferred": sum(1 for s in samples if s.deferred),
    }


# --- the bots' metrics ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int | None) -> float:
    """user + system CPU seconds of a process so far (/proc/PID/stat)."""
    if pid is None:
        return float("nan")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return float("nan")
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


@dataclass
class Scrape:
    at: float
    lag_buckets: dict[float, float] = field(default_factory=dict)  # le -> cumulative count
    lag_max: float = float("nan")
    posts: dict[str, float] = field(default_factory=dict)
    cpu: float = float("nan")
    error: str | None = None


async def scrape(session: aiohttp.ClientSession, port: int, pid: int | None) -> Scrape:
    out = Scrape(time.monotonic(), cpu=cpu_seconds(pid))
    try:
        async with session.get(
            f"http://127.0.0.1:{port}/metrics", timeout=aiohttp.ClientTimeout(total=30)
        ) as response:
            text = await response.text()
    except (aiohttp.ClientError, TimeoutError) as error:
        out.error = f"{type(error).__name__}: {error}"
        return out
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "lwa_event_loop_lag_seconds_bucket":
                out.lag_buckets[float(sample.labels["le"])] = sample.value
            elif sample.name == "lwa_event_loop_lag_max_seconds":
                out.lag_max = sample.value
            elif sample.name == "lwa_scheduled_posts_total":
                out.posts[sample.labels["outcome"]] = sample.value
    return out


class Scraper:
    """Every process's /metrics, every `every` seconds and whenever asked (at each phase
    boundary), so that any window of time has a scrape at (or just outside) each end."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        ports: Sequence[int],
        procs: Sequence[BotProcess],
        every: float = 1.0,
    ) -> None:
        self.session = session
        self.targets = list(zip(ports, procs, strict=True))
        self.every = every
        self.series: list[list[Scrape]] = [[] for _ in self.targets]
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def now(self) -> None:
        scrapes = await asyncio.gather(
            *(scrape(self.session, port, proc.pid) for port, proc in self.targets)
        )
        for series, one in zip(self.series, scrapes, strict=True):
            series.append(one)

    def start(self) -> None:
        async def loop() -> None:
            while not self._stop.is_set():
                await self.now()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.every)

        self._task = asyncio.create_task(loop())

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    def around(self, index: int, start: float, end: float) -> tuple[Scrape, Scrape]:
        """Process `index`'s last good scrape at or before `start` and first at or after
        `end` (the nearest ones when there are none)."""
        series = sorted((s for s in self.series[index] if s.error is None), key=lambda s: s.at)
        if not series:
            return Scrape(start, error="no scrape"), Scrape(end, error="no scrape")
        before = [s for s in series if s.at <= start]
        after = [s for s in series if s.at >= end]
        return (before[-1] if before else series[0]), (after[0] if after else series[-1])

    def stalls(self, start: float, end: float) -> list[dict[str, Any]]:
        return [stall(*self.around(i, start, end)) for i in range(len(self.targets))]


def stall(before: Scrape, after: Scrape) -> dict[str, Any]:
    """The event loop's stalls between two scrapes of one process: the highest bucket reached
    (from the buckets' deltas: the longest stall is over `over` and at most `at_most`), how
    many of the 0.1 s timer's samples were over 0.1 s, and the max gauge if it rose."""
    if before.error or after.error or not after.lag_buckets:
        return {"error": before.error or after.error or "no lag histogram"}
    deltas = {le: n - before.lag_buckets.get(le, 0.0) for le, n in after.lag_buckets.items()}
    total = deltas.get(math.inf, 0.0)
    if total <= 0:
        return {"samples": 0}
    edges = sorted(deltas)
    at_most = next(le for le in edges if deltas[le] >= total)
    over = max((le for le in edges if le < at_most), default=0.0)
    rose = after.lag_max > before.lag_max or before.lag_max != before.lag_max
    return {
        "samples": int(total),
        "over": over,
        "at_most": at_most,
        "over_100ms": int(total - deltas.get(0.1, total)),
        "max_gauge": after.lag_max if rose else None,
        "cpu_s": after.cpu - before.cpu,
        "wall_s": after.at - before.at,
    }


def describe_stall(figures: dict[str, Any]) -> str:
    if "error" in figures:
        return f"? ({figures['error'][:40]})"
    if not figures.get("samples"):
        return "-"
    top = figures["at_most"]
    span = f"{fmt(figures['over'])}–{fmt(top)} s" if top != math.inf else f"> {figures['over']} s"
    if figures.get("max_gauge") is not None:
        span += f" (max {figures['max_gauge']:.3f})"
    return span


# --- the fans -------------------------------------------------------------------------------


@dataclass
class GameRun:
    """One `/trivia play` game of the benchmark's players: what they locked in."""

    phase: str
    channel: Channel
    game_id: int | None = None
    locked: set[tuple[int, int, int]] = field(default_factory=set)  # (game, index, user)
    clicks: int = 0
    questions: int = 0
    finished: bool = False
    problems: list[str] = field(default_factory=list)
    started: float = float("nan")  # when /trivia play was dispatched
    asked: list[float] = field(default_factory=list)  # when each question appeared

    def late(self, seconds: int) -> list[float]:
        """How much later than the game's plan each question appeared: the first right after
        /trivia play, each next one `seconds` plus the reveal's pause after the one before
        (a late question's own seconds still count from when it was opened, before it was
        posted, so a delay shows once, not in every later question)."""
        step = seconds + REVEAL_PAUSE_SECONDS
        return [round(at - self.started - k * step, 3) for k, at in enumerate(self.asked)]


def choice_buttons(message: Message, index: int | None = None) -> list[dict[str, Any]]:
    out = []
    for button in message.buttons:
        custom_id = str(button.get("custom_id", ""))
        if not custom_id.startswith(CHOICE_PREFIX) or button.get("disabled"):
            continue
        if index is not None and int(custom_id.split(":")[3]) != index:
            continue
        out.append(button)
    return out


def asks(index: int) -> Callable[[Message], bool]:
    """Whether a message is question `index` of a game, open."""
    return lambda message: bool(choice_buttons(message, index))


async def locked_in(emu: RushEmulator, inter: Interaction) -> bool:
    """Whether the bot answered a click "Locked in": in its reply or, after a deferral, in the
    follow-up (or the filled-in "thinking" message) that came later."""
    await emu.wait_done([inter], timeout=WAIT)
    cb = inter.callback
    if cb is None:
        return False
    embeds = list(cb.embeds)
    if cb.type == 5:

        def answered() -> bool:
            message = inter.original_message
            return bool(inter.followup_ids) or (message is not None and not message.is_loading)

        try:
            await emu.wait_until(answered, WAIT, f"the answer after deferring {inter!r}")
        except AssertionError:
            return False
        messages = [emu.messages.get(i) for i in inter.followup_ids] + [inter.original_message]
        embeds = [e for m in messages if m is not None for e in m.embeds]
    return any("Locked in" in str(e.get("description", "")) for e in embeds)


async def play_game(
    emu: RushEmulator,
    recorder: Recorder,
    run: GameRun,
    guild: Guild,
    players: Sequence[Member],
    questions: int,
    seconds: int,
) -> GameRun:
    """Start a game in the run's channel and have every player click every question (their
    clicks spread over CLICK_SPREAD seconds); then wait for its standings."""
    channel = run.channel
    start = await emu.slash(
        guild, channel, players[0], "trivia play", questions=questions, seconds=seconds
    )
    recorder.later("/trivia play", start)
    run.started = start.dispatched_at
    after = 0
    for index in range(questions):
        try:
            message = await emu.wait_for_message(
                channel, asks(index), timeout=seconds + 60.0, after=after
            )
        except AssertionError as error:
            run.problems.append(f"question {index + 1} never came: {str(error)[:200]}")
            return run
        after = message.id
        run.asked.append(time.monotonic())
        run.questions += 1
        choices = [str(b["custom_id"]) for b in choice_buttons(message, index)]
        run.game_id = int(choices[0].split(":")[2])
        clicks = []
        for n, player in enumerate(players):
            clicks.append(await emu.click(message, choices[n % len(choices)], player))
            await asyncio.sleep(CLICK_SPREAD / len(players))
        run.clicks += len(clicks)
        answers = await asyncio.gather(*(locked_in(emu, click) for click in clicks))
        for click, locked in zip(clicks, answers, strict=True):
            cb = click.callback
            deferred = cb is not None and cb.type == 5
            recorder.add(
                Sample("trivia click", click.dispatched_at, click.latency, locked, deferred)
            )
            if locked:
                run.locked.add((run.game_id, index, click.user.id))

    def standings(m: Message) -> bool:
        return any(str(b.get("custom_id", "")).startswith(AGAIN_PREFIX) for b in m.buttons)

    try:
        await emu.wait_for_message(channel, standings, timeout=seconds + 60.0, after=after)
        run.finished = True
    except AssertionError:
        run.problems.append("no standings after the last question")
    return run


@dataclass
class DailyAnswer:
    """A fan's click on a scheduled daily trivia question."""

    guild_id: int
    user_id: int
    game_id: int
    right: bool | None  # None: the question was not found in the dataset
    locked: bool = False


class DailyQuestionFans:
    """Two fans of each trivia server answer its daily question as it appears (first one
    right, second one wrong), for the first `limit` questions posted."""

    def __init__(
        self,
        emu: RushEmulator,
        recorder: Recorder,
        fans: dict[int, tuple[Guild, Member, Member]],  # channel id -> (guild, right, wrong)
        questions: dict[str, Question],
        limit: int,
    ) -> None:
        self.emu = emu
        self.recorder = recorder
        self.fans = fans
        self.questions = questions
        self.limit = limit
        self.answered: list[DailyAnswer] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.seen = 0
        self.problems: list[str] = []

    def on_post(self, channel_id: int, message_id: int) -> None:
        if channel_id not in self.fans or self.seen >= self.limit:
            return
        message = self.emu.messages.get(message_id)
        if message is None or not choice_buttons(message):
            return
        self.seen += 1
        self.tasks.append(asyncio.create_task(self._answer(channel_id, message)))

    async def _answer(self, channel_id: int, message: Message) -> None:
        guild, right_fan, wrong_fan = self.fans[channel_id]
        buttons = choice_buttons(message, 0)
        game_id = int(str(buttons[0]["custom_id"]).split(":")[2])
        text = str(message.embeds[0].get("description", "")) if message.embeds else ""
        question = self.questions.get(text)
        picks: list[tuple[Member, dict[str, Any], bool | None]]
        if question is None:
            self.problems.append(f"daily question not in the dataset: {text[:80]!r}")
            picks = [(right_fan, buttons[0], None), (wrong_fan, buttons[-1], None)]
        else:
            good = next(b for b in buttons if b.get("label") == question.answer)
            bad = next(b for b in buttons if b.get("label") != question.answer)
            picks = [(right_fan, good, True), (wrong_fan, bad, False)]
        clicks = []
        for fan, button, right in picks:
            click = await self.emu.click(message, str(button["custom_id"]), fan)
            clicks.append((click, DailyAnswer(guild.id, fan.id, game_id, right)))
        answers = await asyncio.gather(*(locked_in(self.emu, c) for c, _ in clicks))
        for (click, answer), locked in zip(clicks, answers, strict=True):
            answer.locked = locked
            self.answered.append(answer)
            cb = click.callback
            self.recorder.add(
                Sample(
                    "daily question click",
                    click.dispatched_at,
                    click.latency,
                    locked,
                    cb is not None and cb.type == 5,
                )
            )


class SteadyLoad:
    """`/quote` and `/fact`, `rate` a second each, open loop, in turn in the load servers of
    each shard; and a new `/daily` fan every 1/`daily_rate` seconds."""

    def __init__(
        self,
        emu: RushEmulator,
        recorder: Recorder,
        servers: Sequence[tuple[Guild, list[Channel], list[Member]]],
        daily_servers: Sequence[Guild],
        rate: float,
        daily_rate: float,
        expected: Expected,
    ) -> None:
        self.emu = emu
        self.recorder = recorder
        self.servers = servers
        self.daily_servers = daily_servers
        self.rate = rate
        self.daily_rate = daily_rate
        self.expected = expected
        self.daily_phases = DailyPhases(recorder)
        self.fans: list[Fan] = []
        self.fan_tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._commands())]
        if self.daily_rate > 0:
            self._tasks.append(asyncio.create_task(self._daily()))

    async def _paced(self, period: float, step: Callable[[int], Any]) -> None:
        n = 0
        next_at = time.monotonic()
        while not self._stop.is_set():
            await step(n)
            n += 1
            next_at += period
            delay = next_at - time.monotonic()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)

    async def _commands(self) -> None:
        async def step(n: int) -> None:
            command = ("quote", "fact")[n % 2]
            guild, channels, members = self.servers[(n // 2) % len(self.servers)]
            k = n // (2 * len(self.servers))
            inter = await self.emu.slash(
                guild, channels[k % len(channels)], members[k % len(members)], command
            )
            self.recorder.later(f"/{command}", inter)

        await self._paced(1.0 / (2 * self.rate), step)

    async def _daily(self) -> None:
        async def step(n: int) -> None:
            guild = self.daily_servers[n % len(self.daily_servers)]
            member = self.emu.add_member(guild, f"daily-fan{n}")
            fan = Fan(n, member, guild, guild.text_channels[0])
            self.fans.append(fan)
            play = await fan.slash(self.emu, "daily play")
            self.fan_tasks.append(
                asyncio.create_task(
                    daily_fan(self.emu, fan, play, self.daily_phases, self.expected)
                )
            )

        await self._paced(1.0 / self.daily_rate, step)

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)
        await asyncio.gather(*self.fan_tasks)


# --- the database afterwards ----------------------------------------------------------------

QUERIES = {
    "games": "SELECT id, kind, state, revealed, guild_id FROM trivia_games",
    "answers": "SELECT game_id, question_index, user_id FROM trivia_answers",
    "scores": "SELECT game_id, question_index, guild_id, user_id, correct, points"
    " FROM trivia_scores",
    "totals": "SELECT guild_id, user_id, points, answered FROM trivia_totals WHERE period = 'all'",
    "streaks": "SELECT guild_id, user_id, current, best FROM daily_streaks",
    "runs": "SELECT state, COUNT(*) FROM schedule_runs GROUP BY state",
}


async def read_tables(db: Path, url: str | None) -> dict[str, list[tuple[Any, ...]]]:
    if url is None:
        with contextlib.closing(sqlite3.connect(db)) as conn:
            return {k: [tuple(r) for r in conn.execute(q).fetchall()] for k, q in QUERIES.items()}
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return {k: [tuple(r) for r in await conn.fetch(q)] for k, q in QUERIES.items()}
    finally:
        await conn.close()


def check_points(
    tables: dict[str, list[tuple[Any, ...]]],
    games: Sequence[GameRun],
    daily_answers: Sequence[DailyAnswer],
) -> dict[str, Any]:
    """Every locked-in answer (the games' and the daily questions') scored exactly once;
    nothing scored that was not locked in; trivia_totals ('all') equal to the scores' sums;
    each daily question fan's streak as their one answer makes it."""
    answers = Counter((int(g), int(i), int(u)) for g, i, u in tables["answers"])
    scores: dict[tuple[int, int, int], list[tuple[Any, ...]]] = {}
    for row in tables["scores"]:
        scores.setdefault((int(row[0]), int(row[1]), int(row[3])), []).append(row)
    out: dict[str, Any] = {}

    def tally(name: str, locked: set[tuple[int, int, int]], game_ids: set[int]) -> None:
        mine = {k: v for k, v in scores.items() if k[0] in game_ids}
        out[name] = {
            "locked_in": len(locked),
            "answers_stored": sum(1 for k in locked if answers.get(k)),
            "scored": sum(1 for k in locked if k in mine),
            "lost": sum(1 for k in locked if k not in mine),
            "doubled": sum(len(v) - 1 for v in mine.values())
            + sum(1 for k in mine if k not in locked),
        }

    game_locked = {k for g in games for k in g.locked}
    tally("games", game_locked, {g.game_id for g in games if g.game_id is not None})
    daily_locked = {(a.game_id, 0, a.user_id) for a in daily_answers if a.locked}
    tally("daily_questions", daily_locked, {a.game_id for a in daily_answers})
    wrong_correct = 0
    for a in daily_answers:
        rows = scores.get((a.game_id, 0, a.user_id))
        if a.locked and rows and a.right is not None and bool(rows[0][4]) != a.right:
            wrong_correct += 1
    out["daily_questions"]["scored_wrongly"] = wrong_correct

    # trivia_totals against the scores: more is doubled points, less is lost points.
    sums: dict[tuple[int, int], list[int]] = {}
    for row in tables["scores"]:
        entry = sums.setdefault((int(row[2]), int(row[3])), [0, 0])
        entry[0] += int(row[5])
        entry[1] += 1
    totals = {(int(g), int(u)): (int(p), int(n)) for g, u, p, n in tables["totals"]}
    over = under = 0
    for key in set(sums) | set(totals):
        want = tuple(sums.get(key, [0, 0]))
        have = totals.get(key, (0, 0))
        if have > want:
            over += 1
        elif have < want:
            under += 1
    out["totals"] = {"players": len(totals), "more_than_scored": over, "less_than_scored": under}

    streaks = {(int(g), int(u)): (int(c), int(b)) for g, u, c, b in tables["streaks"]}
    streak_wrong = 0
    for a in daily_answers:
        if not a.locked or a.right is None:
            continue
        current = streaks.get((a.guild_id, a.user_id), (0, 0))[0]
        if current != (1 if a.right else 0):
            streak_wrong += 1
    out["daily_streaks"] = {"rows": len(streaks), "wrong": streak_wrong}
    return out


# --- a run on one backend -----------------------------------------------------------------


@contextlib.asynccontextmanager
async def database_for(backend: str) -> AsyncIterator[str | None]:
    if backend != POSTGRES:
        yield None
        return
    async with postgres_database() as url:
        yield url


async def wait_progress(
    count: Callable[[], int], expected: int, limit: float, stuck: float
) -> tuple[int, bool]:
    """Poll `count()` until it reaches `expected`, nothing moved for `stuck` seconds, or
    `limit` seconds passed; (the count, whether it reached `expected`)."""
    started = last_move = time.monotonic()
    last = -1
    while True:
        now_count = count()
        now = time.monotonic()
        if now_count >= expected:
            return now_count, True
        if now_count != last:
            last, last_move = now_count, now
        if now - last_move > stuck or now - started > limit:
            return now_count, False
        await asyncio.sleep(0.25)


async def one_backend(backend: str, args: argparse.Namespace, expected: Expected) -> dict[str, Any]:
    async with database_for(backend) as url:
        return await _one_backend(backend, args, url, expected)


async def _one_backend(
    backend: str, args: argparse.Namespace, database_url: str | None, expected: Expected
) -> dict[str, Any]:
    procs_n = args.processes if backend == POSTGRES else 1
    pargs = copy.copy(args)
    pargs.processes = procs_n
    emu = RushEmulator(
        global_rate_limit=CEILING, interaction_deadline=EMULATOR_DEADLINE, shard_count=procs_n
    )
    began = time.monotonic()

    def shard(n: int) -> int | None:
        return n % procs_n if procs_n > 1 else None

    # The scheduled servers: four in a row (one of each content) on the same shard, so that
    # every shard has its share of each content.
    pairs: list[tuple[int, int]] = []
    kind_of: dict[int, str] = {}
    trivia_fans: dict[int, tuple[Guild, Member, Member]] = {}
    for n in range(args.servers):
        guild = emu.add_guild(f"server {n}", shard=shard(n // len(CONTENTS)))
        channel = guild.text_channels[0]
        pairs.append((guild.id, channel.id))
        kind = CONTENTS[n % len(CONTENTS)]
        kind_of[channel.id] = kind
        if kind == "trivia":
            trivia_fans[channel.id] = (
                guild,
                emu.add_member(guild, f"right{n}"),
                emu.add_member(guild, f"wrong{n}"),
            )
    # The fans' servers: /quote and /fact in each shard's, /daily in each shard's, the game in
    # shard 0's (a channel per phase).
    load_servers = []
    daily_servers = []
    for s in range(procs_n):
        guild = emu.add_guild(f"fans {s}", shard=shard(s))
        channels = [guild.text_channels[0]] + [
            emu.add_channel(guild, f"chat-{k}") for k in range(9)
        ]
        members = [emu.add_member(guild, f"fan{s}-{k}") for k in range(20)]
        load_servers.append((guild, channels, members))
        daily_servers.append(emu.add_guild(f"daily fans {s}", shard=shard(s)))
    game_guild = emu.add_guild("trivia night", shard=shard(0))
    game_channels = {p: emu.add_channel(game_guild, f"game-{p}") for p in PHASES}
    players = [emu.add_member(game_guild, f"player{k}") for k in range(args.players)]
    world_s = time.monotonic() - began

    recorder = Recorder()
    timeline = Timeline()
    await emu.start()
    try:
        with tempfile.TemporaryDirectory(prefix="lwa-bench-rush-") as tmp:
            workdir = Path(tmp)
            db_path = workdir / "rush.sqlite3"
            clock = BotClock(workdir / "bot.clock")
            due = (clock.now() + LEAD).replace(microsecond=0)
            if database_url is None:
                seed_s = await seed(db_path, pairs, list(CONTENTS), due)
            else:
                seed_s = await seed_postgres(database_url, pairs, list(CONTENTS), due)
            ports = [free_port() for _ in range(procs_n)]
            print(
                f"  {args.servers} servers built in {world_s:.1f} s, schedules seeded in "
                f"{seed_s:.1f} s; starting {procs_n} bot process(es)",
                flush=True,
            )
            procs, startups = await start_processes(
                emu,
                pargs,
                workdir,
                db_path,
                database_url,
                clock=clock,
                more_env=[{"METRICS_PORT": str(p)} for p in ports],
            )
            try:
                result = await drive(
                    emu,
                    args,
                    clock,
                    due,
                    procs,
                    ports,
                    recorder,
                    timeline,
                    load_servers,
                    daily_servers,
                    game_guild,
                    game_channels,
                    players,
                    trivia_fans,
                    expected,
                    kind_of,
                )
            finally:
                codes = [await stop_bot(p) for p in procs]
            tables = await read_tables(db_path, database_url)
            challenge = await read_rows(backend, db_path, database_url)
            problems = [line for p in procs for line in log_problems(p)]
            logs = [p.logs() for p in procs]
            if args.keep_logs:
                copy_logs([p.log_path for p in procs], Path(args.keep_logs) / backend)
    finally:
        await emu.stop()

    result["startup"] = startups
    result["exit_codes"] = codes
    result["log_errors"] = problems
    result["log_counts"] = {
        "rate_limited": sum(log.count("We are being rate limited") for log in logs),
        "global_rate_limit": sum(log.count("Global rate limit has been hit") for log in logs),
        "game_failed": sum(len(GAME_FAILED.findall(log)) for log in logs),
        "deferring": sum(log.count("deferring it") for log in logs),
        "could_not": sum(log.count("could not") for log in logs),
    }
    result["runs_by_state"] = {str(s): int(n) for s, n in tables["runs"]}
    games_db = tables["games"]
    result["daily_games_db"] = {
        "revealed": sum(1 for r in games_db if r[1] == "daily" and int(r[3]) >= 1),
        "finished": sum(1 for r in games_db if r[1] == "daily" and r[2] == "finished"),
        "other_states": dict(Counter(str(r[2]) for r in games_db if r[1] == "daily")),
    }
    runs: list[GameRun] = result.pop("_games")
    daily_answers: list[DailyAnswer] = result.pop("_daily_answers")
    fans: list[Fan] = result.pop("_fans")
    result["points"] = check_points(tables, runs, daily_answers)
    result["daily_challenge"] = check_database(fans, challenge)
    result["daily_challenge"]["fans"] = len(fans)
    result["daily_challenge"]["fans_with_problems"] = sum(1 for f in fans if f.problems)
    result["daily_challenge"]["fan_problems"] = [
        f"fan {f.index}: {p}" for f in fans for p in f.problems
    ][:10]
    result["backend"] = backend
    result["processes"] = procs_n
    result["wall_s"] = time.monotonic() - began
    result["violations"] = [str(v)[:300] for v in emu.violations[:5]]
    return result


async def drive(
    emu: RushEmulator,
    args: argparse.Namespace,
    clock: BotClock,
    due: dt.datetime,
    procs: list[BotProcess],
    ports: list[int],
    recorder: Recorder,
    timeline: Timeline,
    load_servers: list[tuple[Guild, list[Channel], list[Member]]],
    daily_servers: list[Guild],
    game_guild: Guild,
    game_channels: dict[str, Channel],
    players: list[Member],
    trivia_fans: dict[int, tuple[Guild, Member, Member]],
    expected: Expected,
    kind_of: dict[int, str],
) -> dict[str, Any]:
    """The phases, once the bot processes are ready."""
    async with aiohttp.ClientSession() as session:
        scraper = Scraper(session, ports, procs)

        async def boundary(name: str) -> None:
            await scraper.now()

        # Warm-up (not measured): imports, first bags, caches, in every shard.
        warm = []
        for guild, channels, members in load_servers:
            for k in range(5):
                for command in ("quote", "fact"):
                    warm.append(await emu.slash(guild, channels[k], members[k], command))
        await emu.wait_done(warm, timeout=60)

        trivia_ids: set[int] = set()  # the daily questions' messages

        def note_trivia(channel_id: int, message_id: int) -> None:
            if kind_of.get(channel_id) == "trivia":
                trivia_ids.add(message_id)

        emu.post_listeners.append(note_trivia)
        questions = {q.question: q for q in expected.dataset.questions}
        daily_fans = DailyQuestionFans(emu, recorder, trivia_fans, questions, args.answered)
        emu.post_listeners.append(daily_fans.on_post)
        load = SteadyLoad(
            emu,
            recorder,
            load_servers,
            daily_servers,
            args.steady,
            args.daily_rate,
            expected,
        )
        games: dict[str, asyncio.Task[GameRun]] = {}

        def start_game(phase: str) -> None:
            run = GameRun(phase, game_channels[phase])
            games[phase] = asyncio.create_task(
                play_game(emu, recorder, run, game_guild, players, args.questions, args.seconds)
            )

        # quiet: the bot's clock `quiet` seconds before the due instant.
        if clock.now() > due - dt.timedelta(seconds=args.quiet):
            raise RuntimeError("the bot processes took too long to start; the posts are due")
        clock.set(due - dt.timedelta(seconds=args.quiet))
        due_mono = timeline.mark("quiet") + args.quiet
        await boundary("quiet")
        scraper.start()
        load.start()
        start_game("quiet")
        print(f"  quiet: {args.quiet:g} s", flush=True)
        await asyncio.sleep(max(0.0, due_mono - time.monotonic()))

        # burst: every scheduled post.
        timeline.mark("burst", due_mono)
        await boundary("burst")
        start_game("burst")
        schedule_channels = set(kind_of)

        def posted() -> int:
            return sum(1 for _, c, _ in emu.posts if c in schedule_channels)

        out, complete = await wait_progress(
            posted, args.servers, args.servers / args.rate * 3 + 120, args.stuck
        )
        timeline.mark("gap")
        await boundary("gap")
        burst_end = time.monotonic()
        print(
            f"  burst: {out}/{args.servers} posts in {burst_end - due_mono:.1f} s"
            f"{'' if complete else ' (INCOMPLETE)'}",
            flush=True,
        )

        # gap: the phases' games end, the daily questions' fans have answered.
        for phase in ("quiet", "burst"):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.shield(games[phase]), args.questions * (args.seconds + 5) + 90
                )
        await asyncio.gather(*daily_fans.tasks)

        # reveals: an hour later on the bot's clock.
        def revealed() -> int:
            return sum(1 for mid in trivia_ids if is_revealed(emu.messages[mid]))

        await boundary("reveals")
        jump = timeline.mark("reveals")
        clock.advance(HOUR)
        start_game("reveals")
        done, complete_reveals = await wait_progress(
            revealed, len(trivia_ids), len(trivia_ids) / 10 + 300, args.stuck
        )
        reveal_times = sorted(
            emu.edits[mid][0]
            for mid in trivia_ids
            if mid in emu.edits and is_revealed(emu.messages[mid])
        )
        reveals_end = time.monotonic()
        if reveal_times:
            reveals_end = min(reveals_end, reveal_times[-1] + 0.25)
        timeline.mark("tail", reveals_end)
        await boundary("tail")
        print(
            f"  reveals: {done}/{len(trivia_ids)} in "
            f"{(reveal_times[-1] - jump) if reveal_times else float('nan'):.1f} s"
            f"{'' if complete_reveals else ' (INCOMPLETE)'}",
            flush=True,
        )
        await asyncio.sleep(args.tail)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.shield(games["reveals"]), args.questions * (args.seconds + 5) + 90
            )
        await load.stop()
        await recorder.settle(emu)
        await boundary("end")
        await scraper.stop()

    # --- figures --------------------------------------------------------------------------
    by_phase: dict[str, list[Sample]] = {}
    for s in recorder.samples:
        by_phase.setdefault(timeline.phase_at(s.dispatched), []).append(s)
    kinds = sorted({s.kind for s in recorder.samples})
    phases: dict[str, Any] = {}
    for name in [phase for _, phase in timeline.marks]:
        samples = by_phase.get(name, [])
        start, end = timeline.bounds(name)
        pairs = [scraper.around(i, start, end) for i in range(len(procs))]
        phases[name] = {
            "seconds": end - start,
            **phase_figures(samples),
            "by_kind": {
                k: phase_figures([s for s in samples if s.kind == k])
                for k in kinds
                if any(s.kind == k for s in samples)
            },
            "http_429": sum(1 for t in emu.rate_limited if start <= t < end),
            "stall": [stall(a, b) for a, b in pairs],
            "posts_metric": [
                {k: b.posts.get(k, 0) - a.posts.get(k, 0) for k in b.posts} for a, b in pairs
            ],
        }

    posts = [(t, c) for t, c, _ in emu.posts if c in kind_of]
    times = sorted(t for t, _ in posts)
    per_channel = Counter(c for _, c in posts)
    trivia_posted = sum(1 for _, c in posts if kind_of[c] == "trivia")
    edits_per_reveal = Counter(len(emu.edits.get(mid, [])) for mid in trivia_ids)
    runs = [games[p].result() if games[p].done() else None for p in PHASES]
    return {
        "phases": phases,
        "posts": {
            "expected": len(kind_of),
            "posted": len(posts),
            "lost": len(kind_of) - len(per_channel),
            "doubled": sum(n - 1 for n in per_channel.values() if n > 1),
            "posts_per_s": rate_of(times),
            "ratio": ratio(rate_of(times), args.rate),
            "max_in_any_1s": max_in_window(times),
            "first_after_due_s": times[0] - due_mono if times else float("nan"),
            "last_after_due_s": times[-1] - due_mono if times else float("nan"),
            "nonce_deduplicated": emu.stats["nonce:deduplicated"],
            "complete": complete,
        },
        "reveals": {
            "expected": trivia_posted,
            "done": done,
            "complete": complete_reveals,
            "first_after_jump_s": reveal_times[0] - jump if reveal_times else float("nan"),
            "last_after_jump_s": reveal_times[-1] - jump if reveal_times else float("nan"),
            "per_s": rate_of(reveal_times) if len(reveal_times) > 1 else float("nan"),
            "max_in_any_1s": max_in_window(reveal_times),
            "edits_per_question": {str(k): v for k, v in sorted(edits_per_reveal.items())},
        },
        "games": [
            {
                "phase": r.phase,
                "game_id": r.game_id,
                "questions": r.questions,
                "clicks": r.clicks,
                "locked_in": len(r.locked),
                "finished": r.finished,
                "late_questions_s": r.late(args.seconds),
                "problems": r.problems,
            }
            for r in runs
            if r is not None
        ],
        "daily_question_fans": {
            "questions_answered": daily_fans.seen,
            "clicks": len(daily_fans.answered),
            "locked_in": sum(1 for a in daily_fans.answered if a.locked),
            "problems": daily_fans.problems[:5],
        },
        "http_429_total": emu.stats["429"],
        "late_callbacks_at_60s": len(emu.late_callbacks),
        "double_acks": emu.stats["callbacks:double"],
        "_games": [r for r in runs if r is not None],
        "_daily_answers": daily_fans.answered,
        "_fans": load.fans,
    }


def is_revealed(message: Message) -> bool:
    return any(str(b.get("custom_id", "")).startswith(REPORT_PREFIX) for b in message.buttons)


# --- the whole run --------------------------------------------------------------------------


def _ms(value: float) -> float:
    return round(value * 1000.0, 1)


def worst_stall(stalls: list[dict[str, Any]]) -> dict[str, Any]:
    good = [s for s in stalls if s.get("samples")]
    if not good:
        return stalls[0] if stalls else {}
    return max(good, key=lambda s: (s["at_most"], s.get("max_gauge") or 0.0))


def report(args: argparse.Namespace, results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    rows: list[list[Any]] = []
    kind_rows: list[list[Any]] = []
    targets: dict[str, dict[str, Any]] = {}
    for backend, r in results.items():
        label = LABELS[backend] + (f" ×{r['processes']}" if r["processes"] > 1 else "")
        quiet_p99 = r["phases"]["quiet"]["latency"]["p99"]
        for phase in PHASES:
            f = r["phases"].get(phase)
            if f is None:
                continue
            lat = f["latency"]
            posts = (
                f"{r['posts']['posts_per_s']:.1f} = {r['posts']['ratio']:.3f}"
                if phase == "burst"
                else "-"
            )
            if phase == "reveals":
                rv = r["reveals"]
                posts = (
                    f"reveals {rv['done']}/{rv['expected']}, last "
                    f"{rv['last_after_jump_s']:.1f} s after the jump"
                )
            rows.append(
                [
                    label,
                    phase,
                    round(f["seconds"], 1),
                    f["n"],
                    _ms(lat["p50"]),
                    _ms(lat["p99"]),
                    _ms(lat["max"]),
                    f["late"],
                    ratio(lat["p99"], quiet_p99),
                    f["http_429"],
                    posts,
                    " / ".join(describe_stall(s) for s in f["stall"]),
                ]
            )
            for kind, k in f["by_kind"].items():
                kind_rows.append(
                    [
                        label,
                        phase,
                        kind,
                        k["n"],
                        _ms(k["latency"]["p50"]),
                        _ms(k["latency"]["p99"]),
                        _ms(k["latency"]["max"]),
                        k["late"],
                        k["errors"],
                        k["deferred"],
                    ]
                )
        pts = r["points"]
        dc = r["daily_challenge"]
        for phase in ("burst", "reveals"):
            f = r["phases"].get(phase)
            if f is None:
                continue
            p99 = f["latency"]["p99"]
            targets[f"{backend} {phase}: ack p99 <= 500 ms"] = {
                "value": f"{_ms(p99)} ms ({ratio(p99, quiet_p99):.2f} × quiet)",
                "pass": p99 <= P99_TARGET,
            }
            targets[f"{backend} {phase}: late (> 3 s)"] = {
                "value": f["late"],
                "pass": f["late"] == 0,
            }
            targets[f"{backend} {phase}: 429s"] = {
                "value": f["http_429"],
                "pass": f["http_429"] == 0,
            }
        targets[f"{backend}: posts/s over the burst >= 0.95 × rate"] = {
            "value": round(r["posts"]["ratio"], 3),
            "pass": r["posts"]["ratio"] >= 0.95,
        }
        lost = (
            r["posts"]["lost"]
            + (r["reveals"]["expected"] - r["reveals"]["done"])
            + pts["games"]["lost"]
            + pts["daily_questions"]["lost"]
            + pts["totals"]["less_than_scored"]
            + dc["lost"]
        )
        doubled = (
            r["posts"]["doubled"]
            + pts["games"]["doubled"]
            + pts["daily_questions"]["doubled"]
            + pts["totals"]["more_than_scored"]
            + dc["doubled"]
        )
        targets[f"{backend}: lost (posts, reveals, points, attempts)"] = {
            "value": lost,
            "pass": lost == 0,
        }
        targets[f"{backend}: doubled (posts, points, attempts)"] = {
            "value": doubled,
            "pass": doubled == 0,
        }
        wrong = pts["daily_questions"]["scored_wrongly"] + pts["daily_streaks"]["wrong"]
        targets[f"{backend}: daily questions scored and streaks as answered"] = {
            "value": wrong + dc["mismatched"],
            "pass": wrong + dc["mismatched"] == 0,
        }

    print()
    print(
        table(
            [
                "backend",
                "phase",
                "s",
                "n",
                "p50 ms",
                "p99 ms",
                "max ms",
                "late",
                "p99/quiet",
                "429s",
                "posts/s (÷ rate) · reveals",
                "loop stall (per process)",
            ],
            rows,
            title=f"The rush: {args.servers} schedules at {fmt(args.rate)}/s, then their reveals",
        )
    )
    print()
    print(
        table(
            [
                "backend",
                "phase",
                "kind",
                "n",
                "p50 ms",
                "p99 ms",
                "max ms",
                "late",
                "errors",
                "deferred",
            ],
            kind_rows,
            title="By kind of interaction",
        )
    )
    check_rows = []
    for backend, r in results.items():
        pts, dc, p, rv = r["points"], r["daily_challenge"], r["posts"], r["reveals"]
        check_rows += [
            [
                LABELS[backend],
                "scheduled posts: posted / expected",
                f"{p['posted']}/{p['expected']}",
            ],
            [
                LABELS[backend],
                "posts lost / doubled (per channel)",
                f"{p['lost']} / {p['doubled']}",
            ],
            [LABELS[backend], "schedule runs by state", r["runs_by_state"]],
            [LABELS[backend], "most posts in any 1 s (ceiling 50)", p["max_in_any_1s"]],
            [
                LABELS[backend],
                "reveals shown / expected; in the database",
                f"{rv['done']}/{rv['expected']}; {r['daily_games_db']}",
            ],
            [
                LABELS[backend],
                "reveals: first / last after the jump s; most in 1 s",
                f"{fmt(rv['first_after_jump_s'])} / {fmt(rv['last_after_jump_s'])}; "
                f"{rv['max_in_any_1s']}",
            ],
            [LABELS[backend], "game answers (50 players)", pts["games"]],
            [
                LABELS[backend],
                "games: each question later than its timing, s",
                "; ".join(f"{g['phase']} {g['late_questions_s']}" for g in r["games"]),
            ],
            [LABELS[backend], "daily question answers", pts["daily_questions"]],
            [LABELS[backend], "trivia_totals against trivia_scores", pts["totals"]],
            [LABELS[backend], "daily streaks", pts["daily_streaks"]],
            [
                LABELS[backend],
                "daily challenge: fans / attempts / finished",
                f"{dc['fans']} / {dc['attempts']} / {dc['finished']}",
            ],
            [
                LABELS[backend],
                "daily challenge lost / doubled / mismatched",
                f"{dc['lost']} / {dc['doubled']} / {dc['mismatched']}",
            ],
            [LABELS[backend], "bot log", r["log_counts"]],
        ]
    print()
    print(table(["backend", "check", "value"], check_rows, title="Afterwards"))
    print()
    for name, t in targets.items():
        print(f"target {name}: {t['value']} {'PASS' if t['pass'] else 'FAIL'}")
    for backend, r in results.items():
        if r["log_errors"]:
            print(f"{LABELS[backend]}: errors logged by the bot:", *r["log_errors"][:8], sep="\n  ")
        if r["violations"]:
            print(f"{LABELS[backend]}: protocol violations:", *r["violations"], sep="\n  ")
        for g in r["games"]:
            if g["problems"]:
                print(f"{LABELS[backend]}: game {g['phase']}: {g['problems']}")
        if r["daily_challenge"]["fan_problems"]:
            print(
                f"{LABELS[backend]}: daily fans:", *r["daily_challenge"]["fan_problems"], sep="\n  "
            )
    return {"table": rows, "by_kind": kind_rows, "checks": check_rows, "targets": targets}


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    expected = Expected(load_dataset(DEFAULT_DATA_DIR))
    results: dict[str, dict[str, Any]] = {}
    for backend in BACKENDS[args.backend]:
        print(f"{LABELS[backend]} ...", flush=True)
        results[backend] = await one_backend(backend, args, expected)
    summary_ = report(args, results)
    return {"parameters": vars(args), "results": results, **summary_}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="400 servers (about 2.5 minutes a backend)"
    )
    parser.add_argument(
        "--backend",
        choices=tuple(BACKENDS),
        default="both",
        help="sqlite (one process), postgres (--processes shards) or both (default); "
        "PostgreSQL: LWA_BENCH_POSTGRES_URL, default the local server",
    )
    parser.add_argument("--servers", type=int, default=None, help="schedules (default 10,000)")
    parser.add_argument("--rate", type=float, default=40.0, help="POST_RATE_PER_SECOND")
    parser.add_argument("--processes", type=int, default=2, help="PostgreSQL: bot processes")
    parser.add_argument("--quiet", type=float, default=30.0, help="seconds of quiet phase")
    parser.add_argument("--steady", type=float, default=5.0, help="/quote and /fact a second, each")
    parser.add_argument("--daily-rate", type=float, default=1.0, help="new /daily fans a second")
    parser.add_argument("--players", type=int, default=50, help="players of each phase's game")
    parser.add_argument("--questions", type=int, default=5, help="questions of each game")
    parser.add_argument("--seconds", type=int, default=10, help="seconds of each question")
    parser.add_argument(
        "--answered", type=int, default=None, help="daily questions answered by two fans (300)"
    )
    parser.add_argument(
        "--stuck", type=float, default=60.0, help="give up after s without progress"
    )
    parser.add_argument("--tail", type=float, default=5.0, help="seconds watched after the reveals")
    parser.add_argument("--ready-timeout", type=float, default=300.0)
    parser.add_argument("--keep-logs", metavar="DIR", help="copy the bots' logs to DIR/<backend>")
    args = parser.parse_args()
    args.servers = args.servers or (400 if args.quick else 10_000)
    args.answered = args.answered if args.answered is not None else (40 if args.quick else 300)
    if args.processes < 1:
        parser.error("--processes: at least 1")
    info = machine()
    if args.backend != "sqlite":
        info["postgresql"] = asyncio.run(postgres_version())
    header("rush", info, args)
    started = time.monotonic()
    data = asyncio.run(main_async(args))
    data["run_time_s"] = time.monotonic() - started
    print(f"\nrun time {data['run_time_s']:.0f} s")
    name = "rush" if args.backend == "both" else f"rush-{args.backend}"
    write_results(name, {"machine": info, **data})


if __name__ == "__main__":
    main()
