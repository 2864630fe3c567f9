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

    uv run python -m benchmarks.schedules [--quick] [--servers 10000] [--rate 40]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import sqlite3
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.common import (
    BOT_MODULE,
    BenchEmulator,
    header,
    log_problems,
    machine,
    ratio,
    rss_kb,
    start_bot,
    stop_bot,
    summary,
    table,
    write_results,
)
from bot.domain.schedule import ALL_DAYS, format_days
from bot.store.sqlite import SQLiteStore, _iso
from tests.fakediscord.interactions import Interaction

DEADLINE = 3.0


async def seed(
    db_path: Path, channels: list[tuple[int, int]], contents: list[str], due: dt.datetime
) -> float:
    """One active daily schedule per (guild, channel), all due at `due`."""
    started = time.perf_counter()
    store = SQLiteStore(db_path)
    await store.open()  # the bot's own migrations
    try:
        days = format_days(ALL_DAYS)
        created = _iso(due - dt.timedelta(days=1))
        rows = [
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
                _iso(due),
                4242,
                created,
            )
            for i, (guild_id, channel_id) in enumerate(channels)
        ]
        async with store.transaction() as db:
            await db.executemany(
                "INSERT INTO schedules (guild_id, channel_id, content, local_time, timezone,"
                " days, role_id, state, failures, next_run_at, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
    finally:
        await store.close()
    return time.perf_counter() - started


class Probe:
    """A `/quote` every 1/rate seconds (open loop: it does not wait for the answers)."""

    def __init__(self, emu: BenchEmulator, rate: float) -> None:
        self.emu = emu
        self.rate = rate
        guild = emu.add_guild("probe server")
        self.guild = guild
        self.channels = [guild.text_channels[0]] + [
            emu.add_channel(guild, f"probe-{n}") for n in range(9)
        ]
        self.members = [emu.add_member(guild, f"prober{n}") for n in range(20)]
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
            inter = await self.emu.slash(
                self.guild,
                self.channels[n % len(self.channels)],
                self.members[n % len(self.members)],
                "quote",
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


def max_in_window(times: list[float], window: float = 1.0) -> int:
    best, lo = 0, 0
    for hi in range(len(times)):
        while times[hi] - times[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    emu = BenchEmulator(global_rate_limit=50, interaction_deadline=60.0)
    t = time.monotonic()
    targets_by_channel: dict[int, int] = {}
    pairs = []
    for n in range(args.servers):
        guild = emu.add_guild(f"server {n}")
        channel = guild.text_channels[0]
        pairs.append((guild.id, channel.id))
        targets_by_channel[channel.id] = guild.id
    probe = Probe(emu, args.probe_rate)
    world_s = time.monotonic() - t
    await emu.start()
    with tempfile.TemporaryDirectory(prefix="lwa-bench-") as tmp:
        workdir = Path(tmp)
        db_path = workdir / "schedules.sqlite3"
        due = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=args.lead)).replace(microsecond=0)
        due_mono = time.monotonic() + (due - dt.datetime.now(dt.UTC)).total_seconds()
        seed_s = await seed(db_path, pairs, args.contents.split(","), due)
        print(
            f"{args.servers} servers built in {world_s:.1f} s, schedules seeded in "
            f"{seed_s:.1f} s; all due at {due:%H:%M:%S} UTC",
            flush=True,
        )
        proc, startup = await start_bot(
            emu,
            BOT_MODULE,
            workdir,
            name="bot",
            database_path=db_path,
            extra_env={"POST_RATE_PER_SECOND": str(args.rate)},
            ready_timeout=args.ready_timeout,
        )
        print(
            f"bot ready after {startup['on_ready_s']:.1f} s; "
            f"{due_mono - time.monotonic():.1f} s before the schedules are due",
            flush=True,
        )
        code = None
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
            rss = rss_kb(proc.pid or 0)
        finally:
            code = await stop_bot(proc)
        states = runs_by_state(db_path)
        problems = log_problems(proc)

    posts = [(t, c, n) for t, c, n in emu.posts if c in targets_by_channel]
    times = sorted(t for t, _, _ in posts)
    per_channel = Counter(c for _, c, _ in posts)
    duplicates = sum(n - 1 for n in per_channel.values() if n > 1)
    missing = len(targets_by_channel) - len(per_channel)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    overall = (len(times) - 1) / span if len(times) > 1 else float("nan")
    # Steady state: the middle 80% of the posts.
    lo, hi = int(len(times) * 0.1), int(len(times) * 0.9)
    steady = (hi - lo) / (times[hi] - times[lo]) if hi > lo and times[hi] > times[lo] else overall
    first_after_due = times[0] - due_mono if times else float("nan")
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
        "startup": startup,
        "bot_rss_mb_after_stream": rss.get("VmRSS", 0) / 1024,
        "exit_code": code,
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
            title=f"Scheduled posts: {args.servers} servers due at once",
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
    args = parser.parse_args()
    args.servers = args.servers or (400 if args.quick else 10_000)
    args.lead = args.lead or (20.0 if args.quick else 45.0)
    info = machine()
    header("schedules", info, args)
    data = asyncio.run(main_async(args))
    write_results("schedules", {"machine": info, **data})


if __name__ == "__main__":
    main()
