"""Scheduled posts: many servers due at the same instant, through the real bot process.

`--servers` servers (default 10,000), each with one channel and one daily schedule, all due at
the same instant a little after start-up (`--lead` seconds after seeding). The schedules are
seeded straight into the bot's SQLite file before it starts (the store's own migrations, then
rows matching bot/store/migrations/003_schedules.sql). The emulator enforces Discord's global
ceiling of 50 requests/s; the bot paces itself at POST_RATE_PER_SECOND (default 40).

Reported, against POST_RATE_PER_SECOND as the baseline:
- posts/s achieved (target >= 0.95 of the rate), over the whole stream and at steady state;
- 429s the bot received (target 0); duplicates: a schedule posted twice (must be 0), plus the
  resends Discord (the emulator) de-duplicated by nonce; runs left unsent or failed;
- `/quote` latency during the stream (a paced probe, `--probe-rate` a second) against the same
  probe just before the stream, and deadline (3 s) misses.

At 40 posts/s the full 10,000 take about 250 s, plus ~60 s of set-up, start-up and lead: about
5.5 minutes. `--quick` runs 400 servers (about a minute).

`--backend postgres`: the same burst on PostgreSQL (a fresh database `lwa_bench_<random>` on the
server `LWA_BENCH_POSTGRES_URL`, default the local one, dropped afterwards; the schedules seeded
after the store's own PostgreSQL migrations, rows matching bot/store/migrations_postgres/) with
`--processes` bot processes (default 2): SHARD_COUNT=N, process i runs SHARD_IDS=i, the servers
spread evenly over the shards, and the emulator has N shards and enforces Discord's IDENTIFY
spacing (the processes take turns through the database). Each process paces at its share of
POST_RATE_PER_SECOND; the posts/s reported is all processes together, against the whole rate.

    uv run python -m benchmarks.schedules [--quick] [--servers 10000] [--rate 40]
        [--backend sqlite|postgres] [--processes 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import shutil
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import (
    BOT_MODULE,
    BenchEmulator,
    header,
    log_problems,
    machine,
    postgres_database,
    postgres_version,
    ratio,
    rss_kb,
    start_bot,
    stop_bot,
    summary,
    table,
    write_results,
)
from bot.domain.schedule import ALL_DAYS, format_days
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SQLiteStore, _iso
from tests.fakediscord.botproc import BotProcess
from tests.fakediscord.clock import BotClock
from tests.fakediscord.interactions import Interaction

DEADLINE = 3.0


SCHEDULE_COLUMNS = (
    "guild_id",
    "channel_id",
    "content",
    "local_time",
    "timezone",
    "days",
    "role_id",
    "state",
    "failures",
    "next_run_at",
    "created_by",
    "created_at",
)


def schedule_rows(
    channels: list[tuple[int, int]],
    contents: list[str],
    due: dt.datetime,
    instant: Callable[[dt.datetime], Any],
) -> list[tuple[Any, ...]]:
    """One active daily schedule per (guild, channel), all due at `due`, as rows in the
    order of SCHEDULE_COLUMNS; `instant` writes a moment as the database stores it."""
    days = format_days(ALL_DAYS)
    created = instant(due - dt.timedelta(days=1))
    return [
        (
            guild_id,
            channel_id,
            contents[i % len(contents)],
            due.strftime("%H:%M"),
            "UTC",
            days,
            None,
            "active",
            0,
            instant(due),
            4242,
            created,
        )
        for i, (guild_id, channel_id) in enumerate(channels)
    ]


async def seed(
    db_path: Path, channels: list[tuple[int, int]], contents: list[str], due: dt.datetime
) -> float:
    """One active daily schedule per (guild, channel), all due at `due`."""
    started = time.perf_counter()
    store = SQLiteStore(db_path)
    await store.open()  # the bot's own migrations
    try:
        rows = schedule_rows(channels, contents, due, _iso)
        async with store.transaction() as db:
            await db.executemany(
                f"INSERT INTO schedules ({', '.join(SCHEDULE_COLUMNS)})"
                f" VALUES ({', '.join('?' for _ in SCHEDULE_COLUMNS)})",
                rows,
            )
    finally:
        await store.close()
    return time.perf_counter() - started


async def seed_postgres(
    url: str, channels: list[tuple[int, int]], contents: list[str], due: dt.datetime
) -> float:
    """The same schedules in PostgreSQL: the store's own migrations (migrations_postgres/),
    then one COPY into `schedules` (BIGINT ids, TIMESTAMPTZ instants), then ANALYZE."""
    started = time.perf_counter()
    store = PostgresStore(url)
    await store.open()
    try:
        records = schedule_rows(channels, contents, due, lambda instant: instant)
        async with store.pool.acquire() as conn:
            await conn.copy_records_to_table(
                "schedules", records=records, columns=list(SCHEDULE_COLUMNS)
            )
            await conn.execute("ANALYZE schedules")
    finally:
        await store.close()
    return time.perf_counter() - started


class Probe:
    """A `/quote` every 1/rate seconds (open loop: it does not wait for the answers), in turn
    in a server of each shard (so every bot process answers its share)."""

    def __init__(self, emu: BenchEmulator, rate: float, shard_count: int = 1) -> None:
        self.emu = emu
        self.rate = rate
        self.guilds = [
            emu.add_guild(f"probe server {s}", shard=s if shard_count > 1 else None)
            for s in range(shard_count)
        ]
        self.targets = []
        for guild in self.guilds:
            channels = [guild.text_channels[0]] + [
                emu.add_channel(guild, f"probe-{n}") for n in range(9)
            ]
            members = [emu.add_member(guild, f"prober{n}") for n in range(20)]
            self.targets.append((guild, channels, members))
        self.sent: list[tuple[str, Interaction]] = []
        self.phase = "idle"
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        n = 0
        period = 1.0 / self.rate
        next_at = time.monotonic()
        while not self._stop.is_set():
            guild, channels, members = self.targets[n % len(self.targets)]
            k = n // len(self.targets)
            inter = await self.emu.slash(
                guild, channels[k % len(channels)], members[k % len(members)], "quote"
            )
            self.sent.append((self.phase, inter))
            n += 1
            next_at += period
            delay = next_at - time.monotonic()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
        await self.emu.wait_done([i for _, i in self.sent], timeout=30)

    def figures(self, phase: str) -> dict[str, Any]:
        inters = [i for p, i in self.sent if p == phase]
        lat = [i.latency for i in inters if i.latency is not None]
        missing = sum(1 for i in inters if i.latency is None)
        return {
            "latency": summary(lat),
            "unanswered": missing,
            "deadline_misses": missing + sum(1 for x in lat if x > DEADLINE),
        }


def runs_by_state(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT state, COUNT(*) FROM schedule_runs GROUP BY state").fetchall()
    return {str(s): int(n) for s, n in rows}


async def runs_by_state_postgres(url: str) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT state, COUNT(*) FROM schedule_runs GROUP BY state")
    finally:
        await conn.close()
    return {str(r[0]): int(r[1]) for r in rows}


def copy_logs(logs: list[Path], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for log in logs:
        shutil.copy(log, folder / log.name)
    print(f"bot logs copied to {folder}")


def rate_of(times: list[float]) -> float:
    """Posts a second from the first to the last."""
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    return (len(times) - 1) / span if span > 0 else float("nan")


def max_in_window(times: list[float], window: float = 1.0) -> int:
    best, lo = 0, 0
    for hi in range(len(times)):
        while times[hi] - times[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    if args.backend == "postgres":
        async with postgres_database() as url:
            return await run(args, url)
    return await run(args, None)


def process_env(args: argparse.Namespace, index: int, database_url: str | None) -> dict[str, str]:
    env = {"POST_RATE_PER_SECOND": str(args.rate)}
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    if args.processes > 1:
        env |= {"SHARD_COUNT": str(args.processes), "SHARD_IDS": str(index)}
    return env


async def start_processes(
    emu: BenchEmulator,
    args: argparse.Namespace,
    workdir: Path,
    db_path: Path,
    database_url: str | None,
    *,
    clock: BotClock | None = None,
    more_env: Sequence[dict[str, str]] = (),
) -> tuple[list[BotProcess], list[dict[str, float]]]:
    """Start every bot process at once (with PostgreSQL they take IDENTIFY turns through the
    database); if one fails, stop the others. `clock`: every process runs on it; `more_env`:
    process i's extra environment is `more_env[i]`."""
    started = await asyncio.gather(
        *(
            start_bot(
                emu,
                BOT_MODULE,
                workdir,
                name=f"bot{i}" if args.processes > 1 else "bot",
                database_path=db_path,
                extra_env=process_env(args, i, database_url)
                | (more_env[i] if i < len(more_env) else {}),
                ready_timeout=args.ready_timeout,
                clock=clock,
            )
            for i in range(args.processes)
        ),
        return_exceptions=True,
    )
    failed = [r for r in started if isinstance(r, BaseException)]
    good = [r for r in started if not isinstance(r, BaseException)]
    if failed:
        for proc, _ in good:
            await stop_bot(proc)
        raise failed[0]
    return [p for p, _ in good], [s for _, s in good]


