"""A fork server for the bot processes of the tests: `python -m tests.fakediscord.zygote SOCKET PID`

Starting a bot process costs about a second of CPU, nearly all of it importing discord.py and
aiohttp. The zygote imports them once; each bot the tests start is then a `fork()` of it: a real,
separate process with its own pid, sockets, database connections and signals (kill -9 kills it
alone), which runs `bot.__main__.main` (or the sample bot) exactly as `python -m bot` would,
minus the imports.

Protocol, over a Unix socket: the test sends one JSON line
`{"target": "bot" | "sample", "argv": [...], "env": {...}, "cwd": "...", "log": "path"}` (and
`"obey_file_modes": true` for a process that must not write where the modes say no); the
zygote answers `{"pid": N}` and, when that process ends, `{"exit": code, "cpu": seconds}` on the
same connection
(a negative code is the signal that ended it, as `subprocess` reports it).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import json
import os
import selectors
import signal
import socket
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

# Imported here, once: every child inherits them (which is the point of the zygote).
import bot.__main__
import bot.app
import bot.i18n
from bot.__main__ import main
from bot.config import DEFAULT_DATA_DIR
from bot.domain.dataset import load_dataset
from bot.domain.models import Dataset
from tests.fakediscord import samplebot
from tests.fakediscord.clockbot import clock_from_env, prompt_guilds
from tests.readonly import obey_file_modes

PRELOADED = (bot.app,)
prompt_guilds()  # as tests.fakediscord.clockbot does: every child inherits it


def _remember_the_dataset() -> None:
    """Every bot reads its dataset as it starts: after the imports, most of its start-up CPU
    (a tenth of a second). The repository's dataset is read once here and every child gets it
    from memory, unless one of its files changed since; another folder is read as usual."""
    folder = DEFAULT_DATA_DIR.resolve()

    def stamp() -> tuple[tuple[str, int, int], ...]:
        files = sorted(folder.glob("*.toml"))
        return tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files)

    read_at, dataset = stamp(), load_dataset(folder)

    def load(folder_asked: Path) -> Dataset:
        if Path(folder_asked).resolve() == folder and stamp() == read_at:
            return dataset
        return load_dataset(folder_asked)

    bot.__main__.load_dataset = load  # type: ignore[attr-defined,assignment]  # what main() calls


_remember_the_dataset()


def _warm_up() -> None:
    """What every bot does first as it starts, done once here: the message catalogue read (a
    parse of every .po file), and what the cogs import (discord.py's `load_extension` runs a
    cog's own module again in each bot, but the modules it imports are already here)."""
    bot.i18n.catalogue()
    for extension in bot.app.EXTENSIONS:
        importlib.import_module(extension)


_warm_up()


def _run_child(request: dict[str, Any]) -> int:
    """In the forked child: become the process the request asks for, run it, return its code."""
    if request["target"] == "sample":
        samplebot.main()
        return 0
    return main(request["argv"], clock=clock_from_env())


def _become_child(request: dict[str, Any], keep_closed: list[socket.socket]) -> int:
    """In the forked child: become the process the request asks for and run it; its exit code.

    The caller then exits as Python does (`_exit`): threads still running are waited for and
    anything they print still reaches the log, as in a process started from scratch.
    """
    for sock in keep_closed:
        sock.close()
    os.setsid()
    for sig in (signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.close(null)
    sys.argv = ["lwa-bot", *request["argv"]]
    if request.get("obey_file_modes"):
        obey_file_modes()  # even as root, as any user would (tests/readonly.py)
    try:
        return _run_child(request)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except KeyboardInterrupt:
        return 130
    except BaseException:
        traceback.print_exc()
        return 1


def _exit(code: int) -> None:
    """End a child as `sys.exit` would (its threads finished, its atexit work done: logging
    flushed, everything it printed in the log), minus the interpreter's teardown, which would
    only free, object by object, the memory of a process about to end."""
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def serve(path: str, parent: int) -> None:
    """Answer fork requests on the socket at `path` while process `parent` (the test process
    that started the zygote) lives."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(f"{path}.binding")
    server.listen(16)
    os.rename(f"{path}.binding", path)  # the path appears only once connections are taken
    selector = selectors.DefaultSelector()
    selector.register(server, selectors.EVENT_READ)
    buffers: dict[socket.socket, bytes] = {}
    children: dict[int, socket.socket] = {}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # The test process went away (even before this line ran: then the parent is already
    # another process): so do we, rather than live on as an orphan.
    while os.getppid() == parent:
        for key, _ in selector.select(timeout=0.02):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            if sock is server:
                conn, _ = server.accept()
                buffers[conn] = b""
                selector.register(conn, selectors.EVENT_READ)
                continue
            data = sock.recv(65536)
            if not data:
                selector.unregister(sock)
                buffers.pop(sock, None)
                sock.close()
                continue
            buffers[sock] += data
            if b"\n" not in buffers[sock]:
                continue
            request = json.loads(buffers[sock].split(b"\n", 1)[0])
            pid = os.fork()
            if pid == 0:
                _exit(_become_child(request, [server, *buffers]))
            children[pid] = sock
            sock.sendall(json.dumps({"pid": pid}).encode() + b"\n")
        while children:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            requester = children.pop(pid, None)
            if requester is not None:
                code = os.waitstatus_to_exitcode(status)
                with contextlib.suppress(OSError):
                    cpu = usage.ru_utime + usage.ru_stime
                    requester.sendall(json.dumps({"exit": code, "cpu": cpu}).encode() + b"\n")


if __name__ == "__main__":
    # What is imported now lives as long as the zygote: out of the collector's way, so no
    # child's garbage collection walks (or copies, by touching) the inherited objects.
    gc.freeze()
    serve(sys.argv[1], int(sys.argv[2]))
