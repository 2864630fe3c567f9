"""Files and folders the code under test genuinely cannot write, also when the tests run as root.

Root ignores permission bits: its CAP_DAC_OVERRIDE capability lets it write a 0444 file or
create files in a 0555 folder, so `chmod` alone proves nothing there. While
`permission_bits_apply()` is active, the calling thread runs without CAP_DAC_OVERRIDE and
CAP_DAC_READ_SEARCH in its *effective* set, so the kernel checks the mode bits for it as for
anyone else. Linux capabilities belong to a thread and a new thread inherits its creator's, so
aiosqlite's database thread, started meanwhile, is bound by them too; other threads are not.
The capabilities stay *permitted*, and are made effective again on the way out.

For a normal user (or a root without those capabilities) it changes nothing: the mode bits
already apply. Whatever the case, `assert_read_only` checks that writing really fails, so a
test cannot pass against a database that was writable after all.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_CAPABILITY_VERSION_3 = 0x20080522
CAP_DAC_OVERRIDE = 1
CAP_DAC_READ_SEARCH = 2
_OVERRIDES = (1 << CAP_DAC_OVERRIDE) | (1 << CAP_DAC_READ_SEARCH)


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def _capabilities() -> ctypes.Array[_Data]:
    data = (_Data * 2)()
    if _libc().capget(ctypes.byref(_Header(_CAPABILITY_VERSION_3, 0)), data) != 0:
        raise OSError(ctypes.get_errno(), "capget failed")
    return data


def _set_capabilities(data: ctypes.Array[_Data]) -> None:
    if _libc().capset(ctypes.byref(_Header(_CAPABILITY_VERSION_3, 0)), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def _drop_overrides() -> ctypes.Array[_Data] | None:
    """Drop the two overrides from this thread's effective set; what to restore, if any."""
    if os.geteuid() != 0:
        return None
    saved = _capabilities()  # pid 0: the calling thread
    if not saved[0].effective & _OVERRIDES:
        return None
    reduced = (_Data * 2)()
    ctypes.memmove(reduced, saved, ctypes.sizeof(saved))
    reduced[0].effective &= ~_OVERRIDES
    _set_capabilities(reduced)
    return saved


@contextmanager
def permission_bits_apply() -> Iterator[None]:
    """Within the block, this thread (and threads it starts) obeys file mode bits, root or not."""
    saved = _drop_overrides()
    try:
        yield
    finally:
        if saved is not None:
            _set_capabilities(saved)


def obey_file_modes() -> None:
    """From now on, this thread (and threads it starts) obeys file mode bits, root or not: for
    a process under test that must not write where the modes say no."""
    _drop_overrides()


def assert_read_only(path: Path) -> None:
    """Writing `path` (a file: open it for writing; a folder: create a file in it) fails."""
    probe = path / "write-probe" if path.is_dir() else path
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT, 0o600)
    except PermissionError:
        return
    os.close(fd)
    if probe != path:
        probe.unlink()
    raise AssertionError(f"{path} is writable: the read-only set-up did not work")
