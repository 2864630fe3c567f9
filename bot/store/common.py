"""What both backends share: their numbered migrations, the shard filter of the scheduler's
and the games' queries, the reason a schedule this host cannot use is paused with, and the
IDENTIFY slot rule."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from bot.domain.shards import Shards


def numbered_migrations(folder: Path) -> list[tuple[int, Path]]:
    """The `NNN_*.sql` files of `folder`, with their numbers, in order."""
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = re.match(r"^(\d+)_", path.name)
        if match:
            found.append((int(match[1]), path))
    return found


def shard_ids(shards: Shards | None) -> list[int] | None:
    """The shards to filter on, or None when every server is this process's (no filter)."""
    if shards is None or shards.everything:
        return None
    return shards.sorted_ids


def next_identify_slot(
    last: dt.datetime | None, now: dt.datetime, spacing: dt.timedelta
) -> dt.datetime:
    """The next moment a bucket may IDENTIFY: now, or `spacing` after the last one taken."""
    return now if last is None else max(now, last + spacing)
