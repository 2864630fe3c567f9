"""Shared helpers: the machine description, percentiles, tables, results files, and bot
processes run against the project's Discord emulator (tests/fakediscord)."""

# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import discord

from tests.fakediscord.botproc import BotProcess
from tests.fakediscord.clock import BotClock
from tests.fakediscord.emulator import Emulator, _Request
from tests.fakediscord.interactions import Interaction

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"

BOT_MODULE = "bot"
BARE_MODULE = "benchmarks.bare_bot"
READY_LINE = "ready as "  # logged by both bots' on_ready


# --- the machine ---------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_mb = None
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_mb = int(line.split()[1]) // 1024
    load = None
    with contextlib.suppress(OSError):
        load = tuple(round(x, 2) for x in os.getloadavg())
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_mb": mem_mb,
        "load_average_at_start": load,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
        "discord.py": discord.__version__,
        "sqlite": sqlite3.sqlite_version,
    }


def describe_machine(info: dict[str, Any]) -> str:
    return (
        f"{info['cpu']}, {info['cores']} cores, {info['memory_mb']} MB, Python {info['python']}, "
        f"discord.py {info['discord.py']}, SQLite {info['sqlite']}, "
        f"load {info['load_average_at_start']}"
    )


# --- figures -------------------------------------------------------------------------------


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; nan for no values."""
    if not values:
        return float("nan")
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": pct(values, 50),
        "p95": pct(values, 95),
        "p99": pct(values, 99),
        "max": max(values) if values else float("nan"),
        "mean": statistics.fmean(values) if values else float("nan"),
    }


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def median(values: Iterable[float]) -> float:
    data = list(values)
    return statistics.median(data) if data else float("nan")


def fmt(value: Any, digits: int = 3) -> str:
    if isinstance(value, float):
        if value != value:  # nan
            return "-"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) < 1:
            return f"{value:.{digits}g}"
        return f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "") -> str:
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    lines = []
    if title:
        lines.append(title)
    lines.append("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(lines)


def write_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"{name}-{stamp}.json"
    payload = {"benchmark": name, "finished_at": stamp, **data}
    path.write_text(json.dumps(payload, indent=2, default=str, allow_nan=True) + "\n")
    (RESULTS_DIR / f"{name}-latest.json").write_text(path.read_text())
    print(f"\nresults written to {path.relative_to(REPO_ROOT)}")
    return path


def rss_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in kB, from /proc/PID/status."""
    out: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(line.split()[1])
    return out


# --- the emulator, instrumented ------------------------------------------------------------


class BenchEmulator(Emulator):
    """The project's emulator, plus what a benchmark needs to wait on thousands of things
    without waking every waiter on every event: one future per interaction, the time of the
    first IDENTIFY, and the time of every channel message the bot posted."""

    def __init__(self, *, schema_check: bool = False, **kw: Any) -> None:
        super().__init__(**kw)
        if not schema_check:
            # The check of every body against Discord's OpenAPI schema is the tests' business;
            # here it would cost the emulator 0.46 ms a body, half of its CPU time in
            # `interactions`, and hide the bots' differences behind it. The emulator's own
            # rules (Discord's limits, nonces, deadlines) stay on.
            self.schema = None
        self.done: dict[int, asyncio.Future[None]] = {}
        self.identified_at: float | None = None
        self.posts: list[tuple[float, int, str | None]] = []  # (monotonic, channel id, nonce)

    def _new_interaction(self, *args: Any, **kw: Any) -> Interaction:
        inter = super()._new_interaction(*args, **kw)
        self.done[inter.id] = asyncio.get_running_loop().create_future()
        return inter

    def _finish(self, interaction_id: str) -> None:
        fut = self.done.get(int(interaction_id)) if interaction_id.isdigit() else None
        if fut is not None and not fut.done():
            fut.set_result(None)

    async def _r_callback(self, req: _Request) -> Any:
        try:
            return await super()._r_callback(req)
        finally:
            self._finish(req.params["interaction_id"])

    async def _identify(self, conn: Any, d: dict[str, Any]) -> None:
        if self.identified_at is None:
            self.identified_at = time.monotonic()
        await super()._identify(conn, d)

    async def _r_create_message(self, req: _Request) -> Any:
        result = await super()._r_create_message(req)
        payload = req.payload if isinstance(req.payload, dict) else {}
        nonce = payload.get("nonce")
        self.posts.append((time.monotonic(), int(req.params["channel_id"]), nonce))
        return result

    async def wait_done(self, interactions: Sequence[Interaction], timeout: float) -> int:
        """Wait until every interaction got a callback (or was refused); returns how many
        did not within `timeout`."""
        futures = [self.done[i.id] for i in interactions]
        _, pending = await asyncio.wait(futures, timeout=timeout)
        return len(pending)


