"""`lwa-bot migrate --to DATABASE_URL` on a big SQLite database: rows per second and the
process's peak memory, against the same command of an older commit, in the same run.

For each size (`--rows`, default 400,000 and 4,000,000 rows in all) a SQLite file is made with
the baseline's migrations (the schema both trees can read; this tree brings its copy up to date
first, as the bot does at start), then filled by SQL in one transaction, in a bot's
proportions: per 1,000 rows, 480 answers and 480 scores (games of 5 questions and 8 players, so
12 games), 12 shuffle bags, 2 schedules with 14 runs. Then, on a fresh copy of that file each
time, `--rounds` times (default 2), each round in the other order:
- this tree's `python -m bot migrate --to URL`, into a fresh PostgreSQL database;
- the same command of `--vs REF` (default be43706, the commit before the copy streamed), from
  a temporary `git worktree` of it, into another fresh database.
Each runs as a child process: its wall time, rows per second (rows in all / wall time, start-up
included) and peak memory (the child's own `ru_maxrss`, from `os.wait4`). Afterwards each
target's row counts are checked against the SQLite file. The table gives the medians of the
rounds and the per-round ratios. The databases are created on `LWA_BENCH_POSTGRES_URL`
(default the local server) and dropped, the worktree removed, whatever happens.

Targets (issue 25): rows/s at least 3 x the baseline's at every size; this tree's peak memory
within a few tens of MB from the smallest size to the largest.

    uv run python -m benchmarks.migrate [--quick] [--rows 400000 --rows 4000000] [--rounds 2]
        [--vs REF | --vs none]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg

from benchmarks.common import (
    REPO_ROOT,
    header,
    machine,
    median,
    postgres_admin_url,
    postgres_version,
    ratio,
    table,
    write_results,
)
from tests.store.postgres import with_database

DEFAULT_BASELINE = "be43706"  # main before the copy streamed (issue 25)
GUILD = 4_000_000_000_000_000  # real-sized snowflakes
START = 1_706_086_800  # 2024-01-24 09:00 UTC, in seconds
PLAYERS, QUESTIONS = 8, 5  # per game: 40 answers and 40 scores
RUNS_PER_SCHEDULE = 7
TABLES = (
    "trivia_games",
    "trivia_answers",
    "trivia_scores",
    "shuffle_bags",
    "schedules",
    "schedule_runs",
)
TARGET_SPEED_UP = 3.0  # rows/s, this tree against the baseline
TARGET_FLAT_MB = 50.0  # peak memory may grow by this much from the smallest size to the largest


def proportions(rows: int) -> dict[str, int]:
    """How many of each, for about `rows` rows in all."""
    games = max(1, round(rows * 0.012))
    schedules = max(1, round(rows * 0.002))
    answers = games * PLAYERS * QUESTIONS
    return {
        "trivia_games": games,
        "trivia_answers": answers,
        "trivia_scores": answers,
        "shuffle_bags": max(1, round(rows * 0.012)),
        "schedules": schedules,
        "schedule_runs": schedules * RUNS_PER_SCHEDULE,
    }


def _instant(seconds: str) -> str:
    """SQL for the instant START + `seconds` as the bot writes instants (UTC ISO text with
    microseconds)."""
    return f"strftime('%Y-%m-%dT%H:%M:%S', {START} + ({seconds}), 'unixepoch') || '.000000+00:00'"


def _numbers(count: int) -> str:
    return f"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {count - 1})"


# The SQLite schema as the bot of a tree makes it (run in that tree).
SCHEMA_SCRIPT = """
import asyncio, sys
from pathlib import Path
from bot.store.sqlite import SQLiteStore

async def schema():
    store = SQLiteStore(Path(sys.argv[1]))
    await store.open()
    await store.close()

