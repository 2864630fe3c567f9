"""A small disk of its own for the bot's database, that a test can fill up.

A tmpfs of a few megabytes mounted on a folder of the test: a real file system, so SQLite meets
a real `ENOSPC` (SQLITE_FULL), in the bot's own process, exactly as on an operator's
full disk. Mounting needs root (CAP_SYS_ADMIN); elsewhere these tests skip with a
reason, and under `LWA_REQUIRE_MOUNT=1` (set by `.ci/run`) they fail instead, so CI runs them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REQUIRE_MOUNT = "LWA_REQUIRE_MOUNT"


class SmallDisk:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._filler = folder / "filler"

    def fill(self) -> None:
        """Use every free byte: the next write that needs space fails with ENOSPC."""
        fd = os.open(self._filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            for size in (64 * 1024, 1):  # big writes, then the last few bytes
                while True:
                    try:
                        os.write(fd, b"\0" * size)
                    except OSError as error:
                        if error.errno != errno.ENOSPC:
                            raise
                        break
        finally:
            os.close(fd)

    def free(self) -> None:
        self._filler.unlink(missing_ok=True)


def _mount(folder: Path, megabytes: int) -> str | None:
    """Mount a tmpfs on `folder`; the reason it cannot be done, if it cannot."""
    if os.geteuid() != 0:
        return "mounting a small disk needs root"
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return f"cannot mount a small disk here: {result.stderr.strip() or result.returncode}"
    return None


@contextlib.contextmanager
def small_disk(folder: Path, megabytes: int = 8) -> Iterator[SmallDisk]:
    folder.mkdir(parents=True, exist_ok=True)
    problem = _mount(folder, megabytes)
    if problem is not None:
        if os.environ.get(REQUIRE_MOUNT, "") == "1":
            pytest.fail(f"{problem}, and {REQUIRE_MOUNT}=1 makes this check mandatory")
        pytest.skip(problem)
    try:
        yield SmallDisk(folder)
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