# --- bot processes -------------------------------------------------------------------------


def bot_env(log_level: str = "INFO", **extra: str) -> dict[str, str]:
    # INFO as an operator runs it: at DEBUG, discord.py logs every gateway payload in full.
    return {"LOG_LEVEL": log_level, **extra}


async def start_bot(
    emu: Emulator,
    module: str,
    workdir: Path,
    *,
    name: str,
    extra_env: dict[str, str] | None = None,
    ready_timeout: float = 60.0,
    database_path: Path | None = None,
    clock: BotClock | None = None,
) -> tuple[BotProcess, dict[str, float]]:
    """Start `python -m module` against `emu`; wait until the emulator streamed every
    GUILD_CREATE and the process logged its on_ready line. Returns the process and the
    seconds from process start to each of: identify, streamed, ready.

    With `clock` (the real bot only), the process runs on that clock
    (`tests.fakediscord.clockbot`): the benchmark moves the bot's time with it."""
    proc = BotProcess(
        emu,
        module=module,
        database_path=database_path or workdir / f"{name}.sqlite3",
        log_path=workdir / f"{name}.log",
        extra_env=bot_env(**(extra_env or {})),
        ready_timeout=ready_timeout,
        clock=clock,
        fork=False,  # a whole start-up, imports included, as an operator's process does it
    )
    started = time.monotonic()
    await proc.start(wait_ready=True)
    streamed = time.monotonic()
    await proc.wait_for_log(READY_LINE, timeout=ready_timeout)
    ready = time.monotonic()
    identified = getattr(emu, "identified_at", None)
    return proc, {
        "identify_s": (identified - started) if identified else float("nan"),
        "guilds_streamed_s": streamed - started,
        "on_ready_s": ready - started,
    }


async def stop_bot(proc: BotProcess) -> int | None:
    code = await proc.stop(timeout=20)
    proc.close()
    return code


def log_problems(proc: BotProcess) -> list[str]:
    """ERROR/Traceback lines of a bot's log, to report with the figures."""
    lines = proc.logs().splitlines()
    return [line for line in lines if " ERROR " in line or line.startswith("Traceback")][:20]


def header(name: str, info: dict[str, Any], args: Any) -> None:
    print(f"== benchmark {name} ({'quick' if getattr(args, 'quick', False) else 'full'})")
    print(f"machine: {describe_machine(info)}")
    print(f"python: {sys.version.split()[0]}\n")


# --- PostgreSQL ----------------------------------------------------------------------------

# The local test server (trust authentication); LWA_BENCH_POSTGRES_URL names another one.
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    """The maintenance database of the server the benchmarks create their databases on."""
    return os.environ.get("LWA_BENCH_POSTGRES_URL", "").strip() or DEFAULT_POSTGRES_URL


def postgres_database(prefix: str = "lwa_bench") -> contextlib.AbstractAsyncContextManager[str]:
    """The URL of a new empty database `<prefix>_<random>` on the benchmark server, dropped
    (with any connection still open to it) on exit."""
    from tests.store.postgres import new_database

    return new_database(postgres_admin_url(), prefix)


async def postgres_version() -> str:
    """`server_version` of the benchmark server, for the machine description."""
    import asyncpg

    conn = await asyncpg.connect(postgres_admin_url())
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()