asyncio.run(schema())
"""


def build_source(path: Path, rows: int, schema_tree: Path) -> dict[str, int]:
    """A SQLite database at `path` with about `rows` rows (see `proportions`), made with the
    migrations of the tree at `schema_tree` and filled by SQL in one transaction."""
    subprocess.run(
        [sys.executable, "-c", SCHEMA_SCRIPT, str(path)],
        cwd=schema_tree,
        env={**os.environ, "PYTHONPATH": str(schema_tree)},
        check=True,
    )
    counts = proportions(rows)
    games, schedules = counts["trivia_games"], counts["schedules"]
    per_game = PLAYERS * QUESTIONS
    choices = '[["A","B","C","D"],["A","B","C","D"],["A","B","C","D"],["A","B","C","D"],["A","B"]]'
    statements = [
        f"""INSERT INTO trivia_games (id, guild_id, channel_id, starter_id, kind, difficulty,
            seconds, question_ids, choices, state, revealed, current_message, opened_at,
            started_at, ended_at)
        {_numbers(games)}
        SELECT i + 1, {GUILD} + i % 500, 900000 + i % 5000, 100000 + i % 3000, 'game', 'mixed',
            20, '["t-1","t-2","t-3","t-4","t-5"]', '{choices}', 'finished', {QUESTIONS},
            800000 + i, '[]', {_instant("i * 300")}, {_instant("i * 300 + 150")}
        FROM n""",
        f"""INSERT INTO trivia_answers (game_id, question_index, user_id, choice_index,
            answered_at)
        {_numbers(counts["trivia_answers"])}
        SELECT i / {per_game} + 1, (i / {PLAYERS}) % {QUESTIONS}, 100000 + i % {PLAYERS}
            + (i / {per_game}) % 3000, i % 4, {_instant(f"(i / {per_game}) * 300 + i % 30")}
        FROM n""",
        f"""INSERT INTO trivia_scores (game_id, question_index, guild_id, user_id, question_id,
            correct, points, streak, revealed_at)
        {_numbers(counts["trivia_scores"])}
        SELECT i / {per_game} + 1, (i / {PLAYERS}) % {QUESTIONS}, {GUILD} + (i / {per_game}) % 500,
            100000 + i % {PLAYERS} + (i / {per_game}) % 3000, 't-' || ((i / {PLAYERS}) % 5 + 1),
            i % 3 <> 0, CASE WHEN i % 3 <> 0 THEN 500 + i % 500 ELSE 0 END, i % 6,
            {_instant(f"(i / {per_game}) * 300 + 30")}
        FROM n""",
        f"""INSERT INTO shuffle_bags (scope_id, kind, filter_key, remaining, last_id, updated_at)
        {_numbers(counts["shuffle_bags"])}
        SELECT 900000 + i, 'quote', '', '["q-1","q-2","q-3","q-4","q-5","q-6","q-7","q-8"]',
            'q-9', {_instant("i")}
        FROM n""",
        f"""INSERT INTO schedules (id, guild_id, channel_id, content, local_time, timezone, days,
            state, next_run_at, created_by, created_at)
        {_numbers(schedules)}
        SELECT i + 1, {GUILD} + i, 700000 + i, 'quote', '09:00', 'Asia/Seoul', 'daily',
            'active', {_instant(f"{RUNS_PER_SCHEDULE} * 86400")}, 42, {_instant("-86400")}
        FROM n""",
        f"""INSERT INTO schedule_runs (schedule_id, due_at, state, message_id, claimed_at,
            sent_at)
        {_numbers(counts["schedule_runs"])}
        SELECT i / {RUNS_PER_SCHEDULE} + 1, {_instant(f"(i % {RUNS_PER_SCHEDULE}) * 86400")},
            'sent', 600000 + i, {_instant(f"(i % {RUNS_PER_SCHEDULE}) * 86400")},
            {_instant(f"(i % {RUNS_PER_SCHEDULE}) * 86400 + 1")}
        FROM n""",
    ]
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("BEGIN")
        for statement in statements:
            db.execute(statement)
        db.execute("COMMIT")
        return {t: int(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in TABLES}


# --- PostgreSQL and the baseline's tree ------------------------------------------------------


@contextlib.asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """A new empty database `lwa_bench_migrate_<random>` on the benchmark server, dropped on
    exit (with any connection left to it)."""
    admin_url = postgres_admin_url()
    name = f"lwa_bench_migrate_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield with_database(admin_url, name)
    finally:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def target_counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        return {t: int(await conn.fetchval(f"SELECT COUNT(*) FROM {t}")) for t in TABLES}
    finally:
        await conn.close()


@contextlib.contextmanager
def worktree(ref: str) -> Iterator[Path]:
    """A temporary `git worktree` of `ref`, removed (and pruned) on exit."""
    folder = Path(tempfile.mkdtemp(prefix="lwa-bench-migrate-"))
    tree = folder / "tree"
    git = ["git", "-C", str(REPO_ROOT)]
    subprocess.run(
        [*git, "worktree", "add", "--detach", str(tree), ref], check=True, capture_output=True
    )
    try:
        yield tree
    finally:
        subprocess.run([*git, "worktree", "remove", "--force", str(tree)], capture_output=True)
        subprocess.run([*git, "worktree", "prune"], capture_output=True)
        with contextlib.suppress(OSError):
            folder.rmdir()


def commit_of(ref: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", ref],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


# --- one migrate ------------------------------------------------------------------------------


def run_migrate(tree: Path, source: Path, url: str, logs: Path) -> dict[str, Any]:
    """`python -m bot migrate --to URL` of the tree at `tree`, as a child process: its wall
    time, exit code and peak RSS (its own ru_maxrss)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "DISCORD_", "DATA_DIR", "SHARD_", "METRICS_"))
    }
    env.update(DATABASE_PATH=str(source), LOG_LEVEL="WARNING", PYTHONPATH=str(tree))
    with logs.with_suffix(".out").open("wb") as out, logs.with_suffix(".err").open("wb") as err:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "bot", "migrate", "--to", url],
            cwd=tree,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
    return {
        "code": child.returncode,
        "wall_s": wall,
        "peak_mb": usage.ru_maxrss / 1024,  # kB on Linux
        "stdout_tail": logs.with_suffix(".out").read_text(errors="replace")[-2000:],
        "stderr_tail": logs.with_suffix(".err").read_text(errors="replace")[-2000:],
    }


