"""The real bot, on a clock the test controls: `python -m tests.fakediscord.clockbot [args]`.

It runs `bot.__main__.main` exactly as `lwa-bot` does, with two differences:
- its clock is the file named by `LWA_TEST_CLOCK_FILE` (see tests/fakediscord/clock.py), so an
  end-to-end test can run the bot's timers fast or move its time forward;
- discord.py waits `GUILD_READY_WAIT` (not its default 2 s) after the last GUILD_CREATE before
  it calls the bot ready. Discord streams a big bot's GUILD_CREATEs over seconds, hence that
  default; the emulator sends them all at once right after READY, so the 2 s were pure wait
  at every start of a bot under test (about 80 in the suite). A GUILD_CREATE that still came
  later would be a guild becoming available, never a join, as with Discord.
Nothing in the product reads either.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import discord.state

from bot.__main__ import main
from tests.fakediscord.clock import CLOCK_FILE_ENV, FileClock

GUILD_READY_WAIT = 0.3  # seconds


def prompt_guilds() -> None:
    """Make discord.py's wait for more GUILD_CREATEs `GUILD_READY_WAIT` in this process (and
    in the processes it forks), unless a client asks for its own."""
    state_class: Any = discord.state.ConnectionState
    if getattr(state_class, "_lwa_prompt_guilds", False):
        return
    original = state_class.__init__

    def __init__(self: Any, *args: Any, **options: Any) -> None:
        options.setdefault("guild_ready_timeout", GUILD_READY_WAIT)
        original(self, *args, **options)

    state_class.__init__ = __init__
    state_class._lwa_prompt_guilds = True


def clock_from_env() -> FileClock | None:
    clock_file = os.environ.get(CLOCK_FILE_ENV)
    return FileClock(Path(clock_file)) if clock_file else None


if __name__ == "__main__":
    prompt_guilds()
    sys.exit(main(sys.argv[1:], clock=clock_from_env()))
