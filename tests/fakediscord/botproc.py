"""Running the bot under test as a real subprocess pointed at the emulator."""

# The public API takes `timeout=` arguments on purpose (a test-driver convention).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Protocol

from .clock import CLOCK_FILE_ENV, BotClock
from .emulator import Emulator

REPO_ROOT = Path(__file__).resolve().parents[2]
FORKABLE = {"bot": "bot", "tests.fakediscord.samplebot": "sample"}  # module -> zygote target

# Settings an operator may have exported in the shell the tests run from; a test's bot gets
# only the ones the test gives it.
OPERATOR_SETTINGS = (
    "DATA_DIR",
    "DATABASE_URL",
    "SHARD_COUNT",
    "SHARD_IDS",
    "DEV_GUILD_ID",
    "SCHEDULE_GRACE_MINUTES",
    "POST_RATE_PER_SECOND",
)


class Process(Protocol):
    """What BotProcess needs of a process: asyncio's, or a child of the zygote."""

    pid: int

    @property
    def returncode(self) -> int | None: ...

    async def wait(self) -> int: ...

    def send_signal(self, sig: int) -> None: ...

    def kill(self) -> None: ...


class Zygote:
    """The fork server of this test process (tests/fakediscord/zygote.py), started on first use
    and stopped when the test process ends."""

    _running: Zygote | None = None

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="lwa-zygote-")
        self.socket_path = os.path.join(self.folder, "socket")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakediscord.zygote", self.socket_path, str(os.getpid())],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
        )
        atexit.register(self.stop)

    @classmethod
    def get(cls) -> Zygote:
        if cls._running is None or cls._running.process.poll() is not None:
            cls._running = cls()
        return cls._running

    def listening(self) -> bool:
        return os.path.exists(self.socket_path)

    async def wait_listening(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.listening():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the bot fork server (tests/fakediscord/zygote.py) failed")
            await asyncio.sleep(0.02)

    async def spawn(
        self,
        target: str,
        argv: list[str],
        env: dict[str, str],
        log: Path,
        *,
        obey_file_modes: bool = False,
    ) -> Forked:
        """A new process running ``target`` (``"bot"``: ``main(argv)``; ``"sample"``), its
        output appended to ``log``. ``obey_file_modes``: it cannot write where the file modes
        say no, even as root (see tests/readonly.py)."""
        await self.wait_listening()
        reader, writer = await asyncio.open_unix_connection(self.socket_path)
        request = {
            "target": target,
            "argv": argv,
            "env": env,
            "cwd": str(REPO_ROOT),
            "log": str(log),
            "obey_file_modes": obey_file_modes,
        }
        writer.write(json.dumps(request).encode() + b"\n")
        await writer.drain()
        pid = int(json.loads(await reader.readline())["pid"])
        return Forked(pid, reader, writer)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(5)
        with contextlib.suppress(OSError):
            os.unlink(self.socket_path)
            os.rmdir(self.folder)


class Forked:
    """A bot process forked by the zygote; its exit code arrives over the zygote's socket."""

    def __init__(
        self, pid: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.pid = pid
        self.cpu_seconds = 0.0  # user + system time, known once it ended
        self._code: int | None = None
        self._writer = writer
        self._exited = asyncio.ensure_future(self._read_exit(reader))

    async def _read_exit(self, reader: asyncio.StreamReader) -> int:
        line = await reader.readline()
        self._writer.close()
        ended = json.loads(line) if line else {"exit": -signal.SIGKILL}
        self._code = int(ended["exit"])
        self.cpu_seconds = float(ended.get("cpu", 0.0))
        return self._code

    @property
    def returncode(self) -> int | None:
        return self._code

    async def wait(self) -> int:
        return await asyncio.shield(self._exited)

    def send_signal(self, sig: int) -> None:
        if self._code is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def shard_ids_of(env: dict[str, str]) -> frozenset[int] | None:
    """The shards a bot started with ``env`` runs: ``SHARD_IDS`` (``0-3``, ``0,2``) of
    ``SHARD_COUNT``, every one of ``SHARD_COUNT``, or None (the bot asks Discord)."""
    raw_count = env.get("SHARD_COUNT", "").strip()
    raw_ids = env.get("SHARD_IDS", "").strip()
    if raw_ids:
        ids: set[int] = set()
        for part in raw_ids.split(","):
            low, _, high = part.strip().partition("-")
            ids.update(range(int(low), int(high or low) + 1))
        return frozenset(ids)
    if raw_count:
        return frozenset(range(int(raw_count)))
    return None


class BotProcess:
    """Handle on a bot subprocess (``python -m <module>``) connected to an emulator.

    With a ``clock``, the real bot runs through ``tests.fakediscord.clockbot`` on that clock
    (``module`` must be ``"bot"``): the test reads and moves the bot's time with it.

    ``extra_env`` is added to the bot's environment last (it may replace any variable), e.g.
    ``SHARD_COUNT``, ``SHARD_IDS`` and ``DATABASE_URL`` for one of several processes sharing
    the shards of one emulator and one database. With ``SHARD_IDS``/``SHARD_COUNT``, being
    ready means each of those shards has a session that got its GUILD_CREATEs.
    """

    def __init__(
        self,
        emulator: Emulator,
        *,
        module: str = "bot",
        database_path: Path,
        log_path: Path,
        extra_env: dict[str, str] | None = None,
        ready_timeout: float = 30.0,
        stop_timeout: float = 10.0,
        clock: BotClock | None = None,
        fork: bool = True,
    ) -> None:
        if clock is not None and module != "bot":
            raise ValueError("only the real bot runs on a test clock")
        self.emulator = emulator
        self.module = module
        self.clock = clock
        self.fork = fork  # forked from the zygote: the same process, without the imports
        self.database_path = database_path
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.proc: Process | None = None
        self._log_file: IO[bytes] | None = None
        self.starts = 0
        self._run_offset = 0  # where the latest start's output begins in the log
        self._ended: list[Process] = []  # earlier runs

    @property
    def argv(self) -> list[str]:
        module = "tests.fakediscord.clockbot" if self.clock is not None else self.module
        return [sys.executable, "-m", module]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for name in OPERATOR_SETTINGS:  # a developer's own set-up must not leak into the bot
            env.pop(name, None)
        env.update(self.emulator.bot_env())
        env.update(
            DATABASE_PATH=str(self.database_path),
            LOG_LEVEL="DEBUG",
            PYTHONUNBUFFERED="1",
        )
        if self.clock is not None:
            env[CLOCK_FILE_ENV] = str(self.clock.path)
        env.update(self.extra_env)
        return env

    @property
    def shard_ids(self) -> frozenset[int] | None:
        """The shards this bot runs (from its environment), or None: all of them."""
        return shard_ids_of(self.extra_env)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode if self.proc else None

    @property
    def cpu_seconds(self) -> float:
        """CPU time of the runs that ended (forked ones; the zygote measures them)."""
        runs = [*self._ended, *([self.proc] if self.proc is not None else [])]
        return sum(getattr(p, "cpu_seconds", 0.0) for p in runs if p.returncode is not None)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def logs(self) -> str:
        if self._log_file is not None:
            with contextlib.suppress(ValueError):
                self._log_file.flush()
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def this_run(self) -> str:
        """The output of the latest start (after its ``===== start #N`` line)."""
        return self.logs()[self._run_offset :]

    async def wait_for_log(self, text: str, *, after: int = 0, timeout: float = 10.0) -> int:
        """Wait until the latest run's output (from offset ``after`` in it) contains ``text``;
        returns the offset just past it. For what only the bot's log tells (it went idle, it
        retried). Fails at once if the process exits first."""
        deadline = asyncio.get_running_loop().time() + timeout
        while (found := self.this_run().find(text, after)) < 0:
            if not self.running or asyncio.get_running_loop().time() > deadline:
                why = "exited first" if not self.running else f"did not, within {timeout}s"
                raise AssertionError(
                    f"waiting for the bot to log {text!r}: it {why}.\n--- bot output ---\n"
                    + self.log_tail()
                )
            await asyncio.sleep(0.02)
        return found + len(text)

    def log_tail(self, lines: int = 200) -> str:
        return "\n".join(self.logs().splitlines()[-lines:])

    async def start(self, *, wait_ready: bool = True) -> BotProcess:
        assert not self.running, "bot already running"
        if self.proc is not None:
            self._ended.append(self.proc)
        self.starts += 1
        if self._log_file is None:
            self._log_file = self.log_path.open("ab")  # closed in close()
        self._log_file.write(
            f"\n===== start #{self.starts}: {' '.join(self.argv)} =====\n".encode()
        )
        self._log_file.flush()
        self._run_offset = len(self.logs())
        before = self.emulator.ready_count
        if self.fork and self.module in FORKABLE:
            self.proc = await Zygote.get().spawn(
                FORKABLE[self.module], [], self.env(), self.log_path
            )
        else:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv,
                cwd=str(REPO_ROOT),
                env=self.env(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        if wait_ready:
            await self.wait_ready(after=before)
        return self

    async def wait_ready(self, after: int = 0) -> None:
        assert self.proc is not None
        ready = asyncio.ensure_future(
            self.emulator.wait_for_ready(
                after=after, timeout=self.ready_timeout, shard_ids=self.shard_ids
            )
        )
        exited = asyncio.ensure_future(self.proc.wait())
        try:
            done, _ = await asyncio.wait({ready, exited}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            exited.cancel()
        if ready in done and ready.exception() is None:
            return
        ready.cancel()
        with contextlib.suppress(BaseException):
            await ready
        if self.proc.returncode is not None:
            reason = f"exited with code {self.proc.returncode} before it was ready"
        else:
            reason = f"did not IDENTIFY and receive its GUILD_CREATEs within {self.ready_timeout}s"
            await self.kill()
        raise AssertionError(
            f"bot process {' '.join(self.argv)} {reason}.\n--- bot output ---\n{self.log_tail()}"
        )

    async def stop(self, timeout: float | None = None) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout`` (default 10 s)."""
        if not self.running:
            return self.returncode
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), timeout or self.stop_timeout)
        except TimeoutError:
            await self.kill()
        return self.returncode

    async def kill(self) -> int | None:
        if not self.running:
            return self.returncode
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        await self.proc.wait()
        return self.returncode

    async def restart(self, *, wait_ready: bool = True) -> BotProcess:
        """Stop and start again with the same database file."""
        await self.stop()
        return await self.start(wait_ready=wait_ready)

    def close(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
