"""Start-up: process start -> ready, and memory after ready, with 1 and with many guilds.

For each guild count (default 1 and 10,000) and each bot (the real bot, the bare discord.py
bot), a fresh emulator holds the guilds (each with `--channels` text channels and `--roles`
roles besides @everyone and the bot's role) and sends them as READY + one GUILD_CREATE each.
Measured from the moment the process is spawned:
- identify: the emulator receives IDENTIFY (imports, dataset, migrations, command sync done);
- streamed: the emulator has sent every GUILD_CREATE;
- on_ready: the process logs its on_ready line ("ready as ..."). discord.py dispatches it only
  after `guild_ready_timeout` (2 s) passed without a new GUILD_CREATE, for both bots alike.
Then VmRSS and VmHWM of the process (from /proc/PID/status).

In-process, on this machine: `load_dataset` of the shipped data (baseline: `tomllib` parsing
the same files, no validation) and `SQLiteStore.open` of a fresh file, i.e. all migrations
(baseline: an aiosqlite connect + close of a fresh file).

    uv run python -m benchmarks.startup [--quick] [--guilds 10000] [--channels 10] [--roles 5]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

import aiosqlite

from benchmarks.common import (
    BARE_MODULE,
    BOT_MODULE,
    BenchEmulator,
    header,
    log_problems,
    machine,
    median,
    ratio,
    rss_kb,
    start_bot,
    stop_bot,
    summary,
    table,
    write_results,
)
from bot.config import DEFAULT_DATA_DIR
from bot.domain.dataset import load_dataset
from bot.store.sqlite import SQLiteStore

TARGET_MB_PER_1000_GUILDS = 100.0


def build_world(emu: BenchEmulator, guilds: int, channels: int, roles: int) -> None:
    for g in range(guilds):
        guild = emu.add_guild(f"server {g}")
        for c in range(channels - 1):
            emu.add_channel(guild, f"channel-{c}")
        for r in range(roles):
            emu.add_role(guild, f"role-{r}", 0)


async def one_start(
    kind: str, guilds: int, args: argparse.Namespace, workdir: Path, rnd: int
) -> dict[str, Any]:
    emu = BenchEmulator()
    built = time.monotonic()
    build_world(emu, guilds, args.channels, args.roles)
    built = time.monotonic() - built
    await emu.start()
    try:
        module = BOT_MODULE if kind == "bot" else BARE_MODULE
        proc, timings = await start_bot(
            emu, module, workdir, name=f"{kind}-{guilds}-r{rnd}", ready_timeout=args.ready_timeout
        )
        try:
            at_ready = rss_kb(proc.pid or 0)
            await asyncio.sleep(args.settle)
            settled = rss_kb(proc.pid or 0)
            logged = [line for line in proc.logs().splitlines() if "ready as" in line]
        finally:
            code = await stop_bot(proc)
        return {
            "kind": kind,
            "guilds": guilds,
            "world_build_s": built,
            **timings,
            "rss_at_ready_mb": at_ready.get("VmRSS", 0) / 1024,
            "rss_settled_mb": settled.get("VmRSS", 0) / 1024,
            "peak_rss_mb": settled.get("VmHWM", 0) / 1024,
            "ready_line": logged[-1].split(": ", 1)[-1] if logged else "",
            "exit_code": code,
            "log_errors": log_problems(proc),
        }
    finally:
        await emu.stop()


def timed(fn: Any, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


async def timed_async(fn: Any, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        await fn()
        out.append(time.perf_counter() - t)
    return out


async def in_process(repeat: int) -> dict[str, Any]:
    data_dir = DEFAULT_DATA_DIR

    def parse_only() -> None:
        for path in sorted(data_dir.glob("*.toml")):
            with path.open("rb") as f:
                tomllib.load(f)

    load = timed(lambda: load_dataset(data_dir), repeat)
    parse = timed(parse_only, repeat)
    with tempfile.TemporaryDirectory(prefix="lwa-bench-") as tmp:
        n = iter(range(10**6))

        async def migrate() -> None:
            store = SQLiteStore(Path(tmp) / f"fresh-{next(n)}.sqlite3")
            await store.open()
            await store.close()

        async def connect_only() -> None:
            db = await aiosqlite.connect(Path(tmp) / f"bare-{next(n)}.sqlite3")
            await db.execute("PRAGMA journal_mode = WAL")
            await db.close()

        migrations = await timed_async(migrate, repeat)
        connects = await timed_async(connect_only, repeat)
    return {
        "load_dataset_s": summary(load),
        "tomllib_parse_only_s": summary(parse),
        "migrations_fresh_file_s": summary(migrations),
        "aiosqlite_connect_only_s": summary(connects),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="lwa-bench-") as tmp:
        workdir = Path(tmp)
        for rnd in range(args.rounds):
            for guilds in (1, args.guilds):
                order = ("bot", "bare") if rnd % 2 == 0 else ("bare", "bot")
                for kind in order:
                    print(f"round {rnd + 1}: {kind} with {guilds} guild(s) ...", flush=True)
                    run = await one_start(kind, guilds, args, workdir, rnd)
                    run["round"] = rnd
                    print(
                        f"  on_ready {run['on_ready_s']:.2f} s, RSS {run['rss_settled_mb']:.0f} MB",
                        flush=True,
                    )
                    runs.append(run)
    inproc = await in_process(args.repeat)

    def med(kind: str, guilds: int, key: str) -> float:
        return median(r[key] for r in runs if r["kind"] == kind and r["guilds"] == guilds)

    rows = []
    for guilds in (1, args.guilds):
        for key, label in (
            ("identify_s", "start -> IDENTIFY s"),
            ("guilds_streamed_s", "start -> all GUILD_CREATE sent s"),
            ("on_ready_s", "start -> on_ready s"),
            ("rss_settled_mb", "RSS after ready MB"),
            ("peak_rss_mb", "peak RSS MB"),
        ):
            bot, bare = med("bot", guilds, key), med("bare", guilds, key)
            rows.append([f"{guilds} guilds: {label}", bot, bare, ratio(bot, bare)])
    big = args.guilds
    per_1000 = {
        kind: (med(kind, big, "rss_settled_mb") - med(kind, 1, "rss_settled_mb")) / (big - 1) * 1000
        for kind in ("bot", "bare")
    }
    total_per_1000 = med("bot", big, "rss_settled_mb") / big * 1000
    rows.append(
        [
            f"RSS growth per 1,000 guilds MB (1 -> {big})",
            per_1000["bot"],
            per_1000["bare"],
            ratio(per_1000["bot"], per_1000["bare"]),
        ]
    )
    print()
    print(
        table(
            ["figure (median of rounds)", "bot", "bare", "bot/bare"],
            rows,
            title=f"Start-up ({args.channels} channels, {args.roles} roles per guild)",
        )
    )
    in_rows = [
        [
            "load_dataset ms (baseline: tomllib parse only)",
            inproc["load_dataset_s"]["p50"] * 1000,
            inproc["tomllib_parse_only_s"]["p50"] * 1000,
        ],
        [
            "migrations on a fresh file ms (baseline: connect only)",
            inproc["migrations_fresh_file_s"]["p50"] * 1000,
            inproc["aiosqlite_connect_only_s"]["p50"] * 1000,
        ],
    ]
    for row in in_rows:
        row.append(ratio(row[1], row[2]))
    print()
    print(table(["in-process (median)", "measured", "baseline", "ratio"], in_rows))
    targets = {
        "rss_per_1000_guilds_mb": {
            "value": {"growth": per_1000["bot"], f"total_at_{big}_guilds": total_per_1000},
            "target": f"< {TARGET_MB_PER_1000_GUILDS:.0f} MB",
            "pass": total_per_1000 < TARGET_MB_PER_1000_GUILDS
            and per_1000["bot"] < TARGET_MB_PER_1000_GUILDS,
        },
    }
    for name, t in targets.items():
        print(f"\ntarget {name}: {t['value']} ({t['target']}) {'PASS' if t['pass'] else 'FAIL'}")
    for r in runs:
        if r["log_errors"]:
            print(f"errors logged by {r['kind']} ({r['guilds']} guilds): {r['log_errors'][:3]}")
    return {
        "parameters": vars(args),
        "table": rows,
        "in_process": inproc,
        "in_process_table": in_rows,
        "targets": targets,
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (1,000 guilds)")
    parser.add_argument("--guilds", type=int, default=None, help="the big case (10,000)")
    parser.add_argument("--channels", type=int, default=10, help="text channels per guild")
    parser.add_argument("--roles", type=int, default=5, help="extra roles per guild")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 2)")
    parser.add_argument("--repeat", type=int, default=None, help="in-process repetitions")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds before reading RSS")
    parser.add_argument("--ready-timeout", type=float, default=300.0)
    args = parser.parse_args()
    args.guilds = args.guilds or (1000 if args.quick else 10_000)
    args.rounds = args.rounds or (1 if args.quick else 2)
    args.repeat = args.repeat or (5 if args.quick else 20)
    info = machine()
    header("startup", info, args)
    data = asyncio.run(main_async(args))
    write_results("startup", {"machine": info, **data})


if __name__ == "__main__":
    main()
