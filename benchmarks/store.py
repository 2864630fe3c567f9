"""The store's hot queries on a real SQLite file, through the bot's own `SQLiteStore`, and the
same on PostgreSQL through `PostgresStore` (a fresh database on the local server), in one run.

Seeded (in one transaction each, with SQL matching the migrations):
- 10,000 shuffle bags (one per channel);
- 100,000 leaderboard rows (`trivia_scores`) in one big server (worst case: 2,000 players x
  50 answers) and 10,000 more spread over 100 small servers;
- 100,000 schedules over 10,000 servers, 10,000 of them due at the same instant (the
  `schedules` benchmark's minute), the rest spread over the next day.

Measured per operation (median and p95 of many runs, one at a time): shuffle-bag `draw`,
`record_answer`, `leaderboard` top 10 and `leaderboard_row` (the caller's rank) in the big and
in a small server, `player_stats`, `running_game`, `claim_due_runs` (a batch of 200 out of
10,000 due), `mark_run_sent`, `next_due_at`, `unfinished_runs`. Baseline: `SELECT 1` through
the same aiosqlite connection. Also the throughput of 50 concurrent `draw`s (every /quote does
one) against 50 concurrent `SELECT 1`s.

Every statement each operation runs on SQLite is captured (sqlite3 trace callback) and shown
with its `EXPLAIN QUERY PLAN`; a full SCAN of a table that holds more than 1,000 rows is flagged.

PostgreSQL (`--backend both`, the default, or `postgres`): the same rows seeded (COPY), the same
operations; each backend's figures against its own `SELECT 1`, and PostgreSQL / SQLite per
operation. The server is `LWA_BENCH_POSTGRES_URL` (default the local server's `postgres`
database); the benchmark creates a database `lwa_bench_<random>` there and drops it afterwards.

    uv run python -m benchmarks.store [--quick] [--scores 100000] [--schedules 100000]
        [--backend both|sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from benchmarks.common import (
    header,
    machine,
    postgres_database,
    ratio,
    summary,
    table,
    write_results,
)
from bot.domain.schedule import ALL_DAYS, format_days
from bot.domain.trivia import GameKind, period_key
from bot.store.postgres import PostgresStore
from bot.store.sqlite import MIGRATIONS_DIR, SQLiteStore, _iso

BIG_GUILD = 1
SMALL_GUILD = 1000
NOW = dt.datetime(2024, 3, 4, 9, 0, tzinfo=dt.UTC)
BIG_TABLE_ROWS = 1000
QUOTE_IDS = [f"q-bench-{i}" for i in range(80)]

BAG_COLUMNS = ("scope_id", "kind", "filter_key", "remaining", "last_id", "updated_at")
GAME_COLUMNS = [
    "id",
    "guild_id",
    "channel_id",
    "starter_id",
    "kind",
    "difficulty",
    "seconds",
    "question_ids",
    "choices",
    "state",
    "revealed",
    "started_at",
]
SCORE_COLUMNS = [
    "game_id",
    "question_index",
    "guild_id",
    "user_id",
    "question_id",
    "correct",
    "points",
    "streak",
    "revealed_at",
]
SCHEDULE_COLUMNS = [
    "guild_id",
    "channel_id",
    "content",
    "local_time",
    "timezone",
    "days",
    "state",
    "next_run_at",
    "created_by",
    "created_at",
]
INSTANT_COLUMNS = {"updated_at", "started_at", "revealed_at", "next_run_at", "created_at"}


async def seed(store: SQLiteStore, args: argparse.Namespace) -> dict[str, int]:
    """The SQLite file, seeded in one transaction with the rows of `seed_rows`."""
    db = store.db
    rows, counts = seed_rows(args)
    async with store.transaction():
        for table, columns in TABLE_COLUMNS.items():
            marks = ", ".join("?" * len(columns))
            await db.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows[table]
            )
        # The per-period totals the bot keeps up to date at each reveal, built from the
        # seeded answers by migration 005's own backfill statements.
        migration = (MIGRATIONS_DIR / "005_trivia_totals.sql").read_text(encoding="utf-8")
        backfill = migration.split("-- The answers scored before this migration")[1]
        for statement in backfill.split("\n", 1)[1].split(";"):
            if statement.strip():
                await db.execute(statement)
    await db.execute("ANALYZE")
    return counts


# PostgreSQL's version of migration 005's backfill (weeks from Monday, UTC).
PG_TOTALS = [
    f"INSERT INTO trivia_totals SELECT guild_id, {period}, user_id, SUM(points), SUM(correct),"
    " COUNT(*), MAX(streak), MIN(revealed_at) FROM trivia_scores GROUP BY 1, 2, 3"
    for period in (
        "'all'",
        "'week:' || to_char(date_trunc('week', revealed_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')",
        "'month:' || to_char(date_trunc('month', revealed_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')",
    )
]


async def seed_postgres(store: PostgresStore, args: argparse.Namespace) -> dict[str, int]:
    """The same rows into PostgreSQL, by COPY, in one transaction; then ANALYZE."""
    rows, counts = seed_rows(args)
    async with store.pool.acquire() as conn:
        async with conn.transaction():
            for table, columns in TABLE_COLUMNS.items():
                instants = [i for i, c in enumerate(columns) if c in INSTANT_COLUMNS]
                records = [
                    tuple(
                        dt.datetime.fromisoformat(v) if i in instants else v
                        for i, v in enumerate(row)
                    )
                    for row in rows[table]
                ]
                await conn.copy_records_to_table(table, records=records, columns=list(columns))
            for statement in PG_TOTALS:
                await conn.execute(statement)
            await conn.execute(
                "SELECT setval(pg_get_serial_sequence('trivia_games', 'id'), MAX(id))"
                " FROM trivia_games"
            )
        await conn.execute("ANALYZE")
    return counts


TABLE_COLUMNS = {
    "shuffle_bags": BAG_COLUMNS,
    "trivia_games": tuple(GAME_COLUMNS),
    "trivia_scores": tuple(SCORE_COLUMNS),
    "schedules": tuple(SCHEDULE_COLUMNS),
}


def seed_rows(args: argparse.Namespace) -> tuple[dict[str, list[tuple[Any, ...]]], dict[str, int]]:
    """The seeded rows, the same for every backend (instants as UTC ISO text)."""
    rng = random.Random(7)
    counts: dict[str, int] = {}
    seeded: dict[str, list[tuple[Any, ...]]] = {}
    seeded["shuffle_bags"] = [
        (10_000 + c, "quote", "", json.dumps(rng.sample(QUOTE_IDS, 40)), None, _iso(NOW))
        for c in range(args.bags)
    ]
    counts["shuffle_bags"] = args.bags

    # Leaderboard rows: games of 50 questions, each answered by every player of the game.
    players_big = max(1, args.scores // 50)
    game_rows: list[tuple[Any, ...]] = []
    score_rows: list[tuple[Any, ...]] = []
    game_id = 0

    def add_game(guild: int, players: int, questions: int) -> None:
        nonlocal game_id
        game_id += 1
        started = NOW - dt.timedelta(days=rng.randint(0, 60))
        game_rows.append(
            (
                game_id,
                guild,
                500 + guild,
                1,
                "game",
                "mixed",
                20,
                "[]",
                "[]",
                "finished",
                questions,
                _iso(started),
            )
        )
        for q in range(questions):
            for p in range(players):
                correct = rng.random() < 0.6
                score_rows.append(
                    (
                        game_id,
                        q,
                        guild,
                        100_000 + p,
                        f"t-{q}",
                        int(correct),
                        rng.randint(500, 1000) if correct else 0,
                        rng.randint(0, 5),
                        _iso(started),
                    )
                )

    # The big server: 2,000 players in games of 50 players x 50 questions.
    for start in range(0, players_big, 50):
        add_game(BIG_GUILD, min(50, players_big - start), 50)
    # 100 small servers, 100 rows each.
    for guild in range(SMALL_GUILD, SMALL_GUILD + 100):
        add_game(guild, 10, 10)
    seeded["trivia_games"] = game_rows
    seeded["trivia_scores"] = score_rows
    counts["trivia_games"] = len(game_rows)
    counts["trivia_scores"] = len(score_rows)
    counts["trivia_scores_in_big_guild"] = sum(1 for r in score_rows if r[2] == BIG_GUILD)

    if args.schedules:
        days = format_days(ALL_DAYS)
        rows: list[tuple[Any, ...]] = []
        for i in range(args.schedules):
            if i < args.due:
                due = NOW
            else:
                due = NOW + dt.timedelta(minutes=1 + rng.randint(0, 24 * 60 - 2))
            rows.append(
                (
                    i // 10 + 1,
                    900_000 + i,
                    "quote",
                    due.strftime("%H:%M"),
                    "UTC",
                    days,
                    "active",
                    _iso(due),
                    42,
                    _iso(NOW - dt.timedelta(days=1)),
                )
            )
        seeded["schedules"] = rows
        counts["schedules"] = len(rows)
        counts["schedules_due_now"] = args.due
    else:
        seeded["schedules"] = []
    return seeded, counts


class Tracer:
    def __init__(self) -> None:
        self.capturing = False
        self.statements: list[str] = []

    def __call__(self, sql: str) -> None:
        if self.capturing:
            self.statements.append(sql)


async def measure(op: Callable[[], Awaitable[Any]], runs: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        await op()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        await op()
        out.append(time.perf_counter() - t)
    return out


async def table_sizes(store: SQLiteStore) -> dict[str, int]:
    sizes = {}
    async with store.db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ) as cursor:
        names = [str(r[0]) async for r in cursor]
    for name in names:
        async with store.db.execute(f"SELECT COUNT(*) FROM {name}") as cursor:
            row = await cursor.fetchone()
        sizes[name] = int(row[0]) if row else 0
    return sizes


async def plans(
    store: SQLiteStore, statements: list[str], sizes: dict[str, int]
) -> list[dict[str, Any]]:
    out = []
    seen = set()
    for sql in statements:
        head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if head not in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH") or sql in seen:
            continue
        seen.add(sql)
        async with store.db.execute(f"EXPLAIN QUERY PLAN {sql}") as cursor:
            lines = [str(r[3]) async for r in cursor]
        flagged = []
        for line in lines:
            m = re.match(r"SCAN (\w+)", line)
            if m and sizes.get(m.group(1), 0) > BIG_TABLE_ROWS:
                flagged.append(line)
        out.append({"sql": re.sub(r"\s+", " ", sql)[:400], "plan": lines, "big_scans": flagged})
    return out


async def bench_sqlite(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lwa-bench-") as tmp:
        store = SQLiteStore(Path(tmp) / "store.sqlite3")
        await store.open()
        try:
            t = time.perf_counter()
            counts = await seed(store, args)
            seeded_s = time.perf_counter() - t
            print(f"SQLite seeded in {seeded_s:.1f} s: {counts}", flush=True)
            return await run_ops(store, args, counts, seeded_s)
        finally:
            await store.close()


async def bench_postgres(args: argparse.Namespace) -> dict[str, Any]:
    async with postgres_database() as url:
        store = PostgresStore(url)
        await store.open()
        try:
            t = time.perf_counter()
            counts = await seed_postgres(store, args)
            seeded_s = time.perf_counter() - t
            print(f"PostgreSQL seeded in {seeded_s:.1f} s: {counts}", flush=True)
            return await run_ops(store, args, counts, seeded_s)
        finally:
            await store.close()


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if args.backend in ("both", "sqlite"):
        out["sqlite"] = await bench_sqlite(args)
    if args.backend in ("both", "postgres"):
        out["postgres"] = await bench_postgres(args)
    if "sqlite" in out and "postgres" in out:
        out["comparison"] = compare(out["sqlite"], out["postgres"])
    return out


def compare(lite: dict[str, Any], pg: dict[str, Any]) -> list[list[Any]]:
    """PostgreSQL against SQLite per operation, both measured in this run; and each against
    its own `SELECT 1`, which takes the connection's round trip out of the comparison."""
    rows: list[list[Any]] = []
    lite_base = lite["operations_s"]["SELECT 1 (baseline)"]["p50"]
    pg_base = pg["operations_s"]["SELECT 1 (baseline)"]["p50"]
    for name, s in lite["operations_s"].items():
        other = pg["operations_s"].get(name)
        if other is None:
            continue
        rows.append(
            [
                name,
                s["p50"] * 1000,
                other["p50"] * 1000,
                ratio(other["p50"], s["p50"]),
                ratio(s["p50"], lite_base),
                ratio(other["p50"], pg_base),
            ]
        )
    for key, label in (
        ("select1_x50_per_s", "50 concurrent SELECT 1, ops/s"),
        ("draw_x50_per_s", "50 concurrent draw, ops/s"),
        ("draw_x1_per_s", "1 at a time draw, ops/s"),
    ):
        a, b = lite["concurrency"][key], pg["concurrency"][key]
        rows.append([label, a, b, ratio(b, a), "", ""])
    print()
    print(
        table(
            [
                "operation",
                "SQLite p50 ms",
                "PostgreSQL p50 ms",
                "PostgreSQL / SQLite",
                "SQLite / its SELECT 1",
                "PostgreSQL / its SELECT 1",
            ],
            rows,
            title="PostgreSQL against SQLite, same rows, same run (throughput rows: ops/s)",
        )
    )
    return rows