async def run(args: argparse.Namespace, database_url: str | None) -> dict[str, Any]:
    shards = args.processes
    emu = BenchEmulator(global_rate_limit=50, interaction_deadline=60.0, shard_count=shards)
    t = time.monotonic()
    targets_by_channel: dict[int, int] = {}
    shard_of_channel: dict[int, int] = {}
    pairs = []
    for n in range(args.servers):
        # Spread evenly: server n on shard n % shards (by Discord's formula on its id).
        guild = emu.add_guild(f"server {n}", shard=n % shards if shards > 1 else None)
        channel = guild.text_channels[0]
        pairs.append((guild.id, channel.id))
        targets_by_channel[channel.id] = guild.id
        shard_of_channel[channel.id] = (guild.id >> 22) % shards
    probe = Probe(emu, args.probe_rate, shards)
    world_s = time.monotonic() - t
    await emu.start()
    with tempfile.TemporaryDirectory(prefix="lwa-bench-") as tmp:
        workdir = Path(tmp)
        db_path = workdir / "schedules.sqlite3"
        due = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=args.lead)).replace(microsecond=0)
        due_mono = time.monotonic() + (due - dt.datetime.now(dt.UTC)).total_seconds()
        contents = args.contents.split(",")
        if database_url is None:
            seed_s = await seed(db_path, pairs, contents, due)
        else:
            seed_s = await seed_postgres(database_url, pairs, contents, due)
        print(
            f"{args.servers} servers built in {world_s:.1f} s, schedules seeded in "
            f"{seed_s:.1f} s ({args.backend}); all due at {due:%H:%M:%S} UTC",
            flush=True,
        )
        procs, startups = await start_processes(emu, args, workdir, db_path, database_url)
        ready_after = ", ".join(f"{s['on_ready_s']:.1f}" for s in startups)
        print(
            f"{len(procs)} bot process(es) ready after {ready_after} s; "
            f"{due_mono - time.monotonic():.1f} s before the schedules are due",
            flush=True,
        )
        codes: list[int | None] = []
        try:
            if time.monotonic() > due_mono - 3:
                print("WARNING: the bot was ready too late for a baseline; raise --lead")
            probe.start()
            await asyncio.sleep(max(0.0, due_mono - time.monotonic()))
            probe.phase = "stream"
            expected = args.servers
            limit = time.monotonic() + expected / args.rate * 2 + 120
            while time.monotonic() < limit:
                posted = sum(1 for _, c, _ in emu.posts if c in targets_by_channel)
                if posted >= expected:
                    break
                await asyncio.sleep(0.25)
            stream_done = time.monotonic()
            probe.phase = "after"
            await asyncio.sleep(args.tail)  # would a duplicate follow?
            await probe.stop()
            rss = [rss_kb(p.pid or 0) for p in procs]
        finally:
            for p in procs:
                codes.append(await stop_bot(p))
        if database_url is None:
            states = runs_by_state(db_path)
        else:
            states = await runs_by_state_postgres(database_url)
        problems = [line for p in procs for line in log_problems(p)]
        if args.keep_logs:
            copy_logs([p.log_path for p in procs], Path(args.keep_logs))

    posts = [(t, c, n) for t, c, n in emu.posts if c in targets_by_channel]
    times = sorted(t for t, _, _ in posts)
    per_channel = Counter(c for _, c, _ in posts)
    duplicates = sum(n - 1 for n in per_channel.values() if n > 1)
    missing = len(targets_by_channel) - len(per_channel)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    overall = rate_of(times)
    # Steady state: the middle 80% of the posts.
    lo, hi = int(len(times) * 0.1), int(len(times) * 0.9)
    steady = (hi - lo) / (times[hi] - times[lo]) if hi > lo and times[hi] > times[lo] else overall
    first_after_due = times[0] - due_mono if times else float("nan")
    # Each process (shard) against its share of the rate.
    per_shard: dict[int, dict[str, Any]] = {}
    for s in range(shards):
        mine = sorted(t for t, c, _ in posts if shard_of_channel[c] == s)
        per_shard[s] = {
            "posted": len(mine),
            "posts_per_s": rate_of(mine),
            "share_of_rate": args.rate / shards,
            "first_s": mine[0] - due_mono if mine else float("nan"),
            "last_s": mine[-1] - due_mono if mine else float("nan"),
        }
    base, during = probe.figures("idle"), probe.figures("stream")
    figures = {
        "servers": args.servers,
        "post_rate_per_second": args.rate,
        "posted": len(posts),
        "missing": missing,
        "duplicates": duplicates,
        "nonce_deduplicated_by_emulator": emu.stats["nonce:deduplicated"],
        "posts_per_s_overall": overall,
        "posts_per_s_steady": steady,
        "max_posts_in_any_1s": max_in_window(times),
        "first_post_after_due_s": first_after_due,
        "stream_s": span,
        "stream_end_after_due_s": stream_done - due_mono,
        "http_429": emu.stats["429"],
        "http_429_global": emu.stats["429:global"],
        "runs_by_state": states,
        "quote_baseline": base,
        "quote_during_stream": during,
        "backend": args.backend,
        "processes": shards,
        "per_process": per_shard,
        "startup": startups[0] if shards == 1 else startups,
        "bot_rss_mb_after_stream": sum(r.get("VmRSS", 0) for r in rss) / 1024,
        "exit_code": codes[0] if shards == 1 else codes,
        "log_errors": problems,
        "violations": [str(v)[:300] for v in emu.violations[:5]],
    }
    await emu.stop()
    rows = [
        ["posts/s, whole stream", overall, args.rate, ratio(overall, args.rate)],
        ["posts/s, steady state (middle 80%)", steady, args.rate, ratio(steady, args.rate)],
        ["max posts in any 1 s", figures["max_posts_in_any_1s"], 50, "-"],
        ["429s received", figures["http_429"], 0, "-"],
        ["duplicates (a schedule posted twice)", duplicates, 0, "-"],
        ["resends de-duplicated by nonce", figures["nonce_deduplicated_by_emulator"], 0, "-"],
        ["schedules not posted", missing, 0, "-"],
        ["first post after due s", first_after_due, "-", "-"],
    ]
    if shards > 1:
        for sid, fig in per_shard.items():
            rows.append(
                [
                    f"process {sid} (shard {sid}): posts/s, against its share",
                    fig["posts_per_s"],
                    fig["share_of_rate"],
                    ratio(fig["posts_per_s"], fig["share_of_rate"]),
                ]
            )
            rows.append(
                [
                    f"process {sid}: posted / last post after due s",
                    fig["posted"],
                    fig["last_s"],
                    "-",
                ]
            )
    for q in ("p50", "p95", "p99"):
        b, d = base["latency"][q] * 1000, during["latency"][q] * 1000
        rows.append([f"/quote {q} ms during stream (baseline: before)", d, b, ratio(d, b)])
    rows.append(
        ["/quote >3 s during stream", during["deadline_misses"], base["deadline_misses"], "-"]
    )
    print()
    print(
        table(
            ["figure", "measured", "baseline", "ratio"],
            rows,
            title=f"Scheduled posts: {args.servers} servers due at once ({args.backend}, "
            f"{shards} process{'es' if shards > 1 else ''})",
        )
    )
    print(f"\nruns in the database: {states}")
    targets = {
        "posts_per_s_ratio": {
            "value": ratio(overall, args.rate),
            "target": ">= 0.95",
            "pass": ratio(overall, args.rate) >= 0.95,
        },
        "http_429": {"value": figures["http_429"], "target": "0", "pass": figures["http_429"] == 0},
        "duplicates": {"value": duplicates, "target": "0", "pass": duplicates == 0},
        "all_posted": {
            "value": len(per_channel),
            "target": str(args.servers),
            "pass": missing == 0,
        },
        "quote_p99_during_stream_s": {
            "value": during["latency"]["p99"],
            "target": "< 3 s",
            "pass": during["latency"]["p99"] < DEADLINE and during["deadline_misses"] == 0,
        },
    }
    for name, tgt in targets.items():
        print(
            f"target {name}: {tgt['value']} ({tgt['target']}) {'PASS' if tgt['pass'] else 'FAIL'}"
        )
    if problems:
        print("errors logged by the bot:", *problems[:5], sep="\n  ")
    if figures["violations"]:
        print("the emulator recorded protocol violations:", *figures["violations"], sep="\n  ")
    return {"parameters": vars(args), "figures": figures, "table": rows, "targets": targets}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="400 servers (about a minute)")
    parser.add_argument("--servers", type=int, default=None, help="servers (default 10,000)")
    parser.add_argument("--rate", type=float, default=40.0, help="POST_RATE_PER_SECOND")
    parser.add_argument(
        "--contents",
        default="quote,fact,onthisday",
        help="contents, assigned round-robin (comma list)",
    )
    parser.add_argument(
        "--lead",
        type=float,
        default=None,
        help="seconds from seeding to the due instant (start-up + baseline)",
    )
    parser.add_argument("--probe-rate", type=float, default=10.0, help="/quote per second")
    parser.add_argument("--tail", type=float, default=5.0, help="seconds watched after")
    parser.add_argument("--ready-timeout", type=float, default=300.0)
    parser.add_argument("--keep-logs", metavar="DIR", help="copy the bots' logs to DIR")
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="the bot's database; postgres: LWA_BENCH_POSTGRES_URL, default the local server",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        help="bot processes, one shard each (SHARD_COUNT=N, SHARD_IDS=i); postgres only; "
        "default 2 with postgres, 1 with sqlite",
    )
    args = parser.parse_args()
    if args.processes is None:
        args.processes = 2 if args.backend == "postgres" else 1
    if args.processes < 1 or (args.processes > 1 and args.backend != "postgres"):
        parser.error("--processes: 1, or several with --backend postgres (one shared database)")
    args.servers = args.servers or (400 if args.quick else 10_000)
    # Several processes take IDENTIFY turns 5 s apart: more lead before the due instant.
    spacing = 5.0 * (args.processes - 1)
    args.lead = args.lead or (20.0 if args.quick else 45.0) + spacing
    info = machine()
    if args.backend == "postgres":
        info["postgresql"] = asyncio.run(postgres_version())
    header("schedules", info, args)
    data = asyncio.run(main_async(args))
    name = "schedules" if args.backend == "sqlite" else f"schedules-{args.backend}"
    write_results(name, {"machine": info, **data})


if __name__ == "__main__":
    main()