async def measure(tree: Path, source: Path, rows: int, logs: Path) -> dict[str, Any]:
    async with fresh_database() as url:
        result = await asyncio.to_thread(run_migrate, tree, source, url, logs)
        if result["code"] == 0:
            result["target_counts"] = await target_counts(url)
    result["rows_per_s"] = rows / result["wall_s"]
    return result


# --- the run ----------------------------------------------------------------------------------


def remove_database_file(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


def main_sizes(args: argparse.Namespace, work: Path, baseline: Path | None) -> list[dict[str, Any]]:
    sizes = []
    for rows in args.rows:
        source = work / f"source-{rows}.sqlite3"
        started = time.perf_counter()
        # The older tree's schema, which both can read: this tree brings its copy up to date
        # first, as the bot does at start (new tables empty).
        counts = build_source(source, rows, baseline or REPO_ROOT)
        total = sum(counts.values())
        print(
            f"{rows:,} rows asked: {total:,} made in {time.perf_counter() - started:.1f} s "
            f"({source.stat().st_size / 2**20:.0f} MB file)",
            flush=True,
        )
        entry: dict[str, Any] = {"rows_asked": rows, "rows": total, "counts": counts}
        trees = [("new", REPO_ROOT)] + ([("old", baseline)] if baseline else [])
        for round_ in range(args.rounds):
            # Each round in the other order: neither tree always runs on a warmer machine.
            for name, tree in trees if round_ % 2 == 0 else trees[::-1]:
                logs = work / f"{name}-{rows}-{round_}"
                copy = work / "copy.sqlite3"  # each run reads a fresh copy of the same file
                shutil.copyfile(source, copy)
                result = asyncio.run(measure(tree, copy, total, logs))
                remove_database_file(copy)
                result["verified"] = result["code"] == 0 and result.get("target_counts") == counts
                entry.setdefault(f"{name}_rounds", []).append(result)
                problem = "" if result["verified"] else " NOT VERIFIED: " + result["stderr_tail"]
                print(
                    f"  round {round_ + 1}, {name}: {result['wall_s']:.1f} s, "
                    f"{result['rows_per_s']:,.0f} rows/s, peak {result['peak_mb']:.0f} MB"
                    f"{problem[-400:]}",
                    flush=True,
                )
        for name, _ in trees:
            rounds = entry[f"{name}_rounds"]
            entry[name] = {
                "wall_s": median(r["wall_s"] for r in rounds),
                "rows_per_s": median(r["rows_per_s"] for r in rounds),
                "peak_mb": median(r["peak_mb"] for r in rounds),
                "verified": all(r["verified"] for r in rounds),
            }
        if baseline:
            entry["speed_ratios"] = [
                ratio(n["rows_per_s"], o["rows_per_s"])
                for n, o in zip(entry["new_rounds"], entry["old_rounds"], strict=True)
            ]
        remove_database_file(source)
        sizes.append(entry)
    return sizes


def report(sizes: list[dict[str, Any]], ref: str | None) -> list[list[Any]]:
    headers = ["rows", "new: s", "new: rows/s", "new: peak MB"]
    if ref:
        headers += [
            "old: s",
            "old: rows/s",
            "old: peak MB",
            "rows/s new/old",
            "(per round)",
            "peak new/old",
        ]
    rows = []
    for entry in sizes:
        new = entry["new"]
        row: list[Any] = [f"{entry['rows']:,}", new["wall_s"], new["rows_per_s"], new["peak_mb"]]
        if ref:
            old = entry["old"]
            row += [
                old["wall_s"],
                old["rows_per_s"],
                old["peak_mb"],
                ratio(new["rows_per_s"], old["rows_per_s"]),
                ", ".join(f"{r:.2f}" for r in entry["speed_ratios"]),
                ratio(new["peak_mb"], old["peak_mb"]),
            ]
        rows.append(row)
    title = f"migrate, medians of rounds: this tree{f' (new) against {ref} (old)' if ref else ''}"
    print("\n" + table(headers, rows, title))
    peaks = [e["new"]["peak_mb"] for e in sizes]
    growth = max(peaks) - min(peaks)
    verdicts = [
        f"peak memory from {sizes[0]['rows']:,} to {sizes[-1]['rows']:,} rows: "
        f"{growth:+.1f} MB (target within {TARGET_FLAT_MB:.0f} MB) — "
        f"{'PASS' if growth <= TARGET_FLAT_MB else 'FAIL'}"
    ]
    if ref:
        speed = min(ratio(e["new"]["rows_per_s"], e["old"]["rows_per_s"]) for e in sizes)
        verdicts.append(
            f"rows/s new/old, lowest size: {speed:.2f} (target ≥ {TARGET_SPEED_UP:g}) — "
            f"{'PASS' if speed >= TARGET_SPEED_UP else 'FAIL'}"
        )
    verified = all(e[k]["verified"] for e in sizes for k in ("new", "old") if k in e)
    verdicts.append(f"every copy verified (exit 0, counts equal): {'PASS' if verified else 'FAIL'}")
    print("\n".join(verdicts))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one small run (40,000 rows)")
    parser.add_argument(
        "--rows",
        type=int,
        action="append",
        help="rows in all, repeatable (default 400000 and 4000000)",
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="runs of each tree per size (default 2)"
    )
    parser.add_argument(
        "--vs",
        default=DEFAULT_BASELINE,
        metavar="REF",
        help=f"the commit to measure against (default {DEFAULT_BASELINE}); 'none' for no baseline",
    )
    args = parser.parse_args()
    args.rows = sorted(args.rows or ([40_000] if args.quick else [400_000, 4_000_000]))
    ref = None if args.vs.lower() == "none" else args.vs
    info = machine()
    info["postgresql"] = asyncio.run(postgres_version())
    header("migrate", info, args)
    with tempfile.TemporaryDirectory(prefix="lwa-bench-migrate-") as tmp:
        work = Path(tmp)
        if ref:
            commit = commit_of(ref)
            described = ref if commit.startswith(ref) else f"{ref} ({commit})"
            print(f"baseline: {described}, in a temporary worktree\n", flush=True)
            with worktree(ref) as tree:
                sizes = main_sizes(args, work, tree)
        else:
            described = None
            sizes = main_sizes(args, work, None)
    rows = report(sizes, described)
    write_results(
        "migrate",
        {"machine": info, "baseline": described, "rows": args.rows, "sizes": sizes, "table": rows},
    )


if __name__ == "__main__":
    main()
