"""Interactions through the emulator: the real bot against the bare discord.py bot.

For each bot, in the same run and alternating which goes first:
1. `/quote` closed loop: N interactions (default 2,000), C in flight at a time (default 50);
   interactions/s and dispatch->callback latency (measured by the emulator).
2. `/quote` burst: B interactions dispatched at once (default 500), latency percentiles and how
   many missed Discord's 3-second deadline.
3. Click storm: K members (default 500) click the choices of one message at once. Real bot:
   the question of `/trivia play questions=1 seconds=30`; bare bot: the buttons under its
   `/quote` reply, answered with an ephemeral constant. Every click of the real bot must get
   "Locked in" and be in the database afterwards.

The emulator's interaction deadline is raised to 60 s so that a slow answer is measured rather
than refused; answers later than 3 s are counted as deadline misses.

`--backend postgres` runs the real bot on PostgreSQL (`DATABASE_URL`, a fresh database
`lwa_bench_<random>` per round on the server `LWA_BENCH_POSTGRES_URL`, default the local one,
dropped afterwards) instead of SQLite; `--backend both` runs the real bot on each, and the bare
bot, in every round (the order rotating), and reports PostgreSQL / SQLite beside bot / bare.

    uv run python -m benchmarks.interactions [--quick] [--backend sqlite|postgres|both] ...
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from benchmarks.common import (
    BARE_MODULE,
    BOT_MODULE,
    RESULTS_DIR,
    BenchEmulator,
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
from tests.fakediscord.interactions import Interaction
from tests.fakediscord.models import Channel, Guild, Member, Message

DEADLINE = 3.0
CHANNELS = 50

# The kinds of bot process a round runs: the real bot on SQLite, the real bot on PostgreSQL,
# the bare discord.py bot (the baseline).
BOT, BOT_PG, BARE = "bot", "bot-pg", "bare"
LABELS = {BOT: "bot (SQLite)", BOT_PG: "bot (PostgreSQL)", BARE: "bare"}
KINDS = {"sqlite": (BOT, BARE), "postgres": (BOT_PG, BARE), "both": (BOT, BOT_PG, BARE)}


def _latencies(inters: list[Interaction]) -> tuple[list[float], int, int]:
    """(latencies of answered ones, not answered, answered after the 3 s deadline)."""
    lat = [i.latency for i in inters if i.latency is not None]
    missing = sum(1 for i in inters if i.latency is None)
    late = sum(1 for x in lat if x > DEADLINE) + missing
    return lat, missing, late


def _quote_ok(inter: Interaction) -> bool:
    cb = inter.callback
    return cb is not None and cb.type == 4 and not cb.is_ephemeral and bool(cb.embeds)


class World:
    def __init__(self, emu: BenchEmulator, members: int) -> None:
        self.emu = emu
        self.guild: Guild = emu.add_guild("Love Wins All bench")
        for n in range(CHANNELS - 1):
            emu.add_channel(self.guild, f"fans-{n}")
        self.storm_channel: Channel = emu.add_channel(self.guild, "trivia-storm")
        self.channels: list[Channel] = [
            c for c in self.guild.text_channels if c.id != self.storm_channel.id
        ]
        self.members: list[Member] = [
            emu.add_member(self.guild, f"fan{n}") for n in range(max(members, CHANNELS))
        ]


async def closed_loop(world: World, total: int, concurrency: int) -> dict[str, Any]:
    emu = world.emu
    done: list[Interaction] = []
    numbers = iter(range(total))

    async def worker() -> None:
        for n in numbers:
            inter = await emu.slash(
                world.guild,
                world.channels[n % len(world.channels)],
                world.members[n % len(world.members)],
                "quote",
            )
            await emu.wait_done([inter], timeout=30)
            done.append(inter)

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.monotonic() - started
    lat, missing, late = _latencies(done)
    return {
        "interactions": total,
        "concurrency": concurrency,
        "wall_s": wall,
        "per_s": total / wall,
        "latency": summary(lat),
        "unanswered": missing,
        "deadline_misses": late,
        "not_a_quote": sum(1 for i in done if not _quote_ok(i)),
    }


async def burst(world: World, count: int) -> dict[str, Any]:
    emu = world.emu
    inters = []
    started = time.monotonic()
    for n in range(count):
        inters.append(
            await emu.slash(
                world.guild,
                world.channels[n % len(world.channels)],
                world.members[n % len(world.members)],
                "quote",
            )
        )
    dispatched = time.monotonic() - started
    await emu.wait_done(inters, timeout=90)
    wall = time.monotonic() - started
    lat, missing, late = _latencies(inters)
    return {
        "in_flight": count,
        "dispatch_s": dispatched,
        "wall_s": wall,
        "per_s": count / wall,
        "latency": summary(lat),
        "unanswered": missing,
        "deadline_misses": late,
        "not_a_quote": sum(1 for i in inters if not _quote_ok(i)),
    }


async def click_storm(world: World, kind: str, clicks: int) -> dict[str, Any]:
    emu = world.emu
    channel = world.storm_channel
    starter = world.members[0]
    if kind != BARE:
        start = await emu.slash(
            world.guild, channel, starter, "trivia play", questions=1, seconds=30
        )
        await emu.wait_done([start], timeout=30)

        def is_question(m: Message) -> bool:
            return bool(m.embeds) and m.embed.get("title") == "Question 1/1" and bool(m.buttons)

        message = await emu.wait_for_message(channel, is_question, timeout=30)
    else:
        start = await emu.slash(world.guild, channel, starter, "quote")
        await emu.wait_done([start], timeout=30)
        message = start.message
    choices = [b["custom_id"] for b in message.buttons if not b.get("disabled")]
    inters = []
    started = time.monotonic()
    for n in range(clicks):
        member = world.members[n % len(world.members)]
        inters.append(await emu.click(message, choices[n % len(choices)], member))
    await emu.wait_done(inters, timeout=90)
    wall = time.monotonic() - started
    lat, missing, late = _latencies(inters)
    locked = sum(
        1
        for i in inters
        if i.callback is not None
        and i.callback.is_ephemeral
        and "Locked in" in str((i.callback.embeds or [{}])[0].get("description", ""))
    )
    return {
        "clicks": clicks,
        "wall_s": wall,
        "per_s": clicks / wall,
        "latency": summary(lat),
        "unanswered": missing,
        "deadline_misses": late,
        "locked_in_replies": locked,
        "message_id": message.id,
    }


def answers_stored(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT COUNT(*) FROM trivia_answers").fetchone()
    return int(row[0])


async def answers_stored_postgres(url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT COUNT(*) FROM trivia_answers"))
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def database_for(kind: str) -> AsyncIterator[str | None]:
    """A fresh PostgreSQL database for the bot on PostgreSQL (None for the others)."""
    if kind != BOT_PG:
        yield None
        return
    async with postgres_database() as url:
        yield url


async def one_run(kind: str, args: argparse.Namespace, workdir: Path, rnd: int) -> dict[str, Any]:
    async with database_for(kind) as url:
        return await _one_run(kind, args, workdir, rnd, url)


async def _one_run(
    kind: str, args: argparse.Namespace, workdir: Path, rnd: int, database_url: str | None
) -> dict[str, Any]:
    emu = BenchEmulator(interaction_deadline=60.0)
    await emu.start()
    try:
        world = World(emu, members=args.clicks)
        module = BARE_MODULE if kind == BARE else BOT_MODULE
        name = f"{kind}-r{rnd}"
        extra: dict[str, str] = {}
        if database_url is not None:
            extra["DATABASE_URL"] = database_url
        if args.profile:
            RESULTS_DIR.mkdir(parents=True, exist_ok=True)
            out = RESULTS_DIR / f"profile-interactions-{kind}.txt"
            extra |= {"BENCH_PROFILE_MODULE": module, "BENCH_PROFILE_OUT": str(out)}
            module = "benchmarks.profiled"
        proc, startup = await start_bot(emu, module, workdir, name=name, extra_env=extra)
        try:
            await closed_loop(world, args.warmup, 10)  # warm up: first bags, imports, caches
            loop_figures = await closed_loop(world, args.total, args.concurrency)
            burst_figures = await burst(world, args.burst)
            storm = await click_storm(world, kind, args.clicks)
        finally:
            code = await stop_bot(proc)
        result: dict[str, Any] = {
            "kind": kind,
            "round": rnd,
            "startup": startup,
            "closed_loop": loop_figures,
            "burst": burst_figures,
            "click_storm": storm,
            "exit_code": code,
            "late_callbacks_at_60s": len(emu.late_callbacks),
            "violations": [str(v)[:300] for v in emu.violations[:5]],
            "log_errors": log_problems(proc),
        }
        if kind == BOT:
            result["click_storm"]["answers_in_database"] = answers_stored(proc.database_path)
        elif database_url is not None:
            stored = await answers_stored_postgres(database_url)
            result["click_storm"]["answers_in_database"] = stored
        return result
    finally:
        await emu.stop()


def _pairs(kinds: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """The ratios a run reports: (name, numerator kind, denominator kind)."""
    out = []
    if BOT in kinds:
        out.append(("bot/bare", BOT, BARE))
    if BOT_PG in kinds:
        out.append(("PG bot/bare", BOT_PG, BARE))
    if BOT in kinds and BOT_PG in kinds:
        out.append(("PG/SQLite", BOT_PG, BOT))
    return out


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    kinds: tuple[str, ...] = KINDS[args.backend]
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="lwa-bench-") as tmp:
        workdir = Path(tmp)
        for rnd in range(args.rounds):
            # Each kind goes first in turn (with two kinds: bot, bare / bare, bot as before).
            shift = rnd % len(kinds)
            order = kinds[shift:] + kinds[:shift]
            for kind in order:
                print(f"round {rnd + 1}/{args.rounds}: {LABELS[kind]} ...", flush=True)
                run = await one_run(kind, args, workdir, rnd)
                cl, bu, st = run["closed_loop"], run["burst"], run["click_storm"]
                print(
                    f"  /quote {cl['per_s']:.0f}/s p99 {cl['latency']['p99'] * 1000:.0f} ms; "
                    f"burst p99 {bu['latency']['p99'] * 1000:.0f} ms, misses "
                    f"{bu['deadline_misses']}; clicks p99 {st['latency']['p99'] * 1000:.0f} ms, "
                    f"misses {st['deadline_misses']}",
                    flush=True,
                )
                runs.append(run)

    def of(kind: str, *path: str) -> list[float]:
        out = []
        for r in runs:
            if r["kind"] != kind:
                continue
            v: Any = r
            for p in path:
                v = v[p]
            out.append(float(v))
        return out

    def med(kind: str, *path: str) -> float:
        return median(of(kind, *path))

    def total(kind: str, *path: str) -> int:
        return int(sum(of(kind, *path)))

    def per_round(top: str, bottom: str, *path: str) -> list[float]:
        """top/bottom of each round (the same round: the same load on the machine)."""
        return [ratio(a, b) for a, b in zip(of(top, *path), of(bottom, *path), strict=True)]

    pairs = _pairs(kinds)
    rows: list[list[Any]] = []
    for section, label in (
        ("closed_loop", f"/quote x{args.total} @{args.concurrency}"),
        ("burst", f"/quote burst {args.burst} in flight"),
        ("click_storm", f"click storm {args.clicks}"),
    ):
        figures = [("per s", ("per_s",), 1.0)] + [
            (f"{q} ms", ("latency", q), 1000.0) for q in ("p50", "p95", "p99")
        ]
        for name, path, scale in figures:
            values = {k: med(k, section, *path) * scale for k in kinds}
            rows.append(
                [f"{label}: {name}"]
                + [values[k] for k in kinds]
                + [ratio(values[a], values[b]) for _, a, b in pairs]
            )
        rows.append(
            [f"{label}: >3 s (sum)"]
            + [total(k, section, "deadline_misses") for k in kinds]
            + ["-" for _ in pairs]
        )
    print()
    print(
        table(
            ["figure (median of rounds)"] + [LABELS[k] for k in kinds] + [n for n, _, _ in pairs],
            rows,
            title="Interactions through the emulator",
        )
    )
    ratios_per_round = {name: per_round(a, b, "closed_loop", "per_s") for name, a, b in pairs}
    targets: dict[str, dict[str, Any]] = {}
    if BOT in kinds:
        value = median(ratios_per_round["bot/bare"])
        targets["quote_throughput_ratio"] = {
            "value": value,
            "target": ">= 0.9",
            "pass": value >= 0.9,
        }
    if BOT_PG in kinds and BOT in kinds:
        value = median(ratios_per_round["PG/SQLite"])
        targets["quote_throughput_postgres_vs_sqlite"] = {
            "value": value,
            "target": ">= 0.85",
            "pass": value >= 0.85,
        }
    bots = [k for k in kinds if k != BARE]
    for k in bots:
        suffix = "" if k == BOT else "_postgres"
        burst_p99 = max(of(k, "burst", "latency", "p99"))
        storm_p99 = max(of(k, "click_storm", "latency", "p99"))
        misses = sum(
            total(k, section, "deadline_misses")
            for section in ("closed_loop", "burst", "click_storm")
        )
        locked = of(k, "click_storm", "locked_in_replies")
        stored = of(k, "click_storm", "answers_in_database")
        targets[f"quote_burst_p99_s{suffix}"] = {
            "value": burst_p99,
            "target": "well under 3 s",
            "pass": burst_p99 < DEADLINE,
        }
        targets[f"click_storm_p99_s{suffix}"] = {
            "value": storm_p99,
            "target": "under 3 s",
            "pass": storm_p99 < DEADLINE,
        }
        targets[f"deadline_misses_bot{suffix}"] = {
            "value": misses,
            "target": "0",
            "pass": misses == 0,
        }
        targets[f"every_click_locked_and_stored{suffix}"] = {
            "value": f"{locked} replies, {stored} rows, of {args.clicks} per round",
            "pass": all(x == args.clicks for x in locked + stored),
        }
    print()
    for name, per in ratios_per_round.items():
        print(f"/quote throughput {name} per round:", ", ".join(f"{r:.3f}" for r in per))
    for name, t in targets.items():
        print(
            f"target {name}: {t['value']} (target {t.get('target', 'all')}) "
            f"{'PASS' if t['pass'] else 'FAIL'}"
        )
    for r in runs:
        if r["log_errors"] or r["violations"] or r["late_callbacks_at_60s"]:
            print(
                f"problems in {r['kind']} round {r['round']}: {r['log_errors'][:3]} "
                f"{r['violations'][:2]} late@60s={r['late_callbacks_at_60s']}"
            )
    return {
        "parameters": vars(args),
        "kinds": list(kinds),
        "table": rows,
        "throughput_ratio_per_round": ratios_per_round.get("bot/bare", []),
        "throughput_ratios_per_round": ratios_per_round,
        "targets": targets,
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per bot (default 3)")
    parser.add_argument("--total", type=int, default=None, help="closed-loop /quote count")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--burst", type=int, default=None, help="/quote burst size (500)")
    parser.add_argument("--clicks", type=int, default=None, help="click storm size (500)")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument(
        "--backend",
        choices=tuple(KINDS),
        default="sqlite",
        help="the real bot's database: sqlite (default), postgres, or both (then PostgreSQL / "
        "SQLite is reported too); PostgreSQL: LWA_BENCH_POSTGRES_URL, default the local server",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run each bot under pyinstrument (needs `uv run --with pyinstrument`); the text "
        "reports go to benchmarks/results/profile-interactions-*.txt; figures are then slower",
    )
    args = parser.parse_args()
    quick = args.quick
    args.rounds = args.rounds or (1 if quick else 3)
    args.total = args.total or (300 if quick else 2000)
    args.burst = args.burst or (100 if quick else 500)
    args.clicks = args.clicks or (100 if quick else 500)
    if quick:
        args.warmup = min(args.warmup, 30)
    info = machine()
    if args.backend != "sqlite":
        info["postgresql"] = asyncio.run(postgres_version())
    header("interactions", info, args)
    data = asyncio.run(main_async(args))
    name = "interactions" if args.backend == "sqlite" else f"interactions-{args.backend}"
    write_results(name, {"machine": info, **data})


if __name__ == "__main__":
    main()
