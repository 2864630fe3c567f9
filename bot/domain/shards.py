"""Which servers a process serves (SPEC §8): Discord's shard formula and `SHARD_IDS`.

A server belongs to shard `(guild_id >> 22) % shard_count`. A process runs some shards, or all
of them; it claims scheduled runs and plays games only for the servers of its own shards.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's formula: the shard that receives `guild_id`'s events (0 for DMs)."""
    return (guild_id >> 22) % shard_count if shard_count > 1 else 0


@dataclass(frozen=True)
class Shards:
    """The shards this process runs, out of `count` (`ids` None: all of them)."""

    count: int = 1
    ids: frozenset[int] | None = None

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"the shard count must be at least 1, got {self.count}")
        if self.ids is not None:
            if not self.ids:
                raise ValueError("the shard list is empty")
            outside = sorted(i for i in self.ids if not 0 <= i < self.count)
            if outside:
                raise ValueError(_outside(outside[0], self.count))

    @property
    def everything(self) -> bool:
        """This process serves every server (one process, or no split configured)."""
        return self.ids is None or len(self.ids) == self.count

    @property
    def share(self) -> float:
        """This process's part of the whole, for splitting a limit shared by all processes."""
        return 1.0 if self.ids is None else len(self.ids) / self.count

    @property
    def sorted_ids(self) -> list[int]:
        return sorted(self.ids) if self.ids is not None else list(range(self.count))

    def owns(self, guild_id: int) -> bool:
        return self.everything or shard_of(guild_id, self.count) in (self.ids or ())


def parse_shard_ids(text: str, count: int) -> frozenset[int]:
    """`0-3`, `0,2,4`, `0-1,5`: the shard numbers named, each below `count`. ValueError says
    what is wrong. Every range is checked against `count` before any number is made, so a
    mistyped `0-3000000000` costs nothing."""
    ranges: list[range] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            raise ValueError("has an empty item (two commas, or one at an end)")
        first, dash, last = part.partition("-")
        try:
            low = int(first)
            high = int(last) if dash else low
        except ValueError:
            raise ValueError(f"{part!r} is not a shard number or a range like 0-3") from None
        if low < 0 or high < low:
            raise ValueError(f"{part!r} is not a range from a lower to a higher shard")
        ranges.append(range(low, high + 1))
    outside = [max(r.start, count) for r in ranges if r.stop > count]
    if outside:
        raise ValueError(_outside(min(outside), count))
    return frozenset(i for r in ranges for i in r)


def _outside(shard: int, count: int) -> str:
    return f"shard {shard} is outside 0-{count - 1} (there are {count})"


def describe(ids: Iterable[int]) -> str:
    """`0-3,6` for [0, 1, 2, 3, 6]: the shard list as an operator writes it."""
    ordered = sorted(ids)
    parts: list[str] = []
    start = prev = None
    for i in [*ordered, None]:
        if start is not None and (i is None or prev is None or i != prev + 1):
            parts.append(str(start) if start == prev else f"{start}-{prev}")
            start = None
        if i is not None and start is None:
            start = i
        prev = i
    return ",".join(parts)
