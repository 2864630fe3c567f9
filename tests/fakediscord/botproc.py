"""Running the bot under test as a real subprocess pointed at the emulator."""

# The public API takes `timeout=` arguments on purpose (a test-driver convention).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import IO

from .emulator import Emulator

REPO_ROOT = Path(__file__).resolve().parents[2]


class BotProcess:
    """Handle on a bot subprocess (``python -m <module>``) connected to an emulator."""

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
    ) -> None:
        self.emulator = emulator
        self.module = module
        self.database_path = database_path
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.proc: asyncio.subprocess.Process | None = None
        self._log_file: IO[bytes] | None = None
        self.starts = 0

    @property
    def argv(self) -> list[str]:
        return [sys.executable, "-m", self.module]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("DATA_DIR", None)
        env.update(self.emulator.bot_env())
        env.update(
            DATABASE_PATH=str(self.database_path),
            LOG_LEVEL="DEBUG",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode if self.proc else None

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

    def log_tail(self, lines: int = 200) -> str:
        return "\n".join(self.logs().splitlines()[-lines:])

    async def start(self, *, wait_ready: bool = True) -> BotProcess:
        assert not self.running, "bot already running"
        self.starts += 1
        if self._log_file is None:
            self._log_file = self.log_path.open("ab")  # closed in close()
        self._log_file.write(
            f"\n===== start #{self.starts}: {' '.join(self.argv)} =====\n".encode()
        )
        self._log_file.flush()
        before = self.emulator.ready_count
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
            self.emulator.wait_for_ready(after=after, timeout=self.ready_timeout)
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
