"""The real bot, on a clock the test controls: `python -m tests.fakediscord.clockbot [args]`.

It runs `bot.__main__.main` exactly as `lwa-bot` does, with one difference: its clock is the
file named by `LWA_TEST_CLOCK_FILE` (see tests/fakediscord/clock.py), so an end-to-end test can
run the bot's timers fast or move its time forward. Nothing in the product reads that variable.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from bot.__main__ import main
from tests.fakediscord.clock import CLOCK_FILE_ENV, FileClock

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], clock=FileClock(Path(os.environ[CLOCK_FILE_ENV]))))