async def run_ops(
    store: SQLiteStore | PostgresStore,
    args: argparse.Namespace,
    counts: dict[str, int],
    seeded_s: float,
) -> dict[str, Any]:
    tracer = Tracer()
    lite = store if isinstance(store, SQLiteStore) else None
    backend = "SQLite" if lite else "PostgreSQL"
    if lite:
        await lite.db.set_trace_callback(tracer)
    rng = random.Random(3)
    sizes = await table_sizes(lite) if lite else {}
    scopes = iter(range(10**9))
    users = iter(range(10**9))

    game = await store.create_game(
        guild_id=7,
        channel_id=77,
        starter_id=1,
        kind=GameKind.GAME,
        difficulty="mixed",
        seconds=20,
        question_ids=["t-1"],
        choices=[["a", "b"]],
        started_at=NOW,
    )

    async def select1() -> None:
        if lite:
            async with lite.db.execute("SELECT 1") as cursor:
                await cursor.fetchone()
        else:  # the way every statement of the store goes: a pooled connection
            assert isinstance(store, PostgresStore)
            await store._fetchval("SELECT 1")

    async def draw() -> None:
        await store.draw(10_000 + next(scopes) % args.bags, "quote", "", QUOTE_IDS, rng)

    async def answer() -> None:
        await store.record_answer(game.id, 0, next(users), 1, NOW)

    claimed: list[Any] = []

    async def claim() -> None:
        claimed.extend(await store.claim_due_runs(NOW, grace=dt.timedelta(minutes=60), limit=200))

    sent = iter(range(10**9))

    async def mark_sent() -> None:
        run = claimed[next(sent) % len(claimed)]
        await store.mark_run_sent(run.schedule.id, run.due_at, 1, NOW)

    ops: list[tuple[str, Callable[[], Awaitable[Any]], int]] = [
        ("SELECT 1 (baseline)", select1, args.runs),
        ("draw (shuffle bag, 80 quotes)", draw, args.runs),
        ("record_answer", answer, args.runs),
        ("running_game", lambda: store.running_game(77), args.runs),
        (
            "leaderboard top 10, small server",
            lambda: store.leaderboard(SMALL_GUILD, "all", 10),
            args.runs,
        ),
        (
            "leaderboard top 10, big server",
            lambda: store.leaderboard(BIG_GUILD, "all", 10),
            args.slow_runs,
        ),
        (
            "leaderboard_row (caller's rank), big server",
            lambda: store.leaderboard_row(BIG_GUILD, 100_007, "all"),
            args.slow_runs,
        ),
        (
            "leaderboard top 10 this month, big server",
            lambda: store.leaderboard(BIG_GUILD, period_key("month", NOW), 10),
            args.slow_runs,
        ),
        (
            "leaderboard_row this month, big server",
            lambda: store.leaderboard_row(BIG_GUILD, 100_007, period_key("month", NOW)),
            args.slow_runs,
        ),
        (
            "player_stats, big server",
            lambda: store.player_stats(BIG_GUILD, 100_007),
            args.slow_runs,
        ),
    ]
    if args.schedules:
        ops += [
            ("next_due_at", store.next_due_at, args.runs),
            ("mark_run_sent", mark_sent, min(args.runs, args.due)),
            ("unfinished_runs", store.unfinished_runs, args.slow_runs),
        ]
    results: dict[str, Any] = {}
    explained: dict[str, Any] = {}
    baseline = None
    if args.schedules:
        # Claims of full batches only: every claim moves its runs' schedules to tomorrow.
        tracer.capturing = True
        claim_times: list[float] = []
        while len(claimed) + 200 <= args.due and len(claim_times) < args.slow_runs:
            before = len(claimed)
            t = time.perf_counter()
            await claim()
            claim_times.append(time.perf_counter() - t)
            if len(claimed) - before < 200:
                break
        tracer.capturing = False
        if lite:
            explained["claim_due_runs (batch of 200)"] = await plans(
                lite, list(dict.fromkeys(tracer.statements))[:6], sizes
            )
        tracer.statements.clear()
    for name, op, runs in ops:
        times = await measure(op, runs)
        tracer.statements.clear()
        tracer.capturing = True
        await op()
        tracer.capturing = False
        if lite:
            explained[name] = await plans(lite, list(tracer.statements), sizes)
        s = summary(times)
        if baseline is None:
            baseline = s["p50"]
        results[name] = s
        print(f"  {backend}: {name}: p50 {s['p50'] * 1000:.3f} ms", flush=True)
    if lite:
        await lite.db.set_trace_callback(None)  # type: ignore[arg-type]
    if args.schedules:
        results["claim_due_runs (batch of 200)"] = summary(claim_times)

    # Concurrency: 50 coroutines doing draws (every /quote does one) vs doing SELECT 1.
    async def throughput(op: Callable[[], Awaitable[Any]], total: int, conc: int) -> float:
        numbers = iter(range(total))

        async def worker() -> None:
            for _ in numbers:
                await op()

        t = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(conc)))
        return total / (time.perf_counter() - t)

    conc = {
        "select1_x50_per_s": await throughput(select1, args.concurrent_ops, 50),
        "draw_x50_per_s": await throughput(draw, args.concurrent_ops, 50),
        "draw_x1_per_s": await throughput(draw, args.concurrent_ops, 1),
    }

    rows = []
    assert baseline is not None
    for name, s in results.items():
        per_run = ""
        if name.startswith("claim_due_runs"):
            per_run = f"{s['p50'] / 200 * 1000:.3f} ms/run"
        rows.append([name, s["p50"] * 1000, s["p95"] * 1000, ratio(s["p50"], baseline), per_run])
    print()
    print(
        table(
            ["operation", "p50 ms", "p95 ms", "p50 / SELECT 1", "note"],
            rows,
            title=f"{backend} store operations (seeded: {counts})",
        )
    )
    crows = [
        ["50 concurrent SELECT 1 (baseline)", conc["select1_x50_per_s"], 1.0],
        [
            "50 concurrent draw",
            conc["draw_x50_per_s"],
            ratio(conc["draw_x50_per_s"], conc["select1_x50_per_s"]),
        ],
        [
            "1 at a time draw",
            conc["draw_x1_per_s"],
            ratio(conc["draw_x1_per_s"], conc["select1_x50_per_s"]),
        ],
    ]
    print()
    print(table(["throughput", "ops/s", "ratio to baseline"], crows, title=backend))
    if lite:
        print("\nEXPLAIN QUERY PLAN of every statement each operation ran:")
    flagged = []
    for name, entries in explained.items():
        for e in entries:
            mark = "  <-- SCAN of a big table" if e["big_scans"] else ""
            print(f"- [{name}] {e['sql'][:160]}")
            for line in e["plan"]:
                print(f"    {line}")
            if mark:
                print(mark)
                flagged.append({"operation": name, **e})
    if not lite:
        pass
    elif not flagged:
        print("\nno full SCAN of a table with more than 1,000 rows")
    else:
        print(f"\n{len(flagged)} statement(s) SCAN a big table (see above)")
    return {
        "parameters": vars(args),
        "seeded": counts,
        "seed_s": seeded_s,
        "table_sizes": sizes,
        "operations_s": results,
        "table": rows,
        "concurrency": conc,
        "concurrency_table": crows,
        "query_plans": explained,
        "big_table_scans": flagged,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (10x smaller)")
    parser.add_argument("--scores", type=int, default=None, help="rows in the big server")
    parser.add_argument("--schedules", type=int, default=None, help="0 to skip schedules")
    parser.add_argument("--due", type=int, default=None, help="schedules due at once")
    parser.add_argument("--bags", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=None, help="runs of a fast operation")
    parser.add_argument("--slow-runs", type=int, default=None, help="runs of a slow one")
    parser.add_argument("--concurrent-ops", type=int, default=None)
    parser.add_argument(
        "--backend",
        choices=("both", "sqlite", "postgres"),
        default="both",
        help="PostgreSQL: LWA_BENCH_POSTGRES_URL, default the local server",
    )
    args = parser.parse_args()
    q = args.quick
    args.scores = args.scores if args.scores is not None else (10_000 if q else 100_000)
    args.schedules = args.schedules if args.schedules is not None else (10_000 if q else 100_000)
    args.due = args.due if args.due is not None else min(args.schedules, 1_000 if q else 10_000)
    args.runs = args.runs or (100 if q else 1000)
    args.slow_runs = args.slow_runs or (10 if q else 40)
    args.concurrent_ops = args.concurrent_ops or (500 if q else 5000)
    info = machine()
    header("store", info, args)
    data = asyncio.run(main_async(args))
    write_results("store", {"machine": info, **data})


if __name__ == "__main__":
    main()
